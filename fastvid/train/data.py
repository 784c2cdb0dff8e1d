"""KineticsDataModule: the tutorial's LightningDataModule on fastvid.data, with its faults fixed.

What it does differently from the PyTorchVideo tutorial's ``KineticsDataModule``:

* map-style datasets with a length (``LabeledVideoMapDataset``): full batches, the right epoch size under
  any number of workers, and sharding over DDP ranks by a DistributedSampler (``set_epoch`` each epoch);
* no audio decoding; only the kept frames are decoded (the transform's temporal plan);
* the train transform divides by 255 before normalizing and crops 224 (not 244), all in one fused
  kernel call: UniformTemporalSubsample -> Div255 -> Normalize -> RandomShortSideScale(256, 320) ->
  RandomCropVideo(224) -> RandomHorizontalFlipVideo;
* validation with the multi-view protocol: ``constant_clips_per_video`` clips x 3 UniformCropVideo
  crops per video (ShortSideScale(256) first), each view an item carrying ``video_index`` and
  ``aug_index``; the views are split over ranks without padding (no view is counted twice); a video that
  cannot be read is left out of the evaluation (listed in the dataset's ``failures``);
* ``gpu_augment=True``: the workers only decode (uint8 clips of the kept frames, packed by
  :func:`fastvid.gpu.collate_clips`); :attr:`train_gpu_transform` (a :class:`fastvid.gpu.BatchClipTransform`)
  does scale/crop/flip/normalize on the device in one launch, and :attr:`val_gpu_transform` the validation
  views (short side, uniform crop by ``aug_index``).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from fastvid.data import LabeledVideoMapDataset, LabeledVideoPaths, make_clip_sampler, skip_none
from fastvid.transforms import (
    ApplyTransformToKey,
    CenterCropVideo,
    Compose,
    Div255,
    Normalize,
    RandomCropVideo,
    RandomHorizontalFlipVideo,
    RandomShortSideScale,
    ShortSideScale,
    UniformCropVideo,
    UniformTemporalSubsample,
)

__all__ = ["KineticsDataModule", "ContiguousDistributedSampler", "train_transform", "val_transform"]


class ContiguousDistributedSampler(DistributedSampler):
    """Splits ``range(len(dataset))`` over ranks in contiguous, unpadded parts (rank r gets
    ``[r * n // W, (r + 1) * n // W)``), in order: every item is seen exactly once over all ranks, and
    the views of one video stay together (the dataset reuses a decoded window for its crops).
    Ranks may get one item more or less; evaluation needs no equal lengths.

    With ``block`` (e.g. the views per video), the parts are split at multiples of it instead (rank r gets blocks
    ``[r * B // W, (r + 1) * B // W)`` of the ``B = ceil(n / block)``), so that no video's views are split between
    two ranks and a batch of ``block`` items holds one video's on every rank; unless there are fewer blocks than
    ranks, when the items are split as without it."""

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, *, block: int = 1) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        if isinstance(block, bool) or not isinstance(block, int) or block < 1:
            raise ValueError(f"ContiguousDistributedSampler: block must be a positive int, got {block!r}")
        n = len(self.dataset)
        blocks = -(-n // block)
        if blocks < self.num_replicas:
            block, blocks = 1, n
        self._begin = min(self.rank * blocks // self.num_replicas * block, n)
        self._end = min((self.rank + 1) * blocks // self.num_replicas * block, n)
        self.num_samples = self._end - self._begin
        self.total_size = n

    def __iter__(self):
        return iter(range(self._begin, self._end))

    def __len__(self) -> int:
        return self.num_samples


def train_transform(
    *, num_frames: int, crop_size: int, min_short_side: int, max_short_side: int, hflip_p: float,
    mean: Sequence[float], std: Sequence[float],
):
    """The training clip transform (one fused kernel call on the uint8 frames the decoder keeps)."""
    steps = [
        UniformTemporalSubsample(num_frames),
        Div255(),
        Normalize(tuple(mean), tuple(std)),
        RandomShortSideScale(min_size=min_short_side, max_size=max_short_side),
        RandomCropVideo(crop_size),
    ]
    if hflip_p > 0:
        steps.append(RandomHorizontalFlipVideo(p=hflip_p))
    return ApplyTransformToKey("video", Compose(steps))


def val_transform(*, num_frames: int, crop_size: int, short_side: int, crops: int, mean, std):
    """The validation transform: short side to ``short_side``, then UniformCropVideo (3 crops, by
    ``aug_index``) or CenterCropVideo (1 crop)."""
    steps = [UniformTemporalSubsample(num_frames), Div255(), Normalize(tuple(mean), tuple(std)), ShortSideScale(short_side)]
    if crops == 1:
        return ApplyTransformToKey("video", Compose([*steps, CenterCropVideo(crop_size)]))
    return Compose([ApplyTransformToKey("video", Compose(steps)), UniformCropVideo(crop_size)])


def _resolve_split(data_path: str | os.PathLike, split: str) -> str:
    """``data_path`` itself when it is a CSV or a class-folder tree; ``data_path/<split>.csv`` or
    ``data_path/<split>/`` when it is a dataset root holding splits."""
    path = os.fspath(data_path)
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise FileNotFoundError(f"KineticsDataModule: {split} data {path} not found")
    for candidate in (os.path.join(path, f"{split}.csv"), os.path.join(path, split)):
        if os.path.exists(candidate):
            return candidate
    return path


def max_label(split: str | os.PathLike, paths: LabeledVideoPaths | None = None) -> int:
    """The largest label of a split: :func:`label_range`'s high end."""
    return label_range(split, paths)[1]


def label_range(split: str | os.PathLike, paths: LabeledVideoPaths | None = None) -> tuple[int, int]:
    """The smallest and largest labels of a split (a CSV of ``<path> <label>`` lines or a class-folder tree;
    ``paths``: the tree's listing when it is already made, so that it is not walked again).

    Raises:
        ValueError: the split holds no videos, a video without a label or one with a negative label.
    """
    split = os.fspath(split)
    if os.path.isfile(split):
        from fastvid.data.labeled_video_paths import read_path_label_lines

        lines = read_path_label_lines(split)
        for lineno, video, label in lines:
            if label is None or label < 0:
                what = "has no label" if label is None else f"has the negative label {label}"
                raise ValueError(f"KineticsDataModule: {split}, line {lineno}: {video} {what} (training and "
                                 "validation need a label from 0 up on every line)")
        labels = [label for _, _, label in lines]
    else:
        paths = LabeledVideoPaths.from_path(split) if paths is None else paths
        labels = [paths[i][1]["label"] for i in range(len(paths))]
    if not labels:
        raise ValueError(f"KineticsDataModule: {split} has no videos")
    return min(labels), max(labels)


def num_classes_of(split: str | os.PathLike, paths: LabeledVideoPaths | None = None, *,
                   label_max: int | None = None) -> int:
    """The class count a split asks for: its number of class folders (empty ones too: they are classes
    the data has no video of yet) for a class-folder tree, 1 + its largest label for a CSV (``paths``: as for
    :func:`max_label`; ``label_max``: its largest label when already read)."""
    split = os.fspath(split)
    if label_max is None:
        label_max = max_label(split, paths)  # (no videos at all: the same error for a tree as for a CSV)
    if os.path.isdir(split):
        from fastvid.data.labeled_video_paths import class_folder_names

        return len(class_folder_names(split))
    return label_max + 1


def _check_same_class_folders(train_path: str | None, val_path: str | None) -> None:
    """Class-folder splits are labelled by their sorted folder names, each on its own: a class folder that only
    one split has would shift the other's labels. Raises ValueError naming the folders that differ."""
    if train_path is None or val_path is None or not (os.path.isdir(train_path) and os.path.isdir(val_path)):
        return
    from fastvid.data.labeled_video_paths import class_folder_names

    train_classes, val_classes = (set(class_folder_names(p)) for p in (train_path, val_path))
    if train_classes != val_classes:
        parts = [f"{name} only in {path}: {', '.join(sorted(extra)[:8])}" + (" ..." if len(extra) > 8 else "")
                 for name, path, extra in (("classes", train_path, train_classes - val_classes),
                                           ("classes", val_path, val_classes - train_classes)) if extra]
        raise ValueError(
            "KineticsDataModule: the training and validation class folders differ, and each split is labelled by "
            "its own sorted folder names, so the labels would not agree (" + "; ".join(parts) + "); give both "
            "splits the same class folders (an empty folder will do) or use CSVs"
        )


def _ddp_worker_init(worker_id: int, *, rank: int, seed_workers: bool) -> None:
    """The ``worker_init_fn`` of a DDP run's DataLoader workers: the first SIGTERM is ignored (the one sent to every
    process of the job: the main process ends its workers), a second one ends the worker (the main process's
    ``terminate()`` of a worker that did not stop when told, also at the interpreter's exit, which then waits for
    it). ``seed_workers``: then Lightning's per-rank worker seeding (``pl_worker_init_function``), which Lightning
    adds only to a DataLoader without a ``worker_init_fn`` (after ``seed_everything(workers=True)``: without it,
    every rank's workers drew the same clips, crops and flips)."""
    import signal

    def first(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, first)
    if seed_workers:
        from lightning_fabric.utilities.seed import pl_worker_init_function

        pl_worker_init_function(worker_id, rank=rank)


class KineticsDataModule(pl.LightningDataModule):
    """Train / validation loaders over Kinetics-style data (CSV of ``<path> <label>`` or class folders).

    Args:
        train_path: the training CSV or class-folder tree, or a root holding ``train.csv`` / ``train/``;
            None for validation only (``val_path`` then names the data; the class count is not read from it).
        val_path: the same for validation; None: ``val.csv`` / ``val/`` beside the training data when
            ``train_path`` is a root, else no validation.
        video_path_prefix: prepended to the CSV paths (not to the videos found in class folders, which are
            where the folder walk found them).
        clip_duration: seconds per clip; num_frames: frames kept per clip (uniformly).
        batch_size: clips per batch and per device; num_workers: DataLoader workers per device.
        val_batch_size: validation clips per batch and per device (None: ``batch_size``). A multiple of the
            views per video (``val_clips_per_video * val_crops``) has each worker decode a whole video's windows in
            shared passes (a frame that overlapping windows share is decoded once).
        crop_size, min_short_side, max_short_side: training random short-side scale and crop.
        val_short_side: validation short side (default ``min_short_side``).
        hflip_p: horizontal flip probability (training).
        mean, std: per-channel normalization after dividing by 255.
        val_clips_per_video, val_crops: the validation views: clips spread evenly over each video
            (``constant_clips_per_video``) times spatial crops (3: UniformCropVideo, 1: center crop).
        gpu_augment: decode only in the workers and augment on the device (see module doc).
        decoder_threads: FFmpeg threads per decoder (None: 1 in workers).
        pin_memory: None: when CUDA is available.
        drop_last: drop the last partial training batch.
        loader_timeout: seconds a DataLoader waits for a worker's batch before it raises (0: forever, PyTorch's
            default): a worker stalled on a read (a hung network file system) then stops the run instead of hanging it.
    """

    def __init__(
        self,
        train_path: str | os.PathLike | None,
        val_path: str | os.PathLike | None = None,
        *,
        video_path_prefix: str = "",
        clip_duration: float = 2.0,
        num_frames: int = 8,
        batch_size: int = 8,
        val_batch_size: int | None = None,
        num_workers: int = 4,
        crop_size: int = 224,
        min_short_side: int = 256,
        max_short_side: int = 320,
        val_short_side: int | None = None,
        hflip_p: float = 0.5,
        mean: Sequence[float] = (0.45, 0.45, 0.45),
        std: Sequence[float] = (0.225, 0.225, 0.225),
        val_clips_per_video: int = 10,
        val_crops: int = 3,
        gpu_augment: bool = False,
        decoder_threads: int | None = None,
        pin_memory: bool | None = None,
        drop_last: bool = True,
        loader_timeout: float = 0,
    ) -> None:
        super().__init__()
        if val_batch_size is None:
            val_batch_size = batch_size
        for name, value in (("batch_size", batch_size), ("val_batch_size", val_batch_size), ("num_frames", num_frames),
                            ("crop_size", crop_size), ("val_clips_per_video", val_clips_per_video)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"KineticsDataModule: {name} must be a positive int, got {value!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"KineticsDataModule: num_workers must be an int >= 0, got {num_workers!r}")
        if val_crops not in (1, 3):
            raise ValueError(f"KineticsDataModule: val_crops must be 1 (center) or 3 (UniformCropVideo), got {val_crops!r}")
        if not clip_duration > 0:
            raise ValueError(f"KineticsDataModule: clip_duration must be > 0 seconds, got {clip_duration!r}")
        if min_short_side > max_short_side:
            raise ValueError(
                f"KineticsDataModule: min_short_side must be <= max_short_side, got {min_short_side} > {max_short_side}"
            )
        if crop_size > min_short_side:
            raise ValueError(
                f"KineticsDataModule: crop_size ({crop_size}) must not exceed min_short_side ({min_short_side})"
            )
        if train_path is None and val_path is None:
            raise ValueError("KineticsDataModule: give a training split (train_path), a validation split (val_path), "
                             "or both")
        self.train_path = None if train_path is None else _resolve_split(train_path, "train")
        if train_path is None:
            self.val_path = _resolve_split(val_path, "val")
        elif val_path is None and os.path.isdir(os.fspath(train_path)) and self.train_path != os.fspath(train_path):
            candidate = _resolve_split(train_path, "val")
            self.val_path = candidate if candidate != os.fspath(train_path) else None
        else:
            self.val_path = None if val_path is None else _resolve_split(val_path, "val")
        _check_same_class_folders(self.train_path, self.val_path)
        self.video_path_prefix = video_path_prefix
        self.clip_duration = float(clip_duration)
        self.num_frames = num_frames
        self.batch_size = batch_size
        self.val_batch_size = val_batch_size
        self.num_workers = num_workers
        self.crop_size = crop_size
        self.min_short_side = min_short_side
        self.max_short_side = max_short_side
        self.val_short_side = min_short_side if val_short_side is None else val_short_side
        self.hflip_p = hflip_p
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.val_clips_per_video = val_clips_per_video
        self.val_crops = val_crops
        self.gpu_augment = bool(gpu_augment)
        self.decoder_threads = decoder_threads
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else bool(pin_memory)
        self.drop_last = drop_last
        if isinstance(loader_timeout, bool) or not isinstance(loader_timeout, (int, float)) or not loader_timeout >= 0:
            raise ValueError(f"KineticsDataModule: loader_timeout must be a number of seconds >= 0, got {loader_timeout!r}")
        self.loader_timeout = float(loader_timeout)
        self.train_dataset = None
        self.val_dataset = None
        self._num_classes = None
        self._folder_listings: dict[str, LabeledVideoPaths] = {}  # (a class-folder tree is walked once)
        self._label_ranges: dict[str, tuple[int, int]] = {}  # (a split's labels are read once)

    # -- what the data holds ---------------------------------------------------------------------

    @property
    def num_classes(self) -> int:
        """The training data's class count: its number of class folders, or 1 + its largest CSV label."""
        if self.train_path is None:
            raise ValueError("KineticsDataModule: no training split, so no class count to read from it (validation "
                             "only: take the class count from the model)")
        if self._num_classes is None:
            self._num_classes = num_classes_of(self.train_path, self._folder_listing(self.train_path),
                                               label_max=self.max_label(self.train_path))
        return self._num_classes

    @property
    def train_gpu_transform(self):
        """The device-side training augmentation when ``gpu_augment`` (else None): give it to
        :class:`VideoClassificationModule` as ``train_gpu_transform``."""
        if not self.gpu_augment:
            return None
        from fastvid.gpu import BatchClipTransform

        return BatchClipTransform(
            crop_size=self.crop_size, min_size=self.min_short_side, max_size=self.max_short_side,
            eval_size=self.val_short_side, flip_p=self.hflip_p, flip_draw="python",
            mean=self.mean, std=self.std,
        )

    # -- datasets and loaders --------------------------------------------------------------------

    @property
    def val_gpu_transform(self):
        """The device-side validation transform when ``gpu_augment`` (else None): short side to
        ``val_short_side``, then the ``aug_index`` uniform crop (3 crops) or the centre crop (1 crop);
        give it to :class:`VideoClassificationModule` as ``val_gpu_transform``."""
        if not self.gpu_augment:
            return None
        if self.val_crops == 1:
            from fastvid.gpu import BatchClipTransform

            # In eval mode (the module is, during validation): ShortSideScale + CenterCrop, no draws.
            return BatchClipTransform(crop_size=self.crop_size, min_size=self.val_short_side,
                                      max_size=max(self.val_short_side, self.max_short_side),
                                      eval_size=self.val_short_side, mean=self.mean, std=self.std).eval()
        from fastvid.train.gpu_val import UniformCropBatchTransform

        return UniformCropBatchTransform(crop_size=self.crop_size, short_side=self.val_short_side,
                                         mean=self.mean, std=self.std)

    def _train_transform(self):
        if self.gpu_augment:
            # The workers stop after decoding: the transform only says which frames to keep.
            return ApplyTransformToKey("video", UniformTemporalSubsample(self.num_frames))
        return train_transform(
            num_frames=self.num_frames, crop_size=self.crop_size, min_short_side=self.min_short_side,
            max_short_side=self.max_short_side, hflip_p=self.hflip_p, mean=self.mean, std=self.std,
        )

    def _val_transform(self):
        if self.gpu_augment:
            return ApplyTransformToKey("video", UniformTemporalSubsample(self.num_frames))
        return val_transform(
            num_frames=self.num_frames, crop_size=self.crop_size, short_side=self.val_short_side,
            crops=self.val_crops, mean=self.mean, std=self.std,
        )

    def _folder_listing(self, split: str) -> LabeledVideoPaths | None:
        """The videos of a class-folder split (walked once, kept), None for a CSV split."""
        if not os.path.isdir(split):
            return None
        if split not in self._folder_listings:
            self._folder_listings[split] = LabeledVideoPaths.from_directory(split)
        return self._folder_listings[split]

    def label_range(self, split: str) -> tuple[int, int]:
        """:func:`label_range` of one of this module's splits (read once for all uses)."""
        if split not in self._label_ranges:
            self._label_ranges[split] = label_range(split, self._folder_listing(split))
        return self._label_ranges[split]

    def max_label(self, split: str) -> int:
        """:func:`max_label` of one of this module's splits (read once for all uses)."""
        return self.label_range(split)[1]

    def _split_paths(self, split: str) -> LabeledVideoPaths:
        listing = self._folder_listing(split)
        if listing is not None:
            return listing
        from fastvid.data.labeled_video_paths import check_csv_prefix

        paths = LabeledVideoPaths.from_csv(split)
        check_csv_prefix(split, (path for path, _ in paths), self.video_path_prefix)  # (before the prefix is set)
        paths.path_prefix = self.video_path_prefix
        return paths

    def setup(self, stage: str | None = None) -> None:
        kwargs = {"decode_audio": False, "decoder_threads": self.decoder_threads}
        if stage in (None, "fit") and self.train_dataset is None and self.train_path is not None:
            self.train_dataset = LabeledVideoMapDataset(
                self._split_paths(self.train_path),
                make_clip_sampler("random", self.clip_duration),
                transform=self._train_transform(),
                **kwargs,
            )
        if stage in (None, "fit", "validate") and self.val_dataset is None and self.val_path is not None:
            # A video that fails is left out of the evaluation (its views are None, dropped by the collate
            # function), not replaced by another video's views, which would count that one twice.
            self.val_dataset = LabeledVideoMapDataset(
                self._split_paths(self.val_path),
                make_clip_sampler("constant_clips_per_video", self.clip_duration, self.val_clips_per_video, self.val_crops),
                transform=self._val_transform(),
                on_failure="skip",
                **kwargs,
            )

    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is not None and trainer.world_size > 1:
            return trainer.world_size, trainer.global_rank
        return 1, 0

    def _loader(self, dataset, *, sampler, batch_size, drop_last, collate_fn=None) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            drop_last=drop_last,
            collate_fn=collate_fn,
            persistent_workers=self.num_workers > 0,
            timeout=self.loader_timeout if self.num_workers > 0 else 0,
            # Under DDP a SIGTERM sent to every process (SLURM, timeout) must not kill the workers: a rank whose
            # worker died raised at once, mid-step, while the others went on to the next collective. The ranks
            # stop together after a step (fastvid.train.SynchronizedSigterm) and then shut their workers down.
            worker_init_fn=self._worker_init(),
        )

    def _worker_init(self):
        world, rank = self._world()
        if self.num_workers == 0 or world == 1:
            return None  # (Lightning adds its own seeding, when asked for)
        return functools.partial(_ddp_worker_init, rank=rank,
                                 seed_workers=bool(int(os.environ.get("PL_SEED_WORKERS", "0") or 0)))

    def train_dataloader(self) -> DataLoader:
        if self.train_path is None:
            raise ValueError("KineticsDataModule: no training split (train_path=None): validation only")
        if self.train_dataset is None:
            self.setup("fit")
        world, rank = self._world()
        if world > 1:
            sampler = DistributedSampler(self.train_dataset, num_replicas=world, rank=rank, shuffle=True,
                                         seed=torch.initial_seed() % 2**31, drop_last=True)
        else:
            sampler = RandomSampler(self.train_dataset)
        per_rank = len(sampler)
        drop_last = self.drop_last and per_rank >= self.batch_size
        collate_fn = None
        if self.gpu_augment:
            from fastvid.gpu import collate_clips

            collate_fn = collate_clips
        return self._loader(self.train_dataset, sampler=sampler, batch_size=self.batch_size, drop_last=drop_last,
                            collate_fn=collate_fn)

    def val_dataloader(self):
        if self.val_path is None:
            return []
        if self.val_dataset is None:
            self.setup("validate")
        world, rank = self._world()
        sampler = (ContiguousDistributedSampler(self.val_dataset, num_replicas=world, rank=rank, block=self.views_per_video())
                   if world > 1 else SequentialSampler(self.val_dataset))
        collate_fn = None
        if self.gpu_augment:
            from fastvid.gpu import collate_clips

            collate_fn = collate_clips
        # (a batch whose videos all failed is None: VideoClassificationModule skips it)
        return self._loader(self.val_dataset, sampler=sampler, batch_size=self.val_batch_size, drop_last=False,
                            collate_fn=skip_none(collate_fn))

    def views_per_video(self) -> int:
        return self.val_clips_per_video * self.val_crops

    def steps_per_epoch(self, world_size: int = 1) -> int:
        """Training batches per epoch on each rank."""
        n = len(self.train_dataset) if self.train_dataset is not None else len(self._split_paths(self.train_path))
        per_rank = n // world_size if world_size > 1 else n
        return per_rank // self.batch_size if self.drop_last and per_rank >= self.batch_size else math.ceil(per_rank / self.batch_size)
