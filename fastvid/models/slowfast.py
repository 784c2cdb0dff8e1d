"""SlowFast networks with PyTorchVideo 0.1.5's builder, arguments, defaults and module tree
(``pytorchvideo.models.slowfast``).

``create_slowfast()`` returns ``Net(blocks=ModuleList([...]))`` whose blocks are

* ``blocks.0``: :class:`~fastvid.models.multipathway.MultiPathWayWithFuse` of the two stems
  (``multipathway_blocks.0`` slow, ``.1`` fast) and a :class:`FuseFastToSlow` (``multipathway_fusion``);
* ``blocks.1`` - ``blocks.4``: the same, around one :class:`~fastvid.models.resnet.ResStage` per pathway;
  the last stage's fusion is an ``nn.Identity``;
* ``blocks.5``: :class:`PoolConcatPathway` (an average pool per pathway, then channel concatenation);
* ``blocks.6``: :class:`~fastvid.models.head.ResNetBasicHead` (dropout, Linear ``proj``, global average),

so its state_dict keys and shapes are PyTorchVideo's and the published ``slowfast_r50`` / ``slowfast_r101``
checkpoints load unchanged (``model.load_state_dict(ckpt["model_state"])``). The same seed gives the same
initial weights, and the same weights give bit-identical outputs and gradients (tests/test_models_slowfast.py).

PyTorchVideo's hub models are::

    create_slowfast(model_depth=50, slowfast_fusion_conv_kernel_size=(7, 1, 1))   # slowfast_r50, 34.57 M
    create_slowfast(model_depth=101, slowfast_fusion_conv_kernel_size=(5, 1, 1))  # slowfast_r101, 62.83 M

The input is a list ``[slow, fast]`` of (B, 3, T, H, W) clips: 8 and 32 frames of 224x224 for the default
head pool (``head_pool_kernel_sizes=((8, 7, 7), (32, 7, 7))``); for other sizes pass
``head_pool=nn.AdaptiveAvgPool3d`` (the pool has no weights, so checkpoints still load). The model writes
into the list it is given (PyTorchVideo's ``MultiPathWayWithFuse(inplace=True)``): build a new list for
every call. :class:`fastvid.transforms.PackPathway` makes the two pathways from one clip as PyTorchVideo's
SlowFast tutorial does (the slow pathway is T // alpha frames of the fast one, ``alpha=4``).

SlowFast is not in :func:`fastvid.models.list_models` (``fastvid-train`` feeds a model one tensor). To train
it, build it yourself and pack the pathways in your own LightningModule, on the device batch::

    from fastvid.models import create_slowfast
    from fastvid.transforms import PackPathway

    class SlowFastModule(pl.LightningModule):
        def __init__(self, num_classes):
            super().__init__()
            self.model = create_slowfast(model_num_class=num_classes, head_pool=nn.AdaptiveAvgPool3d)
            self.pack = PackPathway(alpha=4, temporal_dim=-3)  # a (B, C, T, H, W) batch

        def training_step(self, batch, batch_idx):
            logits = self.model(self.pack(batch["video"]))  # a new [slow, fast] list every call
            loss = F.cross_entropy(logits, batch["label"])
            ...

(or put ``PackPathway()`` last in the per-clip transform, as the tutorial does, and collate the lists).
``create_slowfast_with_roi_head`` (AVA detection; in :mod:`fastvid.models.roi_head`, loaded on first use
because it imports ``torchvision.ops``) is PyTorchVideo's too.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

from fastvid.models.head import create_res_basic_head
from fastvid.models.multipathway import MultiPathWayWithFuse
from fastvid.models.net import Net
from fastvid.models import resnet
from fastvid.models.resnet import create_bottleneck_block, create_res_stage
from fastvid.models.stem import create_res_basic_stem

__all__ = [
    "FastToSlowFusionBuilder",
    "FuseFastToSlow",
    "PoolConcatPathway",
    "create_slowfast",
]

# Blocks per stage for each supported depth (PyTorchVideo's SlowFast table; 18 uses bottlenecks too).
_MODEL_STAGE_DEPTH = {18: (1, 1, 1, 1), **resnet._MODEL_STAGE_DEPTH}


def __getattr__(name: str):
    # create_slowfast_with_roi_head lives beside its RoI head, which imports torchvision.ops: load it on use.
    if name == "create_slowfast_with_roi_head":
        from fastvid.models.roi_head import create_slowfast_with_roi_head

        return create_slowfast_with_roi_head
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PoolConcatPathway(nn.Module):
    """Pools each pathway's tensor with its own ``pool[i]`` (if given) and concatenates them along the
    channels; None entries of the input list are skipped. With ``retain_list`` the result is a one-element
    list.

    As PyTorchVideo's, it writes the pooled tensors back into the list it is given. ``dim`` is stored as
    PyTorchVideo does; the concatenation is along ``dim`` (PyTorchVideo 0.1.5 always concatenates along 1,
    the default).
    """

    def __init__(self, retain_list: bool = False, pool: nn.ModuleList | None = None, dim: int = 1) -> None:
        super().__init__()
        self.retain_list = retain_list
        self.pool = pool
        self.dim = dim

    def forward(self, x: list[torch.Tensor]):
        if self.pool is not None and len(x) != len(self.pool):
            raise ValueError(
                f"PoolConcatPathway: input must hold one tensor per pool ({len(self.pool)}), got {len(x)}"
            )
        parts = []
        for idx in range(len(x)):
            if x[idx] is None:
                continue
            if self.pool is not None and self.pool[idx] is not None:
                x[idx] = self.pool[idx](x[idx])
            parts.append(x[idx])
        out = torch.cat(parts, self.dim)
        return [out] if self.retain_list else out


class FuseFastToSlow(nn.Module):
    """Fast-to-slow lateral connection: ``[slow, fast] -> [cat(slow, act(norm(conv(fast)))), fast]``
    (channels concatenated; the convolution strides the fast pathway down to the slow one's frame rate).
    Submodules: ``conv_fast_to_slow``, ``norm``, ``activation`` (the last two may be None)."""

    def __init__(
        self, conv_fast_to_slow: nn.Module, norm: nn.Module | None = None, activation: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv_fast_to_slow = conv_fast_to_slow
        self.norm = norm
        self.activation = activation

    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        slow, fast = x[0], x[1]
        lateral = self.conv_fast_to_slow(fast)
        if self.norm is not None:
            lateral = self.norm(lateral)
        if self.activation is not None:
            lateral = self.activation(lateral)
        return [torch.cat([slow, lateral], 1), fast]


class FastToSlowFusionBuilder:
    """Makes the :class:`FuseFastToSlow` of each stage: ``create_module(fusion_dim_in, stage_idx)`` returns a
    fusion whose convolution takes ``fusion_dim_in // slowfast_channel_reduction_ratio`` fast channels to
    ``conv_fusion_channel_ratio`` times as many (kernel ``conv_kernel_size``, stride ``conv_stride``, padding
    half the kernel, no bias), then ``norm`` and ``activation``; past ``max_stage_idx`` it returns
    ``nn.Identity()``. ``create_slowfast`` takes ``FastToSlowFusionBuilder(...).create_module`` as its
    ``fusion_builder``."""

    def __init__(
        self,
        slowfast_channel_reduction_ratio: int,
        conv_fusion_channel_ratio: float,
        conv_kernel_size: tuple[int, int, int],
        conv_stride: tuple[int, int, int],
        norm: Callable | None = nn.BatchNorm3d,
        norm_eps: float = 1e-5,
        norm_momentum: float = 0.1,
        activation: Callable | None = nn.ReLU,
        max_stage_idx: int = 3,
    ) -> None:
        self.slowfast_channel_reduction_ratio = slowfast_channel_reduction_ratio
        self.conv_fusion_channel_ratio = conv_fusion_channel_ratio
        self.conv_kernel_size = conv_kernel_size
        self.conv_stride = conv_stride
        self.norm = norm
        self.norm_eps = norm_eps
        self.norm_momentum = norm_momentum
        self.activation = activation
        self.max_stage_idx = max_stage_idx

    def create_module(self, fusion_dim_in: int, stage_idx: int) -> nn.Module:
        if stage_idx > self.max_stage_idx:
            return nn.Identity()
        dim_in = fusion_dim_in // self.slowfast_channel_reduction_ratio
        dim_out = int(dim_in * self.conv_fusion_channel_ratio)
        conv = nn.Conv3d(
            dim_in,
            dim_out,
            kernel_size=self.conv_kernel_size,
            stride=self.conv_stride,
            padding=[k // 2 for k in self.conv_kernel_size],
            bias=False,
        )
        norm = None if self.norm is None else self.norm(num_features=dim_out, eps=self.norm_eps, momentum=self.norm_momentum)
        activation = None if self.activation is None else self.activation()
        return FuseFastToSlow(conv_fast_to_slow=conv, norm=norm, activation=activation)


def _check_pathways(name: str, value, num_pathways: int, num_stages: int | None = None) -> None:
    if len(value) < num_pathways:
        raise ValueError(f"create_slowfast: {name} must give one value per pathway ({num_pathways}), got {value!r}")
    if num_stages is not None:
        for per_stage in value[:num_pathways]:
            if len(per_stage) < num_stages:
                raise ValueError(
                    f"create_slowfast: {name} must give one value per stage ({num_stages}) for every pathway, "
                    f"got {value!r}"
                )


def create_slowfast(
    *,
    slowfast_channel_reduction_ratio=(8,),
    slowfast_conv_channel_fusion_ratio: int = 2,
    slowfast_fusion_conv_kernel_size: tuple[int, int, int] = (7, 1, 1),
    slowfast_fusion_conv_stride: tuple[int, int, int] = (4, 1, 1),
    fusion_builder: Callable | None = None,
    input_channels: tuple[int, ...] = (3, 3),
    model_depth: int = 50,
    model_num_class: int = 400,
    dropout_rate: float = 0.5,
    norm: Callable | None = nn.BatchNorm3d,
    activation: Callable | None = nn.ReLU,
    stem_function: tuple[Callable, ...] = (create_res_basic_stem, create_res_basic_stem),
    stem_dim_outs: tuple[int, ...] = (64, 8),
    stem_conv_kernel_sizes=((1, 7, 7), (5, 7, 7)),
    stem_conv_strides=((1, 2, 2), (1, 2, 2)),
    stem_pool=(nn.MaxPool3d, nn.MaxPool3d),
    stem_pool_kernel_sizes=((1, 3, 3), (1, 3, 3)),
    stem_pool_strides=((1, 2, 2), (1, 2, 2)),
    stage_conv_a_kernel_sizes=(
        ((1, 1, 1), (1, 1, 1), (3, 1, 1), (3, 1, 1)),
        ((3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)),
    ),
    stage_conv_b_kernel_sizes=(
        ((1, 3, 3), (1, 3, 3), (1, 3, 3), (1, 3, 3)),
        ((1, 3, 3), (1, 3, 3), (1, 3, 3), (1, 3, 3)),
    ),
    stage_conv_b_num_groups=((1, 1, 1, 1), (1, 1, 1, 1)),
    stage_conv_b_dilations=(
        ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
        ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    ),
    stage_spatial_strides=((1, 2, 2, 2), (1, 2, 2, 2)),
    stage_temporal_strides=((1, 1, 1, 1), (1, 1, 1, 1)),
    bottleneck=((create_bottleneck_block,) * 4, (create_bottleneck_block,) * 4),
    head: Callable | None = create_res_basic_head,
    head_pool: Callable | None = nn.AvgPool3d,
    head_pool_kernel_sizes=((8, 7, 7), (32, 7, 7)),
    head_output_size: tuple[int, int, int] = (1, 1, 1),
    head_activation: Callable | None = None,
    head_output_with_global_average: bool = True,
) -> nn.Module:
    """SlowFast (Feichtenhofer et al., "SlowFast Networks for Video Recognition", 2019) with PyTorchVideo
    0.1.5's arguments, defaults and module tree (see the module docstring for the tree and the hub
    configurations).

    A Slow pathway (``stem_dim_outs[0]`` = 64 channels, few frames, temporal kernels only in stages 3-4) and a
    Fast pathway (``stem_dim_outs[1]`` = 8 channels, ``slowfast_channel_reduction_ratio`` = 8 times fewer,
    many frames, temporal kernels everywhere) of 3D ResNet stages (depth ``model_depth``: 18, 50, 101, 152);
    after the stems and each of the first three stages a lateral convolution (``slowfast_fusion_conv_*``,
    stride 4 = alpha in time, ``slowfast_conv_channel_fusion_ratio`` x its input channels) feeds the Fast
    pathway into the Slow one. Every per-pathway argument is indexed ``[pathway]`` and every per-stage one
    ``[pathway][stage]``. ``fusion_builder(fusion_dim_in=..., stage_idx=...)`` replaces the default
    :class:`FastToSlowFusionBuilder`; ``stem_pool`` and ``bottleneck`` may be given once for all.
    ``head_pool``: ``nn.AvgPool3d`` (kernel ``head_pool_kernel_sizes[i]``, stride 1), ``nn.AdaptiveAvgPool3d``
    (to ``head_output_size[i]`` for pathway ``i``, as PyTorchVideo indexes it) or None (no pool). ``head=None``
    ends the network at the concatenated features.

    Raises:
        ValueError: ``model_depth`` is not 18, 50, 101 or 152, ``input_channels`` does not give one pathway
            per reduction ratio plus the slow one, a per-pathway or per-stage argument has too few values,
            or ``head_pool`` is another pool.
    """
    if model_depth not in _MODEL_STAGE_DEPTH:
        raise ValueError(
            f"create_slowfast: model_depth must be one of {sorted(_MODEL_STAGE_DEPTH)}, got {model_depth!r}"
        )
    stage_depths = _MODEL_STAGE_DEPTH[model_depth]
    num_stages = len(stage_depths)
    num_pathways = len(input_channels)
    if isinstance(slowfast_channel_reduction_ratio, int):
        slowfast_channel_reduction_ratio = (slowfast_channel_reduction_ratio,)
    ratios = tuple(slowfast_channel_reduction_ratio)
    if num_pathways != len(ratios) + 1:
        raise ValueError(
            f"create_slowfast: input_channels must give {len(ratios) + 1} pathways (the slow one and one per "
            f"slowfast_channel_reduction_ratio {ratios}), got {input_channels!r}"
        )
    if stem_pool is None or callable(stem_pool):
        stem_pool = (stem_pool,) * num_pathways
    if callable(bottleneck):
        bottleneck = ((bottleneck,) * num_stages,) * num_pathways
    for name, value in (
        ("stem_function", stem_function),
        ("stem_dim_outs", stem_dim_outs),
        ("stem_conv_kernel_sizes", stem_conv_kernel_sizes),
        ("stem_conv_strides", stem_conv_strides),
        ("stem_pool", stem_pool),
        ("stem_pool_kernel_sizes", stem_pool_kernel_sizes),
        ("stem_pool_strides", stem_pool_strides),
    ):
        _check_pathways(name, value, num_pathways)
    for name, value in (
        ("stage_conv_a_kernel_sizes", stage_conv_a_kernel_sizes),
        ("stage_conv_b_kernel_sizes", stage_conv_b_kernel_sizes),
        ("stage_conv_b_num_groups", stage_conv_b_num_groups),
        ("stage_conv_b_dilations", stage_conv_b_dilations),
        ("stage_spatial_strides", stage_spatial_strides),
        ("stage_temporal_strides", stage_temporal_strides),
        ("bottleneck", bottleneck),
    ):
        _check_pathways(name, value, num_pathways, num_stages)
    if head_pool is not None and head_pool is not nn.AvgPool3d and head_pool is not nn.AdaptiveAvgPool3d:
        raise ValueError(
            f"create_slowfast: head_pool must be nn.AvgPool3d, nn.AdaptiveAvgPool3d or None, got {head_pool!r}"
        )
    if head_pool is nn.AvgPool3d:
        _check_pathways("head_pool_kernel_sizes", head_pool_kernel_sizes, num_pathways)
    elif head_pool is nn.AdaptiveAvgPool3d:
        _check_pathways("head_output_size", head_output_size, num_pathways)
    if fusion_builder is None:
        fusion_builder = FastToSlowFusionBuilder(
            slowfast_channel_reduction_ratio=ratios[0],
            conv_fusion_channel_ratio=slowfast_conv_channel_fusion_ratio,
            conv_kernel_size=slowfast_fusion_conv_kernel_size,
            conv_stride=slowfast_fusion_conv_stride,
            norm=norm,
            activation=activation,
            max_stage_idx=num_stages - 1,
        ).create_module

    # Modules are built in PyTorchVideo's order (stems, fusion, then per stage: pathways, fusion), so that the
    # same seed draws the same construction-time weights before Net's initialization.
    stems = [
        stem_function[p](
            in_channels=input_channels[p],
            out_channels=stem_dim_outs[p],
            conv_kernel_size=stem_conv_kernel_sizes[p],
            conv_stride=stem_conv_strides[p],
            conv_padding=[k // 2 for k in stem_conv_kernel_sizes[p]],
            pool=stem_pool[p],
            pool_kernel_size=stem_pool_kernel_sizes[p],
            pool_stride=stem_pool_strides[p],
            pool_padding=[k // 2 for k in stem_pool_kernel_sizes[p]],
            norm=norm,
            activation=activation,
        )
        for p in range(num_pathways)
    ]
    blocks = [
        MultiPathWayWithFuse(
            multipathway_blocks=nn.ModuleList(stems),
            multipathway_fusion=fusion_builder(fusion_dim_in=stem_dim_outs[0], stage_idx=0),
        )
    ]

    dim_in = stem_dim_outs[0]
    dim_out = dim_in * 4
    for idx in range(num_stages):
        # The slow pathway also takes the fused fast channels; pathway p >= 1 is 1/ratio as wide.
        widths_in = [dim_in + dim_in * slowfast_conv_channel_fusion_ratio // ratios[0]]
        widths_in += [dim_in // r for r in ratios]
        widths_inner = [dim_out // 4] + [dim_out // 4 // r for r in ratios]
        widths_out = [dim_out] + [dim_out // r for r in ratios]
        stage = []
        for p in range(num_pathways):
            kernel_a = stage_conv_a_kernel_sizes[p][idx]
            if isinstance(kernel_a[0], int):
                padding_a = [k // 2 for k in kernel_a]
            else:  # one kernel per block
                padding_a = [[k // 2 for k in kernel] for kernel in kernel_a]
            kernel_b = stage_conv_b_kernel_sizes[p][idx]
            dilation_b = stage_conv_b_dilations[p][idx]
            spatial_stride = stage_spatial_strides[p][idx]
            stage.append(
                create_res_stage(
                    depth=stage_depths[idx],
                    dim_in=widths_in[p],
                    dim_inner=widths_inner[p],
                    dim_out=widths_out[p],
                    bottleneck=bottleneck[p][idx],
                    conv_a_kernel_size=kernel_a,
                    conv_a_stride=(stage_temporal_strides[p][idx], 1, 1),
                    conv_a_padding=padding_a,
                    conv_b_kernel_size=kernel_b,
                    conv_b_stride=(1, spatial_stride, spatial_stride),
                    conv_b_padding=(
                        kernel_b[0] // 2,
                        dilation_b[1] if dilation_b[1] > 1 else kernel_b[1] // 2,
                        dilation_b[2] if dilation_b[2] > 1 else kernel_b[2] // 2,
                    ),
                    conv_b_num_groups=stage_conv_b_num_groups[p][idx],
                    conv_b_dilation=dilation_b,
                    norm=norm,
                    activation=activation,
                )
            )
        blocks.append(
            MultiPathWayWithFuse(
                multipathway_blocks=nn.ModuleList(stage),
                multipathway_fusion=fusion_builder(fusion_dim_in=dim_out, stage_idx=idx + 1),
            )
        )
        dim_in, dim_out = dim_out, dim_out * 2

    if head_pool is None:
        pools = None
    elif head_pool is nn.AdaptiveAvgPool3d:
        pools = nn.ModuleList(nn.AdaptiveAvgPool3d(head_output_size[p]) for p in range(num_pathways))
    else:
        pools = nn.ModuleList(
            nn.AvgPool3d(kernel_size=head_pool_kernel_sizes[p], stride=(1, 1, 1), padding=(0, 0, 0))
            for p in range(num_pathways)
        )
    blocks.append(PoolConcatPathway(retain_list=False, pool=pools))
    if head is not None:
        blocks.append(
            head(
                in_features=dim_in + sum(dim_in // r for r in ratios),
                out_features=model_num_class,
                pool=None,
                output_size=head_output_size,
                dropout_rate=dropout_rate,
                activation=head_activation,
                output_with_global_average=head_output_with_global_average,
            )
        )
    return Net(blocks=nn.ModuleList(blocks))
