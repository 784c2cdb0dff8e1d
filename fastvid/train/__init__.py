"""Training: Lightning modules, the ``fastvid-train`` command line, and the synthetic motion demo.

* :class:`VideoClassificationModule` - the LightningModule (SGD + warmup/cosine, top-1/top-5, clip- and
  video-level validation, optional MixUp/CutMix and GPU augmentation);
* :class:`KineticsDataModule` - the LightningDataModule over :mod:`fastvid.data` and :mod:`fastvid.transforms`;
* :func:`make_motion_dataset` - a small synthetic set where only motion tells the classes apart;
* ``fastvid-train`` (:mod:`fastvid.train.cli`) - the command line, ``fastvid-train --demo`` runs the demo.
"""

from fastvid.train.callbacks import ThroughputMonitor
from fastvid.train.data import ContiguousDistributedSampler, KineticsDataModule
from fastvid.train.module import VideoClassificationModule, warmup_cosine
from fastvid.train.synthetic import CLASSES, SyntheticMotionConfig, make_motion_dataset

__all__ = [
    "CLASSES",
    "ContiguousDistributedSampler",
    "KineticsDataModule",
    "SyntheticMotionConfig",
    "ThroughputMonitor",
    "VideoClassificationModule",
    "make_motion_dataset",
    "warmup_cosine",
]
