"""Clip samplers: which [start, end) windows (seconds) of a video become clips (as pytorchvideo.data).

Times are exact Fractions, as PyTorchVideo computes them. Randomness uses Python's ``random`` module
(``random.uniform``), exactly as PyTorchVideo draws it, so seeded runs pick the same clips.
"""

from __future__ import annotations

import math
import numbers
import random
from abc import ABC, abstractmethod
from fractions import Fraction
from typing import Any, NamedTuple

__all__ = [
    "ClipInfo",
    "ClipInfoList",
    "ClipSampler",
    "make_clip_sampler",
    "UniformClipSampler",
    "RandomClipSampler",
    "ConstantClipsPerVideoSampler",
    "RandomMultiClipSampler",
]


class ClipInfo(NamedTuple):
    """One sampled clip: [clip_start_sec, clip_end_sec), its clip_index and aug_index in the video, and
    whether it is the video's last clip."""

    clip_start_sec: Fraction
    clip_end_sec: Fraction
    clip_index: int
    aug_index: int
    is_last_clip: bool


class ClipInfoList(NamedTuple):
    """Several clips sampled at once (RandomMultiClipSampler): one list per field."""

    clip_start_sec: list
    clip_end_sec: list
    clip_index: list
    aug_index: list
    is_last_clip: list


def _positive_duration(name: str, value, arg: str = "clip_duration") -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise TypeError(f"{name}: {arg} must be a number of seconds, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: {arg} must be a finite number of seconds, got {value!r}")
    value = Fraction(value)
    if value <= 0:
        raise ValueError(f"{name}: {arg} must be positive, got {value}")
    return value


