"""VideoClassificationModule: the tutorial's LightningModule with the tutorial's faults fixed.

What it does differently from the PyTorchVideo tutorial's ``VideoClassificationLightningModule``:

* SGD with momentum 0.9, weight decay 1e-4 (not on norms and biases), and a per-step learning-rate
  schedule: linear warmup, then cosine decay to ``final_lr_ratio * lr`` (the tutorial: Adam at lr 0.1);
* accuracy with torchmetrics, synchronized across ranks: top-1 for training, top-1 and top-5 for validation;
* validation at two levels: clip level (every view on its own) and video level, the standard
  multi-view protocol: softmax scores of all the views of a video (``constant_clips_per_video`` clips x
  3 ``UniformCropVideo`` crops) are averaged and the video counts as one prediction. Views of one video
  may land on different ranks: the per-video sums are all-reduced before the video accuracy is read;
* optional batch-level MixUp/CutMix (``fastvid.transforms.MixVideo``) and label smoothing;
* optional augmentation on the GPU: ``train_gpu_transform`` / ``val_gpu_transform`` run in
  ``on_after_batch_transfer``, on the batch as it arrives on the device (a transform with a ``prepare``
  method also gets the batch in ``on_before_batch_transfer``, to read host-side values such as
  ``aug_index`` before they are moved);
* no host-device synchronization of its own inside a step: the accuracy metrics skip torchmetrics' input
  checks (``torch.unique`` on the labels, a sync per step), the per-step loss is logged off the progress bar
  (whose values Lightning reads on the host after every step) and without a per-step ``sync_dist`` (a barrier),
  and the video-level scores come back to the host through pinned, non-blocking copies that are read once they
  have landed.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable

import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchmetrics

from fastvid.models import create_model

__all__ = ["TrainingDiverged", "VideoClassificationModule", "warmup_cosine"]


def warmup_cosine(step: int, *, total_steps: int, warmup_steps: int, final_ratio: float = 0.0) -> float:
    """Learning-rate multiplier at ``step``: linear from 1/warmup to 1 over ``warmup_steps``, then cosine
    from 1 down to ``final_ratio`` at ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class TrainingDiverged(RuntimeError):
    """The training or validation loss was not finite (nan or inf): the weights are most likely broken. Raised at
    the end of the epoch (training) or of the validation, before that epoch's checkpoints are written, on every
    rank."""


_NO_BAD_STEP = 2**62


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


class _HostCopy:
    """Tensors on their way to the host. From a CUDA device they are copied into pinned memory without
    blocking, and an event marks when the copies are done; CPU tensors are taken as they are."""

    __slots__ = ("tensors", "event")

    def __init__(self, *tensors: torch.Tensor) -> None:
        self.event = None
        if any(t.device.type == "cuda" for t in tensors):
            host = []
            for t in tensors:
                h = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
                h.copy_(t, non_blocking=True)
                host.append(h)
            self.event = torch.cuda.Event()
            self.event.record(torch.cuda.current_stream(next(t.device for t in tensors if t.device.type == "cuda")))
            tensors = tuple(host)
        else:
            tensors = tuple(t.cpu() for t in tensors)
        self.tensors = tensors

    def ready(self) -> bool:
        return self.event is None or self.event.query()

    def get(self) -> tuple[torch.Tensor, ...]:
        if not self.ready():
            self.event.synchronize()
        return self.tensors


