"""``pytorchvideo.data.encoded_video_pyav`` under its own module path: re-exports
:class:`fastvid.data.encoded_video.EncodedVideoPyAV` (fastvid's one decoder)."""

from fastvid.data.encoded_video import EncodedVideoPyAV

__all__ = ["EncodedVideoPyAV"]