def _video_duration(name: str, value):
    """A video's duration as the samplers get it: a finite number >= 0 (a NaN or infinite one would make
    a uniform sampler give clips for ever)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: video_duration must be a number of seconds, got {value!r}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # (a Fraction too large for a float)
        finite = False
    if not finite or value < 0:
        raise ValueError(f"{name}: video_duration must be a finite number of seconds >= 0, got {value!r}")
    return value


def _positive_int(name: str, arg: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: {arg} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name}: {arg} must be at least 1, got {value}")
    return value


class ClipSampler(ABC):
    """Base class: ``sampler(last_clip_end_time, video_duration, annotation) -> ClipInfo``."""

    def __init__(self, clip_duration) -> None:
        self._clip_duration = _positive_duration(type(self).__name__, clip_duration)
        self._current_clip_index = 0
        self._current_aug_index = 0

    @property
    def clip_duration(self) -> Fraction:
        return self._clip_duration

    @abstractmethod
    def __call__(self, last_clip_end_time, video_duration, annotation: dict[str, Any]) -> ClipInfo: ...

    def reset(self) -> None:
        """Forgets per-video state before the next video."""
        self._current_clip_index = 0
        self._current_aug_index = 0

    def clips_for_duration(self, video_duration, annotation: dict[str, Any] | None = None) -> list[ClipInfo]:
        """Every clip this sampler gives for a video of this duration, in order (state is reset first and
        after). Random samplers give one draw."""
        video_duration = _video_duration(type(self).__name__, video_duration)
        self.reset()
        clips = []
        last_end = None
        while True:
            info = self(last_end, video_duration, annotation or {})
            clips.append(info)
            last_end = info.clip_end_sec
            last = info.is_last_clip[-1] if isinstance(info.is_last_clip, list) else info.is_last_clip
            if last:
                break
        self.reset()
        return clips


def make_clip_sampler(sampling_type: str, *args) -> ClipSampler:
    """Builds a clip sampler by name: "uniform", "random", "constant_clips_per_video" or "random_multi";
    ``args`` go to its constructor (as PyTorchVideo's make_clip_sampler)."""
    if sampling_type == "uniform":
        return UniformClipSampler(*args)
    if sampling_type == "random":
        return RandomClipSampler(*args)
    if sampling_type == "constant_clips_per_video":
        return ConstantClipsPerVideoSampler(*args)
    if sampling_type == "random_multi":
        return RandomMultiClipSampler(*args)
    raise NotImplementedError(
        f'make_clip_sampler: sampling_type must be "uniform", "random", "constant_clips_per_video" or '
        f'"random_multi", got {sampling_type!r}'
    )


class UniformClipSampler(ClipSampler):
    """Clips of clip_duration every ``stride`` seconds from 0 (stride defaults to clip_duration).

    The first clip is always given; sampling stops once the next clip would end more than ``eps`` past
    the video's end. With ``backpad_last`` the last clip is moved back to end at the video's end, so the
    video's last frames are covered.
    """

    def __init__(self, clip_duration, stride=None, backpad_last: bool = False, eps: float = 1e-6) -> None:
        super().__init__(clip_duration)
        if stride is None:
            self._stride = self._clip_duration
        else:
            _positive_duration("UniformClipSampler", stride, "stride")
            self._stride = stride  # (as given: PyTorchVideo's float arithmetic for a float stride)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps < 0:
            raise ValueError(f"UniformClipSampler: eps must be a finite number >= 0, got {eps!r}")
        self._eps = eps
        self._backpad_last = bool(backpad_last)

    def _clip_start_end(self, last_clip_end_time, video_duration, backpad_last: bool):
        delta = self._stride - self._clip_duration
        last_end_time = -delta if last_clip_end_time is None else last_clip_end_time
        clip_start = Fraction(last_end_time + delta)
        clip_end = Fraction(clip_start + self._clip_duration)
        if backpad_last:
            buffer_amount = max(0, clip_end - video_duration)
            clip_start -= buffer_amount
            clip_start = Fraction(max(0, clip_start))
            clip_end = Fraction(clip_start + self._clip_duration)
        return clip_start, clip_end

    def __call__(self, last_clip_end_time, video_duration, annotation: dict[str, Any]) -> ClipInfo:
        video_duration = _video_duration("UniformClipSampler", video_duration)
        clip_start, clip_end = self._clip_start_end(last_clip_end_time, video_duration, self._backpad_last)
        _, next_clip_end = self._clip_start_end(clip_end, video_duration, self._backpad_last)
        if self._backpad_last:
            is_last_clip = abs(next_clip_end - clip_end) < self._eps
        else:
            is_last_clip = (next_clip_end - video_duration) > self._eps
        clip_index = self._current_clip_index
        self._current_clip_index += 1
        if is_last_clip:
            self.reset()
        return ClipInfo(clip_start, clip_end, clip_index, 0, bool(is_last_clip))


class RandomClipSampler(ClipSampler):
    """One clip per video, starting at ``random.uniform(0, max(duration - clip_duration, 0))``.

    With ``augs_per_clip = A`` the same window is given A times (aug_index 0..A-1); the dataset decodes it
    once and applies the transform A times (repeated augmentation).
    """

    def __init__(self, clip_duration, augs_per_clip: int = 1) -> None:
        super().__init__(clip_duration)
        self._augs_per_clip = _positive_int("RandomClipSampler", "augs_per_clip", augs_per_clip)
        self._current_clip = None

    def _draw(self, video_duration) -> Fraction:
        max_possible_clip_start = max(video_duration - self._clip_duration, 0)
        return Fraction(random.uniform(0, max_possible_clip_start))

    def __call__(self, last_clip_end_time, video_duration, annotation: dict[str, Any]) -> ClipInfo:
        if self._augs_per_clip == 1:
            start = self._draw(video_duration)
            return ClipInfo(start, start + self._clip_duration, 0, 0, True)
        if self._current_aug_index == 0:
            self._current_clip = self._draw(video_duration)
        start = self._current_clip
        aug_index = self._current_aug_index
        self._current_aug_index += 1
        is_last = self._current_aug_index >= self._augs_per_clip
        if is_last:
            self.reset()
        return ClipInfo(start, start + self._clip_duration, 0, aug_index, is_last)

    def reset(self) -> None:
        super().reset()
        self._current_clip = None


class RandomMultiClipSampler(RandomClipSampler):
    """``num_clips`` independent random clips per video, given together as a ClipInfoList."""

    def __init__(self, clip_duration, num_clips: int) -> None:
        super().__init__(clip_duration)
        self._num_clips = _positive_int("RandomMultiClipSampler", "num_clips", num_clips)

    def __call__(self, last_clip_end_time, video_duration, annotation: dict[str, Any]) -> ClipInfoList:
        infos = [super(RandomMultiClipSampler, self).__call__(last_clip_end_time, video_duration, annotation)
                 for _ in range(self._num_clips)]
        return ClipInfoList(*(list(field) for field in zip(*infos)))


class ConstantClipsPerVideoSampler(ClipSampler):
    """``clips_per_video`` clips evenly spaced from 0 to ``duration - clip_duration`` (step
    ``max(duration - clip_duration, 0) / max(clips_per_video - 1, 1)``), each given ``augs_per_clip`` times
    with aug_index 0..A-1."""

    def __init__(self, clip_duration, clips_per_video: int, augs_per_clip: int = 1) -> None:
        super().__init__(clip_duration)
        self._clips_per_video = _positive_int("ConstantClipsPerVideoSampler", "clips_per_video", clips_per_video)
        self._augs_per_clip = _positive_int("ConstantClipsPerVideoSampler", "augs_per_clip", augs_per_clip)

    def __call__(self, last_clip_end_time, video_duration, annotation: dict[str, Any]) -> ClipInfo:
        max_possible_clip_start = Fraction(max(video_duration - self._clip_duration, 0))
        uniform_clip = Fraction(max_possible_clip_start, max(self._clips_per_video - 1, 1))
        clip_start_sec = uniform_clip * self._current_clip_index
        clip_index = self._current_clip_index
        aug_index = self._current_aug_index
        self._current_aug_index += 1
        if self._current_aug_index >= self._augs_per_clip:
            self._current_clip_index += 1
            self._current_aug_index = 0
        is_last_clip = False
        if (
            self._current_clip_index >= self._clips_per_video
            or uniform_clip * self._current_clip_index > max_possible_clip_start
        ):
            is_last_clip = True
            self.reset()
        return ClipInfo(clip_start_sec, clip_start_sec + self._clip_duration, clip_index, aug_index, is_last_clip)
