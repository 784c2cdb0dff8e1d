"""``pytorchvideo.transforms.augmix`` under its own module path: re-exports :class:`AugMix` and its default
sampling settings from :mod:`fastvid.transforms.augment`."""

from fastvid.transforms.augment import SAMPLING_AUGMIX_DEFAULT_HPARAS, AugMix

__all__ = ["AugMix", "SAMPLING_AUGMIX_DEFAULT_HPARAS"]
