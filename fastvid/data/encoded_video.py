"""Encoded videos and clip decoding with PyAV (as pytorchvideo.data.EncodedVideo, plus a frame-index path).

Two ways to get a clip [start, end) (seconds; frames whose presentation time lies in the window):

* :meth:`EncodedVideoPyAV.get_clip` gives what PyTorchVideo gives: every frame of the window, float32
  (C, T, H, W) in 0-255, decoded the way PyTorchVideo decodes (seek 1024 pts before the start, decode
  forward, keep the window), with the seek verified (below).
* :meth:`EncodedVideoPyAV.get_clip_frames` decodes only what a temporal subsample keeps. A packet index
  (pts and keyframe flags, read by demuxing without decoding) and the C++ planner give the kept frames
  and the keyframe to seek to; decoding starts there, skips non-reference frames that are not kept (in the
  decoders that allow it: :data:`_NONREF_SKIP_DECODERS`),
  stops at the last kept frame (in MP4 / MOV and Matroska / WebM, once the kept frames' packets are in, the decoder
  is drained rather than fed the frames after them: :attr:`EncodedVideoPyAV.drain_after_last_kept`) and converts
  only kept frames to RGB. The result, uint8 (T', H, W, 3)
  (returned as a (C, T', H, W) view), is bit-identical to decoding the whole window and subsampling.
  Should the decoder's output ever disagree with the index (frames missing or unexpected), the clip is
  decoded the plain way instead and ``fallbacks`` counts it. The first clip read from an opened video (a
  training loader opens a video for each clip) is indexed around its window only, and decoded from the
  packets that index read, without seeking again (:attr:`EncodedVideoPyAV.window_index_first_clip`); later
  clips of videos up to :attr:`EncodedVideoPyAV.window_index_after_sec` (60 s) use the whole index (one
  demux, reused by every later clip); longer ones are indexed around each clip window only, so that
  opening a long video for one clip does not read the whole file.
* :meth:`EncodedVideoPyAV.get_clips_frames` gives several windows' clips at once, each exactly
  ``get_clip_frames``', in shared decoding passes: a window whose keyframe the pass before goes by is read by
  that pass (overlapping validation views decode each frame once); one farther on seeks. Long videos are
  indexed around each cluster of nearby windows (:attr:`EncodedVideoPyAV.cluster_gap_sec`).

Seeking is verified: after a seek, packets are read up to the first keyframe, which must show at or
before the frames wanted (in MPEG-TS / MPEG-PS also be one of the packet index's keyframes, and every
decoded frame's pts one of the index's; these containers are always indexed whole, whatever their
length). FFmpeg's timestamp seeks there can land a GOP late or on re-derived timestamps. A seek that
does not verify, or that fails (an MP4 whose first packet is not a keyframe refuses seeks before that
keyframe), is retried 1/4, 1/2, 1, 2, 4, ... s further back, down to the stream's start, and failing that the
clip is decoded from the start of the file (``container.seek(0)``: exact, slower; a RuntimeWarning says so
once per container format; ``last_decode_stats["from_start"]`` says so for each clip).
So both ways give the frames a decode of the whole file from its start gives, also where PyTorchVideo's
seek loses frames. H.264 / HEVC with B-frames in AVI, which stores no presentation times, come out in
display order (see :meth:`EncodedVideoPyAV._decode_display_order`; PyTorchVideo gives decode order).
Decoding errors are raised as a RuntimeError naming the video and the clip window.

Rotation: frames come as stored in the stream; a display-matrix rotation (phone videos) is not applied,
as in PyTorchVideo. :attr:`EncodedVideoPyAV.rotation` reports it (degrees) so a caller can rotate.
"""

from __future__ import annotations

import bisect
import inspect
import io
import itertools
import logging
import math
import os
import pathlib
import warnings
from typing import BinaryIO, NamedTuple

import av
import numpy as np
import torch
import torch.utils.data

from fastvid.data.frame_plan import plan_clip_frames
from fastvid.data.utils import pts_to_secs, secs_to_pts, thwc_to_cthw

logger = logging.getLogger(__name__)

__all__ = ["EncodedVideo", "EncodedVideoPyAV", "VideoIndex", "default_decoder_threads", "video_stream"]

_DECODERS = ("pyav",)

# What PyAV raises from a seek or a decode: av.error.FFmpegError and its OSError subclasses (e.g. the
# PermissionError of a backward seek before an MP4's first keyframe), and plain OSErrors of the file.
_AV_ERRORS = (av.error.FFmpegError, OSError)

# Containers whose seeks are not trusted without the packet index (FFmpeg's AVFMT_TS_DISCONT: MPEG-TS,
# MPEG-PS): seeks there are a binary search on timestamps and may land a GOP late or on frames whose
# pts are derived differently than in a read from the start.
_TS_DISCONT = 0x200  # AVFMT_TS_DISCONT (av.format.Flags.ts_discont)

# Container formats already warned about (decoded from the start because seeking was not exact).
_WARNED_FORMATS: set = set()

# Containers inherited through fork (a DataLoader worker started while the parent had a video open). The
# child must neither close nor free them: their decoder threads exist only in the parent (joining them
# would hang) and their file offset is shared with it. They are kept here, unused, for the child's life.
_INHERITED_CONTAINERS: list = []


class _Rgb24:
    """Video frames to (H, W, 3) uint8 RGB arrays through one swscale context, single-threaded.

    ``frame.to_ndarray(format="rgb24")`` makes a new reformatter, hence a new swscale context, for every frame, and
    since PyAV 17 with ``threads=0`` (automatic: one thread per CPU), so every converted frame started and joined a
    thread per core (2 here, 16 on a 16-core GPU machine; in DataLoader workers that already share the cores, most
    of the conversion's time went to thread setup and waiting). The same conversion, the same bytes (swscale's
    output does not depend on its threads)."""

    __slots__ = ("_reformatter", "_threads")

    def __init__(self) -> None:
        from av.video.reformatter import VideoReformatter

        self._reformatter = VideoReformatter()
        # (PyAV < 17 has no threads argument: single-threaded there anyway)
        self._threads = int(av.__version__.split(".")[0]) >= 17

    def __call__(self, frame) -> np.ndarray:
        if self._threads:
            return self._reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
        return self._reformatter.reformat(frame, format="rgb24").to_ndarray()


# FFmpeg decoders that honour ``skip_frame = "NONREF"`` frame by frame, as set before each packet (it drops the
# frames no other frame refers to and changes nothing else). Others decode every frame: libdav1d (AV1) applies the
# setting to frames other than those of the packets it was set for, and keeps dropping after it is set back, so a
# wanted frame goes missing (found by a fuzz: a clip one frame short, and wrong clips after it on the same video).
_NONREF_SKIP_DECODERS = frozenset({"h264", "hevc", "mpeg4", "h263", "mpeg1video", "mpeg2video", "vp8", "vp9", "vc1", "wmv3",
                                   "msmpeg4"})


