"""X3D with PyTorchVideo's builder functions, arguments, defaults and module tree
(``pytorchvideo.models.x3d``, with the Swish of ``pytorchvideo.layers.swish`` and the squeeze-excitation
layer of ``fvcore.nn``).

``create_x3d()`` returns ``Net(blocks=ModuleList([ResNetBasicStem, ResStage x 4, ResNetBasicHead]))``:
the stem's convolution is a :class:`~fastvid.models.r2plus1d.Conv2plus1d` (a 1x3x3 convolution stored as
``conv_t``, then a depthwise 5x1x1 one stored as ``conv_xy``, PyTorchVideo's names), each stage holds
``ResBlock``\\ s around a ``BottleneckBlock`` whose ``norm_b`` is ``Sequential(BatchNorm3d,
SqueezeExcitation or Identity)``, and the head pools through a :class:`ProjectedPool`. The state_dict keys
and shapes are PyTorchVideo's, so its published X3D-XS/S/M/L checkpoints load unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn as nn

from fastvid.models.head import ResNetBasicHead
from fastvid.models.net import Net
from fastvid.models.r2plus1d import Conv2plus1d
from fastvid.models.resnet import BottleneckBlock, ResBlock, ResStage, _trivial_sum
from fastvid.models.stem import ResNetBasicStem

__all__ = [
    "ProjectedPool",
    "SqueezeExcitation",
    "Swish",
    "create_x3d",
    "create_x3d_bottleneck_block",
    "create_x3d_head",
    "create_x3d_res_block",
    "create_x3d_res_stage",
    "create_x3d_stem",
    "round_repeats",
    "round_width",
]


class _SwishFunction(torch.autograd.Function):
    """x * sigmoid(x), with the hand-written gradient PyTorchVideo uses (so training steps match too)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad_output * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    """The Swish (SiLU) activation, ``x * sigmoid(x)`` (as ``pytorchvideo.layers.swish.Swish``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _SwishFunction.apply(x)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (as ``fvcore.nn.SqueezeExcitation``): the input scaled per channel by
    ``block(mean over T, H, W)``, where ``block = Sequential(conv 1x1, activation, conv 1x1, Sigmoid)``
    reduces to ``num_channels_reduced`` channels (default ``num_channels // reduction_ratio``) and back."""

    def __init__(
        self,
        num_channels: int,
        num_channels_reduced: int | None = None,
        reduction_ratio: float = 2.0,
        is_3d: bool = False,
        activation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if num_channels_reduced is None:
            num_channels_reduced = int(num_channels // reduction_ratio)
        conv = nn.Conv3d if is_3d else nn.Conv2d
        self.is_3d = is_3d
        self.block = nn.Sequential(
            conv(num_channels, num_channels_reduced, kernel_size=1, bias=True),
            nn.ReLU() if activation is None else activation,
            conv(num_channels_reduced, num_channels, kernel_size=1, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, input_tensor: torch.Tensor) -> torch.Tensor:
        dims = [2, 3, 4] if self.is_3d else [2, 3]
        return torch.mul(input_tensor, self.block(input_tensor.mean(dim=dims, keepdim=True)))


def round_width(width, multiplier, min_width=8, divisor=8, ceil=False) -> int:
    """``width * multiplier`` rounded to a multiple of ``divisor`` (at least ``min_width``, and not more than
    10% below the exact product), as ``pytorchvideo.layers.utils.round_width``; a falsy multiplier keeps
    ``width``."""
    if not multiplier:
        return width
    width *= multiplier
    min_width = min_width or divisor
    if ceil:
        rounded = max(min_width, int(math.ceil(width / divisor)) * divisor)
    else:
        rounded = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats, multiplier) -> int:
    """``ceil(repeats * multiplier)`` (a falsy multiplier keeps ``repeats``), as PyTorchVideo's."""
    if not multiplier:
        return repeats
    return int(math.ceil(multiplier * repeats))


class ProjectedPool(nn.Module):
    """The X3D head's pooling: ``pre_conv -> pre_norm -> pre_act -> pool -> post_conv -> post_norm ->
    post_act`` (norms and activations may be None), registered in that order (PyTorchVideo's)."""

    def __init__(
        self,
        *,
        pre_conv: nn.Module | None = None,
        pre_norm: nn.Module | None = None,
        pre_act: nn.Module | None = None,
        pool: nn.Module | None = None,
        post_conv: nn.Module | None = None,
        post_norm: nn.Module | None = None,
        post_act: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if pre_conv is None or pool is None or post_conv is None:
            raise ValueError("ProjectedPool: pre_conv, pool and post_conv are all required, got a None")
        self.pre_conv = pre_conv
        self.pre_norm = pre_norm
        self.pre_act = pre_act
        self.pool = pool
        self.post_conv = post_conv
        self.post_norm = post_norm
        self.post_act = post_act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre_conv(x)
        if self.pre_norm is not None:
            x = self.pre_norm(x)
        if self.pre_act is not None:
            x = self.pre_act(x)
        x = self.pool(x)
        x = self.post_conv(x)
        if self.post_norm is not None:
            x = self.post_norm(x)
        if self.post_act is not None:
            x = self.post_act(x)
        return x


def create_x3d_stem(
    *,
    in_channels: int,
    out_channels: int,
    conv_kernel_size: tuple[int, int, int] = (5, 3, 3),
    conv_stride: tuple[int, int, int] = (1, 2, 2),
    conv_padding: tuple[int, int, int] = (2, 1, 1),
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
) -> nn.Module:
    """Builds the X3D stem, a :class:`~fastvid.models.stem.ResNetBasicStem` without pooling: a
    1xHxW convolution (``conv_kernel_size[1:]``), a depthwise Tx1x1 one (``conv_kernel_size[0]``), norm and
    activation. PyTorchVideo stores the spatial convolution as ``conv.conv_t`` and the temporal one as
    ``conv.conv_xy``; so does this, for its checkpoints' keys."""
    spatial = nn.Conv3d(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=(1, conv_kernel_size[1], conv_kernel_size[2]),
        stride=(1, conv_stride[1], conv_stride[2]),
        padding=(0, conv_padding[1], conv_padding[2]),
        bias=False,
    )
    temporal = nn.Conv3d(
        in_channels=out_channels,
        out_channels=out_channels,
        kernel_size=(conv_kernel_size[0], 1, 1),
        stride=(conv_stride[0], 1, 1),
        padding=(conv_padding[0], 0, 0),
        bias=False,
        groups=out_channels,
    )
    return ResNetBasicStem(
        conv=Conv2plus1d(conv_t=spatial, norm=None, activation=None, conv_xy=temporal),
        norm=None if norm is None else norm(num_features=out_channels, eps=norm_eps, momentum=norm_momentum),
        activation=None if activation is None else activation(),
        pool=None,
    )


def create_x3d_bottleneck_block(
    *,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    conv_kernel_size: tuple[int, int, int] = (3, 3, 3),
    conv_stride: tuple[int, int, int] = (1, 2, 2),
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    se_ratio: float = 0.0625,
    activation: Callable | None = nn.ReLU,
    inner_act: Callable | None = Swish,
) -> nn.Module:
    """Builds an X3D :class:`~fastvid.models.resnet.BottleneckBlock`: 1x1x1 conv, norm, ``activation``;
    depthwise ``conv_kernel_size`` conv (stride ``conv_stride``), ``norm_b = Sequential(norm,
    SqueezeExcitation)`` (``Identity`` in place of the SE when ``se_ratio`` is 0, and of the norm when
    ``norm`` is None), ``inner_act``; 1x1x1 conv and norm."""

    def make_norm(channels: int) -> nn.Module | None:
        return None if norm is None else norm(num_features=channels, eps=norm_eps, momentum=norm_momentum)

    conv_a = nn.Conv3d(in_channels=dim_in, out_channels=dim_inner, kernel_size=(1, 1, 1), bias=False)
    norm_a = make_norm(dim_inner)
    act_a = None if activation is None else activation()
    conv_b = nn.Conv3d(
        in_channels=dim_inner,
        out_channels=dim_inner,
        kernel_size=conv_kernel_size,
        stride=conv_stride,
        padding=[k // 2 for k in conv_kernel_size],
        bias=False,
        groups=dim_inner,
        dilation=(1, 1, 1),
    )
    if se_ratio > 0.0:
        reduced = round_width(dim_inner, se_ratio)
        se = SqueezeExcitation(num_channels=dim_inner, num_channels_reduced=reduced, is_3d=True)
    else:
        se = nn.Identity()
    norm_b = nn.Sequential(nn.Identity() if norm is None else make_norm(dim_inner), se)
    act_b = None if inner_act is None else inner_act()
    conv_c = nn.Conv3d(in_channels=dim_inner, out_channels=dim_out, kernel_size=(1, 1, 1), bias=False)
    return BottleneckBlock(
        conv_a=conv_a,
        norm_a=norm_a,
        act_a=act_a,
        conv_b=conv_b,
        norm_b=norm_b,
        act_b=act_b,
        conv_c=conv_c,
        norm_c=make_norm(dim_out),
    )


def create_x3d_res_block(
    *,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    bottleneck: Callable = create_x3d_bottleneck_block,
    use_shortcut: bool = True,
    conv_kernel_size: tuple[int, int, int] = (3, 3, 3),
    conv_stride: tuple[int, int, int] = (1, 2, 2),
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    se_ratio: float = 0.0625,
    activation: Callable | None = nn.ReLU,
    inner_act: Callable | None = Swish,
) -> nn.Module:
    """Builds an X3D :class:`~fastvid.models.resnet.ResBlock`: ``activation(shortcut + bottleneck(x))``.

    With ``use_shortcut`` (the default) the shortcut is a 1x1x1 convolution with stride ``conv_stride`` when
    the block changes channels or strides, followed by a norm when it changes channels; otherwise it is x.
    As in PyTorchVideo, that shortcut norm is built with the norm's default eps and momentum.
    """
    changes_channels = dim_in != dim_out
    strides = math.prod(conv_stride) > 1
    branch1_norm = None
    if norm is not None and changes_channels:
        branch1_norm = norm(num_features=dim_out)
    branch1_conv = None
    if use_shortcut and (changes_channels or strides):
        branch1_conv = nn.Conv3d(dim_in, dim_out, kernel_size=(1, 1, 1), stride=conv_stride, bias=False)
    return ResBlock(
        branch1_conv=branch1_conv,
        branch1_norm=branch1_norm if use_shortcut and changes_channels else None,
        branch2=bottleneck(
            dim_in=dim_in,
            dim_inner=dim_inner,
            dim_out=dim_out,
            conv_kernel_size=conv_kernel_size,
            conv_stride=conv_stride,
            norm=norm,
            norm_eps=norm_eps,
            norm_momentum=norm_momentum,
            se_ratio=se_ratio,
            activation=activation,
            inner_act=inner_act,
        ),
        activation=None if activation is None else activation(),
        branch_fusion=_trivial_sum,  # a named function, not PyTorchVideo's lambda: models pickle
    )


def create_x3d_res_stage(
    *,
    depth: int,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    bottleneck: Callable = create_x3d_bottleneck_block,
    conv_kernel_size: tuple[int, int, int] = (3, 3, 3),
    conv_stride: tuple[int, int, int] = (1, 2, 2),
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    se_ratio: float = 0.0625,
    activation: Callable | None = nn.ReLU,
    inner_act: Callable | None = Swish,
) -> nn.Module:
    """Builds a :class:`~fastvid.models.resnet.ResStage` of ``depth`` X3D residual blocks: the first one
    strides (``conv_stride``) and changes channels; squeeze-excitation (``se_ratio``) goes into every other
    block, the first, third, fifth, ...

    Raises:
        ValueError: ``depth`` is not a positive int.
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"create_x3d_res_stage: depth must be a positive int, got {depth!r}")
    blocks = [
        create_x3d_res_block(
            dim_in=dim_in if idx == 0 else dim_out,
            dim_inner=dim_inner,
            dim_out=dim_out,
            bottleneck=bottleneck,
            conv_kernel_size=conv_kernel_size,
            conv_stride=conv_stride if idx == 0 else (1, 1, 1),
            norm=norm,
            norm_eps=norm_eps,
            norm_momentum=norm_momentum,
            se_ratio=se_ratio if idx % 2 == 0 else 0.0,
            activation=activation,
            inner_act=inner_act,
        )
        for idx in range(depth)
    ]
    return ResStage(res_blocks=nn.ModuleList(blocks))


def create_x3d_head(
    *,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    num_classes: int,
    pool_act: Callable | None = nn.ReLU,
    pool_kernel_size: tuple[int, int, int] | None = (13, 5, 5),
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    bn_lin5_on: bool = False,
    dropout_rate: float = 0.5,
    activation: Callable | None = nn.Softmax,
    output_with_global_average: bool = True,
) -> nn.Module:
    """Builds the X3D head, a :class:`~fastvid.models.head.ResNetBasicHead` whose pool is a
    :class:`ProjectedPool`: 1x1x1 conv to ``dim_inner``, norm, ``pool_act``, average pool
    (``pool_kernel_size`` with stride 1, or adaptive to 1x1x1 when it is None), 1x1x1 conv to ``dim_out``
    (norm with ``bn_lin5_on``), ``pool_act``; then dropout, Linear to ``num_classes``, ``activation``
    (``nn.Softmax`` over classes, ``nn.Sigmoid`` or None) and a global average.

    Raises:
        ValueError: ``activation`` is not nn.Softmax, nn.Sigmoid or None.
    """
    if activation is None:
        activation_module = None
    elif activation == nn.Softmax:
        activation_module = activation(dim=1)
    elif activation == nn.Sigmoid:
        activation_module = activation()
    else:
        raise ValueError(f"create_x3d_head: activation must be nn.Softmax, nn.Sigmoid or None, got {activation!r}")
    pre_conv = nn.Conv3d(in_channels=dim_in, out_channels=dim_inner, kernel_size=(1, 1, 1), bias=False)
    pre_norm = None if norm is None else norm(num_features=dim_inner, eps=norm_eps, momentum=norm_momentum)
    pre_act = None if pool_act is None else pool_act()
    pool = nn.AdaptiveAvgPool3d((1, 1, 1)) if pool_kernel_size is None else nn.AvgPool3d(pool_kernel_size, stride=1)
    post_conv = nn.Conv3d(in_channels=dim_inner, out_channels=dim_out, kernel_size=(1, 1, 1), bias=False)
    post_norm = None
    if bn_lin5_on and norm is not None:
        post_norm = norm(num_features=dim_out, eps=norm_eps, momentum=norm_momentum)
    post_act = None if pool_act is None else pool_act()
    return ResNetBasicHead(
        proj=nn.Linear(dim_out, num_classes, bias=True),
        activation=activation_module,
        pool=ProjectedPool(
            pre_conv=pre_conv,
            pre_norm=pre_norm,
            pre_act=pre_act,
            pool=pool,
            post_conv=post_conv,
            post_norm=post_norm,
            post_act=post_act,
        ),
        dropout=nn.Dropout(dropout_rate) if dropout_rate > 0 else None,
        output_pool=nn.AdaptiveAvgPool3d(1) if output_with_global_average else None,
    )


# Blocks per stage before the depth factor, and the width growth from stage to stage (X3D's).
_X3D_STAGE_DEPTHS = (1, 2, 5, 3)
_X3D_STAGE_EXPANSION = 2.0


def create_x3d(
    *,
    input_channel: int = 3,
    input_clip_length: int = 13,
    input_crop_size: int = 160,
    model_num_class: int = 400,
    dropout_rate: float = 0.5,
    width_factor: float = 2.0,
    depth_factor: float = 2.2,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
    stem_dim_in: int = 12,
    stem_conv_kernel_size: tuple[int, int, int] = (5, 3, 3),
    stem_conv_stride: tuple[int, int, int] = (1, 2, 2),
    stage_conv_kernel_size=((3, 3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    stage_spatial_stride: tuple[int, ...] = (2, 2, 2, 2),
    stage_temporal_stride: tuple[int, ...] = (1, 1, 1, 1),
    bottleneck: Callable = create_x3d_bottleneck_block,
    bottleneck_factor: float = 2.25,
    se_ratio: float = 0.0625,
    inner_act: Callable | None = Swish,
    head_dim_out: int = 2048,
    head_pool_act: Callable | None = nn.ReLU,
    head_bn_lin5_on: bool = False,
    head_activation: Callable | None = nn.Softmax,
    head_output_with_global_average: bool = True,
) -> nn.Module:
    """X3D (Feichtenhofer, "X3D: Expanding Architectures for Efficient Video Recognition", 2020) with
    PyTorchVideo's arguments, defaults and module tree.

    A (2+1)D stem to ``round_width(stem_dim_in, width_factor)`` channels, four stages of
    ``ceil(depth_factor * (1, 2, 5, 3))`` bottleneck blocks (depthwise 3x3x3 convolutions, squeeze-excitation
    in every other block, Swish; 24, 48, 96, 192 channels with the defaults, ``bottleneck_factor`` times
    that inside), and a head whose average pool covers the whole final feature map of an
    ``input_clip_length`` x ``input_crop_size``\\ :sup:`2` clip. PyTorchVideo's hub models are X3D-XS
    (4x160x160), X3D-S (13x160x160), X3D-M (16x224x224), all with ``depth_factor=2.2``, and X3D-L
    (16x312x312, ``depth_factor=5.0``). Note the default ``head_activation=nn.Softmax`` (the hub models'
    output is a probability): pass ``head_activation=None`` for logits to train with cross-entropy.

    Raises:
        ValueError: a per-stage argument has fewer than 4 values, or the clip is shorter than the total
            temporal stride (``input_clip_length``) or smaller than the total spatial stride
            (``input_crop_size``).
    """
    for name, value in (
        ("stage_conv_kernel_size", stage_conv_kernel_size),
        ("stage_spatial_stride", stage_spatial_stride),
        ("stage_temporal_stride", stage_temporal_stride),
    ):
        if len(value) < len(_X3D_STAGE_DEPTHS):
            raise ValueError(f"create_x3d: {name} must give one value per stage (4), got {value!r}")
    # As in PyTorchVideo: the product over every value given, and the stem's H stride for both H and W.
    total_temporal_stride = stem_conv_stride[0] * math.prod(stage_temporal_stride)
    total_spatial_stride = stem_conv_stride[1] * math.prod(stage_spatial_stride)
    if input_clip_length < total_temporal_stride:
        raise ValueError(
            f"create_x3d: input_clip_length must be at least the total temporal stride {total_temporal_stride}, "
            f"got {input_clip_length!r}"
        )
    if input_crop_size < total_spatial_stride:
        raise ValueError(
            f"create_x3d: input_crop_size must be at least the total spatial stride {total_spatial_stride}, "
            f"got {input_crop_size!r}"
        )

    stem_dim_out = round_width(stem_dim_in, width_factor)
    blocks = [
        create_x3d_stem(
            in_channels=input_channel,
            out_channels=stem_dim_out,
            conv_kernel_size=stem_conv_kernel_size,
            conv_stride=stem_conv_stride,
            conv_padding=[k // 2 for k in stem_conv_kernel_size],
            norm=norm,
            norm_eps=norm_eps,
            norm_momentum=norm_momentum,
            activation=activation,
        )
    ]
    # Stage widths before the width factor: stem_dim_in, then doubled (rounded to multiples of 8).
    stage_dims = [stem_dim_in]
    for _ in range(len(_X3D_STAGE_DEPTHS) - 1):
        stage_dims.append(round_width(stage_dims[-1], _X3D_STAGE_EXPANSION, divisor=8))
    dim_in = stem_dim_out
    for idx, base_depth in enumerate(_X3D_STAGE_DEPTHS):
        dim_out = round_width(stage_dims[idx], width_factor)
        dim_inner = int(bottleneck_factor * dim_out)
        blocks.append(
            create_x3d_res_stage(
                depth=round_repeats(base_depth, depth_factor),
                dim_in=dim_in,
                dim_inner=dim_inner,
                dim_out=dim_out,
                bottleneck=bottleneck,
                conv_kernel_size=stage_conv_kernel_size[idx],
                conv_stride=(stage_temporal_stride[idx], stage_spatial_stride[idx], stage_spatial_stride[idx]),
                norm=norm,
                norm_eps=norm_eps,
                norm_momentum=norm_momentum,
                se_ratio=se_ratio,
                activation=activation,
                inner_act=inner_act,
            )
        )
        dim_in = dim_out

    side = int(math.ceil(input_crop_size / total_spatial_stride))
    blocks.append(
        create_x3d_head(
            dim_in=dim_out,
            dim_inner=dim_inner,
            dim_out=head_dim_out,
            num_classes=model_num_class,
            pool_act=head_pool_act,
            pool_kernel_size=(input_clip_length // total_temporal_stride, side, side),
            norm=norm,
            norm_eps=norm_eps,
            norm_momentum=norm_momentum,
            bn_lin5_on=head_bn_lin5_on,
            dropout_rate=dropout_rate,
            activation=head_activation,
            output_with_global_average=head_output_with_global_average,
        )
    )
    return Net(blocks=nn.ModuleList(blocks))
