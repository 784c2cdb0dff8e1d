"""Encoded videos and clip decoding with PyAV (as pytorchvideo.data.EncodedVideo, plus a frame-index path).

Two ways to get a clip [start, end) (seconds; frames whose presentation time lies in the window):

* :meth:`EncodedVideoPyAV.get_clip` gives exactly what PyTorchVideo gives: every frame of the window,
  float32 (C, T, H, W) in 0-255, decoded the way PyTorchVideo decodes (seek 1024 pts before the start,
  decode forward, keep the window).
* :meth:`EncodedVideoPyAV.get_clip_frames` decodes only what a temporal subsample keeps. A packet index
  (pts and keyframe flags, read by demuxing without decoding) and the C++ planner give the kept frames
  and the keyframe to seek to; decoding starts there, skips non-reference frames that are not kept,
  stops after the last kept frame and converts only kept frames to RGB. The result, uint8 (T', H, W, 3)
  (returned as a (C, T', H, W) view), is bit-identical to decoding the whole window and subsampling.
  Should the decoder's output ever disagree with the index (frames missing or unexpected), the clip is
  decoded the plain way instead and ``fallbacks`` counts it. Videos up to
  :attr:`EncodedVideoPyAV.window_index_after_sec` (60 s) are indexed whole on their first clip (one
  demux, reused by every later clip); longer ones are indexed around each clip window only, so that
  opening a long video for one clip does not read the whole file.

Rotation: frames come as stored in the stream; a display-matrix rotation (phone videos) is not applied,
as in PyTorchVideo. :attr:`EncodedVideoPyAV.rotation` reports it (degrees) so a caller can rotate.
"""

from __future__ import annotations

import io
import logging
import math
import os
import pathlib
from typing import BinaryIO

import av
import numpy as np
import torch
import torch.utils.data

from fastvid.data.frame_plan import plan_clip_frames
from fastvid.data.utils import pts_to_secs, secs_to_pts, thwc_to_cthw

logger = logging.getLogger(__name__)

__all__ = ["EncodedVideo", "EncodedVideoPyAV", "VideoIndex", "default_decoder_threads"]

_DECODERS = ("pyav",)

# Containers inherited through fork (a DataLoader worker started while the parent had a video open). The
# child must neither close nor free them: their decoder threads exist only in the parent (joining them
# would hang) and their file offset is shared with it. They are kept here, unused, for the child's life.
_INHERITED_CONTAINERS: list = []


def default_decoder_threads() -> int | None:
    """Decoder threads when none are asked for: 1 inside a DataLoader worker (the workers already use
    the cores), None (FFmpeg's default) in the main process."""
    return 1 if torch.utils.data.get_worker_info() is not None else None


class VideoIndex:
    """Presentation times of a video stream's frames (ascending) and which of them are keyframes, read
    by demuxing packets without decoding. ``usable`` is False (with ``reason``) when the packets cannot
    stand for the decoded frames (missing or repeated pts)."""

    __slots__ = ("pts", "keyframes", "usable", "reason", "_pts_list")

    def __init__(self, pts: torch.Tensor, keyframes: torch.Tensor, usable: bool = True, reason: str = "") -> None:
        self.pts = pts
        self.keyframes = keyframes
        self.usable = usable
        self.reason = reason
        self._pts_list = None

    @property
    def pts_list(self) -> list[int]:
        if self._pts_list is None:
            self._pts_list = self.pts.tolist()
        return self._pts_list

    @classmethod
    def from_container(cls, container, stream) -> VideoIndex:
        """The index of every packet of ``stream`` from the container's current position."""
        return cls.from_packets(container.demux(stream))

    @classmethod
    def from_packets(cls, packets) -> VideoIndex:
        """The index of the video packets in ``packets`` (an iterable of PyAV packets, decode order)."""
        pts, key = [], []
        usable, reason = True, ""
        for packet in packets:
            p = packet.pts
            if p is None:
                if packet.size == 0:
                    continue  # the empty packet PyAV gives at the end of the stream
                usable, reason = False, "a video packet has no pts"
                continue
            if packet.is_discard:
                continue  # decoded as a reference but never output (edit lists)
            pts.append(p)
            key.append(packet.is_keyframe)
        order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable") if pts else np.zeros(0, np.int64)
        pts_sorted = np.asarray(pts, dtype=np.int64)[order] if pts else np.zeros(0, np.int64)
        key_sorted = np.asarray(key, dtype=bool)[order] if pts else np.zeros(0, bool)
        if usable and len(pts_sorted) > 1 and bool((pts_sorted[1:] == pts_sorted[:-1]).any()):
            usable, reason = False, "two video packets share a pts"
        return cls(
            torch.from_numpy(pts_sorted.copy()),
            torch.from_numpy(np.flatnonzero(key_sorted).astype(np.int64)),
            usable,
            reason,
        )


