"""3D ResNets with PyTorchVideo's builder functions, arguments, defaults and module tree.

``create_resnet()`` returns ``Net(blocks=ModuleList([ResNetBasicStem, ResStage x 4, ResNetBasicHead]))``
with each stage a ``ResStage(res_blocks=ModuleList([ResBlock, ...]))`` and each block
``ResBlock(branch1_conv, branch1_norm, branch2=BottleneckBlock(conv_a, norm_a, act_a, conv_b, ...))``,
so its state_dict keys and shapes are those of ``pytorchvideo.models.resnet.create_resnet`` and
published PyTorchVideo checkpoints load unchanged (``model.load_state_dict(ckpt["model_state"])``).

:func:`create_small_resnet` builds the same kind of network, narrow and shallow, for CPU runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn

from fastvid.models.head import create_res_basic_head
from fastvid.models.net import Net
from fastvid.models.stem import create_res_basic_stem

__all__ = [
    "BottleneckBlock",
    "ResBlock",
    "ResStage",
    "create_bottleneck_block",
    "create_res_block",
    "create_res_stage",
    "create_resnet",
    "create_resnet_with_roi_head",
    "create_small_resnet",
]

# Blocks per stage for each supported depth (PyTorchVideo's table).
_MODEL_STAGE_DEPTH = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class BottleneckBlock(nn.Module):
    """conv_a -> norm_a -> act_a -> conv_b -> norm_b -> act_b -> conv_c -> norm_c (norms and activations
    may be None). The last norm is flagged ``block_final_bn`` so initialization zeroes its weight."""

    def __init__(
        self,
        *,
        conv_a: nn.Module | None = None,
        norm_a: nn.Module | None = None,
        act_a: nn.Module | None = None,
        conv_b: nn.Module | None = None,
        norm_b: nn.Module | None = None,
        act_b: nn.Module | None = None,
        conv_c: nn.Module | None = None,
        norm_c: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if conv_a is None or conv_b is None or conv_c is None:
            raise ValueError("BottleneckBlock: conv_a, conv_b and conv_c are all required, got a None")
        # Registration order fixes the state_dict key order; it is PyTorchVideo's.
        self.conv_a = conv_a
        self.norm_a = norm_a
        self.act_a = act_a
        self.conv_b = conv_b
        self.norm_b = norm_b
        self.act_b = act_b
        self.conv_c = conv_c
        self.norm_c = norm_c
        if self.norm_c is not None:
            self.norm_c.block_final_bn = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_a(x)
        if self.norm_a is not None:
            x = self.norm_a(x)
        if self.act_a is not None:
            x = self.act_a(x)
        x = self.conv_b(x)
        if self.norm_b is not None:
            x = self.norm_b(x)
        if self.act_b is not None:
            x = self.act_b(x)
        x = self.conv_c(x)
        if self.norm_c is not None:
            x = self.norm_c(x)
        return x


def _trivial_sum(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # A named function rather than a lambda, so that models pickle (DDP spawn, torch.save(model)).
    return x + y


class ResBlock(nn.Module):
    """Residual block: ``activation(branch_fusion(shortcut, branch2(x)))`` where the shortcut is x, or
    ``branch1_norm(branch1_conv(x))`` when the block changes channels or resolution."""

    def __init__(
        self,
        branch1_conv: nn.Module | None = None,
        branch1_norm: nn.Module | None = None,
        branch2: nn.Module | None = None,
        activation: nn.Module | None = None,
        branch_fusion: Callable | None = None,
    ) -> None:
        super().__init__()
        if branch2 is None:
            raise ValueError("ResBlock: branch2 is required, got None")
        self.branch1_conv = branch1_conv
        self.branch1_norm = branch1_norm
        self.branch2 = branch2
        self.activation = activation
        self.branch_fusion = branch_fusion if branch_fusion is not None else _trivial_sum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.branch1_conv is None:
            x = self.branch_fusion(x, self.branch2(x))
        else:
            shortcut = self.branch1_conv(x)
            if self.branch1_norm is not None:
                shortcut = self.branch1_norm(shortcut)
            x = self.branch_fusion(shortcut, self.branch2(x))
        if self.activation is not None:
            x = self.activation(x)
        return x


class ResStage(nn.Module):
    """A stage: its residual blocks (``self.res_blocks``) run in order."""

    def __init__(self, res_blocks: nn.ModuleList) -> None:
        super().__init__()
        self.res_blocks = res_blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.res_blocks:
            x = block(x)
        return x


def create_bottleneck_block(
    *,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    conv_a_kernel_size: tuple[int, int, int] = (3, 1, 1),
    conv_a_stride: tuple[int, int, int] = (2, 1, 1),
    conv_a_padding: tuple[int, int, int] = (1, 0, 0),
    conv_a: Callable = nn.Conv3d,
    conv_b_kernel_size: tuple[int, int, int] = (1, 3, 3),
    conv_b_stride: tuple[int, int, int] = (1, 2, 2),
    conv_b_padding: tuple[int, int, int] = (0, 1, 1),
    conv_b_num_groups: int = 1,
    conv_b_dilation: tuple[int, int, int] = (1, 1, 1),
    conv_b: Callable = nn.Conv3d,
    conv_c: Callable = nn.Conv3d,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
) -> nn.Module:
    """Builds a :class:`BottleneckBlock`: Tx1x1 conv_a, 1xHxW conv_b (grouped/dilated), 1x1x1 conv_c."""

    def make_norm(channels: int) -> nn.Module | None:
        return None if norm is None else norm(num_features=channels, eps=norm_eps, momentum=norm_momentum)

    return BottleneckBlock(
        conv_a=conv_a(
            in_channels=dim_in,
            out_channels=dim_inner,
            kernel_size=conv_a_kernel_size,
            stride=conv_a_stride,
            padding=conv_a_padding,
            bias=False,
        ),
        norm_a=make_norm(dim_inner),
        act_a=None if activation is None else activation(),
        conv_b=conv_b(
            in_channels=dim_inner,
            out_channels=dim_inner,
            kernel_size=conv_b_kernel_size,
            stride=conv_b_stride,
            padding=conv_b_padding,
            bias=False,
            groups=conv_b_num_groups,
            dilation=conv_b_dilation,
        ),
        norm_b=make_norm(dim_inner),
        act_b=None if activation is None else activation(),
        conv_c=conv_c(in_channels=dim_inner, out_channels=dim_out, kernel_size=(1, 1, 1), bias=False),
        norm_c=make_norm(dim_out),
    )


def create_res_block(
    *,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    bottleneck: Callable,
    use_shortcut: bool = False,
    branch_fusion: Callable = _trivial_sum,
    conv_a_kernel_size: tuple[int, int, int] = (3, 1, 1),
    conv_a_stride: tuple[int, int, int] = (2, 1, 1),
    conv_a_padding: tuple[int, int, int] = (1, 0, 0),
    conv_a: Callable = nn.Conv3d,
    conv_b_kernel_size: tuple[int, int, int] = (1, 3, 3),
    conv_b_stride: tuple[int, int, int] = (1, 2, 2),
    conv_b_padding: tuple[int, int, int] = (0, 1, 1),
    conv_b_num_groups: int = 1,
    conv_b_dilation: tuple[int, int, int] = (1, 1, 1),
    conv_b: Callable = nn.Conv3d,
    conv_c: Callable = nn.Conv3d,
    conv_skip: Callable = nn.Conv3d,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation_bottleneck: Callable | None = nn.ReLU,
    activation_block: Callable | None = nn.ReLU,
) -> nn.Module:
    """Builds a :class:`ResBlock` around ``bottleneck(...)``.

    The shortcut gets a 1x1x1 conv (stride = conv_a stride x conv_b stride) and a norm when the block
    changes channels or resolution, or always with ``use_shortcut``.
    """
    branch1_stride = tuple(a * b for a, b in zip(conv_a_stride, conv_b_stride))
    changes_shape = dim_in != dim_out or math.prod(branch1_stride) != 1
    branch1_conv = (
        conv_skip(dim_in, dim_out, kernel_size=(1, 1, 1), stride=branch1_stride, bias=False)
        if changes_shape or use_shortcut
        else None
    )
    branch1_norm = None
    if use_shortcut or (norm is not None and changes_shape):
        branch1_norm = norm(num_features=dim_out, eps=norm_eps, momentum=norm_momentum)
    return ResBlock(
        branch1_conv=branch1_conv,
        branch1_norm=branch1_norm,
        branch2=bottleneck(
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
            conv_b=conv_b,
            conv_c=conv_c,
            norm=norm,
            norm_eps=norm_eps,
            norm_momentum=norm_momentum,
            activation=activation_bottleneck,
        ),
        activation=None if activation_block is None else activation_block(),
        branch_fusion=branch_fusion,
    )


def _per_block(value, depth: int) -> list:
    """A kernel size (or padding) given once or as a list cycled over the blocks of a stage."""
    items = [value] if isinstance(value[0], int) else list(value)
    return (items * depth)[:depth]


def create_res_stage(
    *,
    depth: int,
    dim_in: int,
    dim_inner: int,
    dim_out: int,
    bottleneck: Callable,
    conv_a_kernel_size=(3, 1, 1),
    conv_a_stride: tuple[int, int, int] = (2, 1, 1),
    conv_a_padding=(1, 0, 0),
    conv_a: Callable = nn.Conv3d,
    conv_b_kernel_size: tuple[int, int, int] = (1, 3, 3),
    conv_b_stride: tuple[int, int, int] = (1, 2, 2),
    conv_b_padding: tuple[int, int, int] = (0, 1, 1),
    conv_b_num_groups: int = 1,
    conv_b_dilation: tuple[int, int, int] = (1, 1, 1),
    conv_b: Callable = nn.Conv3d,
    conv_c: Callable = nn.Conv3d,
    norm: Callable | None = nn.BatchNorm3d,
    norm_eps: float = 1e-5,
    norm_momentum: float = 0.1,
    activation: Callable | None = nn.ReLU,
) -> nn.Module:
    """Builds a :class:`ResStage` of ``depth`` residual blocks; only the first one strides and changes
    channels. ``conv_a_kernel_size``/``conv_a_padding`` may be a list cycled over the blocks."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"create_res_stage: depth must be a positive int, got {depth!r}")
    kernels = _per_block(conv_a_kernel_size, depth)
    paddings = _per_block(conv_a_padding, depth)
    blocks = []
    for ind in range(depth):
        blocks.append(
            create_res_block(
                dim_in=dim_in if ind == 0 else dim_out,
                dim_inner=dim_inner,
                dim_out=dim_out,
                bottleneck=bottleneck,
                conv_a_kernel_size=kernels[ind],
                conv_a_stride=conv_a_stride if ind == 0 else (1, 1, 1),
                conv_a_padding=paddings[ind],
                conv_a=conv_a,
                conv_b_kernel_size=conv_b_kernel_size,
                conv_b_stride=conv_b_stride if ind == 0 else (1, 1, 1),
                conv_b_padding=conv_b_padding,
                conv_b_num_groups=conv_b_num_groups,
                conv_b_dilation=conv_b_dilation,
                conv_b=conv_b,
                conv_c=conv_c,
                norm=norm,
                norm_eps=norm_eps,
                norm_momentum=norm_momentum,
                activation_bottleneck=activation,
                activation_block=activation,
            )
        )
    return ResStage(res_blocks=nn.ModuleList(blocks))


