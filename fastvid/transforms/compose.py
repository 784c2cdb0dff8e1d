"""Compose, which fuses, and the dict-sample transforms (ApplyTransformToKey, RemoveKey, UniformCropVideo).

``Compose(transforms)`` plans once, at construction: nested fastvid Composes are flattened, every maximal
run of fusable fastvid steps becomes one :class:`~fastvid.transforms._fusion.FusedRun` (one
:func:`fastvid.ops.clip_transform` call; a second resize starts a new run), and anything else (a Lambda, a
user callable, Permute, a foreign class) runs as it is between the runs. On dict samples,
``ApplyTransformToKey(k, <fastvid transform>)`` directly followed by ``UniformCropVideo(video_key=k)`` shares
the transform's last run. ``repr`` shows the plan; ``.plan`` holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

import torch

from fastvid import reference
from fastvid.transforms import _checks
from fastvid.transforms._fusion import ClipState, ClipStep, FusedRun, run_steps

__all__ = ["Compose", "Lambda", "ApplyTransformToKey", "RemoveKey", "UniformCropVideo"]


def _check_sample(owner: str, x, key) -> None:
    if not isinstance(x, MutableMapping):
        raise TypeError(f"{owner}: expects a dict sample (as fastvid's datasets give), got {type(x).__name__}")
    if key not in x:
        raise KeyError(f"{owner}: the sample has no key {key!r} (keys: {sorted(map(str, x))})")


class Lambda:
    """Applies a user function (torchvision's Lambda). Compose runs it as it is, between fused runs."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: lambd must be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.lambd, '__qualname__', type(self.lambd).__name__)})"


class ApplyTransformToKey:
    """Applies ``transform`` to ``x[key]`` of a dict sample and returns the sample (PyTorchVideo); the other
    keys are left as they are."""

    def __init__(self, key: str, transform):
        if not callable(transform):
            raise TypeError(f"ApplyTransformToKey: transform must be callable, got {type(transform).__name__}")
        self._key = key
        self._transform = transform

    @property
    def key(self):
        return self._key

    @property
    def transform(self):
        return self._transform

    def __call__(self, x):
        _check_sample(f"ApplyTransformToKey({self._key!r})", x, self._key)
        x[self._key] = self._transform(x[self._key])
        return x

    def __repr__(self) -> str:
        inner = repr(self._transform).replace("\n", "\n    ")
        return f"ApplyTransformToKey({self._key!r}, {inner})"


class RemoveKey(torch.nn.Module):
    """Removes ``key`` from a dict sample if it is there (PyTorchVideo; an nn.Module, as there)."""

    def __init__(self, key: str):
        super().__init__()
        self._key = key

    @property
    def key(self):
        return self._key

    def forward(self, x):
        if not isinstance(x, MutableMapping):
            raise TypeError(f"RemoveKey({self._key!r}): expects a dict sample, got {type(x).__name__}")
        x.pop(self._key, None)
        return x

    def __call__(self, x):  # skip nn.Module hooks: a data transform, called per sample
        return self.forward(x)

    def __repr__(self) -> str:
        return f"RemoveKey({self._key!r})"


class _UniformCrop(ClipStep):
    """The crop of UniformCropVideo for one sample's aug_index (PyTorchVideo's uniform_crop): offsets
    ceil((H - s) / 2), ceil((W - s) / 2); aug_index 0 / 2 moves the crop to the start / end of the longer
    side (H when H > W, else W)."""

    def __init__(self, size: int, spatial_idx):
        super().__init__()
        if isinstance(spatial_idx, torch.Tensor) and spatial_idx.numel() == 1:
            spatial_idx = spatial_idx.item()
        if isinstance(spatial_idx, bool) or spatial_idx not in (0, 1, 2):
            raise ValueError(f"UniformCropVideo: aug_index must be 0, 1 or 2, got {spatial_idx!r}")
        self._size = size
        self._idx = int(spatial_idx)

    def apply_to(self, state: ClipState) -> None:
        s = self._size
        top, left, _, _ = reference.uniform_crop_box(state.h, state.w, s, self._idx, owner="UniformCropVideo")
        state.crop_window(top, left, s, s, "UniformCropVideo")

    def __repr__(self) -> str:
        return f"UniformCrop({self._size}, aug_index={self._idx})"


class UniformCropVideo(torch.nn.Module):
    """Crops ``x[video_key]`` of a dict sample to a ``size`` square at the position ``x[aug_index_key]``
    (0, 1, 2: start, centre, end of the longer side), as PyTorchVideo's UniformCropVideo (an nn.Module, as
    there)."""

    def __init__(self, size: int, video_key: str = "video", aug_index_key: str = "aug_index"):
        super().__init__()
        self._size = _checks.positive_size("UniformCropVideo", "size", size)
        self._video_key = video_key
        self._aug_index_key = aug_index_key

    def step_for(self, x) -> _UniformCrop:
        _check_sample("UniformCropVideo", x, self._aug_index_key)
        return _UniformCrop(self._size, x[self._aug_index_key])

    def forward(self, x):
        _check_sample("UniformCropVideo", x, self._video_key)
        x[self._video_key] = run_steps((self.step_for(x),), x[self._video_key])
        return x

    def __call__(self, x):  # skip nn.Module hooks: a data transform, called per sample
        return self.forward(x)

    def __repr__(self) -> str:
        return f"UniformCropVideo({self._size}, video_key={self._video_key!r}, aug_index_key={self._aug_index_key!r})"


def _segments_of(transform):
    """The plan of a fastvid transform (a tuple of segments), or None for anything else."""
    if isinstance(transform, Compose):
        return transform.plan
    if isinstance(transform, ClipStep) and transform.fusable:
        return (FusedRun((transform,)),)
    return None


class _ApplyThenUniformCrop:
    """ApplyTransformToKey(k, t) then UniformCropVideo(video_key=k): the crop joins t's last fused run."""

    def __init__(self, apply: ApplyTransformToKey, crop: UniformCropVideo):
        self.apply = apply
        self.crop = crop
        self.segments = _segments_of(apply.transform)

    def __call__(self, x):
        key = self.apply.key
        _check_sample(f"ApplyTransformToKey({key!r})", x, key)
        step = self.crop.step_for(x)
        v = x[key]
        for seg in self.segments[:-1]:
            v = seg(v)
        x[key] = run_steps(self.segments[-1].steps + (step,), v)
        return x

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(s) for s in self.segments[:-1])
        last = self.segments[-1]
        fused = "clip_transform[" + " -> ".join([repr(s) for s in last.steps] + [repr(self.crop)]) + "]"
        parts = (inner + ",\n    " if inner else "") + fused
        return f"ApplyTransformToKey({self.apply.key!r}, [\n    {parts}])"


