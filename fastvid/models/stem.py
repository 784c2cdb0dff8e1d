"""The ResNet stem: conv -> norm -> activation -> pool, and the transformer patch embedding: conv -> flatten
-> transpose (as ``pytorchvideo.models.stem``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

__all__ = ["PatchEmbed", "ResNetBasicStem", "create_conv_patch_embed", "create_res_basic_stem"]


class ResNetBasicStem(nn.Module):
    """Spatiotemporal convolution, normalization, activation, then pooling; any of the last three may be None.

    Submodules are registered in the order conv, norm, activation, pool (PyTorchVideo's), which fixes
    the state_dict key order.
    """

    def __init__(
        self,
        *,
        conv: nn.Module | None = None,
        norm: nn.Module | None = None,
        activation: nn.Module | None = None,
        pool: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if conv is None:
            raise ValueError("ResNetBasicStem: conv is required, got None")
        self.conv = conv
        self.norm = norm
        self.activation = activation
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.activation is not None:
            x = self.activation(x)
        if self.pool is not None:
            x = self.pool(x)
        return x


def create_res_basic_stem(
    *,
    in_channels: int,
    out_channels: int,
    conv_kernel_size: tuple[int, int, int] = (3, 7, 7),
    conv_stride: tuple[int, int, int] = (1, 2, 2),
    conv_padding: tuple[int, int, int] = (1, 3, 3),
    conv_bias: bool = False,
    conv: Callable = nn.Conv3d,
    pool: Callable | None = nn.MaxPool3d,
    pool_kernel_size: tuple[int, int, int] = (1, 3, 3),
    pool_stride: tuple[int, int, int] = (1, 2, 2),
    pool_padding: tuple[int, int, int] = (0, 1, 1),
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
) -> nn.Module:
    """Builds a :class:`ResNetBasicStem` (PyTorchVideo's arguments and defaults; ``conv`` is called with
    Conv3d's keyword arguments)."""
    conv_module = conv(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=conv_kernel_size,
        stride=conv_stride,
        padding=conv_padding,
        bias=conv_bias,
    )
    norm_module = None if norm is None else norm(num_features=out_channels, eps=norm_eps, momentum=norm_momentum)
    activation_module = None if activation is None else activation()
    pool_module = None if pool is None else pool(kernel_size=pool_kernel_size, stride=pool_stride, padding=pool_padding)
    return ResNetBasicStem(conv=conv_module, norm=norm_module, activation=activation_module, pool=pool_module)


class PatchEmbed(nn.Module):
    """Patchifies a clip for a transformer: ``patch_model`` (a strided convolution) maps (B, C, (T,) H, W) to
    (B, D, (T',) H', W'), flattened and transposed to (B, T'*H'*W', D) tokens."""

    def __init__(self, *, patch_model: nn.Module | None = None) -> None:
        super().__init__()
        if patch_model is None:
            raise ValueError("PatchEmbed: patch_model is required, got None")
        self.patch_model = patch_model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.patch_model(x).flatten(2).transpose(1, 2)


def create_conv_patch_embed(
    *,
    in_channels: int,
    out_channels: int,
    conv_kernel_size: tuple[int, ...] = (1, 16, 16),
    conv_stride: tuple[int, ...] = (1, 4, 4),
    conv_padding: tuple[int, ...] = (1, 7, 7),
    conv_bias: bool = True,
    conv: Callable = nn.Conv3d,
) -> nn.Module:
    """Builds a :class:`PatchEmbed` around ``conv`` (called with Conv3d's keyword arguments; PyTorchVideo's
    arguments and defaults)."""
    patch_model = conv(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=conv_kernel_size,
        stride=conv_stride,
        padding=conv_padding,
        bias=conv_bias,
    )
    return PatchEmbed(patch_model=patch_model)
