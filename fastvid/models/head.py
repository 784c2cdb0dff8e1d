"""The ResNet head: pool -> dropout -> linear projection -> activation -> global average, and the vision
transformer head: sequence pool -> dropout -> linear projection -> activation (as ``pytorchvideo.models.head``).

``ResNetRoIHead`` and ``create_res_roi_pooling_head`` (detection) are importable from here too, as from
``pytorchvideo.models.head``; they live in :mod:`fastvid.models.roi_head`, loaded on first use (it imports
``torchvision.ops``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

__all__ = [
    "ResNetBasicHead",
    "ResNetRoIHead",  # noqa: F822 - served lazily by __getattr__ below
    "SequencePool",
    "VisionTransformerBasicHead",
    "create_res_basic_head",
    "create_res_roi_pooling_head",  # noqa: F822 - served lazily by __getattr__ below
    "create_vit_basic_head",
]

_ROI_HEAD_NAMES = ("ResNetRoIHead", "create_res_roi_pooling_head")


def __getattr__(name: str):
    if name in _ROI_HEAD_NAMES:
        from fastvid.models import roi_head

        return getattr(roi_head, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ResNetBasicHead(nn.Module):
    """Optional pooling and dropout, a Linear over channels at every position, optional activation,
    then (``output_pool``) a global spatiotemporal average to (B, classes).

    Submodules are registered in PyTorchVideo's order: pool, dropout, proj, activation, output_pool.
    """

    def __init__(
        self,
        pool: nn.Module | None = None,
        dropout: nn.Module | None = None,
        proj: nn.Module | None = None,
        activation: nn.Module | None = None,
        output_pool: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if proj is None:
            raise ValueError("ResNetBasicHead: proj is required, got None")
        self.pool = pool
        self.dropout = dropout
        self.proj = proj
        self.activation = activation
        self.output_pool = output_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = self.pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        # The projection is a Linear over channels: move C last, project, move it back.
        x = self.proj(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
        if self.activation is not None:
            x = self.activation(x)
        if self.output_pool is not None:
            x = self.output_pool(x)
            x = x.reshape(x.shape[0], -1)
        return x


def create_res_basic_head(
    *,
    in_features: int,
    out_features: int,
    pool: Callable | None = nn.AvgPool3d,
    output_size: tuple[int, int, int] = (1, 1, 1),
    pool_kernel_size: tuple[int, int, int] = (1, 7, 7),
    pool_stride: tuple[int, int, int] = (1, 1, 1),
    pool_padding: tuple[int, int, int] = (0, 0, 0),
    dropout_rate: float = 0.5,
    activation: Callable | None = None,
    output_with_global_average: bool = True,
) -> nn.Module:
    """Builds a :class:`ResNetBasicHead` (PyTorchVideo's arguments and defaults).

    ``pool=nn.AdaptiveAvgPool3d`` pools to ``output_size`` (any input size works); other pools use
    ``pool_kernel_size``/``pool_stride``/``pool_padding``. ``activation=nn.Softmax`` softmaxes over classes.
    """
    if activation is None:
        activation_model = None
    elif activation is nn.Softmax:
        activation_model = activation(dim=1)
    else:
        activation_model = activation()
    if pool is None:
        pool_model = None
    elif pool is nn.AdaptiveAvgPool3d:
        pool_model = pool(output_size)
    else:
        pool_model = pool(kernel_size=pool_kernel_size, stride=pool_stride, padding=pool_padding)
    return ResNetBasicHead(
        proj=nn.Linear(in_features, out_features),
        activation=activation_model,
        pool=pool_model,
        dropout=nn.Dropout(dropout_rate) if dropout_rate > 0 else None,
        output_pool=nn.AdaptiveAvgPool3d(1) if output_with_global_average else None,
    )


_SEQ_POOL_MODES = ("cls", "mean")


class SequencePool(nn.Module):
    """One embedding from a (B, N, C) token sequence: the first (class) token for ``mode="cls"``, the mean
    over tokens for ``mode="mean"``."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        if mode not in _SEQ_POOL_MODES:
            raise ValueError(f"SequencePool: mode must be one of {_SEQ_POOL_MODES}, got {mode!r}")
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0] if self.mode == "cls" else x.mean(1)


class VisionTransformerBasicHead(nn.Module):
    """Optional sequence pooling and dropout, a Linear projection, optional activation.

    Submodules are registered in PyTorchVideo's order: sequence_pool, dropout, proj, activation.
    """

    def __init__(
        self,
        sequence_pool: nn.Module | None = None,
        dropout: nn.Module | None = None,
        proj: nn.Module | None = None,
        activation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if proj is None:
            raise ValueError("VisionTransformerBasicHead: proj is required, got None")
        self.sequence_pool = sequence_pool
        self.dropout = dropout
        self.proj = proj
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.sequence_pool is not None:
            x = self.sequence_pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.proj(x)
        if self.activation is not None:
            x = self.activation(x)
        return x


def create_vit_basic_head(
    *,
    in_features: int,
    out_features: int,
    seq_pool_type: str = "cls",
    dropout_rate: float = 0.5,
    activation: Callable | None = None,
) -> nn.Module:
    """Builds a :class:`VisionTransformerBasicHead` (PyTorchVideo's arguments and defaults).

    ``seq_pool_type``: "cls" (take the class token), "mean" (average the tokens) or "none" (no pooling).
    ``activation=nn.Softmax`` softmaxes over classes (dim 1); dropout exists when ``dropout_rate > 0``.
    """
    if seq_pool_type not in ("cls", "mean", "none"):
        raise ValueError(f'create_vit_basic_head: seq_pool_type must be "cls", "mean" or "none", got {seq_pool_type!r}')
    if activation is None:
        activation_model = None
    elif activation is nn.Softmax:
        activation_model = activation(dim=1)
    else:
        activation_model = activation()
    return VisionTransformerBasicHead(
        sequence_pool=None if seq_pool_type == "none" else SequencePool(seq_pool_type),
        dropout=nn.Dropout(dropout_rate) if dropout_rate > 0.0 else None,
        proj=nn.Linear(in_features, out_features),
        activation=activation_model,
    )
