"""The ResNet RoI (detection) head and the SlowFast detector (``create_res_roi_pooling_head`` and
``ResNetRoIHead`` of ``pytorchvideo.models.head``, ``create_slowfast_with_roi_head`` of
``pytorchvideo.models.slowfast``).

This module imports ``torchvision.ops`` (for ``RoIAlign``), so :mod:`fastvid.models` and
:mod:`fastvid.models.slowfast` load it only when one of its names is first used.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn
from torchvision.ops import RoIAlign

from fastvid.models.multipathway import DetectionBBoxNetwork
from fastvid.models.resnet import create_bottleneck_block
from fastvid.models.slowfast import _MODEL_STAGE_DEPTH, create_slowfast
from fastvid.models.stem import create_res_basic_stem

__all__ = ["ResNetRoIHead", "create_res_roi_pooling_head", "create_slowfast_with_roi_head"]


class ResNetRoIHead(nn.Module):
    """Optional 3D pooling, RoI interpolation of each box on the (temporally pooled) feature map, optional
    2D pooling, dropout, a Linear over channels, optional activation and global average.

    ``forward(x, bboxes)``: ``x`` is (B, C, T, H, W) with T == 1 after ``pool`` when ``roi_layer`` is set;
    ``bboxes`` is (K, 5) rows ``(batch index, x1, y1, x2, y2)`` for RoIAlign. The result has one row per box.
    Submodules are registered in PyTorchVideo's order: pool, pool_spatial, roi_layer, dropout, proj,
    activation, output_pool.
    """

    def __init__(
        self,
        pool: nn.Module | None = None,
        pool_spatial: nn.Module | None = None,
        roi_layer: nn.Module | None = None,
        dropout: nn.Module | None = None,
        proj: nn.Module | None = None,
        activation: nn.Module | None = None,
        output_pool: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if proj is None:
            raise ValueError("ResNetRoIHead: proj is required, got None")
        self.pool = pool
        self.pool_spatial = pool_spatial
        self.roi_layer = roi_layer
        self.dropout = dropout
        self.proj = proj
        self.activation = activation
        self.output_pool = output_pool

    def forward(self, x: torch.Tensor, bboxes: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = self.pool(x)
        if self.roi_layer is not None:
            if x.shape[-3] != 1:
                raise ValueError(
                    f"ResNetRoIHead: the features must have 1 frame after the pool (RoIAlign is 2D), got "
                    f"{x.shape[-3]} (shape {tuple(x.shape)}); pool over time first"
                )
            x = self.roi_layer(x.squeeze(-3), bboxes)
            if self.pool_spatial is not None:
                x = self.pool_spatial(x)
            x = x.unsqueeze(-3)
        if self.dropout is not None:
            x = self.dropout(x)
        # A Linear over channels: channels last, project, channels back.
        x = self.proj(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
        if self.activation is not None:
            x = self.activation(x)
        if self.output_pool is not None:
            x = self.output_pool(x)
            x = x.reshape(x.shape[0], -1)
        return x


def create_res_roi_pooling_head(
    *,
    in_features: int,
    out_features: int,
    resolution: tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int = 0,
    roi: Callable = RoIAlign,
    pool: Callable | None = nn.AvgPool3d,
    output_size: tuple[int, int, int] = (1, 1, 1),
    pool_kernel_size: tuple[int, int, int] = (1, 7, 7),
    pool_stride: tuple[int, int, int] = (1, 1, 1),
    pool_padding: tuple[int, int, int] = (0, 0, 0),
    pool_spatial: Callable | None = nn.MaxPool2d,
    dropout_rate: float = 0.5,
    activation: Callable | None = None,
    output_with_global_average: bool = True,
) -> nn.Module:
    """Builds a :class:`ResNetRoIHead` (PyTorchVideo's arguments and defaults).

    ``roi(output_size=resolution, spatial_scale=..., sampling_ratio=...)`` interpolates each box to
    ``resolution``; ``pool_spatial(resolution, stride=1)`` then pools it to 1x1. ``pool`` is built as in
    :func:`~fastvid.models.head.create_res_basic_head` (``nn.AdaptiveAvgPool3d`` pools to ``output_size``).
    """
    if activation is None:
        activation_module = None
    elif activation is nn.Softmax:
        activation_module = activation(dim=1)
    else:
        activation_module = activation()
    if pool is None:
        pool_module = None
    elif pool is nn.AdaptiveAvgPool3d:
        pool_module = pool(output_size)
    else:
        pool_module = pool(kernel_size=pool_kernel_size, stride=pool_stride, padding=pool_padding)
    return ResNetRoIHead(
        proj=nn.Linear(in_features, out_features),
        activation=activation_module,
        pool=pool_module,
        pool_spatial=pool_spatial(resolution, stride=1) if pool_spatial else None,
        roi_layer=roi(output_size=resolution, spatial_scale=spatial_scale, sampling_ratio=sampling_ratio),
        dropout=nn.Dropout(dropout_rate) if dropout_rate > 0 else None,
        output_pool=nn.AdaptiveAvgPool3d(1) if output_with_global_average else None,
    )


def create_slowfast_with_roi_head(
    *,
    slowfast_channel_reduction_ratio=(8,),
    slowfast_conv_channel_fusion_ratio: int = 2,
    slowfast_fusion_conv_kernel_size: tuple[int, int, int] = (7, 1, 1),
    slowfast_fusion_conv_stride: tuple[int, int, int] = (4, 1, 1),
    fusion_builder: Callable | None = None,
    input_channels: tuple[int, ...] = (3, 3),
    model_depth: int = 50,
    model_num_class: int = 80,
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
        ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 2, 2)),
        ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 2, 2)),
    ),
    stage_spatial_strides=((1, 2, 2, 1), (1, 2, 2, 1)),
    stage_temporal_strides=((1, 1, 1, 1), (1, 1, 1, 1)),
    bottleneck=((create_bottleneck_block,) * 4,) * 2,
    head: Callable = create_res_roi_pooling_head,
    head_pool: Callable | None = nn.AvgPool3d,
    head_pool_kernel_sizes=((8, 1, 1), (32, 1, 1)),
    head_output_size: tuple[int, int, int] = (1, 1, 1),
    head_activation: Callable | None = nn.Sigmoid,
    head_output_with_global_average: bool = False,
    head_spatial_resolution: tuple[int, int] = (7, 7),
    head_spatial_scale: float = 1.0 / 16.0,
    head_sampling_ratio: int = 0,
) -> nn.Module:
    """SlowFast for detection (PyTorchVideo's ``slowfast_r50_detection``, AVA): a :func:`create_slowfast`
    backbone without a head (last stage dilated 2 instead of strided, both pathways pooled over time) and a
    :func:`create_res_roi_pooling_head` on its concatenated features, in a :class:`DetectionBBoxNetwork`
    (``model(x, bboxes)`` with ``x = [slow, fast]`` and ``bboxes`` (K, 5); returns (K, model_num_class)
    sigmoid scores by default). PyTorchVideo 0.1.5's arguments, defaults and module tree (state_dict keys
    ``model.blocks.*`` and ``detection_head.proj.*``).

    As in PyTorchVideo 0.1.5, ``fusion_builder``, ``stem_function``, ``bottleneck`` and ``head`` are accepted
    and ignored (the backbone is built with the default fusion, stems and bottleneck blocks, and the head is
    always :func:`create_res_roi_pooling_head`), ``head_output_size`` goes to the detection head only, and the
    head's input width is ``w + w // (stem_dim_outs[0] // stem_dim_outs[1])`` with ``w = stem_dim_outs[0] * 32``. The detection head keeps
    PyTorch's default Linear initialization (it is not part of the backbone's ``Net``).
    """
    if model_depth not in _MODEL_STAGE_DEPTH:
        raise ValueError(
            f"create_slowfast_with_roi_head: model_depth must be one of {sorted(_MODEL_STAGE_DEPTH)}, "
            f"got {model_depth!r}"
        )
    backbone = create_slowfast(
        slowfast_channel_reduction_ratio=slowfast_channel_reduction_ratio,
        slowfast_conv_channel_fusion_ratio=slowfast_conv_channel_fusion_ratio,
        slowfast_fusion_conv_kernel_size=slowfast_fusion_conv_kernel_size,
        slowfast_fusion_conv_stride=slowfast_fusion_conv_stride,
        input_channels=input_channels,
        model_depth=model_depth,
        model_num_class=model_num_class,
        dropout_rate=dropout_rate,
        norm=norm,
        activation=activation,
        stem_dim_outs=stem_dim_outs,
        stem_conv_kernel_sizes=stem_conv_kernel_sizes,
        stem_conv_strides=stem_conv_strides,
        stem_pool=stem_pool,
        stem_pool_kernel_sizes=stem_pool_kernel_sizes,
        stem_pool_strides=stem_pool_strides,
        stage_conv_a_kernel_sizes=stage_conv_a_kernel_sizes,
        stage_conv_b_kernel_sizes=stage_conv_b_kernel_sizes,
        stage_conv_b_num_groups=stage_conv_b_num_groups,
        stage_conv_b_dilations=stage_conv_b_dilations,
        stage_spatial_strides=stage_spatial_strides,
        stage_temporal_strides=stage_temporal_strides,
        bottleneck=create_bottleneck_block,
        head=None,
        head_pool=head_pool,
        head_pool_kernel_sizes=head_pool_kernel_sizes,
    )
    stage_dim_out = stem_dim_outs[0] * 2 ** (len(_MODEL_STAGE_DEPTH[model_depth]) + 1)
    beta = stem_dim_outs[0] // stem_dim_outs[1]
    detection_head = create_res_roi_pooling_head(
        in_features=stage_dim_out + stage_dim_out // beta,
        out_features=model_num_class,
        pool=None,
        output_size=head_output_size,
        dropout_rate=dropout_rate,
        activation=head_activation,
        output_with_global_average=head_output_with_global_average,
        resolution=head_spatial_resolution,
        spatial_scale=head_spatial_scale,
        sampling_ratio=head_sampling_ratio,
    )
    return DetectionBBoxNetwork(backbone, detection_head)