# Containers whose packets each hold one whole frame (a sample of MP4 / MOV, a block of Matroska / WebM), so that a
# kept frame is complete once its packet is decoded. (MPEG-TS / PS can carry a frame's fields in two packets.)
_FRAME_PACKET_FORMATS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})
# Decoders that are drained after the last kept frame's packet. Not MPEG-4 part 2: after a seek, FFmpeg's decoder
# drops B frames of an interlaced stream (from timing state that no flush resets), and what it read before decides
# how many (such clips fall back to the plain decode, drained or not; a drained frame-threaded decoder lost more).
_DRAIN_DECODERS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "libdav1d", "mpeg1video", "mpeg2video"})


def video_stream(container):
    """The video stream a clip is read from: FFmpeg's best video stream (``av_find_best_stream``, the one
    the ffmpeg tool and torchcodec pick), which passes over a cover picture (an MP4's ``attached_pic``, a
    one-frame MJPEG stream before the video in an MKV); None when the file has no video stream.
    (PyTorchVideo reads the first video stream, the same stream in a file with one.)"""
    if not container.streams.video:
        return None
    best = container.streams.best("video")
    return best if best is not None else container.streams.video[0]


def default_decoder_threads() -> int | None:
    """Decoder threads when none are asked for: 1 inside a DataLoader worker (the workers already use
    the cores), None (FFmpeg's default) in the main process."""
    return 1 if torch.utils.data.get_worker_info() is not None else None


class VideoIndex:
    """Presentation times of a video stream's frames (ascending) and which of them are keyframes, read
    by demuxing packets without decoding. ``usable`` is False (with ``reason``) when the packets cannot
    stand for the decoded frames (missing or repeated pts)."""

    __slots__ = ("pts", "keyframes", "usable", "reason", "pts_in_decode_order", "_pts_list", "_pts_set", "_key_pts")

    def __init__(self, pts: torch.Tensor, keyframes: torch.Tensor, usable: bool = True, reason: str = "",
                 pts_in_decode_order: bool = False) -> None:
        self.pts = pts
        self.keyframes = keyframes
        self.usable = usable
        self.reason = reason
        #: the packets' pts increase in decode order (no reordering, or pts that are decode times)
        self.pts_in_decode_order = pts_in_decode_order
        self._pts_list = None
        self._pts_set = None
        self._key_pts = None

    @property
    def pts_list(self) -> list[int]:
        if self._pts_list is None:
            self._pts_list = self.pts.tolist()
        return self._pts_list

    @property
    def pts_set(self) -> frozenset:
        """Every frame's pts, as a set."""
        if self._pts_set is None:
            self._pts_set = frozenset(self.pts_list)
        return self._pts_set

    @property
    def key_pts(self) -> frozenset:
        """The keyframes' pts, as a set."""
        if self._key_pts is None:
            pts = self.pts_list
            self._key_pts = frozenset(pts[i] for i in self.keyframes.tolist())
        return self._key_pts

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
        in_decode_order = len(pts) > 1 and bool((np.diff(np.asarray(pts, dtype=np.int64)) > 0).all())
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
            in_decode_order,
        )


def _nal_units(data: bytes, length_size: int):
    """The NAL unit headers' first bytes in an H.264 / HEVC packet: Annex B (start codes, as in AVI and
    MPEG-TS) when ``length_size`` is 0, else ``length_size``-byte big-endian lengths (MP4 / MKV's avcC /
    hvcC)."""
    if not length_size:
        pos = data.find(b"\x00\x00\x01")
        while pos >= 0 and pos + 3 < len(data):
            yield data[pos + 3]
            pos = data.find(b"\x00\x00\x01", pos + 3)
        return
    pos = 0
    while pos + length_size < len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        if size == 0:
            return
        yield data[pos + length_size]
        pos += length_size + size


def _opens_gop(data: bytes, codec_context) -> bool:
    """Whether a keyframe packet of H.264 / HEVC may be followed (in decode order) by frames that show before
    it and refer to frames before it: an open GOP, whose leading frames a decoder started there drops. True
    unless its first picture's slices are IDR (H.264 NAL type 5; HEVC 19 or 20); also when no slice is found
    (the exact way is the safe one)."""
    hevc = codec_context.name == "hevc"
    extradata = codec_context.extradata or b""
    length_size = 0  # Annex B, unless the extradata is an avcC / hvcC record (which starts with version 1)
    if extradata[:1] == b"\x01":
        at = 21 if hevc else 4
        length_size = (extradata[at] & 3) + 1 if len(extradata) > at else 4
    for header in _nal_units(data, length_size):
        if hevc:
            kind = (header >> 1) & 0x3F
            if kind < 32:  # a slice (VCL NAL unit)
                return kind not in (19, 20)
        else:
            kind = header & 0x1F
            if kind in (1, 5):  # a slice of a non-IDR / IDR picture
                return kind != 5
    return True


