"""The network container and ResNet-style weight initialization (as ``pytorchvideo.models.net``).

:class:`Net` holds its parts in ``self.blocks`` (an ``nn.ModuleList``) and runs them in order, so a
3D ResNet's state_dict keys read ``blocks.<i>....`` exactly as PyTorchVideo's do. ``MultiPathWayWithFuse`` and
``DetectionBBoxNetwork`` (defined in :mod:`fastvid.models.multipathway`) are importable from here too, as from
``pytorchvideo.models.net``.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from fastvid.models.multipathway import DetectionBBoxNetwork, MultiPathWayWithFuse

__all__ = ["DetectionBBoxNetwork", "MultiPathWayWithFuse", "Net", "init_net_weights", "c2_msra_fill"]


def c2_msra_fill(module: nn.Module) -> None:
    """Caffe2's MSRA fill: Kaiming normal (fan_out, ReLU gain) for the weight, zeros for the bias."""
    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


def init_net_weights(model: nn.Module, init_std: float = 0.01, style: str = "resnet") -> nn.Module:
    """PyTorchVideo's ``init_net_weights`` (``pytorchvideo.models.weight_init``), in ``model.modules()`` order.

    ``style="resnet"``: Conv2d/Conv3d: :func:`c2_msra_fill`. BatchNorm: weight 1 and bias 0, except the last norm
    of each bottleneck (flagged ``block_final_bn``) whose weight starts at 0, so that every residual block
    starts as the identity. Linear: normal(0, ``init_std``) weight, zero bias (a Linear flagged ``xavier_init``:
    Caffe2's Xavier fill, ``kaiming_uniform_(a=1)``, as PyTorchVideo).
    ``style="vit"``: the vision-transformer initialization of
    :func:`~fastvid.models.create_multiscale_vision_transformers` (truncated normal of std ``init_std``).
    Returns the model.
    """
    if style == "vit":
        from fastvid.models.vision_transformers import _init_vit_weights

        _init_vit_weights(model, init_std)
        return model
    if style != "resnet":
        raise ValueError(f'init_net_weights: style must be "resnet" or "vit", got {style!r}')
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            c2_msra_fill(m)
        elif isinstance(m, nn.modules.batchnorm._NormBase):
            if m.weight is not None:
                m.weight.data.fill_(0.0 if getattr(m, "block_final_bn", False) else 1.0)
            if m.bias is not None:
                m.bias.data.zero_()
        if isinstance(m, nn.Linear):
            if getattr(m, "xavier_init", False):
                nn.init.kaiming_uniform_(m.weight, a=1)
            else:
                m.weight.data.normal_(mean=0.0, std=init_std)
            if m.bias is not None:
                m.bias.data.zero_()
    return model


class Net(nn.Module):
    """A sequence of blocks (stem, stages, head) run one after the other; weights ResNet-initialized."""

    def __init__(self, *, blocks: nn.ModuleList) -> None:
        super().__init__()
        if not isinstance(blocks, nn.ModuleList):
            raise TypeError(f"Net: blocks must be an nn.ModuleList, got {type(blocks).__name__}")
        self.blocks = blocks
        init_net_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x
