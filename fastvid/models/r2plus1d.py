"""R(2+1)D with PyTorchVideo's builder functions, arguments, defaults and module tree
(``pytorchvideo.models.r2plus1d`` and the (2+1)D convolution of ``pytorchvideo.layers.convolutions``).

``create_r2plus1d()`` returns ``Net(blocks=ModuleList([ResNetBasicStem, ResStage x 4, ResNetBasicHead]))``
whose bottlenecks hold a :class:`Conv2plus1d` (``conv_t``, ``norm``, ``activation``, ``conv_xy``) as
``conv_b``, so its state_dict keys and shapes are PyTorchVideo's and the published ``r2plus1d_r50``
checkpoint loads unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn as nn

from fastvid.models.head import create_res_basic_head
from fastvid.models.net import Net
from fastvid.models.resnet import _MODEL_STAGE_DEPTH, create_bottleneck_block, create_res_stage
from fastvid.models.stem import create_res_basic_stem

__all__ = ["Conv2plus1d", "create_conv_2plus1d", "create_2plus1d_bottleneck_block", "create_r2plus1d"]


class Conv2plus1d(nn.Module):
    """A factorized 3D convolution: ``conv_t`` -> ``norm`` -> ``activation`` -> ``conv_xy`` (the two
    convolutions swap places with ``conv_xy_first``); ``norm`` and ``activation`` may be None.

    The attribute names are fixed by PyTorchVideo's state_dict keys, not by what the modules do: X3D's stem
    stores its spatial convolution as ``conv_t`` and its temporal one as ``conv_xy``.
    """

    def __init__(
        self,
        *,
        conv_t: nn.Module | None = None,
        norm: nn.Module | None = None,
        activation: nn.Module | None = None,
        conv_xy: nn.Module | None = None,
        conv_xy_first: bool = False,
    ) -> None:
        super().__init__()
        if conv_t is None or conv_xy is None:
            raise ValueError("Conv2plus1d: conv_t and conv_xy are both required, got a None")
        # Registration order (PyTorchVideo's) fixes the state_dict key order.
        self.conv_t = conv_t
        self.norm = norm
        self.activation = activation
        self.conv_xy = conv_xy
        self.conv_xy_first = conv_xy_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, second = (self.conv_xy, self.conv_t) if self.conv_xy_first else (self.conv_t, self.conv_xy)
        x = first(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.activation is not None:
            x = self.activation(x)
        return second(x)


def create_conv_2plus1d(
    *,
    in_channels: int,
    out_channels: int,
    inner_channels: int | None = None,
    conv_xy_first: bool = False,
    kernel_size: tuple[int, int, int] = (3, 3, 3),
    stride: tuple[int, int, int] = (2, 2, 2),
    padding: tuple[int, int, int] = (1, 1, 1),
    bias: bool = False,
    dilation: tuple[int, int, int] = (1, 1, 1),
    groups: int = 1,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
) -> nn.Module:
    """Builds a :class:`Conv2plus1d`: a ``kernel_size[0]``x1x1 temporal convolution and a
    1x``kernel_size[1]``x``kernel_size[2]`` spatial one with ``inner_channels`` (default ``out_channels``)
    between them, normalized and activated in between. The signature is PyTorchVideo's; like it, this takes
    no groups and no dilation (both must stay 1).

    Raises:
        ValueError: ``groups`` is not 1 or ``dilation`` is not all 1.
    """
    if groups != 1:
        raise ValueError(f"create_conv_2plus1d: groups must be 1 (no grouped (2+1)D convolution), got {groups!r}")
    if any(d != 1 for d in dilation):
        raise ValueError(
            f"create_conv_2plus1d: dilation must be (1, 1, 1) (no dilated (2+1)D convolution), got {dilation!r}"
        )
    if inner_channels is None:
        inner_channels = out_channels
    # Temporal convolution first (or second, with conv_xy_first), spatial convolution after; the inner
    # width sits between them either way.
    conv_t = nn.Conv3d(
        in_channels=inner_channels if conv_xy_first else in_channels,
        out_channels=out_channels if conv_xy_first else inner_channels,
        kernel_size=(kernel_size[0], 1, 1),
        stride=(stride[0], 1, 1),
        padding=(padding[0], 0, 0),
        bias=bias,
    )
    norm_module = None if norm is None else norm(num_features=inner_channels, eps=norm_eps, momentum=norm_momentum)
    activation_module = None if activation is None else activation()
    conv_xy = nn.Conv3d(
        in_channels=in_channels if conv_xy_first else inner_channels,
        out_channels=inner_channels if conv_xy_first else out_channels,
        kernel_size=(1, kernel_size[1], kernel_size[2]),
        stride=(1, stride[1], stride[2]),
        padding=(0, padding[1], padding[2]),
        bias=bias,
    )
    return Conv2plus1d(
        conv_t=conv_t, norm=norm_module, activation=activation_module, conv_xy=conv_xy, conv_xy_first=conv_xy_first
    )


def create_2plus1d_bottleneck_block(
    *,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    conv_a_kernel_size: tuple[int, int, int] = (1, 1, 1),
    conv_a_stride: tuple[int, int, int] = (1, 1, 1),
    conv_a_padding: tuple[int, int, int] = (0, 0, 0),
    conv_a: Callable = nn.Conv3d,
    conv_b_kernel_size: tuple[int, int, int] = (3, 3, 3),
    conv_b_stride: tuple[int, int, int] = (2, 2, 2),
    conv_b_padding: tuple[int, int, int] = (1, 1, 1),
    conv_b_num_groups: int = 1,
    conv_b_dilation: tuple[int, int, int] = (1, 1, 1),
    conv_b: Callable = create_conv_2plus1d,
    conv_c: Callable = nn.Conv3d,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
) -> nn.Module:
    """A bottleneck block (:func:`~fastvid.models.resnet.create_bottleneck_block`) whose middle convolution
    is a :func:`create_conv_2plus1d` normalized and activated with this block's ``norm`` / ``activation``.

    As in PyTorchVideo, ``conv_b`` is accepted for the signature only: the middle convolution is always
    :func:`create_conv_2plus1d`.
    """
    return create_bottleneck_block(
        dim_in=dim_in,
        dim_inner=dim_inner,
        dim_out=dim_out,
        conv_a_kernel_size=conv_a_kernel_size,
        conv_a_stride=conv_a_stride,
        conv_a_padding=conv_a_padding,
        conv_a=conv_a,
        conv_b_kernel_size=conv_b_kernel_size,
        conv_b_stride=conv_b_stride,
        conv_b_padding=conv_b_padding,
        conv_b_num_groups=conv_b_num_groups,
        conv_b_dilation=conv_b_dilation,
        conv_b=partial(
            create_conv_2plus1d, norm=norm, norm_eps=norm_eps, norm_momentum=norm_momentum, activation=activation
        ),
        conv_c=conv_c,
        norm=norm,
        norm_eps=norm_eps,
        norm_momentum=norm_momentum,
        activation=activation,
    )


def _check_per_stage(builder: str, num_stages: int, **values) -> None:
    for name, value in values.items():
        if len(value) < num_stages:
            raise ValueError(f"{builder}: {name} must give one value per stage ({num_stages}), got {value!r}")


def create_r2plus1d(
    *,
    input_channel: int = 3,
    model_depth: int = 50,
    model_num_class: int = 400,
    dropout_rate: float = 0.0,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
    stem_dim_out: int = 64,
    stem_conv_kernel_size: tuple[int, int, int] = (1, 7, 7),
    stem_conv_stride: tuple[int, int, int] = (1, 2, 2),
    stage_conv_a_kernel_size=((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    stage_conv_b_kernel_size=((3, 3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    stage_conv_b_num_groups: tuple[int, ...] = (1, 1, 1, 1),
    stage_conv_b_dilation=((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    stage_spatial_stride: tuple[int, ...] = (2, 2, 2, 2),
    stage_temporal_stride: tuple[int, ...] = (1, 1, 2, 2),
    stage_bottleneck=(
        create_2plus1d_bottleneck_block,
        create_2plus1d_bottleneck_block,
        create_2plus1d_bottleneck_block,
        create_2plus1d_bottleneck_block,
    ),
    head_pool: Callable | None = nn.AvgPool3d,
    head_pool_kernel_size: tuple[int, int, int] = (4, 7, 7),
    head_output_size: tuple[int, int, int] = (1, 1, 1),
    head_activation: Callable | None = nn.Softmax,
    head_output_with_global_average: bool = True,
) -> nn.Module:
    """R(2+1)D (depth 50, 101 or 152) with PyTorchVideo's arguments, defaults and module tree.

    Stem (1x7x7 conv stride 1x2x2, BN, ReLU, no pool), four stages of bottlenecks whose 3x3x3 convolution is
    factorized into 3x1x1 and 1x3x3 (spatial stride 2 in every stage, temporal stride 2 in stages 3-4), and
    a head (avg-pool ``head_pool_kernel_size``, dropout, Linear, softmax by default, global average). With the
    defaults it expects 16x224x224 clips; PyTorchVideo's hub ``r2plus1d_r50`` is this with ``dropout_rate=0.5``.
    Note the default ``head_activation=nn.Softmax``: pass ``head_activation=None`` for logits. As in
    PyTorchVideo, ``norm_eps`` and ``norm_momentum`` are accepted but not used (every norm keeps 1e-5 / 0.1).

    Raises:
        ValueError: ``model_depth`` is not 50, 101 or 152, or a per-stage argument has fewer than 4 values.
    """
    if model_depth not in _MODEL_STAGE_DEPTH:
        raise ValueError(
            f"create_r2plus1d: model_depth must be one of {sorted(_MODEL_STAGE_DEPTH)}, got {model_depth!r}"
        )
    stage_depths = _MODEL_STAGE_DEPTH[model_depth]
    _check_per_stage(
        "create_r2plus1d",
        len(stage_depths),
        stage_conv_a_kernel_size=stage_conv_a_kernel_size,
        stage_conv_b_kernel_size=stage_conv_b_kernel_size,
        stage_conv_b_num_groups=stage_conv_b_num_groups,
        stage_conv_b_dilation=stage_conv_b_dilation,
        stage_spatial_stride=stage_spatial_stride,
        stage_temporal_stride=stage_temporal_stride,
        stage_bottleneck=stage_bottleneck,
    )
    blocks = [
        create_res_basic_stem(
            in_channels=input_channel,
            out_channels=stem_dim_out,
            conv_kernel_size=stem_conv_kernel_size,
            conv_stride=stem_conv_stride,
            conv_padding=[k // 2 for k in stem_conv_kernel_size],
            pool=None,
            norm=norm,
            activation=activation,
        )
    ]
    dim_in, dim_out = stem_dim_out, stem_dim_out * 4
    for idx, depth in enumerate(stage_depths):
        kernel_a = stage_conv_a_kernel_size[idx]
        kernel_b = stage_conv_b_kernel_size[idx]
        blocks.append(
            create_res_stage(
                depth=depth,
                dim_in=dim_in,
                dim_inner=dim_out // 4,
                dim_out=dim_out,
                bottleneck=stage_bottleneck[idx],
                conv_a_kernel_size=kernel_a,
                conv_a_stride=(1, 1, 1),
                conv_a_padding=[k // 2 for k in kernel_a],
                conv_b_kernel_size=kernel_b,
                conv_b_stride=(stage_temporal_stride[idx], stage_spatial_stride[idx], stage_spatial_stride[idx]),
                conv_b_padding=[k // 2 for k in kernel_b],
                conv_b_num_groups=stage_conv_b_num_groups[idx],
                conv_b_dilation=stage_conv_b_dilation[idx],
                norm=norm,
                activation=activation,
            )
        )
        dim_in, dim_out = dim_out, dim_out * 2
    blocks.append(
        create_res_basic_head(
            in_features=dim_in,
            out_features=model_num_class,
            pool=head_pool,
            output_size=head_output_size,
            pool_kernel_size=head_pool_kernel_size,
            dropout_rate=dropout_rate,
            activation=head_activation,
            output_with_global_average=head_output_with_global_average,
        )
    )
    return Net(blocks=nn.ModuleList(blocks))