class _Unset:
    """The default of a flag that may also come by position: told apart from the same value given by keyword."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()

# The defaults of the flags that may come by position (EncodedVideoPyAV's, EncodedVideo.from_path's).
_PYAV_FLAGS = {"decode_video": True, "decode_audio": False, "perform_seek": True}
_FROM_PATH_FLAGS = {"decode_video": True, "decode_audio": True, "decoder": "pyav"}


def _public_defaults(**defaults):
    """Shows ``defaults`` (the values an unset flag takes) in the decorated function's signature, in place
    of its ``_UNSET`` defaults, so that ``inspect.signature`` and ``help`` tell the real defaults."""

    def decorate(func):
        sig = inspect.signature(func)
        func.__signature__ = sig.replace(parameters=[
            q.replace(default=defaults[q.name]) if q.name in defaults else q for q in sig.parameters.values()
        ])
        return func

    return decorate


def _positional_flags(owner: str, flags: tuple, given: dict, defaults: dict, *, release: tuple, main: tuple) -> tuple:
    """``given``'s values (in ``main``'s order; ``_UNSET`` ones from ``defaults``) with the positional ``flags``
    put in place: read in PyTorchVideo 0.1.5's release order ``release`` unless the second flag is a bool or
    there are more flags than that order has (then the main branch's order ``main``). One bool is the
    release's ``decode_audio`` (the main branch's ``decode_video=False`` is not supported anyway). A flag given
    both by position and by keyword is a TypeError, as Python makes it."""
    if len(flags) > len(main):
        raise TypeError(f"{owner}: takes at most {len(main)} positional flags ({', '.join(main)}), got {len(flags)}")
    use_main = len(flags) > len(release) or (len(flags) >= 2 and isinstance(flags[1], bool))
    values = dict(given)
    for name, value in zip(main if use_main else release, flags):
        if values[name] is not _UNSET:
            raise TypeError(
                f"{owner}() got multiple values for argument '{name}' (positional flag {value!r} and "
                f"{name}={values[name]!r})"
            )
        values[name] = value
    return tuple(defaults[name] if values[name] is _UNSET else values[name] for name in main)


class _Pass(NamedTuple):
    """One decoding pass of :meth:`EncodedVideoPyAV.get_clips_frames`."""

    members: list  # the window numbers it reads
    data: np.ndarray | None  # (frames, H, W, 3) uint8, each member's frames one after another; None: failed
    offsets: list  # where each member's frames start in ``data``
    rels: list  # each member's kept frames, as indices within its window (None: the window has no frame)
    stats: dict  # its decode counts


class EncodedVideoPyAV:
    """One encoded video opened with PyAV. Close it (or use ``with``) when done.

    Args:
        file: a path or a binary file-like object holding the encoded video.
        video_name: the name reported in samples (PyTorchVideo uses the file name).
        decode_video: must be True (PyTorchVideo 0.1.5's argument, in its place; fastvid decodes video).
        decode_audio: decode the first audio stream too (only when asked: False by default, where
            PyTorchVideo defaults to True; shaped as PyTorchVideo shapes it: float32 (samples,), channels
            averaged).
        perform_seek: seek before decoding a clip (PyTorchVideo's option).
        threads: decoder threads; None: :func:`default_decoder_threads` (1 inside DataLoader workers). Another
            number (0: FFmpeg's choice) turns on frame threads too; with PyAV's Python log callback installed
            (``av.logging.set_level(...)``), closing such a video can deadlock (FFmpeg's frame threads wait for the
            GIL in the callback while the closing thread holds it: PyAV issues #909, #751).

    Raises:
        RuntimeError naming the video when it cannot be opened or has no video stream; ValueError for
        decode_video=False; TypeError for a flag given both by position (in either of PyTorchVideo's
        orders: ``decode_audio`` alone, or ``decode_video, decode_audio, perform_seek``) and by keyword.
    """

    #: Videos longer than this many seconds are not indexed whole on the first clip: each clip reads
    #: only the packets from the keyframe before its window to two keyframes past it (a long video's
    #: full index costs more than decoding a clip: about 20 ms for 5 minutes of 340x256 H.264).
    window_index_after_sec: float = 60.0
    #: The first clip read from an opened video (a training loader opens a video per clip) is indexed around its
    #: window too, whatever the video's length, and decoded from the packets that index read, without a second
    #: seek (each kept packet let go of once decoded); later clips of a video up to :attr:`window_index_after_sec` use
    #: its whole index, built once. Not with ``perform_seek=False`` (a clip's audio is read from where its video's
    #: decode left the container).
    window_index_first_clip: bool = True
    #: At most this many bytes of packets are kept from a window index for the decode (a video with few keyframes
    #: would keep most of the file); past it the decode seeks again instead.
    keep_packet_bytes: int = 32 << 20
    #: Once the packets of every kept frame have gone to the decoder, it is drained (FFmpeg's flush: the frames it
    #: holds back for reordering come out) instead of being fed the next packets (the next reference frames, a
    #: frame-threaded decoder's pipeline). Only in containers whose packets are whole frames (:data:`_FRAME_PACKET_FORMATS`),
    #: for the decoders of :data:`_DRAIN_DECODERS`, once a frame of the video has come out progressive (an interlaced
    #: video is never drained: a field-coded picture can be two packets), and not with ``perform_seek=False`` (there
    #: the next read goes on from the decoder's state and the container's position that a clip leaves).
    drain_after_last_kept: bool = True

    @_public_defaults(**_PYAV_FLAGS)
    def __init__(
        self,
        file: str | os.PathLike | BinaryIO,
        video_name: str | None = None,
        *flags,
        decode_video: bool = _UNSET,
        decode_audio: bool = _UNSET,
        perform_seek: bool = _UNSET,
        threads: int | None = None,
    ) -> None:
        decode_video, decode_audio, perform_seek = _positional_flags(
            "EncodedVideoPyAV", flags, {"decode_video": decode_video, "decode_audio": decode_audio,
                                        "perform_seek": perform_seek},
            _PYAV_FLAGS,
            release=("decode_audio",), main=("decode_video", "decode_audio", "perform_seek"),
        )
        if not decode_video:
            raise ValueError("EncodedVideoPyAV: decode_video=False is not supported (fastvid decodes video clips)")
        self._video_name = video_name
        self._decode_audio = bool(decode_audio)
        self.perform_seek = bool(perform_seek)
        self._container = None
        self._pid = os.getpid()
        self._index: VideoIndex | None = None
        self._read_clip = False  # (a clip was planned: the next ones use the whole index)
        self._rotation: int | None = None
        self._reordered: bool | None = None
        self._open_gop = ""  # why not to seek: a keyframe seen by _decode_display_order opens its GOP
        self._rgb24 = _Rgb24()
        self.fallbacks = 0
        self._interlaced: bool | None = None  # (whether this video's frames are; None: none decoded yet)
        #: what the last clip's decode did: frames_decoded, frames_converted, from_start (decoded from the
        #: start of the file: a seek could not be used or verified), seek_retries (when a seek was retried), ...
        self.last_decode_stats: dict = {}
        src = os.fspath(file) if isinstance(file, (str, os.PathLike)) else file
        # what error messages name: the path (EncodedVideo.from_path sets it), else the file's name
        self._source = src if isinstance(src, str) else (getattr(src, "name", None) or video_name)
        try:
            self._container = av.open(src)
        except Exception as e:
            empty = isinstance(src, str) and os.path.isfile(src) and os.path.getsize(src) == 0
            why = "the file is empty (0 bytes)" if empty else f"{type(e).__name__}: {e}"
            raise RuntimeError(f"Failed to open video {video_name or src}: {why}") from e
        try:
            self._init_streams(threads)
        except BaseException:
            self.close()
            raise

    def _init_streams(self, threads: int | None) -> None:
        container = self._container
        vs = video_stream(container)
        if vs is None:
            raise RuntimeError(f"Video stream not found in {self._video_name}")
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
        self._seek_unreliable = bool(int(container.format.flags) & _TS_DISCONT)
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

        # A header's stream duration is a length (AVStream.duration): seconds = duration * time_base.
        # (PyTorchVideo 0.1.5 subtracts the start pts from it, as if it were the last pts: a stream that
        # starts at 1.5 s then looks 1.5 s shorter, one starting at 10 s negative.)
        video_secs = video_duration * self._video_time_base if video_duration is not None else None
        audio_secs = audio_duration * self._audio_time_base if audio_duration is not None else None
        # Without durations in the header PyTorchVideo decodes the whole video up front to find the
        # last frame; here the packet index gives the same last pts without decoding. A last pts is a
        # time, not a length: the start pts is subtracted (PyTorchVideo's rule).
        self._selective_decoding = True
        if audio_secs is None and video_secs is None:
            index = self.index
            if index.pts.numel() == 0:
                raise RuntimeError(f"Unable to decode video stream of {self._video_name}: no video packets")
            video_secs = pts_to_secs(int(index.pts[-1]), self._video_time_base, self._video_start_pts)
            if self._has_audio:
                last = self._audio_last_pts()
                if last is not None:
                    audio_secs = pts_to_secs(last, self._audio_time_base, self._audio_start_pts)
            if not self.perform_seek:
                self._rewind()  # the next clip decodes from the start, not from the end of the file
        if audio_secs is not None and video_secs is not None:
            self._duration = max(video_secs, audio_secs)
        else:
            self._duration = video_secs if video_secs is not None else audio_secs

    # ----------------------------------------------------------------------------------------- info
    @classmethod
    def from_path(cls, file_path, *flags, **kwargs) -> EncodedVideoPyAV:
        """:meth:`EncodedVideo.from_path`."""
        return EncodedVideo.from_path(file_path, *flags, **kwargs)

    @property
    def name(self) -> str | None:
        return self._video_name

    @property
    def duration(self):
        """The video's duration in seconds (PyTorchVideo's rule: the longer of the video and audio
        stream durations, as a Fraction of the stream time base)."""
        return self._duration

    @property
    def frame_size(self) -> tuple[int, int]:
        """(height, width) of the video stream's frames, as its header gives them (0 where it does not)."""
        cc = self._vstream.codec_context
        return int(cc.height or 0), int(cc.width or 0)

    @property
    def rotation(self) -> int:
        """Display rotation in degrees, counter-clockwise, from the stream's display matrix (0 when none).
        It is not applied to the frames (as in PyTorchVideo): rotate with ``torch.rot90`` if needed."""
        if self._rotation is None:
            self._check_open()
            rot = 0
            try:
                self._rewind()
                for frame in self._container.decode(self._vstream):
                    rot = int(round(getattr(frame, "rotation", 0) or 0))
                    break
                if not self.perform_seek:
                    self._rewind()  # clips decode from the current position: back to the start
            except (*_AV_ERRORS, RuntimeError):
                pass
            self._rotation = rot
        return self._rotation

    @property
    def index(self) -> VideoIndex:
        """The packet index of the video stream (built on first use, by demuxing)."""
        if self._index is None:
            self._check_open()
            self._rewind()
            try:
                self._index = VideoIndex.from_container(self._container, self._vstream)
            except _AV_ERRORS as e:
                raise RuntimeError(
                    f"Failed to index the video packets of {self._describe()}: {type(e).__name__}: {e}"
                ) from e
            if not self.perform_seek:
                self._rewind()
        return self._index

    @property
    def _pts_per_second(self) -> int:
        return max(int(round(1 / self._video_time_base)), 1)

    def _describe(self) -> str:
        return str(self._source or self._video_name)

    def _rewind(self) -> None:
        """Back to the start of the file, every stream, as a fresh open reads it (``container.seek(0)``,
        which FFmpeg does exactly in every container, unlike a timestamp seek on the video stream)."""
        try:
            self._container.seek(0)
        except _AV_ERRORS as e:
            try:
                self._container.seek(0, stream=self._vstream, backward=True, any_frame=False)
            except _AV_ERRORS:
                raise RuntimeError(
                    f"Cannot seek to the start of video {self._describe()}: {type(e).__name__}: {e}"
                ) from e

    def _video_packets(self, target, limit, index: VideoIndex | None = None):
        """Seeks the video stream for decoding every frame that shows at or after pts ``limit`` exactly as
        a decode from the start of the stream gives it.

        A backward seek to ``target`` must come to a keyframe that shows at or before ``limit`` (or before
        the first of ``index``'s frames at or after it, when an index is given) and, in
        containers whose seeks are not trusted (MPEG-TS / PS), is one of ``index``'s keyframes. Packets before
        that keyframe (a seek that lands inside a GOP, as in MPEG-TS) are dropped. Otherwise the seek
        is retried 1/4, 1/2, 1, 2, 4, ... seconds before ``limit`` down to the stream's start, and failing that the
        file is rewound (:meth:`_packets_from_start`). Sets ``last_decode_stats["from_start"]``.

        Returns:
            (packets, from_start): an iterator of the video stream's packets (decode order) and whether
            it starts at the beginning of the file (nothing verified or dropped: the reference decode).
        """
        container, vs = self._container, self._vstream
        # Where seeks are trusted, a keyframe at or before ``limit`` is right even when it is not in a
        # window index (one that starts at a later keyframe); elsewhere it must be a known keyframe.
        check_keys = index is not None and self._seek_unreliable
        # With the index, a keyframe up to the first frame at or after ``limit`` will do (no frame shows
        # between them; in a variable frame rate or B-frame delayed stream the keyframe can be past ``limit``).
        bound = limit
        if index is not None and limit != math.inf:
            i = bisect.bisect_left(index.pts_list, limit)
            if i < len(index.pts_list):
                bound = index.pts_list[i]
        second = self._pts_per_second
        first_pts = self._video_start_pts
        targets = [int(target)]
        if limit != math.inf:
            # 1/4, 1/2, 1, 2, 4, ... s before ``limit``, down to the first one before the stream's start
            # (where a seek lands as a rewind does: the loop below stops there). A seek in MPEG-TS lands a
            # GOP late (a quarter second back lands on the GOP before in short-GOP videos), and one in
            # MPEG-PS (a binary search) on consistent timestamps or not more or less by chance: worth many
            # tries, each far cheaper than decoding from the start of a long video.
            k = 0.25
            while True:
                t = int(limit - k * second)
                if t < targets[-1]:
                    targets.append(t)
                if t < first_pts:
                    break
                k *= 2
        problem = ""
        for t in targets:
            if t < first_pts and problem:
                break  # the earlier tries landed wrong: seeking before the first pts would too
            try:
                container.seek(t, stream=vs, backward=True, any_frame=False)
            except _AV_ERRORS as e:
                problem = problem or f"seek raised {type(e).__name__}: {e}"
                continue
            packets = container.demux(vs)
            dropped = 0
            key = None
            for packet in packets:
                if packet.is_keyframe and packet.pts is not None:
                    key = packet
                    break
                dropped += 1
                if dropped > 1024:
                    break
            if key is None:
                problem = problem or ("no keyframe within 1024 packets after the seek" if dropped
                                      else "no video packet after the seek (past the end of the data?)")
                continue
            kp = key.pts
            if kp <= bound and (not check_keys or kp in index.key_pts):
                if problem:
                    self.last_decode_stats["seek_retries"] = targets.index(t)
                self.last_decode_stats["from_start"] = False
                return itertools.chain((key,), packets), False
            if not problem:
                problem = (f"a seek landed on a keyframe at pts {kp}" + (f" after {dropped} other packets" if dropped else "")
                           + (", not one of the packet index's keyframes" if check_keys and kp not in index.key_pts
                              else f", after the wanted pts {bound}"))
        self.last_decode_stats["seek_retries"] = len(targets)
        return self._packets_from_start(problem, limit), True

    def _packets_from_start(self, problem: str, limit):
        """Rewinds (exact) for a clip whose frames from pts ``limit`` on cannot come from a seek, because of
        ``problem``, and says so: a RuntimeWarning once per container format, a log line each time.
        Returns the video stream's packets from the start of the file."""
        fmt = self._container.format.name
        second = self._pts_per_second
        # (not for windows in the first second: there a failed seek is usually one before the first
        # keyframe, e.g. of a stream-copy cut, and the start is where decoding has to begin anyway)
        if fmt not in _WARNED_FORMATS and limit > self._video_start_pts + second:
            _WARNED_FORMATS.add(fmt)
            warnings.warn(
                f"fastvid: seeking in {self._describe()} (container {fmt}) is not exact ({problem}); clips that "
                "need such a seek are decoded from the start of the video (exact, slower). Re-encoding the videos "
                "(fastvid-prepare) avoids it. This is said once per container format.",
                RuntimeWarning,
                stacklevel=4,
            )
        logger.info("%s: decoding from the start of the stream (%s)", self._describe(), problem)
        return self._rewound_packets()

    def _rewound_packets(self):
        """The video stream's packets from the start of the file (a rewind); ``last_decode_stats`` records
        that the clip was decoded from the start."""
        self._rewind()
        self.last_decode_stats["from_start"] = True
        return self._container.demux(self._vstream)

    def _window_index(self, start_pts, end_pts, keep: list | None = None) -> VideoIndex | None:
        """The index of the packets around [start_pts, end_pts): from a keyframe at or before start_pts
        to the second keyframe at or after end_pts (in decode order, so that the B frames that come
        after a keyframe but show before it are in). A backward seek lands on the last keyframe by
        decode time, which in an open GOP can show after start_pts: then the keyframe before it is
        tried. None when no such keyframe is found in a few tries (the caller indexes the whole video).

        ``keep``: a list that receives every packet a successful index read, in decode order, the one it stopped at
        included (none past :attr:`keep_packet_bytes`; nothing when the index fails); the stream's next packet is
        then the one after the last of them, so a decode can start at one of their keyframes without seeking again
        (:meth:`_index_packets_from`)."""
        container, vs = self._container, self._vstream
        target = int(math.floor(start_pts))
        for _ in range(4):
            try:
                container.seek(target, stream=vs, backward=True, any_frame=False)
            except _AV_ERRORS:
                return None
            keys_past_end = 0
            first = []
            read: list | None = [] if keep is not None else None  # (this try's packets)
            read_bytes = 0

            def packets():
                nonlocal keys_past_end, read, read_bytes
                for packet in container.demux(vs):
                    if read is not None:
                        read.append(packet)
                        read_bytes += packet.size
                        if read_bytes > self.keep_packet_bytes:  # (few keyframes: the rest of the file; a seek will do)
                            read = None
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
                if read is not None:
                    keep.extend(read)
                return index  # a keyframe showing at or before the window, or the stream's first packet
            target = min(target, dts) - 1
        return None

    def _index_packets_from(self, index_packets: list, key_pts: int):
        """The video stream's packets from the keyframe at pts ``key_pts`` on, as a seek to it gives them: those of
        ``index_packets`` (what :meth:`_window_index` just read) from that keyframe, then the stream's next ones;
        None when ``index_packets`` does not hold that keyframe."""
        for i, packet in enumerate(index_packets):
            if packet.is_keyframe and packet.pts == key_pts:
                self.last_decode_stats.update(from_start=False, reused_index_packets=True)
                del index_packets[:i]
                index_packets.reverse()
                return self._kept_then_stream(index_packets)
        return None

    def _kept_then_stream(self, reversed_packets: list):
        """Yields the packets of ``reversed_packets`` (last first) and then the stream's next ones, letting go of
        each kept packet as it is yielded (the list is emptied: the kept packets' memory is freed while decoding, and
        what a decode that stops early leaves is let go of with the generator)."""
        try:
            while reversed_packets:
                yield reversed_packets.pop()
            yield from self._container.demux(self._vstream)
        finally:
            reversed_packets.clear()

    def _audio_last_pts(self):
        last = None
        self._rewind()
        for frame in self._container.decode(self._astream):
            if frame.pts is not None:
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

        Raises:
            RuntimeError naming the video, the window and the cause (kept as ``__cause__``) when PyAV
            fails to decode the clip.
        """
        self._check_open()
        try:
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
        except _AV_ERRORS as e:
            raise self._decode_error(e, start_sec, end_sec) from e

    def _decode_error(self, e: BaseException, start_sec, end_sec) -> RuntimeError:
        return RuntimeError(
            f"Failed to decode the clip [{float(start_sec):.3f}, {float(end_sec):.3f}) s of video "
            f"{self._describe()}: {type(e).__name__}: {e}"
        )

    def _decode_window_frames(self, start_pts, end_pts) -> list:
        """PyTorchVideo's decode: seek 1024 pts before the start (to the keyframe before), decode forward,
        keep frames in [start_pts, end_pts) by pts (last one wins on repeats), stop at the first frame at
        or past the end. The seek is verified (:meth:`_video_packets`); in containers whose seeks are
        not trusted (MPEG-TS / PS) every frame's pts must also be in the packet index, else the window
        is decoded again from the start of the file."""
        container, vs = self._container, self._vstream
        self.last_decode_stats = {"from_start": False}
        if start_pts == math.inf:
            self.last_decode_stats["frames_decoded"] = 0
            return []
        if self._pts_are_decode_times():
            return self._decode_display_order(start_pts, end_pts)
        if not self.perform_seek:
            frames, decoded, _ = self._collect_window(container.demux(vs), start_pts, end_pts, None)
            self.last_decode_stats["frames_decoded"] = decoded
            return frames
        index = self.index if self._seek_unreliable else self._index
        packets, from_start = self._video_packets(max(start_pts - 1024, 0), start_pts, index)
        check = index.pts_set if self._seek_unreliable and not from_start else None
        frames, decoded, ok = self._collect_window(packets, start_pts, end_pts, check)
        if not ok:
            logger.info("%s: a frame's pts after a seek is not in the packet index; decoding from the start",
                        self._describe())
            frames, more, _ = self._collect_window(self._rewound_packets(), start_pts, end_pts, None)
            decoded += more
        self.last_decode_stats["frames_decoded"] = decoded
        return frames

    def _pts_are_decode_times(self) -> bool:
        """True for a stream whose packet pts are decode times while its frames are reordered: H.264 /
        HEVC with B-frames in AVI (which stores no presentation times; FFmpeg numbers the packets in
        decode order, and the decoder's frames, which come out in display order, carry those numbers)."""
        if self._reordered is None:
            # (FFmpeg's MPEG-4 part 2 parser recovers presentation times in AVI; H.264's and HEVC's do not)
            cc = self._vstream.codec_context
            self._reordered = bool(
                self._container.format.name == "avi" and cc.name in ("h264", "hevc") and cc.has_b_frames
                and self.index.pts_in_decode_order
            )
        return self._reordered

    def _decode_display_order(self, start_pts, end_pts) -> list:
        """The frames of [start_pts, end_pts) of a stream whose pts are decode times
        (:meth:`_pts_are_decode_times`). The decoder outputs frames in display order, so the k-th frame
        output from the start of the stream is given the k-th smallest pts (the times of the packet
        index, in order). From a keyframe (a seek), which shows where it decodes in a closed GOP, the
        count starts at that keyframe's place; this is checked on every keyframe that comes out (its own
        pts must be the one it is given) and a failed check decodes from the start instead.

        Returns the frames in display order; their ``pts`` attribute is left as decoded."""
        vs = self._vstream
        index = self.index
        pts = index.pts_list
        n = len(pts)
        first = bisect.bisect_left(pts, start_pts)
        if first >= n or pts[first] >= end_pts:
            self.last_decode_stats["frames_decoded"] = 0
            return []
        keys = index.keyframes.tolist()
        k = bisect.bisect_right(keys, first) - 1
        if self.perform_seek and k >= 0 and keys[k] > 0 and self._open_gop:
            packets, from_start = self._packets_from_start(self._open_gop, pts[keys[k]]), True
        elif self.perform_seek and k >= 0 and keys[k] > 0:
            packets, from_start = self._video_packets(pts[keys[k]], pts[keys[k]], None)
            if not from_start:
                # After a seek to a keyframe that does not close its GOP (H.264 without an IDR slice,
                # HEVC CRA / BLA) the decoder drops the frames after it that show before it, so the count
                # from its place would be off by their number, and no later keyframe need tell: decode
                # from the start (and from then on for this video).
                key = next(packets, None)
                if key is not None and _opens_gop(bytes(key), vs.codec_context):
                    self._open_gop = (f"the keyframe at pts {key.pts} opens its GOP (no IDR), and without "
                                      "presentation times in AVI the frames a decoder drops after a seek there "
                                      "cannot be counted")
                    packets, from_start = self._packets_from_start(self._open_gop, pts[keys[k]]), True
                else:
                    packets = itertools.chain(() if key is None else (key,), packets)
        else:
            packets, from_start = self._rewound_packets(), True
        self.last_decode_stats["from_start"] = from_start
        decoded = 0
        while True:
            frames, rank, ok = [], None, True
            try:
                for packet in packets:
                    for frame in packet.decode():
                        decoded += 1
                        if rank is None:
                            rank = 0 if from_start else bisect.bisect_left(pts, frame.pts)
                            if not from_start and (rank >= n or pts[rank] != frame.pts or not frame.key_frame):
                                ok = False
                        elif not from_start and frame.key_frame and (rank >= n or pts[rank] != frame.pts):
                            ok = False  # a GOP that is not closed: the count is off
                        if not ok:
                            break
                        if rank >= n:
                            raise RuntimeError(
                                f"Video {self._describe()} (no presentation times: {vs.codec_context.name} with "
                                f"B-frames in AVI) gives more frames than it has packets ({n}); its frames cannot "
                                "be put in display order exactly. Re-encode it (e.g. fastvid-prepare)."
                            )
                        label = pts[rank]
                        rank += 1
                        if start_pts <= label < end_pts:
                            frames.append(frame)
                        elif label >= end_pts:
                            break
                    else:
                        continue
                    break
            except av.error.EOFError:
                pass
            if ok:  # always so from the start, where nothing is checked
                self.last_decode_stats["frames_decoded"] = decoded
                return frames
            packets, from_start = self._rewound_packets(), True

    @staticmethod
    def _collect_window(packets, start_pts, end_pts, known_pts) -> tuple[list, int, bool]:
        """Decodes ``packets`` and keeps the frames in [start_pts, end_pts). Returns (frames in pts order,
        frames decoded, ok); ok is False when a frame's pts is not in ``known_pts`` (when given)."""
        frames = {}
        decoded = 0
        try:
            for packet in packets:
                for frame in packet.decode():
                    decoded += 1
                    fp = frame.pts
                    if known_pts is not None and fp not in known_pts:
                        return [], decoded, False
                    if start_pts <= fp < end_pts:
                        frames[fp] = frame
                    elif fp >= end_pts:
                        return [frames[p] for p in sorted(frames)], decoded, True
        except av.error.EOFError:
            pass
        return [frames[p] for p in sorted(frames)], decoded, True

    def _frames_to_uint8(self, frames: list) -> np.ndarray:
        first = self._rgb24(frames[0])
        buf = np.empty((len(frames),) + first.shape, dtype=np.uint8)
        buf[0] = first
        for i in range(1, len(frames)):
            arr = self._rgb24(frames[i])
            if arr.shape != first.shape:
                raise RuntimeError(f"frame size changed inside the clip of {self._video_name} (at {frames[i].time} s): "
                                   f"{first.shape[1]}x{first.shape[0]} then {arr.shape[1]}x{arr.shape[0]}")
            buf[i] = arr
        return buf

    def _get_audio(self, start_sec, end_sec):
        if not self._has_audio:
            return None
        tb, sp = self._audio_time_base, self._audio_start_pts
        start_pts = secs_to_pts(start_sec, tb, sp, round_mode="ceil")
        end_pts = secs_to_pts(end_sec, tb, sp, round_mode="ceil")
        container = self._container
        if self.perform_seek:
            try:
                container.seek(int(max(start_pts - 1024, 0)), any_frame=False, backward=True, stream=self._astream)
            except _AV_ERRORS:
                self._rewind()
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

        Raises:
            RuntimeError naming the video, the window and the cause when PyAV fails to decode the clip.
        """
        self._check_open()
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples < 1):
            raise ValueError(f"get_clip_frames: num_samples must be None or a positive int, got {num_samples!r}")
        try:
            start_pts, end_pts = self._window_pts(start_sec, end_sec)
            buf, rel = self._planned_frames(start_pts, end_pts, num_samples)
            video = None if buf is None else thwc_to_cthw(torch.from_numpy(buf))
            return {"video": video, "audio": self._get_audio(start_sec, end_sec), "frame_indices": rel}
        except _AV_ERRORS as e:
            raise self._decode_error(e, start_sec, end_sec) from e

    def get_clips_frames(self, windows, num_samples: int | None = None) -> list[dict]:
        """Several clips of this video, each exactly what :meth:`get_clip_frames` gives for its window, decoded
        in as few passes as the windows allow.

        Windows are taken in order of the keyframe each decodes from; one whose keyframe a pass has already
        gone by (it shows before the pass's last kept frame: overlapping or nearby windows, as
        ConstantClipsPerVideoSampler's views of a short video) is read by that pass, so no frame is decoded twice,
        and one farther on starts a pass of its own with a seek. A pass that fails (a decode error, frames that
        disagree with the packet index) is read again window by window, which gives each window's own error or
        fallback.

        Args:
            windows: sequence of (start_sec, end_sec) pairs, in any order (repeats allowed).
            num_samples: frames kept per clip (None: every frame of each window).

        Returns:
            One dict per window, in the order given, as :meth:`get_clip_frames` returns. The clips of one pass
            are views of one buffer; every clip asked for is held until the call returns (no bound: the datasets
            ask for a few windows at a time, see ``prefetch_bytes``).
        """
        self._check_open()
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples < 1):
            raise ValueError(f"get_clips_frames: num_samples must be None or a positive int, got {num_samples!r}")
        windows = [tuple(w) for w in windows]
        if any(len(w) != 2 for w in windows):
            raise ValueError("get_clips_frames: windows must be (start_sec, end_sec) pairs")
        out: list = [None] * len(windows)
        try:
            planned = self._shared_passes([self._window_pts(s, e) for s, e in windows], num_samples)
        except _AV_ERRORS:
            planned = None  # (indexing around the windows failed: each window alone says why)
        if planned is None:
            planned = [_Pass(list(range(len(windows))), None, [], [], {})]
        stats = {"frames_decoded": 0, "frames_converted": 0, "passes": 0}
        for p in planned:
            if p.data is None:  # each window alone (also when the shared pass failed)
                for i in p.members:
                    out[i] = self.get_clip_frames(*windows[i], num_samples)
                    stats["passes"] += 1
                    for k in ("frames_decoded", "frames_converted"):
                        stats[k] += self.last_decode_stats.get(k, 0)
                continue
            stats["passes"] += p.data.shape[0] > 0
            for k in ("frames_decoded", "frames_converted"):
                stats[k] += p.stats.get(k, 0)
            for i, o, rel in zip(p.members, p.offsets, p.rels):
                s, e = windows[i]
                try:
                    audio = self._get_audio(s, e)
                except _AV_ERRORS as err:
                    raise self._decode_error(err, s, e) from err
                video = None if rel is None else thwc_to_cthw(torch.from_numpy(p.data[o : o + len(rel)]))
                out[i] = {"video": video, "audio": audio, "frame_indices": rel}
        self.last_decode_stats = stats
        return out

    def _shared_passes(self, pts_windows: list, num_samples) -> list[_Pass] | None:
        """Groups windows (in pts) into decoding passes for :meth:`get_clips_frames` and decodes them.

        Returns None when the windows cannot be planned together (the caller reads each alone), else the
        passes (:class:`_Pass`; a pass whose decode failed has ``data`` None: its windows are read alone). The
        windows without frames make one pass with an empty buffer and ``rels`` None."""
        if len(pts_windows) < 2 or self._pts_are_decode_times():
            return None
        if any(s == math.inf or e == math.inf for s, e in pts_windows):
            return None
        if self._index is None and not self._seek_unreliable and float(self._duration) > self.window_index_after_sec:
            # a long video: each cluster of nearby windows indexed on its own (as a window alone is), not the
            # packets between far-apart windows
            passes = []
            for ids in self._window_clusters(pts_windows):
                index = self._index or self._window_index(min(pts_windows[i][0] for i in ids),
                                                          max(pts_windows[i][1] for i in ids))
                found = self._passes_on(index if index is not None else self.index, ids, pts_windows, num_samples)
                passes.extend(found if found is not None else [_Pass(ids, None, [], [], {})])
            return passes
        return self._passes_on(self.index, list(range(len(pts_windows))), pts_windows, num_samples)

    #: windows further apart than this (seconds) are indexed apart in a long video (see _shared_passes): demuxing
    #: the packets between them would cost more than a seek
    cluster_gap_sec: float = 10.0

    def _window_clusters(self, pts_windows: list) -> list[list[int]]:
        """Window numbers in clusters: by start, a window starting more than :attr:`cluster_gap_sec` after the
        cluster's furthest end starts a new one."""
        gap = self.cluster_gap_sec * self._pts_per_second
        clusters: list[list[int]] = []
        end = -math.inf
        for i in sorted(range(len(pts_windows)), key=lambda i: pts_windows[i][0]):
            s, e = pts_windows[i]
            if clusters and s <= end + gap:
                clusters[-1].append(i)
            else:
                clusters.append([i])
                end = -math.inf
            end = max(end, e)
        return clusters

    def _passes_on(self, index: VideoIndex, ids: list, pts_windows: list, num_samples) -> list[_Pass] | None:
        """The decoding passes of windows ``ids`` planned on ``index`` (None when the index is unusable)."""
        if not index.usable:
            return None
        rows = torch.tensor([[int(pts_windows[i][0]), int(math.ceil(pts_windows[i][1]))] for i in ids],
                            dtype=torch.long).view(-1, 2)
        plan = plan_clip_frames(index.pts, index.keyframes, rows, num_samples)
        firsts, counts, seeks = plan.first.tolist(), plan.count.tolist(), plan.seek.tolist()
        indices = None if num_samples is None else plan.indices.tolist()
        kept = [list(range(f, f + c)) if indices is None else indices[k] for k, (f, c) in enumerate(zip(firsts, counts))]
        pts_list = index.pts_list
        empty = [k for k, c in enumerate(counts) if c == 0]
        passes = ([_Pass([ids[k] for k in empty], np.empty((0,), np.uint8), [0] * len(empty), [None] * len(empty), {})]
                  if empty else [])
        # windows by the keyframe they decode from; a window joins the pass before when that pass goes by its
        # keyframe (which shows at or before the pass's last kept frame)
        groups: list[list[int]] = []
        reach = -2
        for k in sorted((k for k, c in enumerate(counts) if c > 0), key=lambda k: (seeks[k], firsts[k])):
            if groups and seeks[k] <= reach:
                groups[-1].append(k)
            else:
                groups.append([k])
            reach = max(reach, max(kept[k]))  # (a new pass's keyframe is past the reach before)
        for members in groups:
            start_pts = min(pts_windows[ids[k]][0] for k in members)
            end_pts = max(pts_windows[ids[k]][1] for k in members)
            lo, hi = min(firsts[k] for k in members), max(firsts[k] + counts[k] for k in members)
            want_pts, offsets = [], []
            for k in members:
                offsets.append(len(want_pts))
                want_pts.extend(pts_list[j] for j in kept[k])
            seek = seeks[members[0]]
            try:
                data = self._decode_selected(want_pts, set(pts_list[lo:hi]), start_pts, end_pts,
                                             pts_list[seek] if seek >= 0 else None, index)
            except (*_AV_ERRORS, RuntimeError):
                data = None  # read again window by window: each gives its own error
            rels = [torch.tensor([j - firsts[k] for j in kept[k]], dtype=torch.long) for k in members]
            passes.append(_Pass([ids[k] for k in members], data, offsets, rels, dict(self.last_decode_stats)))
        return passes

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
        if self._pts_are_decode_times():
            # the packet index knows the frames' times but not which frame has which: decode the window
            # in display order (:meth:`_decode_display_order`) and keep the subsample
            return self._subsample(self._decode_window_frames(start_pts, end_pts), num_samples)
        index = index_packets = None
        first_clip, self._read_clip = not self._read_clip, True
        if (self._index is None and start_pts != math.inf and end_pts != math.inf and not self._seek_unreliable
                and (float(self._duration) > self.window_index_after_sec
                     or (first_clip and self.window_index_first_clip and self.perform_seek))):
            # (perform_seek=False: the clip's audio is read from where the video left the container, as before)
            index_packets = []
            index = self._window_index(start_pts, end_pts, index_packets)
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
            self.last_decode_stats = {"frames_decoded": 0, "frames_converted": 0, "from_start": False}
            return None, None
        if num_samples is None:
            kept = list(range(first, first + count))
        else:
            kept = plan.indices[0].tolist()
        pts_list = index.pts_list
        want_pts = [pts_list[i] for i in kept]
        window_pts = set(pts_list[first : first + count])
        seek_pts = pts_list[seek] if seek >= 0 else None
        buf = self._decode_selected(want_pts, window_pts, start_pts, end_pts, seek_pts, index, index_packets)
        self.last_decode_stats.update(index=indexed, indexed_packets=int(index.pts.numel()))
        if buf is None:
            return self._fallback(start_pts, end_pts, num_samples, "decoded frames disagree with the packet index")
        rel = torch.tensor([i - first for i in kept], dtype=torch.long)
        return buf, rel

    def _decode_selected(self, want_pts, window_pts, start_pts, end_pts, seek_pts, index, index_packets=None):
        vs = self._vstream
        cc = vs.codec_context
        positions: dict[int, list[int]] = {}
        for pos, p in enumerate(want_pts):
            positions.setdefault(p, []).append(pos)
        remaining = len(positions)
        self.last_decode_stats = {}
        if seek_pts is not None:
            # the packets a window index has just read start there (no second seek), or a seek
            packets = self._index_packets_from(index_packets, seek_pts) if index_packets else None
            from_start = False
            if packets is None:
                packets, from_start = self._video_packets(seek_pts, seek_pts, index)
        else:
            packets, from_start = self._rewound_packets(), True
        # where seeks are not trusted, every frame after one must be a frame of the index
        known = index.pts_set if self._seek_unreliable and not from_start else None
        buf = None
        decoded = converted = 0
        skipping = False
        skip_ok = cc.name in _NONREF_SKIP_DECODERS
        # the kept frames whose packets the decoder has not had yet (None: decode on until every kept frame is out)
        unsent = (set(positions) if self.drain_after_last_kept and self.perform_seek and cc.name in _DRAIN_DECODERS
                  and self._container.format.name in _FRAME_PACKET_FORMATS else None)
        drained = ok = False
        try:
            for packet in packets:
                p = packet.pts
                skip = p is not None and p not in positions and skip_ok
                if skip != skipping:
                    cc.skip_frame = "NONREF" if skip else "DEFAULT"
                    skipping = skip
                frames = packet.decode()
                if unsent is not None:
                    progressive = self._seen_progressive(frames)
                    unsent.discard(p)
                    if not unsent and not drained and progressive:
                        drained = True
                        try:
                            frames += cc.decode(None)
                        except av.error.EOFError:
                            pass  # (drained already: the stream's end packet came before)
                for frame in frames:
                    decoded += 1
                    fp = frame.pts
                    if fp is None or (known is not None and fp not in known):
                        return None
                    if fp in positions:
                        pos = positions.pop(fp)
                        arr = self._rgb24(frame)
                        converted += 1
                        if buf is None:
                            buf = np.empty((len(want_pts),) + arr.shape, dtype=np.uint8)
                        elif arr.shape != buf.shape[1:]:
                            raise RuntimeError(
                                f"frame size changed inside the clip of {self._video_name} (at "
                                f"{float(fp * vs.time_base):.3f} s): "
                                f"{buf.shape[2]}x{buf.shape[1]} then {arr.shape[1]}x{arr.shape[0]}"
                            )
                        for q in pos:
                            buf[q] = arr
                        remaining -= 1
                    elif start_pts <= fp < end_pts and fp not in window_pts:
                        return None  # a frame the index does not know
                if remaining == 0:
                    ok = True
                    break
                if drained:
                    break  # (a kept frame did not come out: the index and the decoder disagree)
        except av.error.EOFError:
            pass
        finally:
            if skipping:
                cc.skip_frame = "DEFAULT"
            if drained:
                cc.flush_buffers()  # (out of the drained state: the next decode starts at a seek or a rewind)
            self.last_decode_stats.update(frames_decoded=decoded, frames_converted=converted, drained=drained)
        return buf if ok else None

    def _seen_progressive(self, frames: list) -> bool:
        """Whether this video's decoded frames, ``frames`` included, are known to be progressive (none interlaced).
        A field-coded picture can be two packets, one per field (H.264 PAFF): such a video is never drained."""
        for frame in frames:
            if frame.interlaced_frame:
                self._interlaced = True
            elif self._interlaced is None:
                self._interlaced = False
        return self._interlaced is False

    def _fallback(self, start_pts, end_pts, num_samples, reason):
        self.fallbacks += 1
        logger.info("%s: frame-index decoding not possible (%s); decoding the whole window", self._describe(), reason)
        if not self.perform_seek:
            # (the plain decode reads on from the current position, which the frame-index attempt has moved: from
            # the start of the file, as a fresh open reads it)
            self._rewind()
        return self._subsample(self._decode_window_frames(start_pts, end_pts), num_samples)

    def _subsample(self, frames: list, num_samples):
        """UniformTemporalSubsample(num_samples) of decoded frames, only the kept ones converted to RGB."""
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
    """Factory as PyTorchVideo's: ``EncodedVideo.from_path(path, decode_video=True, decode_audio=True,
    decoder="pyav", **other_args)``."""

    @classmethod
    @_public_defaults(**_FROM_PATH_FLAGS)
    def from_path(
        cls,
        file_path: str | os.PathLike,
        *flags,
        decode_video: bool = _UNSET,
        decode_audio: bool = _UNSET,
        decoder: str = _UNSET,
        read_to_memory: bool = False,
        **other_args,
    ) -> EncodedVideoPyAV:
        """Opens ``file_path`` (named by its file name, as PyTorchVideo does), with PyTorchVideo's arguments.

        Positional flags after the path are read in either PyTorchVideo order: the 0.1.5 release's
        ``(decode_audio, decoder)`` (one bool, or a bool and a decoder name) or the main branch's
        ``(decode_video, decode_audio, decoder)`` (two bools, or two bools and a name). A flag given both by
        position and by keyword is a TypeError (as Python makes it).

        Args:
            decode_video: must be True (fastvid decodes video clips).
            decode_audio: also decode audio (PyTorchVideo's default, True; the datasets default to False).
            decoder: "pyav" (the only decoder).
            read_to_memory: read the file into memory first (PyTorchVideo's way, for remote file systems).
            **other_args: passed to :class:`EncodedVideoPyAV` (``perform_seek``, ``threads``).

        Raises:
            ValueError for an unknown decoder or decode_video=False; FileNotFoundError for a missing path;
            IsADirectoryError for a directory (PyTorchVideo's frame-folder videos are not supported);
            RuntimeError when the file cannot be opened as a video; TypeError for an unknown argument or one
            given both by position and by keyword.
        """
        decode_video, decode_audio, decoder = _positional_flags(
            "EncodedVideo.from_path", flags,
            {"decode_video": decode_video, "decode_audio": decode_audio, "decoder": decoder},
            _FROM_PATH_FLAGS,
            release=("decode_audio", "decoder"), main=("decode_video", "decode_audio", "decoder"),
        )
        if decoder not in _DECODERS:
            raise ValueError(f'EncodedVideo.from_path: decoder must be "pyav", got {decoder!r}')
        if not decode_video:
            raise ValueError("EncodedVideo.from_path: decode_video=False is not supported (fastvid decodes video clips)")
        unknown = sorted(set(other_args) - {"perform_seek", "threads"})
        if unknown:
            raise TypeError(
                f"EncodedVideo.from_path: unexpected argument(s) {', '.join(unknown)}; EncodedVideoPyAV takes "
                "perform_seek and threads"
            )
        path = os.fspath(file_path)
        if os.path.isdir(path):
            raise IsADirectoryError(
                f"EncodedVideo.from_path: {path} is a directory (a folder of frames); fastvid decodes encoded "
                "video files only"
            )
        if not os.path.isfile(path):
            raise FileNotFoundError(f"EncodedVideo.from_path: {path} not found")
        src: str | BinaryIO = path
        if read_to_memory:
            with open(path, "rb") as fh:
                src = io.BytesIO(fh.read())
        video = EncodedVideoPyAV(src, pathlib.Path(path).name, decode_audio=decode_audio, **other_args)
        video._source = path
        return video
