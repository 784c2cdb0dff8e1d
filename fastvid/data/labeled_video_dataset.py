"""Labeled video datasets: the iterable LabeledVideoDataset (as pytorchvideo.data) and a map-style
variant with a length, both decoding only the frames the transform keeps when it says which.

Data flow per clip: video sampler -> (path, label) -> EncodedVideo -> clip sampler -> window [start, end)
-> frame-index decode (uint8, only kept frames) or PyTorchVideo's decode (float32, every frame) ->
transform -> sample dict {video, label, video_name, video_index, clip_index, aug_index[, audio]}.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
import torch.utils.data

from fastvid.data.clip_sampling import (
    ClipInfo,
    ClipSampler,
    ConstantClipsPerVideoSampler,
    RandomClipSampler,
    RandomMultiClipSampler,
    UniformClipSampler,
)
from fastvid.data.encoded_video import EncodedVideo
from fastvid.data.labeled_video_paths import LabeledVideoPaths
from fastvid.data.utils import MultiProcessSampler

logger = logging.getLogger(__name__)

__all__ = [
    "LabeledVideoDataset",
    "LabeledVideoMapDataset",
    "labeled_video_dataset",
    "VideoFailure",
    "resolve_temporal_plan",
]


class VideoFailure(NamedTuple):
    """A video (or clip) that was skipped: its index in the path list, its path and why."""

    video_index: int
    path: str
    reason: str


class _FailureLog:
    """Failures recorded by every process that iterates the dataset (DataLoader workers included):
    appended as lines to a small file that the main process reads. No pipes, so a worker never blocks
    on it and the dataset stays picklable."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="fastvid-failures-", suffix=".tsv")
        os.close(fd)
        self._owner = os.getpid()

    def add(self, failure: VideoFailure) -> None:
        clean = lambda s: str(s).replace("\t", " ").replace("\n", " ")  # noqa: E731
        with open(self.path, "a") as f:
            f.write(f"{failure.video_index}\t{clean(failure.path)}\t{clean(failure.reason)}\n")

    def read(self) -> list[VideoFailure]:
        try:
            with open(self.path) as f:
                rows = [line.rstrip("\n").split("\t", 2) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [VideoFailure(int(i), p, r) for i, p, r in rows]

    def clear(self) -> None:
        open(self.path, "w").close()

    def __del__(self) -> None:
        if os.getpid() == getattr(self, "_owner", None):
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _windows_per_pass(video, plan, budget: int) -> int:
    """How many windows of ``plan.num_samples`` frames of ``video`` fit in ``budget`` bytes (at least 1); a frame
    size the header does not give counts as 1920x1080."""
    height, width = video.frame_size
    frame_bytes = 3 * (height * width if height > 0 and width > 0 else 1920 * 1080)
    return max(budget // (frame_bytes * int(plan.num_samples)), 1)


def resolve_temporal_plan(transform) -> Any | None:
    """The transform's temporal plan when it has one and accepts uint8 video (fastvid.transforms'
    contract: ``temporal_plan(t)`` -> object with ``num_samples`` and ``indices(T)``; ``accepts_uint8(t)``);
    None otherwise (the dataset then gives PyTorchVideo's float32 clip of every frame)."""
    if transform is None:
        return None
    try:
        import fastvid.transforms as fvt
    except ImportError:
        return None
    temporal_plan = getattr(fvt, "temporal_plan", None)
    accepts_uint8 = getattr(fvt, "accepts_uint8", None)
    if temporal_plan is None or accepts_uint8 is None:
        return None
    plan = temporal_plan(transform)
    if plan is None or not accepts_uint8(transform):
        return None
    return plan


class _FixedPlan(NamedTuple):
    num_samples: int


def _explicit_plan(frame_plan):
    if frame_plan is None:
        return None
    if isinstance(frame_plan, int) and not isinstance(frame_plan, bool):
        plan = _FixedPlan(frame_plan)
    elif hasattr(frame_plan, "num_samples"):
        plan = frame_plan
    else:
        raise TypeError(f"frame_plan must be None, an int or a TemporalPlan, got {frame_plan!r}")
    if not isinstance(plan.num_samples, int) or plan.num_samples < 1:
        raise ValueError(f"frame_plan must keep at least 1 frame, got num_samples={plan.num_samples!r}")
    return plan


class _ClipDecoder:
    """Opens videos and decodes clip windows the way the transform needs them."""

    def __init__(self, decode_audio: bool, decoder: str, threads: int | None, transform, use_frame_plan: bool,
                 frame_plan=None):
        if decoder != "pyav":
            raise ValueError(f'decoder must be "pyav", got {decoder!r}')
        self.decode_audio = bool(decode_audio)
        self.decoder = decoder
        self.threads = threads
        explicit = _explicit_plan(frame_plan)
        if explicit is not None:
            self.plan = explicit
        else:
            self.plan = resolve_temporal_plan(transform) if use_frame_plan else None

    def open(self, path: str):
        return EncodedVideo.from_path(path, decode_audio=self.decode_audio, decoder=self.decoder, threads=self.threads)

    def clip(self, video, start, end) -> dict | None:
        if self.plan is not None:
            out = video.get_clip_frames(start, end, int(self.plan.num_samples))
        else:
            out = video.get_clip(start, end)
        if out is None or out["video"] is None:
            return None
        return {"video": out["video"], "audio": out.get("audio")}

    def clips(self, video, windows: list) -> list:
        """:meth:`clip` of each window, in decoding passes that the windows share (frame plan only)."""
        outs = video.get_clips_frames(windows, int(self.plan.num_samples))
        return [None if o["video"] is None else {"video": o["video"], "audio": o.get("audio")} for o in outs]


def _make_sample(clip: dict, video, video_index: int, clip_index, aug_index, info: dict) -> dict:
    audio = clip.get("audio")
    return {
        "video": clip["video"],
        "video_name": video.name,
        "video_index": video_index,
        "clip_index": clip_index,
        "aug_index": aug_index,
        **info,
        **({"audio": audio} if audio is not None else {}),
    }


def _reason(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


class _FailureMixin:
    def _init_failures(self, max_consecutive_failures: int) -> None:
        if isinstance(max_consecutive_failures, bool) or not isinstance(max_consecutive_failures, int) \
                or max_consecutive_failures < 1:
            raise ValueError(f"max_consecutive_failures must be an int >= 1, got {max_consecutive_failures!r}")
        self._max_consecutive_failures = max_consecutive_failures
        self._failure_log = _FailureLog()
        self._consecutive = 0
        self._recent: deque[VideoFailure] = deque(maxlen=3)

    @property
    def failures(self) -> list[VideoFailure]:
        """Every video or clip skipped so far, by this process and its DataLoader workers, each once (in
        the order first recorded: a failure that several workers or epochs met is listed once)."""
        return list(dict.fromkeys(self._failure_log.read()))

    @property
    def num_failures(self) -> int:
        return len(self.failures)

    def clear_failures(self) -> None:
        self._failure_log.clear()

    def _log_failure(self, video_index: int, path: str, reason: str) -> VideoFailure:
        """Logs a skipped video and adds it to :attr:`failures` (not to the run of failures)."""
        failure = VideoFailure(int(video_index), path, reason)
        logger.warning("Skipping video %s (index %d): %s", path, video_index, reason)
        self._failure_log.add(failure)
        return failure

    def _recent_failures(self) -> str:
        return "; ".join(f"{f.path}: {f.reason}" for f in self._recent)

    def _record_failure(self, video_index: int, path: str, reason: str) -> None:
        self._recent.append(self._log_failure(video_index, path, reason))
        self._consecutive += 1
        if self._consecutive >= self._max_consecutive_failures and not self._others_readable():
            self._consecutive = 0
            raise RuntimeError(
                f"Failed to load {self._max_consecutive_failures} videos in a row; the last ones were: "
                f"{self._recent_failures()}. Check the paths and files (dataset.failures lists every skipped video)."
            )

    def _others_readable(self) -> bool:
        """Whether the videos beyond a run of failures still open (so the run is a cluster of bad files,
        not a wrong path or a lost disk): resets the run when they do. Here: no look beyond (the run itself
        is the sign; the iterable dataset meets its videos in the video sampler's order)."""
        return False


class LabeledVideoDataset(_FailureMixin, torch.utils.data.IterableDataset):
    """Iterable dataset of clips from labeled videos (PyTorchVideo's LabeledVideoDataset).

    Args:
        labeled_video_paths: list of (path, info dict) or a :class:`LabeledVideoPaths`.
        clip_sampler: which clips of each video (see :func:`make_clip_sampler`).
        video_sampler: a Sampler class (or callable) built on the path list; defines the video order and,
            with ``DistributedSampler`` (call ``dataset.video_sampler.set_epoch(epoch)`` every epoch), the
            split over ranks. Videos are further split over DataLoader workers, each worker taking one
            contiguous part, so that every video is read exactly once per epoch.
        transform: applied to each sample dict. When it is a fastvid transform with a temporal plan that
            accepts uint8, only the kept frames are decoded and "video" is uint8 (C, T', H, W); otherwise
            "video" is PyTorchVideo's float32 (C, T, H, W) in 0-255 with every frame of the window.
        decode_audio: also decode audio (off by default: audio is decoded only when asked).
        decoder: "pyav".
        decoder_threads: threads per decoder (None: 1 inside DataLoader workers, FFmpeg's default otherwise).
        max_consecutive_failures: after this many videos in a row fail, raise RuntimeError.
        use_frame_plan: set False to always decode every frame of the window (PyTorchVideo's behaviour).
        frame_plan: decode this many frames per clip (an int, or a TemporalPlan) as uint8 (C, T', H, W)
            whatever the transform is, e.g. ``transform=None, frame_plan=8`` for GPU augmentation after
            collation (uint8 is 4x fewer bytes than float32). Overrides the transform's own plan.

    A video that cannot be opened or decoded, or a clip window with no frames, is skipped, logged with
    its path and reason, and listed in :attr:`failures` (from every worker). A sample for which the
    transform returns None is left out, as in PyTorchVideo, and counted in :attr:`filtered` (from every
    worker; not a failure).
    """

    def __init__(
        self,
        labeled_video_paths,
        clip_sampler: ClipSampler,
        video_sampler=torch.utils.data.RandomSampler,
        transform: Callable[[dict], Any] | None = None,
        decode_audio: bool = False,
        decode_video: bool = True,
        decoder: str = "pyav",
        *,
        decoder_threads: int | None = None,
        max_consecutive_failures: int = 10,
        use_frame_plan: bool = True,
        frame_plan=None,
    ) -> None:
        if not isinstance(clip_sampler, ClipSampler):
            raise TypeError(
                f"LabeledVideoDataset: clip_sampler must be a ClipSampler, got {type(clip_sampler).__name__}"
            )
        if not decode_video:
            raise ValueError("LabeledVideoDataset: decode_video=False is not supported (fastvid decodes video clips)")
        self._init_failures(max_consecutive_failures)
        self._filtered_log = _FailureLog()
        self._transform = transform
        self._clip_sampler = clip_sampler
        self._labeled_videos = labeled_video_paths
        self._decoder = _ClipDecoder(decode_audio, decoder, decoder_threads, transform, use_frame_plan, frame_plan)
        self._video_random_generator = None
        if video_sampler is torch.utils.data.RandomSampler:
            self._video_random_generator = torch.Generator()
            self._video_sampler = video_sampler(self._labeled_videos, generator=self._video_random_generator)
        else:
            self._video_sampler = video_sampler(self._labeled_videos)
        self._video_sampler_iter = None
        self._loaded = None
        self._loaded_clip = None
        self._last_clip_end_time = None
        self._prefetched: dict = {}  # (start, end) -> clip: the loaded video's next windows, decoded together
        self._shared_failed = False  # a shared read of the loaded video failed: its windows are read alone
        self._epoch = 0

    #: the most decoded frames (bytes) held for a video's next windows read together (see :meth:`_window_clip`)
    prefetch_bytes: int = 256 << 20

    @property
    def filtered(self) -> list[VideoFailure]:
        """Every sample the transform turned into None (and so left out) so far, by this process and its
        DataLoader workers: the video's index, path and the reason."""
        return self._filtered_log.read()

    @property
    def num_filtered(self) -> int:
        return len(self.filtered)

    def clear_filtered(self) -> None:
        self._filtered_log.clear()

    @property
    def video_sampler(self):
        """The video sampler (call ``set_epoch`` on it when it is a DistributedSampler)."""
        return self._video_sampler

    @property
    def num_videos(self) -> int:
        return len(self._video_sampler)

    @property
    def uses_frame_plan(self) -> bool:
        """True when clips are decoded frame-index style (only the transform's kept frames, uint8)."""
        return self._decoder.plan is not None

    def _close_loaded(self) -> None:
        if self._loaded is not None:
            self._loaded[0].close()
        self._loaded = None
        self._loaded_clip = None
        self._last_clip_end_time = None
        self._prefetched = {}
        self._shared_failed = False
        self._clip_sampler.reset()

    def __iter__(self):
        self._close_loaded()
        self._video_sampler_iter = None
        worker_info = torch.utils.data.get_worker_info()
        if self._video_random_generator is not None:
            if worker_info is not None:
                # Every worker draws the same permutation (then takes its own part of it). The epoch count
                # matters with persistent workers, whose seed stays the same from epoch to epoch.
                self._video_random_generator.manual_seed(worker_info.seed - worker_info.id + self._epoch)
            else:
                self._video_random_generator.manual_seed(torch.initial_seed() + self._epoch)
            self._epoch += 1
        return self

    def __next__(self) -> dict:
        if self._video_sampler_iter is None:
            self._video_sampler_iter = iter(MultiProcessSampler(self._video_sampler))
        while True:
            if self._loaded is None:
                try:
                    video_index = next(self._video_sampler_iter)
                except StopIteration:
                    self._close_loaded()
                    raise
                path, info = self._labeled_videos[video_index]
                try:
                    video = self._decoder.open(path)
                except Exception as e:
                    self._record_failure(video_index, path, _reason(e))
                    continue
                self._loaded = (video, info, video_index, path)
            video, info, video_index, path = self._loaded
            try:
                clip_info = self._clip_sampler(self._last_clip_end_time, video.duration, info)
                multi = isinstance(clip_info.clip_start_sec, list)
                first_aug = clip_info.aug_index[0] == 0 if multi else clip_info.aug_index == 0
                if first_aug or self._loaded_clip is None:
                    if multi:
                        clips = [self._decoder.clip(video, s, e)
                                 for s, e in zip(clip_info.clip_start_sec, clip_info.clip_end_sec)]
                        if any(c is None for c in clips):
                            self._loaded_clip = None
                        else:
                            self._loaded_clip = {k: [c[k] for c in clips] for k in clips[0]}
                            if any(a is None for a in self._loaded_clip["audio"]):
                                self._loaded_clip["audio"] = None
                    else:
                        self._loaded_clip = self._window_clip(video, info, clip_info)
            except Exception as e:
                self._close_loaded()
                self._record_failure(video_index, path, _reason(e))
                continue
            self._last_clip_end_time = clip_info.clip_end_sec
            is_last = clip_info.is_last_clip[-1] if isinstance(clip_info.is_last_clip, list) else clip_info.is_last_clip
            clip = self._loaded_clip
            if clip is None:
                self._close_loaded()
                gc.collect()
                self._record_failure(
                    video_index, path,
                    f"no frames in clip window [{float(_first(clip_info.clip_start_sec)):.3f}, "
                    f"{float(_first(clip_info.clip_end_sec)):.3f}) s of a {float(video.duration):.3f} s video",
                )
                continue
            sample = _make_sample(clip, video, video_index, clip_info.clip_index, clip_info.aug_index, info)
            if is_last:
                self._close_loaded()
            self._consecutive = 0
            if self._transform is not None:
                sample = self._transform(sample)
                if sample is None:
                    self._filtered_log.add(VideoFailure(video_index, path, "the transform returned None"))
                    continue
            return sample

    def _window_clip(self, video, info: dict, clip_info):
        """The clip of ``clip_info``'s window. With a frame plan and a sampler whose windows are fixed
        (ConstantClipsPerVideoSampler, UniformClipSampler), the video's next windows (those the sampler gives
        after this one, up to :attr:`prefetch_bytes` of frames) are decoded with it in shared passes
        (:meth:`EncodedVideoPyAV.get_clips_frames`) and kept for their turn; the clips are the same."""
        key = (clip_info.clip_start_sec, clip_info.clip_end_sec)
        if key in self._prefetched:
            return self._prefetched.pop(key)
        plan = self._decoder.plan
        # (exactly these samplers: a subclass may draw random numbers, which the look-ahead below would consume)
        if (plan is None or self._shared_failed
                or type(self._clip_sampler) not in (ConstantClipsPerVideoSampler, UniformClipSampler)):
            return self._decoder.clip(video, *key)
        try:
            per_pass = _windows_per_pass(video, plan, self.prefetch_bytes)
            windows = {key: None}
            upcoming = copy.deepcopy(self._clip_sampler)  # (the sampler's own state is left as it is)
            last, end = clip_info, clip_info.clip_end_sec
            while not last.is_last_clip and len(windows) < per_pass:
                last = upcoming(end, video.duration, info)
                end = last.clip_end_sec
                windows.setdefault((last.clip_start_sec, last.clip_end_sec), None)
            if len(windows) < 2:
                return self._decoder.clip(video, *key)
            clips = self._decoder.clips(video, list(windows))
        except Exception:
            self._shared_failed = True  # (not tried again for this video: each try would decode the passes again)
            return self._decoder.clip(video, *key)  # (alone: what fails is this window's own error, if any)
        self._prefetched = dict(zip(list(windows)[1:], clips[1:]))
        return clips[0]

    def __del__(self) -> None:
        try:
            self._close_loaded()
        except Exception:
            pass


def _first(v):
    return v[0] if isinstance(v, list) else v


# Different clip windows of one video that may fail (each logged) before a process stops reading that video.
_WINDOW_FAILURES_PER_VIDEO = 3


class _Unreadable(Exception):
    """A video that could not be opened (as opposed to a clip window that could not be decoded)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fraction_arrays(fractions: list) -> tuple[np.ndarray, np.ndarray]:
    """(numerators, denominators) as int64 arrays, denominator 0 for None (Python ints in object arrays when a
    value does not fit in int64, e.g. Fraction(1e300))."""
    parts = ([0 if f is None else f.numerator for f in fractions], [0 if f is None else f.denominator for f in fractions])
    try:
        return tuple(np.array(p, dtype=np.int64) for p in parts)
    except OverflowError:
        return tuple(np.array(p, dtype=object) for p in parts)


class LabeledVideoMapDataset(_FailureMixin, torch.utils.data.Dataset):
    """Map-style twin of :class:`LabeledVideoDataset`: ``len(dataset)`` is the number of clips, so
    DataLoader batching, ``drop_last`` and Lightning's automatic DistributedSampler work as for any
    dataset (full batches, equal epoch sizes on every rank).

    Supported clip samplers and the length they give:
      * RandomClipSampler: one random clip per video (``augs_per_clip`` A: A items per video, each
        its own random window); RandomMultiClipSampler: one item (a list of clips) per video;
      * ConstantClipsPerVideoSampler(d, N, A): N * A items per video;
      * UniformClipSampler: the clips of each video's duration, read from the headers when the dataset
        is built (pass ``durations`` to skip that).

    Arguments as :class:`LabeledVideoDataset`, and ``on_failure``: what an item whose video cannot be
    read (or whose clip window has no frames) gives. Every failure is logged once and recorded in
    :attr:`failures`; a video that cannot be opened, or in which 3 different clip windows failed, is not
    tried again by that process.

      * ``"replace"`` (the default, for training: full batches): the same clip slot of another video,
        drawn at random (``torch.randint``, so seeded runs repeat) among those not known to fail;
      * ``"skip"`` (for evaluation: no video is counted twice): None. A DataLoader needs a collate
        function that leaves None out, e.g. ``fastvid.data.skip_none(torch.utils.data.default_collate)``
        (which gives None for a batch of failures only).

    After ``max_consecutive_failures`` failures in a row, RuntimeError, unless a clip of one of a few
    other videos drawn at random still loads (then the run was a cluster of bad files, e.g. downloads
    that stopped: the count starts again).
    """

    def __init__(
        self,
        labeled_video_paths,
        clip_sampler: ClipSampler,
        transform: Callable[[dict], Any] | None = None,
        decode_audio: bool = False,
        decoder: str = "pyav",
        *,
        durations: list | None = None,
        decoder_threads: int | None = None,
        max_consecutive_failures: int = 10,
        use_frame_plan: bool = True,
        frame_plan=None,
        on_failure: str = "replace",
    ) -> None:
        if not isinstance(clip_sampler, ClipSampler):
            raise TypeError(
                f"LabeledVideoMapDataset: clip_sampler must be a ClipSampler, got {type(clip_sampler).__name__}"
            )
        if on_failure not in ("replace", "skip"):
            raise ValueError(f"LabeledVideoMapDataset: on_failure must be 'replace' or 'skip', got {on_failure!r}")
        self._on_failure = on_failure
        self._unreadable: set[int] = set()  # videos this process gave up on: not tried again
        self._window_failures: dict[int, set] = {}  # the clip windows that failed, per video that opened
        self._last_window = None  # the window the last _load read (or tried to)
        self._init_failures(max_consecutive_failures)
        self._labeled_videos = labeled_video_paths
        self._clip_sampler = clip_sampler
        self._transform = transform
        self._decoder = _ClipDecoder(decode_audio, decoder, decoder_threads, transform, use_frame_plan, frame_plan)
        n = len(labeled_video_paths)
        if n == 0:
            raise ValueError("LabeledVideoMapDataset: labeled_video_paths is empty")
        # items: (video_index, slot); slot's meaning depends on the sampler.
        if isinstance(clip_sampler, RandomMultiClipSampler):
            self._per_video = [1] * n
        elif isinstance(clip_sampler, RandomClipSampler):
            self._per_video = [clip_sampler._augs_per_clip] * n
        elif isinstance(clip_sampler, ConstantClipsPerVideoSampler):
            self._per_video = [clip_sampler._clips_per_video * clip_sampler._augs_per_clip] * n
        elif isinstance(clip_sampler, UniformClipSampler):
            if durations is None:
                durations = self._probe_durations()
            if len(durations) != n:
                raise ValueError(f"LabeledVideoMapDataset: durations must have {n} values, got {len(durations)}")
            # Each video's duration as an exact fraction in two int64 arrays (no Python object per video: see
            # below); its clips are listed again when an item of the video is read (one video cached).
            fractions = [None if d is None else Fraction(d) for d in durations]
            self._per_video = [0 if f is None else len(clip_sampler.clips_for_duration(f)) for f in fractions]
            self._durations = _fraction_arrays(fractions)
        else:
            raise TypeError(
                "LabeledVideoMapDataset: clip_sampler must be a RandomClipSampler, RandomMultiClipSampler, "
                f"ConstantClipsPerVideoSampler or UniformClipSampler, got {type(clip_sampler).__name__}"
            )
        # NumPy arrays, not lists: reading a list in a forked DataLoader worker writes its items' reference counts,
        # and the worker ends up with its own copy of the list (see LabeledVideoPaths).
        self._per_video = np.asarray(self._per_video, dtype=np.int64)
        self._offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(self._per_video)])
        self._constant_clips = None  # (duration, ConstantClipsPerVideoSampler's clips): a video's views share it
        self._uniform_cache = (None, None)  # (video_index, UniformClipSampler's clips of that video)
        self._cache_key = None
        self._cache_clip = None
        self._prefetched: dict = {}  # (video_index, start, end) -> clip: the windows of a batch decoded together
        self._shared_failed: set[int] = set()  # videos whose shared read failed: their windows are read alone
        self._open = None

    def _probe_durations(self) -> list:
        def probe(i):
            path, _ = self._labeled_videos[i]
            try:
                with self._decoder.open(path) as v:
                    return v.duration
            except Exception as e:
                self._log_failure(i, path, _reason(e))
                self._unreadable.add(i)
                return None

        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            return list(pool.map(probe, range(len(self._labeled_videos))))

    @property
    def uses_frame_plan(self) -> bool:
        return self._decoder.plan is not None

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def _locate(self, index: int) -> tuple[int, int]:
        v = int(np.searchsorted(self._offsets, index, side="right")) - 1
        return v, index - int(self._offsets[v])

    def _clip_info(self, video_index: int, slot: int, duration):
        s = self._clip_sampler
        if isinstance(s, RandomMultiClipSampler):
            return s(None, duration, {})
        if isinstance(s, RandomClipSampler):
            start = s._draw(duration)
            return ClipInfo(start, start + s.clip_duration, 0, slot, True)
        if isinstance(s, ConstantClipsPerVideoSampler):
            if self._constant_clips is None or self._constant_clips[0] != duration:
                self._constant_clips = (duration, s.clips_for_duration(duration))
            clips = self._constant_clips[1]
            return clips[slot] if slot < len(clips) else None
        cached, clips = self._uniform_cache  # (read once: a thread-based loader may replace it meanwhile)
        if cached != video_index:
            numerators, denominators = self._durations
            if denominators[video_index] == 0:  # (its duration was unknown: the video has no items)
                return None
            d = Fraction(int(numerators[video_index]), int(denominators[video_index]))
            clips = s.clips_for_duration(d)
            self._uniform_cache = (video_index, clips)
        return clips[slot] if slot < len(clips) else None

    def __getitem__(self, index: int) -> dict:
        if not -len(self) <= index < len(self):
            raise IndexError(f"LabeledVideoMapDataset: index {index} out of range for {len(self)} clips")
        index %= len(self)
        video_index, slot = self._locate(index)
        while True:
            path, info = self._labeled_videos[video_index]
            reason = None
            if video_index not in self._unreadable:  # (a known failure: not opened, logged or counted again)
                try:
                    sample = self._load(video_index, slot, path, info)
                except _Unreadable as e:
                    self._unreadable.add(video_index)
                    sample, reason = None, e.reason
                except Exception as e:
                    sample, reason = None, _reason(e)
                else:
                    reason = "no frames in the clip window"
                if sample is not None:
                    self._consecutive = 0
                    if self._transform is not None:
                        sample = self._transform(sample)
                    return sample
                if video_index not in self._unreadable:  # it opened, but this clip window failed
                    windows = self._window_failures.setdefault(video_index, set())
                    windows.add(self._last_window if self._last_window is not None else ("item", len(windows)))
                    n = len(windows)  # (distinct windows: the crops of one window share its decode)
                    if n >= _WINDOW_FAILURES_PER_VIDEO:
                        self._unreadable.add(video_index)
                        reason += f" ({n} clip windows of this video failed: it is not read again)"
                self._record_failure(video_index, path, reason)  # raises after too many in a row
            if self._on_failure == "skip":
                return None
            video_index = self._draw_readable()
            slot = min(slot, max(int(self._per_video[video_index]) - 1, 0))

    #: the most decoded frames (bytes) that :meth:`__getitems__` holds for one video's windows read together
    prefetch_bytes: int = 256 << 20

    def __getitems__(self, indices: list) -> list:
        """The items of a batch (what a DataLoader asks for), each exactly ``dataset[i]``. With a frame plan and a
        sampler whose windows are fixed (ConstantClipsPerVideoSampler, UniformClipSampler), the windows of one
        video that follow one another in ``indices`` are decoded together, up to :attr:`prefetch_bytes` of frames
        at a time (:meth:`EncodedVideoPyAV.get_clips_frames`: a frame that overlapping windows share, or that
        lies on the way from one to the next, is decoded once)."""
        out = []
        start = 0
        while start < len(indices):
            video_index = self._video_of(indices[start])
            end = start + 1
            while end < len(indices) and video_index is not None and self._video_of(indices[end]) == video_index:
                end += 1
            group = indices[start:end]
            start = end
            for part in self._prefetch(video_index, group) if len(group) > 1 else [group]:
                try:
                    out.extend(self[i] for i in part)
                finally:
                    self._release_prefetched()
        return out

    def _release_prefetched(self) -> None:
        """Lets go of a part's decoded windows; the window kept for the crops of the next item (which may be the
        next batch's) is copied out of the part's buffer, so the buffer is not held after the batch."""
        prefetched, self._prefetched = self._prefetched, {}
        clip = self._cache_clip
        if self._cache_key in prefetched and clip is not None and clip is prefetched[self._cache_key]:
            self._cache_clip = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in clip.items()}

    def _video_of(self, index) -> int | None:
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -n <= index < n:
            return None  # (dataset[index] says what is wrong)
        return self._locate(int(index) % n)[0]

    def _prefetch(self, video_index: int, indices: list):
        """Yields ``indices`` (items of one video) in parts, having decoded each part's windows together into
        :attr:`_prefetched` first. Anything that fails is left for the items, read one by one, to meet and
        record."""
        plan = self._decoder.plan
        if (plan is None or video_index in self._unreadable or video_index in self._shared_failed
                or not isinstance(self._clip_sampler, (ConstantClipsPerVideoSampler, UniformClipSampler))):
            yield indices
            return
        path, _ = self._labeled_videos[video_index]
        try:
            video = self._video(video_index, path)
            keys = []
            for index in indices:
                clip_info = self._clip_info(video_index, self._locate(int(index) % len(self))[1], video.duration)
                keys.append(None if clip_info is None else (clip_info.clip_start_sec, clip_info.clip_end_sec))
            per_part = _windows_per_pass(video, plan, self.prefetch_bytes)
        except Exception:
            self.close()
            yield indices
            return
        part_start = 0
        while part_start < len(indices):
            windows: dict = {}
            part_end = part_start
            while part_end < len(indices) and (keys[part_end] in windows or keys[part_end] is None
                                               or len(windows) < per_part):
                if keys[part_end] is not None:
                    windows[keys[part_end]] = None
                part_end += 1
            if len(windows) > 1 and video_index not in self._unreadable and video_index not in self._shared_failed:
                try:
                    clips = self._decoder.clips(self._video(video_index, path), list(windows))
                except Exception:
                    self._shared_failed.add(video_index)  # (each try would decode the passes again)
                    self.close()
                else:
                    self._prefetched = {(video_index, s, e): c for (s, e), c in zip(windows, clips)}
            yield indices[part_start:part_end]
            part_start = part_end

    def _draw_readable(self) -> int:
        """A video index drawn uniformly among those this process has not failed to open."""
        n = len(self._labeled_videos)
        if len(self._unreadable) >= n:
            raise RuntimeError(f"LabeledVideoMapDataset: none of the {n} videos could be opened; the last ones were: "
                               f"{self._recent_failures()}. Check the paths and files (dataset.failures lists them).")
        while True:
            i = int(torch.randint(n, ()))
            if i not in self._unreadable:
                return i

    def _others_readable(self) -> bool:
        """Reads a clip of up to ``max_consecutive_failures`` other videos drawn at random (not known to fail):
        when one gives a clip, the run of failures was a cluster of bad files, and the count starts again."""
        n = len(self._labeled_videos)
        for _ in range(min(self._max_consecutive_failures, n)):
            if len(self._unreadable) >= n:
                return False
            i = self._draw_readable()
            path, info = self._labeled_videos[i]
            try:
                sample = self._load(i, 0, path, info)
            except _Unreadable as e:
                self._unreadable.add(i)
                self._log_failure(i, path, e.reason)
                continue
            except Exception:
                continue  # (a window that failed: that video is tried again when its own items come)
            if sample is None:
                continue
            self._consecutive = 0
            return True
        return False

    def _video(self, video_index: int, path: str):
        """The open video for ``video_index``: the last one is kept open, since consecutive items (the
        clips and views of a video under a sequential sampler) usually share it."""
        if self._open is not None and self._open[2] != os.getpid():
            self.close()  # inherited through fork: let go of it without touching it (see EncodedVideoPyAV.close)
        if self._open is not None and self._open[0] == video_index:
            return self._open[1]
        self.close()
        video = self._decoder.open(path)
        self._open = (video_index, video, os.getpid())
        return video

    def close(self) -> None:
        """Closes the video kept open between items (also done when the dataset is deleted)."""
        open_, self._open = self._open, None
        if open_ is not None:
            open_[1].close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_open"] = None  # workers open their own videos
        state["_cache_key"] = state["_cache_clip"] = None
        state["_prefetched"] = {}
        return state

    def _load(self, video_index: int, slot: int, path: str, info: dict) -> dict | None:
        self._last_window = None
        try:
            try:
                video = self._video(video_index, path)
            except Exception as e:
                raise _Unreadable(_reason(e)) from e
            clip_info = self._clip_info(video_index, slot, video.duration)
            if clip_info is None:
                return None
            self._last_window = (str(clip_info.clip_start_sec), str(clip_info.clip_end_sec))
            if isinstance(clip_info.clip_start_sec, list):
                windows = zip(clip_info.clip_start_sec, clip_info.clip_end_sec)
                clips = [self._decoder.clip(video, s, e) for s, e in windows]
                if any(c is None for c in clips):
                    return None
                clip = {k: [c[k] for c in clips] for k in clips[0]}
                if any(a is None for a in clip["audio"]):
                    clip["audio"] = None
            else:
                key = (video_index, clip_info.clip_start_sec, clip_info.clip_end_sec)
                if key == self._cache_key:
                    clip = self._cache_clip
                elif key in self._prefetched:
                    clip = self._prefetched[key]
                    self._cache_key, self._cache_clip = key, clip
                else:
                    clip = self._decoder.clip(video, clip_info.clip_start_sec, clip_info.clip_end_sec)
                    self._cache_key, self._cache_clip = key, clip
                if clip is None:
                    return None
            return _make_sample(clip, video, video_index, clip_info.clip_index, clip_info.aug_index, info)
        except BaseException:
            self.close()
            raise


def labeled_video_dataset(
    data_path: str,
    clip_sampler: ClipSampler,
    video_sampler=torch.utils.data.RandomSampler,
    transform: Callable[[dict], Any] | None = None,
    video_path_prefix: str = "",
    decode_audio: bool = False,
    decoder: str = "pyav",
    *,
    map_style: bool = False,
    **kwargs,
):
    """Builds a dataset from a CSV of ``<path> <label>`` lines or a folder of class folders.

    ``map_style=True`` gives a :class:`LabeledVideoMapDataset` (``video_sampler`` is then ignored: use
    the DataLoader's sampler); otherwise a :class:`LabeledVideoDataset`. Other keyword arguments go to
    the dataset (decoder_threads, max_consecutive_failures, use_frame_plan, frame_plan, durations).
    """
    paths = LabeledVideoPaths.from_path(data_path)
    if os.path.isfile(os.fspath(data_path)):
        from fastvid.data.labeled_video_paths import check_csv_prefix

        # (the paths as the CSV gives them: before the prefix is set)
        check_csv_prefix(os.fspath(data_path), (path for path, _ in paths), video_path_prefix)
    paths.path_prefix = video_path_prefix
    if map_style:
        return LabeledVideoMapDataset(
            paths, clip_sampler, transform, decode_audio=decode_audio, decoder=decoder, **kwargs
        )
    return LabeledVideoDataset(paths, clip_sampler, video_sampler, transform, decode_audio=decode_audio,
                               decoder=decoder, **kwargs)
