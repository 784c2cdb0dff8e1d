"""Training callbacks: clips per second and the share of step time spent waiting for data; a progress bar
that does not wait for the device at every step; a SIGTERM that stops every DDP rank at the same step."""

from __future__ import annotations

import collections
import signal
import time

import pytorch_lightning as pl
import torch

__all__ = ["SynchronizedSigterm", "ThroughputMonitor", "TimedProgressBar", "step_clock"]


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


class _HostClock:
    """Marks are host times (CPU training: the step has finished when the hook runs)."""

    def mark(self) -> float:
        return time.perf_counter()

    def ready(self, mark) -> bool:
        return True

    def wait(self, mark) -> None:
        pass

    def seconds(self, a, b) -> float:
        return b - a


class _CudaClock:
    """Marks are CUDA events recorded on the current stream: they time the step on the device without
    waiting for it (a synchronize per step would stop the host from queueing the next one)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def mark(self) -> torch.cuda.Event:
        event = torch.cuda.Event(enable_timing=True)
        event.record(torch.cuda.current_stream(self.device))
        return event

    def ready(self, mark: torch.cuda.Event) -> bool:
        return mark.query()

    def wait(self, mark: torch.cuda.Event) -> None:
        mark.synchronize()

    def seconds(self, a: torch.cuda.Event, b: torch.cuda.Event) -> float:
        return a.elapsed_time(b) / 1e3


def step_clock(device: torch.device | str):
    """The clock that times training steps on ``device`` without waiting for it: CUDA events on a CUDA
    device, host times elsewhere. ``mark()`` records a mark, ``ready(mark)`` says whether it has completed,
    ``wait(mark)`` waits until it has, ``seconds(a, b)`` is the time between two completed marks."""
    device = torch.device(device)
    return _CudaClock(device) if device.type == "cuda" else _HostClock()


class ThroughputMonitor(pl.Callback):
    """Measures training throughput over the whole run, on every rank.

    ``clips_per_s`` is global: clips of all ranks per second of training-loop time (validation
    excluded). ``data_wait_frac`` is the share of that time spent between the end of one step and the
    start of the next: fetching the next batch from the DataLoader, moving it to the device and
    ``on_after_batch_transfer`` (Lightning runs those before ``on_train_batch_start``). It is how much the
    model was starved by the data pipeline. The first ``skip_batches`` batches of the run (worker start-up)
    are not counted. Logged per epoch as ``train_clips_per_s`` and ``train_data_wait_frac``.

    On a CUDA device the times are read from CUDA events recorded at the start and end of each step, on the
    device's timeline, and collected once they have completed: nothing waits for the device except once at
    the end of each epoch. A step then lasts from when the device starts it to when it finishes it, and the
    wait is the time the device spent between steps: idle for want of a batch, or copying and augmenting it
    (GPU augmentation kernels run there). Elsewhere host times are used.
    """

    def __init__(self, skip_batches: int = 2, *, clock=None) -> None:
        self.skip_batches = skip_batches
        self.clips = 0
        self.wall = 0.0
        self.wait = 0.0
        self._clock = clock
        self._seen = 0
        self._last_end = None
        self._start = None
        self._pending: collections.deque = collections.deque()
        self._epoch_clips = 0
        self._epoch_wall = 0.0
        self._epoch_wait = 0.0

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self._clock is None:
            self._clock = step_clock(trainer.strategy.root_device)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._pending.clear()
        self._last_end = self._clock.mark()
        self._epoch_clips, self._epoch_wall, self._epoch_wait = 0, 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._start = (self._last_end, self._clock.mark())

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        end = self._clock.mark()
        self._seen += 1
        if self._start is not None and self._seen > self.skip_batches:
            self._pending.append((*self._start, end, _batch_size(batch) * trainer.world_size))
        self._start = None
        self._last_end = end
        self._collect(wait=False)

    def _collect(self, *, wait: bool) -> None:
        """Adds the timed steps whose end marks have completed (all of them with ``wait``) to the totals."""
        clock = self._clock
        while self._pending and (wait or clock.ready(self._pending[0][2])):
            last_end, start, end, clips = self._pending.popleft()
            if not clock.ready(end):
                clock.wait(end)
            waited = clock.seconds(last_end, start) if last_end is not None else 0.0
            total = clock.seconds(start, end) + waited
            self.clips += clips
            self.wall += total
            self.wait += waited
            self._epoch_clips += clips
            self._epoch_wall += total
            self._epoch_wait += waited

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._collect(wait=True)
        if self._epoch_wall > 0:
            pl_module.log("train_clips_per_s", self._epoch_clips / self._epoch_wall, sync_dist=True)
            pl_module.log("train_data_wait_frac", self._epoch_wait / self._epoch_wall, sync_dist=True)

    def on_train_end(self, trainer, pl_module) -> None:
        self._collect(wait=True)  # an epoch cut short (interrupted) still counts its finished steps

    def on_validation_start(self, trainer, pl_module) -> None:
        self._last_end = None  # validation time is not training time

    def on_validation_end(self, trainer, pl_module) -> None:
        self._last_end = self._clock.mark()

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
        """Share of the timed training-loop time spent waiting for data; None when no batch was timed."""
        return self.wait / self.wall if self.measured else None


class TimedProgressBar(pl.callbacks.TQDMProgressBar):
    """Lightning's tqdm progress bar, redrawn at most every ``interval`` seconds (over all its bars) and at the
    end of each epoch and validation, showing the last training step's loss.

    Each redraw reads the shown values on the host, which waits for the device; with Lightning's
    ``refresh_rate=1`` that would be a synchronization in every step. The step loss is not a progress-bar
    metric of :class:`fastvid.train.VideoClassificationModule` (Lightning reads those after every step): this
    bar reads ``train_loss_step`` from ``callback_metrics`` when it redraws.
    """

    def __init__(self, interval: float = 0.5, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate=1, process_position=process_position, leave=leave)
        if not interval >= 0:
            raise ValueError(f"TimedProgressBar: interval must be >= 0 seconds, got {interval!r}")
        self.interval = interval
        self._last_draw = float("-inf")
        self._train_n = 0
        self._val_n = 0

    def _should_update(self, current: int, total) -> bool:
        if not super()._should_update(current, total):
            return False
        now = time.monotonic()
        if current == total or now - self._last_draw >= self.interval:
            self._last_draw = now
            return True
        return False

    def get_metrics(self, trainer, pl_module) -> dict:
        items = super().get_metrics(trainer, pl_module)
        loss = trainer.callback_metrics.get("train_loss_step")
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            items["train_loss_step"] = f"{loss.item():.3g}"
        return items

    @staticmethod
    def _show(bar, n: int) -> None:
        # the count of a bar whose length is unknown (an iterable dataset) or that stopped early (max_steps):
        # the last batch forced no redraw
        if bar is not None and not bar.disable and bar.n != n:
            bar.n = n
            bar.refresh()

    def on_train_epoch_start(self, trainer, *args, **kwargs) -> None:
        self._train_n = 0
        super().on_train_epoch_start(trainer, *args, **kwargs)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._train_n = batch_idx + 1
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._show(self._train_progress_bar, self._train_n)
        super().on_train_epoch_end(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._show(self._train_progress_bar, self._train_n)
        super().on_train_end(trainer, pl_module)

    def on_validation_start(self, trainer, pl_module) -> None:
        self._val_n = 0
        super().on_validation_start(trainer, pl_module)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx: int = 0) -> None:
        self._val_n = batch_idx + 1
        super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._show(self._val_progress_bar, self._val_n)
        super().on_validation_end(trainer, pl_module)


class SynchronizedSigterm(pl.Callback):
    """Under DDP, a SIGTERM to any rank (a job scheduler's stop: SLURM and ``timeout`` signal every process,
    Kubernetes the first) stops every rank at the same point, with Lightning's ``SIGTERMException``.

    Lightning's own SIGTERM handler broadcasts from inside the handler, wherever each rank happens to be (in a
    step's backward, in a gradient all-reduce): a collective that the other ranks' collectives do not match, so
    the ranks waited on one another until the process group's timeout, and each rank then stopped at a step of
    its own. Here the handler only notes the signal, and the ranks all-reduce the note (one int32 on the training
    device, over the run's process group) where every rank passes:

    * after each training step: all stop there (the epoch's checkpoints are not written: the last one saved is
      the epoch before);
    * at the end of a validation epoch (a rank's validation batches are its own, no collective per batch): in a
      fit, all stop at the end of that training epoch, once its checkpoints are written (Lightning's own check
      there, through its signal connector); an ``--eval-only`` evaluation stops there, nothing written.

    A SIGTERM after the last training step's all-reduce (and no validation after it) lets the run finish. The
    all-reduce makes the host wait for the step's device work; Lightning 2.6 does the same at the start of each
    step (it broadcasts its own flag), older versions did not: there this adds a wait per step. With one process
    (or no process group) nothing is changed."""

    def __init__(self) -> None:
        self.pending = False  # a SIGTERM this rank got
        self._agreed = False  # every rank knows of one (set from an all-reduce only)
        self._active = False
        self._device = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        import torch.distributed as dist

        self.pending = self._agreed = False
        self._active = trainer.world_size > 1 and dist.is_available() and dist.is_initialized()
        self._device = trainer.strategy.root_device
        connector = getattr(trainer, "_signal_connector", None)
        if self._active and hasattr(connector, "_sigterm_notifier_fn"):
            # (Lightning registers its handlers after setup, loader set-up and worker start included: this way the
            # note is what it registers, chained with its SLURM handler and any handler there before)
            connector._sigterm_notifier_fn = self._note

    def _note(self, signum, frame) -> None:
        self.pending = True

    def _take_over_sigterm(self, trainer) -> None:
        # (a Lightning without the notifier attribute: its handler is replaced once it is registered)
        if self._active and getattr(getattr(trainer, "_signal_connector", None), "_sigterm_notifier_fn", None) != self._note:
            if signal.getsignal(signal.SIGTERM) != self._note:
                signal.signal(signal.SIGTERM, self._note)

    def on_train_start(self, trainer, pl_module) -> None:
        self._take_over_sigterm(trainer)

    def on_validation_start(self, trainer, pl_module) -> None:
        self._take_over_sigterm(trainer)

    def _all_ranks_noted(self) -> bool:
        import torch.distributed as dist

        flag = torch.tensor([1 if self.pending else 0], dtype=torch.int32, device=self._device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.item():
            self.pending = self._agreed = True
        return self._agreed

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self._active and self._all_ranks_noted():
            self._stop()

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        # (callbacks' epoch-end hooks run before the module's, whose metrics are synchronized across ranks)
        if self._active and self._all_ranks_noted() and trainer.state.fn == "validate":
            self._stop()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not (self._active and self._agreed):
            return
        connector = getattr(trainer, "_signal_connector", None)
        if hasattr(connector, "received_sigterm"):
            # Lightning's fit loop then stops every rank once the epoch's end hooks are done: the checkpoint
            # callbacks (which Lightning calls after the others) have written the epoch
            connector.received_sigterm = True
        else:
            self._stop()

    @staticmethod
    def _stop() -> None:
        from pytorch_lightning.utilities.exceptions import SIGTERMException

        raise SIGTERMException
