"""What a dataset may ask of a transform before decoding: which frames it keeps, and whether it takes uint8.

* :func:`temporal_plan`: the :class:`TemporalPlan` of a transform whose first step that changes the number of
  frames is ``UniformTemporalSubsample(n)`` (only fastvid per-frame steps before it; through
  ApplyTransformToKey("video", ...) and nested Compose). The dataset then decodes only
  ``plan.indices(T)`` of the window's T frames and hands those to the transform: UniformTemporalSubsample(n)
  on n frames keeps them all, in order, and the per-frame steps before it draw nothing that depends on T,
  so the result is the same as on all T frames.
* :func:`accepts_uint8`: True when the transform gives the same clip on uint8 (C, T, H, W) frames (any
  strides: a permuted (T, H, W, C) decode buffer is fine) as on the float32 0-255 clip, i.e. every step up
  to the first one that makes the clip float is a fastvid step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fastvid import reference
from fastvid.transforms._fusion import ClipStep
from fastvid.transforms.compose import ApplyTransformToKey, Compose, RemoveKey, UniformCropVideo, _ApplyThenUniformCrop
from fastvid.transforms.video import Permute, UniformTemporalSubsample

__all__ = ["TemporalPlan", "temporal_plan", "accepts_uint8"]


@dataclass(frozen=True)
class TemporalPlan:
    """Keep ``num_samples`` frames, picked as UniformTemporalSubsample(num_samples) picks them."""

    num_samples: int

    def indices(self, num_frames: int) -> torch.Tensor:
        """The int64 indices (into the window's ``num_frames`` frames) of the frames the transform keeps."""
        return reference.uniform_temporal_subsample_indices(num_frames, self.num_samples)


_GO_ON = object()  # the walk has not decided yet


def _steps(transform):
    if isinstance(transform, Compose):
        return transform.transforms
    if isinstance(transform, _ApplyThenUniformCrop):
        return [transform.apply, transform.crop]
    return None


def _walk(transform, key: str, leaf):
    """The first decision ``leaf(step, key)`` makes (anything but _GO_ON) over the steps of ``transform``
    in order, through Compose-like containers and ApplyTransformToKey(key, ...); _GO_ON when none decides."""
    inner = _steps(transform)
    if inner is not None:
        for t in inner:
            r = _walk(t, key, leaf)
            if r is not _GO_ON:
                return r
        return _GO_ON
    if isinstance(transform, ApplyTransformToKey):
        return _walk(transform.transform, key, leaf) if transform.key == key else _GO_ON
    return leaf(transform, key)


def _temporal_step(transform, key: str):
    if isinstance(transform, UniformTemporalSubsample):
        return TemporalPlan(transform.num_samples) if transform.fusable else None
    if isinstance(transform, RemoveKey):
        return None if transform.key == key else _GO_ON
    if isinstance(transform, UniformCropVideo):
        return _GO_ON
    if isinstance(transform, ClipStep) and transform.frame_wise:
        return _GO_ON
    return None  # a user callable, Permute, or a foreign class: nothing is known about it


def temporal_plan(transform, *, key: str = "video") -> TemporalPlan | None:
    """The frames ``transform`` keeps (see the module doc), or None when that is not known (then decode all)."""
    r = _walk(transform, key, _temporal_step)
    return None if r is _GO_ON else r


def _uint8_step(transform, key: str):
    if isinstance(transform, ClipStep) and not transform.uint8_equivalent:
        return False
    if isinstance(transform, ClipStep):
        return True if transform.converts else _GO_ON
    if isinstance(transform, RemoveKey):
        return True if transform.key == key else _GO_ON
    if isinstance(transform, (UniformCropVideo, Permute)):
        return _GO_ON
    return False


def accepts_uint8(transform, *, key: str = "video") -> bool:
    """True when ``transform`` may be handed uint8 frames instead of the float 0-255 clip (module doc)."""
    r = _walk(transform, key, _uint8_step)
    return True if r is _GO_ON else bool(r)