class EncodedVideoPyAV:
    """One encoded video opened with PyAV. Close it (or use ``with``) when done.

    Args:
        file: a path or a binary file-like object holding the encoded video.
        video_name: the name reported in samples (PyTorchVideo uses the file name).
        decode_audio: decode the first audio stream too (only when asked: False by default, where
            PyTorchVideo defaults to True; shaped as PyTorchVideo shapes it: float32 (samples,), channels
            averaged).
        perform_seek: seek before decoding a clip (PyTorchVideo's option).
        threads: decoder threads; None: :func:`default_decoder_threads` (1 inside DataLoader workers).

    Raises:
        RuntimeError naming the video when it cannot be opened or has no video stream.
    """

    #: Videos longer than this many seconds are not indexed whole on the first clip: each clip reads
    #: only the packets from the keyframe before its window to two keyframes past it (a long video's
    #: full index costs more than decoding a clip: about 20 ms for 5 minutes of 340x256 H.264).
    window_index_after_sec: float = 60.0

    def __init__(
        self,
        file: str | os.PathLike | BinaryIO,
        video_name: str | None = None,
        decode_audio: bool = False,
        perform_seek: bool = True,
        *,
        threads: int | None = None,
    ) -> None:
        self._video_name = video_name
        self._decode_audio = bool(decode_audio)
        self.perform_seek = bool(perform_seek)
        self._container = None
        self._pid = os.getpid()
        self._index: VideoIndex | None = None
        self._rotation: int | None = None
        self.fallbacks = 0
        self.last_decode_stats: dict = {}
        src = os.fspath(file) if isinstance(file, (str, os.PathLike)) else file
        try:
            self._container = av.open(src)
        except Exception as e:
            raise RuntimeError(f"Failed to open video {video_name or src}: {type(e).__name__}: {e}") from e
        try:
            self._init_streams(threads)
        except BaseException:
            self.close()
            raise

    def _init_streams(self, threads: int | None) -> None:
        container = self._container
        if len(container.streams.video) == 0:
            raise RuntimeError(f"Video stream not found in {self._video_name}")
        vs = container.streams.video[0]
        self._vstream = vs
        if threads is None:
            threads = default_decoder_threads()
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
                raise ValueError(f"EncodedVideoPyAV: threads must be None or an int >= 0, got {threads!r}")
            vs.codec_context.thread_count = threads
            vs.codec_context.thread_type = "SLICE" if threads == 1 else "AUTO"
        self._video_time_base = vs.time_base
        self._video_start_pts = vs.start_time if vs.start_time is not None else 0.0
        video_duration = vs.duration

        audio_duration = None
        self._has_audio = None
        self._astream = None
        if self._decode_audio:
            self._has_audio = len(container.streams.audio) > 0
            if self._has_audio:
                a = container.streams.audio[0]
                self._astream = a
                self._audio_time_base = a.time_base
                self._audio_start_pts = a.start_time if a.start_time is not None else 0.0
                audio_duration = a.duration

        # Without durations in the header PyTorchVideo decodes the whole video up front to find the
        # last frame; here the packet index gives the same last pts without decoding.
        self._selective_decoding = True
        if audio_duration is None and video_duration is None:
            index = self.index
            if index.pts.numel() == 0:
                raise RuntimeError(f"Unable to decode video stream of {self._video_name}: no video packets")
            video_duration = int(index.pts[-1])
            if self._has_audio:
                audio_duration = self._audio_last_pts()
        if audio_duration is not None and video_duration is not None:
            self._duration = max(
                pts_to_secs(video_duration, self._video_time_base, self._video_start_pts),
                pts_to_secs(audio_duration, self._audio_time_base, self._audio_start_pts),
            )
        elif video_duration is not None:
            self._duration = pts_to_secs(video_duration, self._video_time_base, self._video_start_pts)
        else:
            self._duration = pts_to_secs(audio_duration, self._audio_time_base, self._audio_start_pts)

    # ----------------------------------------------------------------------------------------- info
    @classmethod
    def from_path(cls, file_path, decode_audio: bool = False, decoder: str = "pyav", **kwargs) -> EncodedVideoPyAV:
        return EncodedVideo.from_path(file_path, decode_audio=decode_audio, decoder=decoder, **kwargs)

    @property
    def name(self) -> str | None:
        return self._video_name

    @property
    def duration(self):
        """The video's duration in seconds (PyTorchVideo's rule: the longer of the video and audio
        stream durations, as a Fraction of the stream time base)."""
        return self._duration

    @property
    def rotation(self) -> int:
        """Display rotation in degrees, counter-clockwise, from the stream's display matrix (0 when none).
        It is not applied to the frames (as in PyTorchVideo): rotate with ``torch.rot90`` if needed."""
        if self._rotation is None:
            self._check_open()
            rot = 0
            try:
                self._container.seek(0, stream=self._vstream, backward=True, any_frame=False)
                for frame in self._container.decode(self._vstream):
                    rot = int(round(getattr(frame, "rotation", 0) or 0))
                    break
            except av.error.FFmpegError:
                pass
            self._rotation = rot
        return self._rotation

    @property
    def index(self) -> VideoIndex:
        """The packet index of the video stream (built on first use, by demuxing)."""
        if self._index is None:
            self._container.seek(0, stream=self._vstream, backward=True, any_frame=False)
            self._index = VideoIndex.from_container(self._container, self._vstream)
        return self._index

    def _window_index(self, start_pts, end_pts) -> VideoIndex | None:
        """The index of the packets around [start_pts, end_pts): from a keyframe at or before start_pts
        to the second keyframe at or after end_pts (in decode order, so that the B frames that come
        after a keyframe but show before it are in). A backward seek lands on the last keyframe by
        decode time, which in an open GOP can show after start_pts: then the keyframe before it is
        tried. None when no such keyframe is found in a few tries (the caller indexes the whole video)."""
        container, vs = self._container, self._vstream
        target = int(math.floor(start_pts))
        for _ in range(4):
            container.seek(target, stream=vs, backward=True, any_frame=False)
            keys_past_end = 0
            first = []

            def packets():
                nonlocal keys_past_end
                for packet in container.demux(vs):
                    if not first and packet.pts is not None and not packet.is_discard:
                        first.append((packet.pts, packet.dts, packet.is_keyframe))
                    if packet.is_keyframe and packet.pts is not None and packet.pts >= end_pts:
                        keys_past_end += 1
                        if keys_past_end == 2:
                            return
                    yield packet

            index = VideoIndex.from_packets(packets())
            if not first or not first[0][2] or first[0][1] is None:
                return None
            pts, dts = first[0][0], first[0][1]
            if pts <= start_pts or dts <= self._video_start_pts:
                return index  # a keyframe showing at or before the window, or the stream's first packet
            target = min(target, dts) - 1
        return None

    def _audio_last_pts(self):
        last = None
        self._container.seek(0)
        for frame in self._container.decode(self._astream):
            last = frame.pts if last is None else max(last, frame.pts)
        return last

    def __enter__(self) -> EncodedVideoPyAV:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Closes the container (idempotent). In a process forked after the video was opened, the
        container is only let go of (see _INHERITED_CONTAINERS): it belongs to the parent."""
        container, self._container = getattr(self, "_container", None), None
        if container is None:
            return
        if getattr(self, "_pid", None) != os.getpid():
            _INHERITED_CONTAINERS.append(container)
            return
        container.close()

    def _check_open(self) -> None:
        if self._container is None:
            raise ValueError(f"EncodedVideoPyAV: video {self._video_name} is closed")
        if self._pid != os.getpid():
            raise ValueError(
                f"EncodedVideoPyAV: video {self._video_name} was opened in another process (pid {self._pid}); "
                "open it again in this one"
            )

    # ------------------------------------------------------------------------- PyTorchVideo clip
    def _window_pts(self, start_sec, end_sec) -> tuple:
        tb, sp = self._video_time_base, self._video_start_pts
        return (secs_to_pts(start_sec, tb, sp, round_mode="ceil"), secs_to_pts(end_sec, tb, sp, round_mode="ceil"))

    def get_clip(self, start_sec, end_sec) -> dict:
        """Every frame with presentation time in [start_sec, end_sec), as PyTorchVideo gives it.

        Returns:
            {"video": float32 (C, T, H, W) 0-255 or None when the window holds no frame,
             "audio": float32 (samples,) or None}.
        """
        self._check_open()
        start_pts, end_pts = self._window_pts(start_sec, end_sec)
        frames = self._decode_window_frames(start_pts, end_pts)
        video = None
        if frames:
            buf = self._frames_to_uint8(frames)
            video = thwc_to_cthw(torch.from_numpy(buf)).to(torch.float32)
        else:
            logger.debug("No video found within %s and %s seconds of %s", start_sec, end_sec, self._video_name)
        self.last_decode_stats["frames_converted"] = len(frames)
        return {"video": video, "audio": self._get_audio(start_sec, end_sec)}

    def _decode_window_frames(self, start_pts, end_pts) -> list:
        """PyTorchVideo's decode: seek 1024 pts before the start (to the keyframe before), decode forward,
        keep frames in [start_pts, end_pts) by pts (last one wins on repeats), stop at the first frame at
        or past the end."""
        container, vs = self._container, self._vstream
        if self.perform_seek:
            seek_offset = max(start_pts - 1024, 0)
            container.seek(int(seek_offset), any_frame=False, backward=True, stream=vs)
        frames = {}
        decoded = 0
        try:
            for frame in container.decode(vs):
                decoded += 1
                if frame.pts >= start_pts and frame.pts < end_pts:
                    frames[frame.pts] = frame
                elif frame.pts >= end_pts:
                    break
        except av.error.EOFError:
            pass
        self.last_decode_stats = {"frames_decoded": decoded}
        return [frames[p] for p in sorted(frames)]

    @staticmethod
    def _frames_to_uint8(frames: list) -> np.ndarray:
        first = frames[0].to_ndarray(format="rgb24")
        buf = np.empty((len(frames),) + first.shape, dtype=np.uint8)
        buf[0] = first
        for i in range(1, len(frames)):
            buf[i] = frames[i].to_ndarray(format="rgb24")
        return buf

    def _get_audio(self, start_sec, end_sec):
        if not self._has_audio:
            return None
        tb, sp = self._audio_time_base, self._audio_start_pts
        start_pts = secs_to_pts(start_sec, tb, sp, round_mode="ceil")
        end_pts = secs_to_pts(end_sec, tb, sp, round_mode="ceil")
        container = self._container
        if self.perform_seek:
            container.seek(int(max(start_pts - 1024, 0)), any_frame=False, backward=True, stream=self._astream)
        chunks = {}
        try:
            for frame in container.decode(self._astream):
                if frame.pts >= start_pts and frame.pts < end_pts:
                    chunks[frame.pts] = torch.from_numpy(np.mean(frame.to_ndarray(), axis=0))
                elif frame.pts >= end_pts:
                    break
        except av.error.EOFError:
            pass
        if not chunks:
            return None
        return torch.cat([chunks[p] for p in sorted(chunks)], dim=0).to(torch.float32)

    # ---------------------------------------------------------------------------- frame-index clip
    def get_clip_frames(self, start_sec, end_sec, num_samples: int | None = None) -> dict:
        """The frames of [start_sec, end_sec) that UniformTemporalSubsample(num_samples) keeps, decoded alone.

        Args:
            start_sec, end_sec: the window in seconds (Fractions are exact).
            num_samples: frames to keep; None keeps every frame of the window.

        Returns:
            {"video": uint8 (C, T', H, W) (a view of a contiguous (T', H, W, 3) buffer) or None when the
             window holds no frame, "audio": as :meth:`get_clip`, "frame_indices": the kept frames' indices
             within the window (T',) int64}.
        """
        self._check_open()
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples < 1):
            raise ValueError(f"get_clip_frames: num_samples must be None or a positive int, got {num_samples!r}")
        start_pts, end_pts = self._window_pts(start_sec, end_sec)
        buf, rel = self._planned_frames(start_pts, end_pts, num_samples)
        video = None if buf is None else thwc_to_cthw(torch.from_numpy(buf))
        return {"video": video, "audio": self._get_audio(start_sec, end_sec), "frame_indices": rel}

    def plan_clips(self, windows, num_samples: int | None = None):
        """Plans many clip windows of this video at once (the C++ planner runs over them in parallel).

        Args:
            windows: sequence of (start_sec, end_sec) pairs.
            num_samples: frames kept per clip (None: every frame of each window).

        Returns:
            :class:`~fastvid.data.frame_plan.ClipFramePlan` whose indices point into :attr:`index` ``.pts``
            (the video's frames in presentation order); ``seek`` is the keyframe each clip decodes from.
        """
        self._check_open()
        rows = []
        for start_sec, end_sec in windows:
            lo, hi = self._window_pts(start_sec, end_sec)
            rows.append([int(lo), int(hi) if hi != math.inf else 2**62])
        index = self.index
        return plan_clip_frames(index.pts, index.keyframes, torch.tensor(rows, dtype=torch.long).view(-1, 2),
                                num_samples)

    def _planned_frames(self, start_pts, end_pts, num_samples):
        index = None
        if (self._index is None and start_pts != math.inf and end_pts != math.inf
                and float(self._duration) > self.window_index_after_sec):
            index = self._window_index(start_pts, end_pts)
        indexed = "window" if index is not None else "full"
        if index is None:
            index = self.index
        if not index.usable or start_pts == math.inf:
            return self._fallback(start_pts, end_pts, num_samples, index.reason or "open-ended window")
        window = torch.tensor([[int(start_pts), int(math.ceil(end_pts)) if end_pts != math.inf else 2**62]],
                              dtype=torch.long)
        plan = plan_clip_frames(index.pts, index.keyframes, window, num_samples)
        first, count, seek = int(plan.first[0]), int(plan.count[0]), int(plan.seek[0])
        if count == 0:
            self.last_decode_stats = {"frames_decoded": 0, "frames_converted": 0}
            return None, None
        if num_samples is None:
            kept = list(range(first, first + count))
        else:
            kept = plan.indices[0].tolist()
        pts_list = index.pts_list
        want_pts = [pts_list[i] for i in kept]
        window_pts = set(pts_list[first : first + count])
        seek_pts = pts_list[seek] if seek >= 0 else None
        buf = self._decode_selected(want_pts, window_pts, start_pts, end_pts, seek_pts)
        self.last_decode_stats.update(index=indexed, indexed_packets=int(index.pts.numel()))
        if buf is None:
            return self._fallback(start_pts, end_pts, num_samples, "decoded frames disagree with the packet index")
        rel = torch.tensor([i - first for i in kept], dtype=torch.long)
        return buf, rel

    def _decode_selected(self, want_pts, window_pts, start_pts, end_pts, seek_pts):
        container, vs = self._container, self._vstream
        cc = vs.codec_context
        positions: dict[int, list[int]] = {}
        for pos, p in enumerate(want_pts):
            positions.setdefault(p, []).append(pos)
        remaining = len(positions)
        if seek_pts is not None:
            container.seek(int(seek_pts), any_frame=False, backward=True, stream=vs)
        else:
            container.seek(0, any_frame=False, backward=True, stream=vs)
        buf = None
        decoded = converted = 0
        skipping = False
        ok = False
        try:
            for packet in container.demux(vs):
                p = packet.pts
                skip = p is not None and p not in positions
                if skip != skipping:
                    cc.skip_frame = "NONREF" if skip else "DEFAULT"
                    skipping = skip
                for frame in packet.decode():
                    decoded += 1
                    fp = frame.pts
                    if fp is None:
                        return None
                    if fp in positions:
                        pos = positions.pop(fp)
                        arr = frame.to_ndarray(format="rgb24")
                        converted += 1
                        if buf is None:
                            buf = np.empty((len(want_pts),) + arr.shape, dtype=np.uint8)
                        elif arr.shape != buf.shape[1:]:
                            raise RuntimeError(
                                f"frame size changed inside the clip of {self._video_name}: "
                                f"{buf.shape[1:]} then {arr.shape}"
                            )
                        for q in pos:
                            buf[q] = arr
                        remaining -= 1
                    elif start_pts <= fp < end_pts and fp not in window_pts:
                        return None  # a frame the index does not know
                if remaining == 0:
                    ok = True
                    break
        except av.error.EOFError:
            pass
        finally:
            if skipping:
                cc.skip_frame = "DEFAULT"
            self.last_decode_stats = {"frames_decoded": decoded, "frames_converted": converted}
        return buf if ok else None

    def _fallback(self, start_pts, end_pts, num_samples, reason):
        self.fallbacks += 1
        logger.debug("%s: frame-index decoding not possible (%s); decoding the whole window", self._video_name, reason)
        frames = self._decode_window_frames(start_pts, end_pts)
        if not frames:
            return None, None
        if num_samples is None:
            rel = torch.arange(len(frames), dtype=torch.long)
        else:
            rel = torch.clamp(torch.linspace(0, len(frames) - 1, num_samples), 0, len(frames) - 1).long()
        chosen = [frames[i] for i in rel.tolist()]
        self.last_decode_stats["frames_converted"] = len(chosen)
        return self._frames_to_uint8(chosen), rel


class EncodedVideo:
    """Factory as PyTorchVideo's: ``EncodedVideo.from_path(path, decode_audio=..., decoder="pyav")``."""

    @classmethod
    def from_path(
        cls,
        file_path: str | os.PathLike,
        decode_audio: bool = False,
        decoder: str = "pyav",
        *,
        threads: int | None = None,
        read_to_memory: bool = False,
    ) -> EncodedVideoPyAV:
        """Opens ``file_path`` (named by its file name, as PyTorchVideo does).

        Args:
            decode_audio: also decode audio (only when asked; PyTorchVideo's default is True).
            decoder: "pyav" (the only decoder).
            threads: decoder threads (see :class:`EncodedVideoPyAV`).
            read_to_memory: read the file into memory first (PyTorchVideo's way, for remote file systems).

        Raises:
            ValueError for an unknown decoder; FileNotFoundError for a missing path; RuntimeError when
            the file cannot be opened as a video.
        """
        if decoder not in _DECODERS:
            raise ValueError(f'EncodedVideo.from_path: decoder must be "pyav", got {decoder!r}')
        path = os.fspath(file_path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"EncodedVideo.from_path: {path} not found")
        src: str | BinaryIO = path
        if read_to_memory:
            with open(path, "rb") as fh:
                src = io.BytesIO(fh.read())
        return EncodedVideoPyAV(src, pathlib.Path(path).name, decode_audio=decode_audio, threads=threads)
