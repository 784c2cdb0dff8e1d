"""fastvid: fast video-classification training.

Fused C++/CUDA clip kernels (:mod:`fastvid.ops`) with pure-PyTorch oracles (:mod:`fastvid.reference`),
drop-in PyTorchVideo transforms (:mod:`fastvid.transforms`), a frame-index Kinetics loader
(:mod:`fastvid.data`), 3D ResNets (:mod:`fastvid.models`) and a Lightning trainer (:mod:`fastvid.train`).
"""

from fastvid._ext import assert_has_ops, build_info, has_ops
from fastvid import ops, reference

__version__ = "0.1.0"

__all__ = ["ops", "reference", "has_ops", "assert_has_ops", "build_info", "__version__"]
