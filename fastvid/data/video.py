"""``pytorchvideo.data.video`` under its own module path: the :class:`Video` interface and
:class:`VideoPathHandler`, a thin wrapper around :meth:`fastvid.data.EncodedVideo.from_path`.

Differences: paths are local files (PyTorchVideo read through iopath's PathManager, so remote URIs worked),
and a directory of frames (PyTorchVideo's ``FrameVideo``) raises NotImplementedError: fastvid decodes encoded
videos only.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

from fastvid.data.encoded_video import EncodedVideo, EncodedVideoPyAV

__all__ = ["Video", "VideoPathHandler"]


class Video(ABC):
    """The interface of a video that gives clips by time (PyTorchVideo's): ``duration`` in seconds,
    ``get_clip(start_sec, end_sec)`` -> a dict of tensors, ``close()``. fastvid's
    :class:`~fastvid.data.EncodedVideoPyAV` is registered as one (``isinstance(video, Video)`` holds)."""

    @abstractmethod
    def __init__(self, file, video_name: str | None = None, decode_audio: bool = True) -> None:
        pass

    @property
    @abstractmethod
    def duration(self) -> float:
        """The video's duration in seconds."""

    @abstractmethod
    def get_clip(self, start_sec: float, end_sec: float) -> dict:
        """The frames (and audio) between ``start_sec`` and ``end_sec``, as a dict of tensors."""

    def close(self) -> None:
        pass


Video.register(EncodedVideoPyAV)


class VideoPathHandler:
    """Opens a video path as PyTorchVideo's ``VideoPathHandler`` does: ``video_from_path(path)`` returns
    ``EncodedVideo.from_path(path, decode_audio=..., decoder=...)`` for a file."""

    def __init__(self) -> None:
        # PyTorchVideo caches the sorted frame paths of frame directories here; kept for code that reads it.
        self.path_order_cache: dict = {}

    def video_from_path(self, filepath, decode_audio: bool = False, decoder: str = "pyav", fps: int = 30):
        """Opens ``filepath`` (``fps`` only applies to frame directories, which fastvid does not read).

        Raises:
            FileNotFoundError: nothing at ``filepath``.
            NotImplementedError: ``filepath`` is a directory of frames.
        """
        try:
            return EncodedVideo.from_path(filepath, decode_audio=decode_audio, decoder=decoder)
        except IsADirectoryError as e:  # PyTorchVideo's handler reads it as a FrameVideo
            raise NotImplementedError(
                f"VideoPathHandler.video_from_path: {os.fspath(filepath)} is a directory; fastvid reads encoded video "
                "files only (PyTorchVideo's FrameVideo is not provided): encode the frames into a video file first, "
                "e.g. ffmpeg -framerate 30 -i frames/%05d.jpg -c:v libx264 -g 16 video.mp4"
            ) from e
