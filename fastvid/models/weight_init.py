"""``pytorchvideo.models.weight_init`` under its own module path: re-exports
:func:`fastvid.models.net.init_net_weights` (styles "resnet" and "vit", PyTorchVideo's semantics)."""

from fastvid.models.net import init_net_weights

__all__ = ["init_net_weights"]
