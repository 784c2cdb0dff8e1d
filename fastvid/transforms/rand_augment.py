"""``pytorchvideo.transforms.rand_augment`` under its own module path: re-exports :class:`RandAugment` and
its default sampling settings from :mod:`fastvid.transforms.augment`."""

from fastvid.transforms.augment import SAMPLING_RANDAUG_DEFAULT_HPARAS, RandAugment

__all__ = ["RandAugment", "SAMPLING_RANDAUG_DEFAULT_HPARAS"]