def _flatten(transforms):
    for t in transforms:
        if isinstance(t, Compose):
            yield from _flatten(t.transforms)
        else:
            yield t


def _plan(transforms) -> tuple:
    segments: list = []
    run: list = []
    run_resizes = False
    for t in _flatten(transforms):
        if isinstance(t, ClipStep) and t.fusable:
            if t.resizes and run_resizes:
                segments.append(FusedRun(run))
                run, run_resizes = [], False
            run.append(t)
            run_resizes = run_resizes or t.resizes
            continue
        if run:
            segments.append(FusedRun(run))
            run, run_resizes = [], False
        prev = segments[-1] if segments else None
        if (
            isinstance(t, UniformCropVideo)
            and isinstance(prev, ApplyTransformToKey)
            and prev.key == t._video_key
            and t._aug_index_key != prev.key
        ):
            inner = _segments_of(prev.transform)
            if inner and isinstance(inner[-1], FusedRun):
                segments[-1] = _ApplyThenUniformCrop(prev, t)
                continue
        segments.append(t)
    if run:
        segments.append(FusedRun(run))
    return tuple(segments)


class Compose:
    """Applies ``transforms`` in order (torchvision's Compose), each maximal run of fusable fastvid steps
    as ONE fused kernel call. Under the same seeds the result equals running the steps one by one (random
    numbers are drawn with the same calls in the same order). ``plan`` is the tuple of what runs: FusedRun
    objects and the non-fusable transforms as given."""

    def __init__(self, transforms: Iterable):
        if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Iterable):
            raise TypeError(f"Compose: transforms must be a list of callables, got {type(transforms).__name__}")
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] must be callable, got {type(t).__name__} {t!r}")
        self.transforms = transforms
        self.plan = _plan(transforms)

    @property
    def num_fused_runs(self) -> int:
        """How many fused kernel calls one application makes at the top level of the plan."""
        return sum(isinstance(s, (FusedRun, _ApplyThenUniformCrop)) for s in self.plan)

    def __call__(self, x):
        for seg in self.plan:
            x = seg(x)
        return x

    def __repr__(self) -> str:
        body = "".join(f"\n    {repr(s).replace(chr(10), chr(10) + '    ')}," for s in self.plan)
        return f"Compose({body}\n)"
