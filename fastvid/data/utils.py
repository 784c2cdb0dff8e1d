"""Small helpers shared by the data modules: time conversions and worker sharding (as pytorchvideo.data.utils)."""

from __future__ import annotations

import itertools
import logging
import math
from fractions import Fraction

import torch
import torch.utils.data

logger = logging.getLogger(__name__)

__all__ = ["thwc_to_cthw", "secs_to_pts", "pts_to_secs", "MultiProcessSampler", "skip_none"]


def thwc_to_cthw(data: torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) -> (C, T, H, W) as a view (no copy)."""
    return data.permute(3, 0, 1, 2)


def secs_to_pts(time_in_seconds, time_base, start_pts, round_mode: str = "floor"):
    """Seconds -> stream pts, ``round(time / time_base) + start_pts`` (PyTorchVideo's rule).

    Exact when ``time_in_seconds`` and ``time_base`` are Fractions (PyAV's time bases are).
    """
    if time_in_seconds == math.inf:
        return math.inf
    if round_mode == "floor":
        return math.floor(time_in_seconds / time_base) + start_pts
    if round_mode == "ceil":
        return math.ceil(time_in_seconds / time_base) + start_pts
    raise ValueError(f'secs_to_pts: round_mode must be "floor" or "ceil", got {round_mode!r}')


def pts_to_secs(pts, time_base, start_pts):
    """Stream pts -> seconds, ``int(pts - start_pts) * time_base`` (PyTorchVideo's rule)."""
    if pts == math.inf:
        return math.inf
    return int(pts - start_pts) * time_base


def as_fraction(value) -> Fraction:
    """A clip time as an exact Fraction (floats convert exactly, as Fraction(float) does)."""
    return value if isinstance(value, Fraction) else Fraction(value)


class MultiProcessSampler(torch.utils.data.Sampler):
    """Splits the indices of a video sampler evenly and contiguously over DataLoader workers.

    Each worker takes one contiguous slice of the sampler's order (``numpy.array_split`` sizes, as
    PyTorchVideo), so that across workers every index appears exactly once and none is lost. With no
    workers, the whole sampler is used.
    """

    def __init__(self, sampler: torch.utils.data.Sampler) -> None:
        self._sampler = sampler

    def __iter__(self):
        worker_info = torch.utils.data.get_worker_info()
        if worker_info is None or worker_info.num_workers == 0:
            return iter(self._sampler)
        total = len(self._sampler)
        workers, wid = worker_info.num_workers, worker_info.id
        base, extra = divmod(total, workers)
        start = wid * base + min(wid, extra)
        stop = start + base + (1 if wid < extra else 0)
        if start >= stop:
            logger.warning(
                "More DataLoader workers (%d) than videos (%d); worker %d has nothing to do.", workers, total, wid
            )
            return iter(())
        return itertools.islice(iter(self._sampler), start, stop)


class _SkipNone:
    def __init__(self, collate_fn) -> None:
        self.collate_fn = collate_fn

    def __call__(self, items):
        kept = [item for item in items if item is not None]
        return self.collate_fn(kept) if kept else None

    def __repr__(self) -> str:
        return f"skip_none({self.collate_fn!r})"


def skip_none(collate_fn=None):
    """A collate function that leaves out the None items (the failed items of a dataset built with
    ``on_failure="skip"``) and collates the rest with ``collate_fn`` (default: torch's
    ``default_collate``); a batch of None items only gives None. Picklable (DataLoader workers)."""
    return _SkipNone(torch.utils.data.default_collate if collate_fn is None else collate_fn)