class VideoClassificationModule(pl.LightningModule):
    """Trains a video classifier on batches of ``{"video": (B, C, T, H, W) float, "label": (B,) int, ...}``.

    Args:
        model: a name for :func:`fastvid.models.create_model` ("resnet50", "resnet_small", "r3d_18", ...)
            or an ``nn.Module`` mapping clips to logits.
        num_classes: number of classes (the model's output size when ``model`` is a name).
        num_frames, crop_size: the clip size the model sees (used to build a named model).
        lr: peak learning rate (after warmup). The usual recipe is 0.1 for a global batch of 64 clips,
            scaled linearly with the batch (the command line does that for you).
        optimizer: "sgd" (momentum, Nesterov) or "adamw".
        momentum, weight_decay: SGD momentum; weight decay of conv and linear weights (norms and biases
            get none).
        warmup_epochs: linear warmup length, in epochs (fractions allowed).
        final_lr_ratio: the cosine schedule ends at ``final_lr_ratio * lr``.
        label_smoothing: for the cross-entropy (ignored when ``mix`` makes soft labels itself).
        mix: optional batch transform ``(video, labels) -> (video, soft_labels)``, e.g.
            ``fastvid.transforms.MixVideo(num_classes=...)``; applied to training batches only.
        train_gpu_transform, val_gpu_transform: optional callables ``batch -> batch`` run on the device
            after the transfer (GPU augmentation: the loader then only decodes).
        dropout_rate: head dropout of a named model (None: the model's default).
        video_level_val: also compute video-level accuracy over all views of each video (needs
            ``video_index`` in the batch).
        stop_on_divergence: raise :class:`TrainingDiverged` when the training loss (checked at each epoch's end)
            or the validation loss is not finite, before that epoch's checkpoints are written.
    """

    #: Videos per block when the video-level scores are reduced at the end of validation (see
    #: ``_video_level_totals``): bounds that step's memory to this many rows of ``num_classes`` float64.
    video_reduce_chunk: int = 4096

    def __init__(
        self,
        model: str | nn.Module = "resnet50",
        *,
        num_classes: int = 400,
        num_frames: int = 8,
        crop_size: int = 224,
        lr: float = 0.1,
        optimizer: str = "sgd",
        momentum: float = 0.9,
        weight_decay: float = 1e-4,
        warmup_epochs: float = 1.0,
        final_lr_ratio: float = 0.0,
        label_smoothing: float = 0.0,
        mix: Callable | None = None,
        train_gpu_transform: Callable | None = None,
        val_gpu_transform: Callable | None = None,
        dropout_rate: float | None = None,
        video_level_val: bool = True,
        stop_on_divergence: bool = True,
    ) -> None:
        super().__init__()
        if optimizer not in ("sgd", "adamw"):
            raise ValueError(f'VideoClassificationModule: optimizer must be "sgd" or "adamw", got {optimizer!r}')
        if not lr > 0:
            raise ValueError(f"VideoClassificationModule: lr must be > 0, got {lr!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"VideoClassificationModule: num_classes must be a positive int, got {num_classes!r}")
        if warmup_epochs < 0:
            raise ValueError(f"VideoClassificationModule: warmup_epochs must be >= 0, got {warmup_epochs!r}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"VideoClassificationModule: label_smoothing must be in [0, 1), got {label_smoothing!r}")
        ignore = ["mix", "train_gpu_transform", "val_gpu_transform"]
        if isinstance(model, nn.Module):
            ignore.append("model")
        self.save_hyperparameters(ignore=ignore)
        if isinstance(model, str):
            model = create_model(
                model, num_classes=num_classes, num_frames=num_frames, crop_size=crop_size, dropout_rate=dropout_rate
            )
        elif not isinstance(model, nn.Module):
            raise TypeError(f"VideoClassificationModule: model must be a name or an nn.Module, got {type(model).__name__}")
        self.model = model
        self.num_classes = num_classes
        self.mix = mix
        self.train_gpu_transform = train_gpu_transform
        self.val_gpu_transform = val_gpu_transform
        top5 = min(5, num_classes)
        # validate_args=False: torchmetrics' checks count the distinct labels with torch.unique, which waits for
        # the device in every step; labels out of range fail in the cross-entropy instead.
        accuracy = torchmetrics.classification.MulticlassAccuracy
        self.train_acc = accuracy(num_classes, top_k=1, average="micro", validate_args=False)
        self.val_acc = accuracy(num_classes, top_k=1, average="micro", validate_args=False)
        self.val_acc5 = accuracy(num_classes, top_k=top5, average="micro", validate_args=False)
        self._pending_views: collections.deque[_HostCopy] = collections.deque()
        self._reset_video_sums()
        self._val_loss_sum = self._val_clips = None  # (set by on_validation_epoch_start)
        self._bad_step = None  # the first training step of the epoch whose loss was not finite, on the device
        self._schedule_plan = None  # (total, warmup, "step" | "epoch"): the learning-rate schedule's plan
        self._restored_plan = None  # the plan a resumed checkpoint recorded
        self.last_validated_epoch: int | None = None  # the epoch (0-based) of the last finished validation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    # -- device-side augmentation ------------------------------------------------------------------

    def _gpu_transform(self) -> Callable | None:
        trainer = self._trainer
        if trainer is None:
            return None
        if trainer.training:
            return self.train_gpu_transform
        if trainer.validating or trainer.sanity_checking or trainer.testing:
            return self.val_gpu_transform
        return None

    def on_before_batch_transfer(self, batch, dataloader_idx: int):
        prepare = getattr(self._gpu_transform(), "prepare", None)
        return prepare(batch) if prepare is not None and batch is not None else batch

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        transform = self._gpu_transform()
        if transform is None or batch is None:
            return batch
        batch = transform(batch)
        # Lightning casts a batch to a "-true" precision's dtype (bf16-true, 16-true, 64-true) before the transfer,
        # when it still held the uint8 clips: the clips the transform made are cast here (a no-op otherwise).
        trainer = self._trainer
        return trainer.precision_plugin.convert_input(batch) if trainer is not None else batch

    # -- training ---------------------------------------------------------------------------------

    def training_step(self, batch, batch_idx: int):
        video, label = batch["video"], batch["label"]
        if self.mix is not None:
            video, target = self.mix(video, label)
            logits = self(video)
            loss = torch.sum(-target * F.log_softmax(logits.float(), dim=-1), dim=-1).mean()
        else:
            logits = self(video)
            loss = F.cross_entropy(logits.float(), label, label_smoothing=self.hparams.label_smoothing)
        batch_size = video.shape[0]
        # The first step whose loss was not finite, kept on the device (read once, at the epoch's end; _NO_BAD_STEP:
        # none, a sentinel above any step so that ranks combine by MIN).
        step = torch.full((), self.global_step, dtype=torch.long, device=loss.device)
        if self._bad_step is None or self._bad_step.device != loss.device:
            self._bad_step = torch.full_like(step, _NO_BAD_STEP)
        self._bad_step = torch.where(torch.isfinite(loss.detach()), self._bad_step, torch.minimum(self._bad_step, step))
        self.train_acc(logits.detach(), label)
        # Two logs, not one with on_step=True and on_epoch=True: Lightning reads a progress-bar value on the host after
        # every step, and a per-step sync_dist is a barrier per step. The step value is this rank's and stays off the
        # bar (TimedProgressBar reads it when it redraws); the epoch mean is averaged over ranks.
        self.log("train_loss_step", loss.detach(), on_step=True, on_epoch=False, batch_size=batch_size)
        self.log("train_loss_epoch", loss.detach(), on_step=False, on_epoch=True, prog_bar=True, batch_size=batch_size,
                 sync_dist=True)
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=batch_size)
        return loss

    def on_train_start(self) -> None:
        message = self._schedule_change()
        if message:
            from pytorch_lightning.utilities import rank_zero_warn

            rank_zero_warn(message, category=UserWarning)

    def _schedule_change(self) -> str | None:
        """On a resumed run, says when the learning-rate schedule no longer continues the checkpoint's: this run
        plans it over its own steps (--epochs, batch size, devices, --warmup-epochs, --limit-train-batches,
        --max-steps), and a change of them since the checkpoint reshapes it from the resumed step on. Compared with
        the plan the checkpoint recorded, else (a checkpoint without one) with the learning rate it restored.
        None when they agree, or when nothing was restored."""
        trainer = self._trainer
        if trainer is None or trainer.global_step == 0 or not trainer.lr_scheduler_configs:
            return None
        schedule = trainer.lr_scheduler_configs[0].scheduler
        if not isinstance(schedule, torch.optim.lr_scheduler.LambdaLR) or self._schedule_plan is None:
            return None
        step = schedule.last_epoch
        total, warmup, unit = self._schedule_plan
        base = schedule.base_lrs[0]
        new = base * warmup_cosine(step, total_steps=total, warmup_steps=warmup, final_ratio=self.hparams.final_lr_ratio)
        stored = self._restored_plan
        if stored is not None:
            if (stored.get("total"), stored.get("warmup"), stored.get("unit")) == (total, warmup, unit):
                return None
            old = base * warmup_cosine(step, total_steps=stored["total"], warmup_steps=stored["warmup"],
                                       final_ratio=self.hparams.final_lr_ratio)
            was = f"planned over {stored['total']} {stored['unit']}s ({stored['warmup']} of warmup)"
        else:
            old = schedule.optimizer.param_groups[0]["lr"]
            if math.isclose(old, new, rel_tol=1e-6, abs_tol=1e-12):
                return None
            was = "whose plan the checkpoint does not record"
        return (f"fastvid: the resumed run's learning-rate schedule does not continue the checkpoint's: that run's was "
                f"{was}, this run's is planned over {total} {unit}s ({warmup} of warmup); at {unit} {step} the "
                f"learning rate is {new:.6g} where the checkpoint's schedule gives {old:.6g}, and the two part from "
                "there. A change of the epochs, batch size, devices, warmup, train batches per epoch or max steps since "
                "the checkpoint does this (resume with the run's own settings to continue its schedule).")

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self._schedule_plan is not None:
            total, warmup, unit = self._schedule_plan
            checkpoint["fastvid_lr_schedule"] = {"total": total, "warmup": warmup, "unit": unit}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        plan = checkpoint.get("fastvid_lr_schedule")
        self._restored_plan = plan if isinstance(plan, dict) else None

    def on_train_epoch_start(self) -> None:
        self._bad_step = None

    def on_train_epoch_end(self) -> None:
        # (before Lightning's checkpoint callbacks save this epoch: they run after the module's hook)
        trainer = self._trainer
        if not self.hparams.get("stop_on_divergence", True):
            return
        if trainer is not None and str(trainer.precision) == "16-mixed":
            return  # (the GradScaler skips the steps whose values overflowed; validation still checks)
        distributed = _distributed()
        if self._bad_step is None:  # (no training step this epoch; under DDP it still takes part in the reduction)
            if not distributed:
                return
            self._bad_step = torch.full((), _NO_BAD_STEP, dtype=torch.long, device=self.device)
        bad = self._bad_step
        if distributed:  # the same decision on every rank (a rank that raised alone would leave the others waiting),
            torch.distributed.all_reduce(bad, op=torch.distributed.ReduceOp.MIN)  # naming the first bad step of any
        step = int(bad)  # (one host read per epoch)
        if step != _NO_BAD_STEP:
            raise TrainingDiverged(
                f"VideoClassificationModule: the training loss was not finite (nan or inf) at step {step}, in epoch "
                f"{self.current_epoch}; the weights are most likely broken, so training stops before this epoch is "
                "saved. Lower the learning rate, or look for bad inputs."
            )

    # -- validation -------------------------------------------------------------------------------

    def on_validation_epoch_start(self) -> None:
        self._reset_video_sums()
        self._pending_views.clear()
        self._reset_val_sums()

    def _reset_val_sums(self) -> None:
        # Clip-level sums, logged at the epoch's end by every rank (a rank whose batches all failed to load still
        # takes part in the reductions: under DDP the others would wait for it).
        self._val_loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self._val_clips = torch.zeros((), dtype=torch.float64, device=self.device)
        self.val_acc.reset()
        self.val_acc5.reset()

    def validation_step(self, batch, batch_idx: int):
        if batch is None:  # every video of the batch failed to load (KineticsDataModule leaves them out)
            return None
        video, label = batch["video"], batch["label"]
        logits = self(video).float()
        loss = F.cross_entropy(logits, label)
        batch_size = video.shape[0]
        if self._val_loss_sum is None or self._val_loss_sum.device != loss.device:
            self._reset_val_sums()  # (called outside Lightning's loop, without on_validation_epoch_start)
        self.val_acc.update(logits, label)
        self.val_acc5.update(logits, label)
        self._val_loss_sum += loss.detach().double() * batch_size
        self._val_clips += batch_size
        if self.hparams.video_level_val and "video_index" in batch:
            # To the host without waiting: read once the copy has landed (a later step, or the epoch's end).
            self._pending_views.append(_HostCopy(logits.detach().softmax(dim=-1), batch["video_index"], label))
            self._add_views(wait=False)
        return loss

    def _reset_video_sums(self) -> None:
        # Host tables of the videos this rank saw, one row per video_index from _video_first on (grown by doubling):
        # one block, not a small tensor per video (20k videos x 400 classes: ~60 MiB, where per-video tensors between
        # each step's temporaries fragmented the heap to ~800 MiB). A rank's validation share is a contiguous range
        # of videos: the table covers that range, not every index below it.
        self._video_sums = torch.zeros(0, self.num_classes, dtype=torch.float64)
        self._video_counts = torch.zeros(0, dtype=torch.long)
        self._video_labels = torch.zeros(0, dtype=torch.long)
        self._video_first = 0  # the video_index of row 0
        self._video_end = 0  # 1 + the largest video_index seen (0: none)

    def _add_views(self, *, wait: bool) -> None:
        """Adds the views whose scores reached the host (all of them with ``wait``) to the per-video sums."""
        pending = self._pending_views
        while pending and (wait or pending[0].ready()):
            probs, video_index, labels = pending.popleft().get()
            if video_index.numel() == 0:
                continue
            video_index = video_index.long()
            low, high = int(video_index.min()), int(video_index.max())
            if low < 0:
                raise ValueError(f"VideoClassificationModule: a batch's video_index holds {low}; video indices "
                                 "must be >= 0 (the dataset's index of the video)")
            size, first = len(self._video_counts), self._video_first
            if size == 0 or low < first or high >= first + size:
                new_first = low if size == 0 else min(first, low)
                new_size = max(max(high + 1, first + size) - new_first, 2 * size)
                at = first - new_first  # (where the old rows go)

                def grown(t):
                    out = t.new_zeros((new_size, *t.shape[1:]))
                    out[at:at + size] = t
                    return out

                self._video_sums, self._video_counts, self._video_labels = (
                    grown(t) for t in (self._video_sums, self._video_counts, self._video_labels))
                self._video_first = new_first
            rows = video_index - self._video_first
            self._video_end = max(self._video_end, high + 1)
            self._video_sums.index_add_(0, rows, probs.double())
            self._video_counts.index_add_(0, rows, torch.ones_like(rows))
            self._video_labels[rows] = labels.long()

    def video_level_scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mean softmax per video (N, classes), label per video (N,), views per video (N,)) over every
        video any rank saw this validation epoch, identical on all ranks. Videos are indexed by the
        dataset's ``video_index``; rows of videos nobody saw are dropped."""
        self._add_views(wait=True)
        device = self.device
        k = max(self._video_end - self._video_first, 0)  # (the table rows in use)
        if not _distributed():
            sums, counts = self._video_sums[:k].to(device), self._video_counts[:k].to(device)
            labels = self._video_labels[:k].to(device)
        else:  # every rank's rows, summed into one table of all videos, identical on all ranks
            n = torch.tensor([self._video_end], device=device, dtype=torch.long)
            torch.distributed.all_reduce(n, op=torch.distributed.ReduceOp.MAX)
            n = int(n.item())
            sums = torch.zeros(n, self.num_classes, dtype=torch.float64, device=device)
            counts = torch.zeros(n, dtype=torch.long, device=device)
            labels = torch.full((n,), -1, dtype=torch.long, device=device)
            mine = slice(self._video_first, self._video_first + k)
            sums[mine] = self._video_sums[:k].to(device)
            counts[mine] = self._video_counts[:k].to(device)
            labels[mine] = torch.where(counts[mine] > 0, self._video_labels[:k].to(device), labels[mine])
            torch.distributed.all_reduce(sums)
            torch.distributed.all_reduce(counts)
            torch.distributed.all_reduce(labels, op=torch.distributed.ReduceOp.MAX)
        seen = counts > 0
        return (sums[seen] / counts[seen].unsqueeze(1)).float(), labels[seen], counts[seen]

    def on_validation_epoch_end(self) -> None:
        if self._val_loss_sum is None:
            self._reset_val_sums()
        totals = torch.stack([self._val_loss_sum, self._val_clips])
        if _distributed():
            torch.distributed.all_reduce(totals)
        if float(totals[1]) == 0:  # (one host read per validation)
            trainer = self._trainer
            if trainer is not None and trainer.sanity_checking:
                return  # (the sanity check's few batches were all failed videos: its values are dropped anyway)
            raise RuntimeError(
                "VideoClassificationModule: this validation scored no clip: every validation video it read failed to "
                "load (the data module's val_dataset.failures lists them), or a batch limit kept only failed ones"
            )
        fitting = self._trainer is not None and self._trainer.state.fn == "fit"  # (an evaluation reports what it saw)
        fitting = fitting and self.hparams.get("stop_on_divergence", True)
        if fitting and not math.isfinite(float(totals[0])):  # (the same on every rank: reduced above)
            raise TrainingDiverged(
                f"VideoClassificationModule: the validation loss is not finite ({float(totals[0]) / float(totals[1])}) "
                f"after epoch {self.current_epoch}; the weights are most likely broken, so training stops before this "
                "epoch is saved. Lower the learning rate, or look for bad inputs."
            )
        self.last_validated_epoch = self.current_epoch
        # The same values on every rank (reduced above; torchmetrics reduces its states in compute()).
        self.log("val_loss", (totals[0] / totals[1]).float(), prog_bar=True, sync_dist=True)
        self.log("val_acc", self.val_acc.compute(), prog_bar=True, sync_dist=True)
        self.log("val_acc5", self.val_acc5.compute(), sync_dist=True)
        if not self.hparams.video_level_val:
            return
        n, top1, top5, views = self._video_level_totals().tolist()  # (one host read)
        if n == 0:
            return
        # Already identical on every rank (all-reduced block by block); sync_dist averages equal values.
        self.log("val_video_acc", top1 / n, prog_bar=True, sync_dist=True)
        self.log("val_video_acc5", top5 / n, sync_dist=True)
        self.log("val_videos", float(n), sync_dist=True)
        self.log("val_views_per_video", views / n, sync_dist=True)

    def _video_level_totals(self) -> torch.Tensor:
        """(videos seen, top-1 correct, top-5 correct, views) over every video any rank saw, float64, the same
        on all ranks. The scores are those of :meth:`video_level_scores`, taken ``video_reduce_chunk`` videos at
        a time: under DDP each block of the video range is all-reduced in turn, so no rank ever holds a table of
        all N videos (Kinetics-700's 34k validation videos x 700 classes: 190 MiB of float64 on the device)."""
        self._add_views(wait=True)
        k = max(self._video_end - self._video_first, 0)  # (the table rows in use)
        distributed = _distributed()
        device = self.device if distributed else torch.device("cpu")
        if distributed:  # the range of video indices any rank saw: [first, end)
            span = torch.tensor([-(self._video_first if k else 2**62), self._video_end], dtype=torch.long, device=device)
            torch.distributed.all_reduce(span, op=torch.distributed.ReduceOp.MAX)
            first, end = -int(span[0]), int(span[1])
        else:
            first, end = self._video_first, self._video_first + k
        chunk = int(self.video_reduce_chunk)
        c = self.num_classes
        top = min(5, c)
        totals = torch.zeros(4, dtype=torch.float64, device=device)
        for start in range(first, end, chunk):
            stop = min(start + chunk, end)
            # This rank's rows of the block [start, stop): sums and counts side by side, labels apart (MAX).
            lo, hi = max(start, self._video_first), min(stop, self._video_first + k)
            if distributed:
                block = torch.zeros(stop - start, c + 1, dtype=torch.float64, device=device)
                labels = torch.full((stop - start,), -1, dtype=torch.long, device=device)
                if lo < hi:
                    mine = slice(lo - self._video_first, hi - self._video_first)
                    block[lo - start:hi - start, :c] = self._video_sums[mine].to(device)
                    block[lo - start:hi - start, c] = self._video_counts[mine].to(device, torch.float64)
                    own = self._video_counts[mine].to(device)
                    labels[lo - start:hi - start] = torch.where(own > 0, self._video_labels[mine].to(device), -1)
                torch.distributed.all_reduce(block)
                torch.distributed.all_reduce(labels, op=torch.distributed.ReduceOp.MAX)
                sums, counts = block[:, :c], block[:, c]
            else:
                rows = slice(start - self._video_first, stop - self._video_first)
                sums, counts, labels = self._video_sums[rows], self._video_counts[rows], self._video_labels[rows]
            seen = counts > 0
            scores = (sums[seen] / counts[seen].unsqueeze(1)).float()  # (as video_level_scores computes them)
            target = labels[seen]
            totals += torch.stack([
                seen.sum().double(),
                (scores.argmax(dim=1) == target).sum().double(),
                (scores.topk(top, dim=1).indices == target.unsqueeze(1)).any(dim=1).sum().double(),
                counts[seen].sum().double(),
            ])
        return totals

    # -- optimization -------------------------------------------------------------------------------

    def configure_optimizers(self):
        hp = self.hparams
        decay, no_decay = [], []
        for p in self.parameters():
            if p.requires_grad:
                (decay if p.ndim > 1 else no_decay).append(p)
        groups = [{"params": decay, "weight_decay": hp.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if hp.optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=hp.lr, momentum=hp.momentum, nesterov=hp.momentum > 0)
        else:
            opt = torch.optim.AdamW(groups, lr=hp.lr)
        max_epochs = self.trainer.max_epochs if self.trainer.max_epochs and self.trainer.max_epochs > 0 else None
        total = self.trainer.estimated_stepping_batches
        if math.isfinite(total) and total > 0:
            total = int(total)
            steps_per_epoch = total / max_epochs if max_epochs else total
            warmup = int(round(hp.warmup_epochs * steps_per_epoch))
            interval = "step"
        else:  # an iterable dataset without a length: schedule per epoch
            total = max_epochs or 1
            warmup = int(round(hp.warmup_epochs))
            interval = "epoch"
        warmup = min(warmup, max(total - 1, 0))
        self._schedule_plan = (total, warmup, interval)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: warmup_cosine(step, total_steps=total, warmup_steps=warmup, final_ratio=hp.final_lr_ratio)
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": interval, "name": "lr"}}