def _build_resnet(
    *,
    stage_depths: Sequence[int],
    input_channel: int,
    model_num_class: int,
    dropout_rate: float,
    norm: Callable | None,
    activation: Callable | None,
    stem_dim_out: int,
    stem_conv_kernel_size,
    stem_conv_stride,
    stem_pool: Callable | None,
    stem_pool_kernel_size,
    stem_pool_stride,
    stem: Callable,
    stage1_pool: Callable | None,
    stage1_pool_kernel_size,
    stage_conv_a_kernel_size,
    stage_conv_b_kernel_size,
    stage_conv_b_num_groups,
    stage_conv_b_dilation,
    stage_spatial_h_stride,
    stage_spatial_w_stride,
    stage_temporal_stride,
    bottleneck,
    head: Callable | None,
    head_pool: Callable | None,
    head_pool_kernel_size,
    head_output_size,
    head_activation: Callable | None,
    head_output_with_global_average: bool,
    stage_width_factor: int = 4,
) -> nn.Module:
    num_stages = len(stage_depths)
    # Broadcast a single kernel / dilation / bottleneck to every stage.
    if isinstance(stage_conv_a_kernel_size[0], int):
        stage_conv_a_kernel_size = (stage_conv_a_kernel_size,) * num_stages
    if isinstance(stage_conv_b_kernel_size[0], int):
        stage_conv_b_kernel_size = (stage_conv_b_kernel_size,) * num_stages
    if isinstance(stage_conv_b_dilation[0], int):
        stage_conv_b_dilation = (stage_conv_b_dilation,) * num_stages
    if callable(bottleneck):
        bottleneck = [bottleneck] * num_stages
    for name, value in (
        ("stage_conv_a_kernel_size", stage_conv_a_kernel_size),
        ("stage_conv_b_kernel_size", stage_conv_b_kernel_size),
        ("stage_conv_b_num_groups", stage_conv_b_num_groups),
        ("stage_conv_b_dilation", stage_conv_b_dilation),
        ("stage_spatial_h_stride", stage_spatial_h_stride),
        ("stage_spatial_w_stride", stage_spatial_w_stride),
        ("stage_temporal_stride", stage_temporal_stride),
        ("bottleneck", bottleneck),
    ):
        if len(value) < num_stages:
            raise ValueError(f"create_resnet: {name} must give one value per stage ({num_stages}), got {value!r}")

    blocks = [
        stem(
            in_channels=input_channel,
            out_channels=stem_dim_out,
            conv_kernel_size=stem_conv_kernel_size,
            conv_stride=stem_conv_stride,
            conv_padding=[k // 2 for k in stem_conv_kernel_size],
            pool=stem_pool,
            pool_kernel_size=stem_pool_kernel_size,
            pool_stride=stem_pool_stride,
            pool_padding=[k // 2 for k in stem_pool_kernel_size],
            norm=norm,
            activation=activation,
        )
    ]
    dim_in = stem_dim_out
    dim_out = dim_in * stage_width_factor
    for idx in range(num_stages):
        kernel_a = stage_conv_a_kernel_size[idx]
        padding_a = (
            [k // 2 for k in kernel_a] if isinstance(kernel_a[0], int) else [[k // 2 for k in ks] for ks in kernel_a]
        )
        kernel_b = stage_conv_b_kernel_size[idx]
        dilation_b = stage_conv_b_dilation[idx]
        blocks.append(
            create_res_stage(
                depth=stage_depths[idx],
                dim_in=dim_in,
                dim_inner=dim_out // 4,
                dim_out=dim_out,
                bottleneck=bottleneck[idx],
                conv_a_kernel_size=kernel_a,
                conv_a_stride=(stage_temporal_stride[idx], 1, 1),
                conv_a_padding=padding_a,
                conv_b_kernel_size=kernel_b,
                conv_b_stride=(1, stage_spatial_h_stride[idx], stage_spatial_w_stride[idx]),
                conv_b_padding=(
                    kernel_b[0] // 2,
                    dilation_b[1] if dilation_b[1] > 1 else kernel_b[1] // 2,
                    dilation_b[2] if dilation_b[2] > 1 else kernel_b[2] // 2,
                ),
                conv_b_num_groups=stage_conv_b_num_groups[idx],
                conv_b_dilation=dilation_b,
                norm=norm,
                activation=activation,
            )
        )
        dim_in = dim_out
        dim_out = dim_out * 2
        if idx == 0 and stage1_pool is not None:
            blocks.append(
                stage1_pool(kernel_size=stage1_pool_kernel_size, stride=stage1_pool_kernel_size, padding=(0, 0, 0))
            )
    if head is not None:
        blocks.append(
            head(
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


def create_resnet(
    *,
    input_channel: int = 3,
    model_depth: int = 50,
    model_num_class: int = 400,
    dropout_rate: float = 0.5,
    norm: Callable | None = nn.BatchNorm3d,
    activation: Callable | None = nn.ReLU,
    stem_dim_out: int = 64,
    stem_conv_kernel_size: tuple[int, int, int] = (3, 7, 7),
    stem_conv_stride: tuple[int, int, int] = (1, 2, 2),
    stem_pool: Callable | None = nn.MaxPool3d,
    stem_pool_kernel_size: tuple[int, int, int] = (1, 3, 3),
    stem_pool_stride: tuple[int, int, int] = (1, 2, 2),
    stem: Callable = create_res_basic_stem,
    stage1_pool: Callable | None = None,
    stage1_pool_kernel_size: tuple[int, int, int] = (2, 1, 1),
    stage_conv_a_kernel_size=((1, 1, 1), (1, 1, 1), (3, 1, 1), (3, 1, 1)),
    stage_conv_b_kernel_size=((1, 3, 3), (1, 3, 3), (1, 3, 3), (1, 3, 3)),
    stage_conv_b_num_groups: tuple[int, ...] = (1, 1, 1, 1),
    stage_conv_b_dilation=((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    stage_spatial_h_stride: tuple[int, ...] = (1, 2, 2, 2),
    stage_spatial_w_stride: tuple[int, ...] = (1, 2, 2, 2),
    stage_temporal_stride: tuple[int, ...] = (1, 1, 1, 1),
    bottleneck=create_bottleneck_block,
    head: Callable | None = create_res_basic_head,
    head_pool: Callable | None = nn.AvgPool3d,
    head_pool_kernel_size: tuple[int, int, int] = (4, 7, 7),
    head_output_size: tuple[int, int, int] = (1, 1, 1),
    head_activation: Callable | None = None,
    head_output_with_global_average: bool = True,
) -> nn.Module:
    """A 3D ResNet (50, 101 or 152 layers) with PyTorchVideo's arguments, defaults and module tree.

    Stem (conv 3x7x7 stride 1x2x2, BN, ReLU, max-pool 1x3x3 stride 1x2x2), four stages of bottleneck
    blocks (64*4, *8, *16, *32 output channels; conv_a temporal kernel 1 in stages 1-2 and 3 in 3-4;
    spatial stride 2 in stages 2-4), and a head (avg-pool ``head_pool_kernel_size``, dropout, Linear,
    global average). With the defaults it expects 8x224x224 clips and returns (B, model_num_class)
    logits; for other input sizes pass ``head_pool=nn.AdaptiveAvgPool3d``.

    Raises:
        ValueError: ``model_depth`` is not 50, 101 or 152, or a per-stage argument has too few values.
    """
    if model_depth not in _MODEL_STAGE_DEPTH:
        raise ValueError(
            f"create_resnet: model_depth must be one of {sorted(_MODEL_STAGE_DEPTH)}, got {model_depth!r}"
        )
    return _build_resnet(
        stage_depths=_MODEL_STAGE_DEPTH[model_depth],
        input_channel=input_channel,
        model_num_class=model_num_class,
        dropout_rate=dropout_rate,
        norm=norm,
        activation=activation,
        stem_dim_out=stem_dim_out,
        stem_conv_kernel_size=stem_conv_kernel_size,
        stem_conv_stride=stem_conv_stride,
        stem_pool=stem_pool,
        stem_pool_kernel_size=stem_pool_kernel_size,
        stem_pool_stride=stem_pool_stride,
        stem=stem,
        stage1_pool=stage1_pool,
        stage1_pool_kernel_size=stage1_pool_kernel_size,
        stage_conv_a_kernel_size=stage_conv_a_kernel_size,
        stage_conv_b_kernel_size=stage_conv_b_kernel_size,
        stage_conv_b_num_groups=stage_conv_b_num_groups,
        stage_conv_b_dilation=stage_conv_b_dilation,
        stage_spatial_h_stride=stage_spatial_h_stride,
        stage_spatial_w_stride=stage_spatial_w_stride,
        stage_temporal_stride=stage_temporal_stride,
        bottleneck=bottleneck,
        head=head,
        head_pool=head_pool,
        head_pool_kernel_size=head_pool_kernel_size,
        head_output_size=head_output_size,
        head_activation=head_activation,
        head_output_with_global_average=head_output_with_global_average,
    )


def create_resnet_with_roi_head(
    *,
    input_channel: int = 3,
    model_depth: int = 50,
    model_num_class: int = 80,
    dropout_rate: float = 0.5,
    norm: Callable | None = nn.BatchNorm3d,
    activation: Callable | None = nn.ReLU,
    stem_dim_out: int = 64,
    stem_conv_kernel_size: tuple[int, int, int] = (1, 7, 7),
    stem_conv_stride: tuple[int, int, int] = (1, 2, 2),
    stem_pool: Callable | None = nn.MaxPool3d,
    stem_pool_kernel_size: tuple[int, int, int] = (1, 3, 3),
    stem_pool_stride: tuple[int, int, int] = (1, 2, 2),
    stem: Callable = create_res_basic_stem,
    stage1_pool: Callable | None = None,
    stage1_pool_kernel_size: tuple[int, int, int] = (2, 1, 1),
    stage_conv_a_kernel_size=((1, 1, 1), (1, 1, 1), (3, 1, 1), (3, 1, 1)),
    stage_conv_b_kernel_size=((1, 3, 3), (1, 3, 3), (1, 3, 3), (1, 3, 3)),
    stage_conv_b_num_groups: tuple[int, ...] = (1, 1, 1, 1),
    stage_conv_b_dilation=((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 2, 2)),
    stage_spatial_h_stride: tuple[int, ...] = (1, 2, 2, 1),
    stage_spatial_w_stride: tuple[int, ...] = (1, 2, 2, 1),
    stage_temporal_stride: tuple[int, ...] = (1, 1, 1, 1),
    bottleneck=create_bottleneck_block,
    head: Callable | None = None,
    head_pool: Callable | None = nn.AvgPool3d,
    head_pool_kernel_size: tuple[int, int, int] = (4, 1, 1),
    head_output_size: tuple[int, int, int] = (1, 1, 1),
    head_activation: Callable | None = nn.Sigmoid,
    head_output_with_global_average: bool = False,
    head_spatial_resolution: tuple[int, int] = (7, 7),
    head_spatial_scale: float = 1.0 / 16.0,
    head_sampling_ratio: int = 0,
) -> nn.Module:
    """A 3D ResNet for detection (PyTorchVideo's ``create_resnet_with_roi_head``, the ``slow_r50_detection``
    model of its hub, AVA): a :func:`create_resnet` backbone without a head (last stage dilated 2 instead of
    strided) and a RoI head (:func:`~fastvid.models.roi_head.create_res_roi_pooling_head`) on its features, in a
    :class:`~fastvid.models.multipathway.DetectionBBoxNetwork`: ``model(x, bboxes)`` with ``x`` (B, C, T, H, W)
    and ``bboxes`` (K, 5) rows ``(batch index, x1, y1, x2, y2)`` returns (K, model_num_class) sigmoid scores by
    default. PyTorchVideo 0.1.5's arguments, defaults and module tree (state_dict keys ``model.blocks.*`` and
    ``detection_head.proj.*``); the head keeps PyTorch's default Linear initialization, as there.

    ``head=None`` (the default) means :func:`~fastvid.models.roi_head.create_res_roi_pooling_head` (PyTorchVideo
    names it as the default; here it is imported on use, since it needs ``torchvision.ops``). As in PyTorchVideo
    0.1.5, ``stem`` and ``stage1_pool_kernel_size`` are accepted and ignored (the backbone uses
    :func:`create_res_basic_stem` and a (2, 1, 1) ``stage1_pool`` kernel).
    """
    if model_depth not in _MODEL_STAGE_DEPTH:
        raise ValueError(
            f"create_resnet_with_roi_head: model_depth must be one of {sorted(_MODEL_STAGE_DEPTH)}, got {model_depth!r}"
        )
    from fastvid.models.multipathway import DetectionBBoxNetwork

    if head is None:
        from fastvid.models.roi_head import create_res_roi_pooling_head as head
    backbone = create_resnet(
        input_channel=input_channel,
        model_depth=model_depth,
        model_num_class=model_num_class,
        dropout_rate=dropout_rate,
        norm=norm,
        activation=activation,
        stem_dim_out=stem_dim_out,
        stem_conv_kernel_size=stem_conv_kernel_size,
        stem_conv_stride=stem_conv_stride,
        stem_pool=stem_pool,
        stem_pool_kernel_size=stem_pool_kernel_size,
        stem_pool_stride=stem_pool_stride,
        stage1_pool=stage1_pool,
        # stage1_pool_kernel_size is not passed on, as in PyTorchVideo 0.1.5 (the pool is (2, 1, 1))
        stage_conv_a_kernel_size=stage_conv_a_kernel_size,
        stage_conv_b_kernel_size=stage_conv_b_kernel_size,
        stage_conv_b_num_groups=stage_conv_b_num_groups,
        stage_conv_b_dilation=stage_conv_b_dilation,
        stage_spatial_h_stride=stage_spatial_h_stride,
        stage_spatial_w_stride=stage_spatial_w_stride,
        stage_temporal_stride=stage_temporal_stride,
        bottleneck=bottleneck,
        head=None,
    )
    detection_head = head(
        in_features=stem_dim_out * 2 ** (len(_MODEL_STAGE_DEPTH[model_depth]) + 1),
        out_features=model_num_class,
        pool=head_pool,
        output_size=head_output_size,
        pool_kernel_size=head_pool_kernel_size,
        dropout_rate=dropout_rate,
        activation=head_activation,
        output_with_global_average=head_output_with_global_average,
        resolution=head_spatial_resolution,
        spatial_scale=head_spatial_scale,
        sampling_ratio=head_sampling_ratio,
    )
    return DetectionBBoxNetwork(backbone, detection_head)


def create_small_resnet(
    *,
    input_channel: int = 3,
    model_num_class: int = 400,
    dropout_rate: float = 0.2,
    stage_depths: Sequence[int] = (1, 1, 1, 1),
    stem_dim_out: int = 16,
    stem_conv_kernel_size: tuple[int, int, int] = (3, 5, 5),
    stage_conv_a_kernel_size=((3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)),
    stage_temporal_stride: tuple[int, ...] = (1, 1, 2, 1),
) -> nn.Module:
    """A narrow, shallow 3D ResNet built from the same blocks, small enough to train on a laptop CPU.

    Four stages of one bottleneck block each (64, 128, 256, 512 output channels with the default
    ``stem_dim_out=16``), temporal kernels of 3 in every stage (it must see motion), and an adaptive
    average-pool head, so it takes any clip size (e.g. 8x64x64). About 1 M parameters.
    """
    depths = tuple(stage_depths)
    if len(depths) != 4 or any(not isinstance(d, int) or d < 1 for d in depths):
        raise ValueError(f"create_small_resnet: stage_depths must be 4 positive ints, got {stage_depths!r}")
    return _build_resnet(
        stage_depths=depths,
        input_channel=input_channel,
        model_num_class=model_num_class,
        dropout_rate=dropout_rate,
        norm=nn.BatchNorm3d,
        activation=nn.ReLU,
        stem_dim_out=stem_dim_out,
        stem_conv_kernel_size=stem_conv_kernel_size,
        stem_conv_stride=(1, 2, 2),
        stem_pool=nn.MaxPool3d,
        stem_pool_kernel_size=(1, 3, 3),
        stem_pool_stride=(1, 2, 2),
        stem=create_res_basic_stem,
        stage1_pool=None,
        stage1_pool_kernel_size=(2, 1, 1),
        stage_conv_a_kernel_size=stage_conv_a_kernel_size,
        stage_conv_b_kernel_size=(1, 3, 3),
        stage_conv_b_num_groups=(1, 1, 1, 1),
        stage_conv_b_dilation=(1, 1, 1),
        stage_spatial_h_stride=(1, 2, 2, 2),
        stage_spatial_w_stride=(1, 2, 2, 2),
        stage_temporal_stride=stage_temporal_stride,
        bottleneck=create_bottleneck_block,
        head=create_res_basic_head,
        head_pool=nn.AdaptiveAvgPool3d,
        head_pool_kernel_size=(1, 1, 1),
        head_output_size=(1, 1, 1),
        head_activation=None,
        head_output_with_global_average=True,
    )
