"""Training: Lightning modules, the ``fastvid-train`` command line, and the synthetic motion demo.

* :class:`VideoClassificationModule` - the LightningModule (SGD + warmup/cosine, top-1/top-5, clip- and
  video-level validation, optional MixUp/CutMix and GPU augmentation);
* :class:`KineticsDataModule` - the LightningDataModule over :mod:`fastvid.data` and :mod:`fastvid.transforms`;
* :func:`make_motion_dataset` - a small synthetic set where only motion tells the classes apart;
* ``fastvid-train`` (:mod:`fastvid.train.cli`) - the command line, ``fastvid-train --demo`` runs the demo.
"""

import importlib

# Names resolve lazily, so that `fastvid-prepare` and DataLoader workers that import a submodule of
# fastvid.train do not pay for importing Lightning.
_EXPORTS = {
    "CLASSES": "fastvid.train.synthetic",
    "ContiguousDistributedSampler": "fastvid.train.data",
    "KineticsDataModule": "fastvid.train.data",
    "SyntheticMotionConfig": "fastvid.train.synthetic",
    "SynchronizedSigterm": "fastvid.train.callbacks",
    "ThroughputMonitor": "fastvid.train.callbacks",
    "TrainingDiverged": "fastvid.train.module",
    "VideoClassificationModule": "fastvid.train.module",
    "make_motion_dataset": "fastvid.train.synthetic",
    "warmup_cosine": "fastvid.train.module",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fastvid.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
