"""Training callbacks: clips per second and the share of step time spent waiting for data."""

from __future__ import annotations

import time

import pytorch_lightning as pl
import torch

__all__ = ["ThroughputMonitor"]


def _batch_size(batch) -> int:
    if isinstance(batch, dict):
        video = batch.get("video")
        if isinstance(video, torch.Tensor):
            return int(video.shape[0])
        label = batch.get("label")
        if isinstance(label, torch.Tensor):
            return int(label.shape[0])
    if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], torch.Tensor):
        return int(batch[0].shape[0])
    return 0


class ThroughputMonitor(pl.Callback):
    """Measures training throughput over the whole run, on every rank.

    ``clips_per_s`` is global: clips of all ranks per second of training-loop wall time (validation
    excluded). ``data_wait_frac`` is the share of that time spent between the end of one step and the
    start of the next: fetching the next batch from the DataLoader, plus moving it to the device and
    ``on_after_batch_transfer`` (Lightning runs those before ``on_train_batch_start``; GPU augmentation
    kernels are only launched there and mostly run inside the step). It is how much the model was
    starved by the data pipeline. The first ``skip_batches`` batches of the run (worker start-up) are not counted.
    Logged per epoch as ``train_clips_per_s`` and ``train_data_wait_frac``.
    """

    def __init__(self, skip_batches: int = 2) -> None:
        self.skip_batches = skip_batches
        self.clips = 0
        self.wall = 0.0
        self.wait = 0.0
        self._seen = 0
        self._last_end: float | None = None
        self._start: float | None = None
        self._epoch_clips = 0
        self._epoch_wall = 0.0
        self._epoch_wait = 0.0

    @staticmethod
    def _sync(trainer: pl.Trainer) -> None:
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize(trainer.strategy.root_device)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._last_end = time.perf_counter()
        self._epoch_clips, self._epoch_wall, self._epoch_wait = 0, 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._start = time.perf_counter()
        self._waited = self._start - self._last_end if self._last_end is not None else 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._sync(trainer)
        now = time.perf_counter()
        self._seen += 1
        if self._start is not None and self._seen > self.skip_batches:
            step = now - self._start
            clips = _batch_size(batch) * trainer.world_size
            self.clips += clips
            self.wall += step + self._waited
            self.wait += self._waited
            self._epoch_clips += clips
            self._epoch_wall += step + self._waited
            self._epoch_wait += self._waited
        self._last_end = now

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self._epoch_wall > 0:
            pl_module.log("train_clips_per_s", self._epoch_clips / self._epoch_wall, sync_dist=True)
            pl_module.log("train_data_wait_frac", self._epoch_wait / self._epoch_wall, sync_dist=True)

    def on_validation_start(self, trainer, pl_module) -> None:
        self._last_end = None  # validation time is not training time

    def on_validation_end(self, trainer, pl_module) -> None:
        self._last_end = time.perf_counter()

    @property
    def measured(self) -> bool:
        """Whether any batch was timed (a run of at most ``skip_batches`` batches times none)."""
        return self.wall > 0 and self.clips > 0

    @property
    def clips_per_s(self) -> float | None:
        """Global training clips per second over the run; None when no batch was timed."""
        return self.clips / self.wall if self.measured else None

    @property
    def data_wait_frac(self) -> float | None:
        """Share of the timed training-loop wall time spent waiting for data; None when no batch was timed."""
        return self.wait / self.wall if self.measured else None
