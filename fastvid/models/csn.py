"""Channel-separated networks (CSN) with PyTorchVideo's builder function, arguments, defaults and module
tree (``pytorchvideo.models.csn``).

``create_csn()`` returns the 3D ResNet layout of :func:`~fastvid.models.resnet.create_resnet`
(``Net(blocks=ModuleList([ResNetBasicStem, ResStage x 4, ResNetBasicHead]))``) with depthwise 3x3x3
convolutions in the bottlenecks, so its state_dict keys and shapes are PyTorchVideo's and the published
``csn_r101`` checkpoint loads unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn

from fastvid.models.head import create_res_basic_head
from fastvid.models.net import Net
from fastvid.models.resnet import _MODEL_STAGE_DEPTH, create_bottleneck_block, create_res_stage
from fastvid.models.stem import create_res_basic_stem

__all__ = ["create_csn"]


def create_csn(
    *,
    input_channel: int = 3,
    model_depth: int = 50,
    model_num_class: int = 400,
    dropout_rate: float = 0,
    norm: Callable | None = nn.BatchNorm3d,
    activation: Callable | None = nn.ReLU,
    stem_dim_out: int = 64,
    stem_conv_kernel_size: tuple[int, int, int] = (3, 7, 7),
    stem_conv_stride: tuple[int, int, int] = (1, 2, 2),
    stem_pool: Callable | None = None,
    stem_pool_kernel_size: tuple[int, int, int] = (1, 3, 3),
    stem_pool_stride: tuple[int, int, int] = (1, 2, 2),
    stage_conv_a_kernel_size: tuple[int, int, int] = (1, 1, 1),
    stage_conv_b_kernel_size: tuple[int, int, int] = (3, 3, 3),
    stage_conv_b_width_per_group: int = 1,
    stage_spatial_stride: tuple[int, ...] = (1, 2, 2, 2),
    stage_temporal_stride: tuple[int, ...] = (1, 2, 2, 2),
    bottleneck: Callable = create_bottleneck_block,
    bottleneck_ratio: int = 4,
    head_pool: Callable | None = nn.AvgPool3d,
    head_pool_kernel_size: tuple[int, int, int] = (1, 7, 7),
    head_output_size: tuple[int, int, int] = (1, 1, 1),
    head_activation: Callable | None = None,
    head_output_with_global_average: bool = True,
) -> nn.Module:
    """An interaction-reduced channel-separated network (ir-CSN; Tran et al., "Video Classification with
    Channel-Separated Convolutional Networks", 2019), depth 50, 101 or 152, with PyTorchVideo's arguments,
    defaults and module tree.

    Stem (3x7x7 conv stride 1x2x2, BN, ReLU, no pool by default), four stages of bottlenecks whose 3x3x3
    convolution has ``dim_inner // stage_conv_b_width_per_group`` groups (depthwise by default; it strides
    ``stage_temporal_stride`` x ``stage_spatial_stride``\\ :sup:`2`), and a head (avg-pool
    ``head_pool_kernel_size``, dropout, Linear, global average). PyTorchVideo's hub ``csn_r101`` is
    ``create_csn(model_depth=101, stem_pool=nn.MaxPool3d, head_pool_kernel_size=(4, 7, 7))`` on 32x224x224
    clips.

    Raises:
        ValueError: ``model_depth`` is not 50, 101 or 152, or a per-stage stride has fewer than 4 values.
    """
    if model_depth not in _MODEL_STAGE_DEPTH:
        raise ValueError(f"create_csn: model_depth must be one of {sorted(_MODEL_STAGE_DEPTH)}, got {model_depth!r}")
    stage_depths = _MODEL_STAGE_DEPTH[model_depth]
    for name, value in (
        ("stage_spatial_stride", stage_spatial_stride),
        ("stage_temporal_stride", stage_temporal_stride),
    ):
        if len(value) < len(stage_depths):
            raise ValueError(f"create_csn: {name} must give one value per stage (4), got {value!r}")
    blocks = [
        create_res_basic_stem(
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
    dim_in, dim_out = stem_dim_out, stem_dim_out * 4
    for idx, depth in enumerate(stage_depths):
        dim_inner = dim_out // bottleneck_ratio
        blocks.append(
            create_res_stage(
                depth=depth,
                dim_in=dim_in,
                dim_inner=dim_inner,
                dim_out=dim_out,
                bottleneck=bottleneck,
                conv_a_kernel_size=stage_conv_a_kernel_size,
                conv_a_stride=(1, 1, 1),
                conv_a_padding=[k // 2 for k in stage_conv_a_kernel_size],
                conv_b_kernel_size=stage_conv_b_kernel_size,
                conv_b_stride=(stage_temporal_stride[idx], stage_spatial_stride[idx], stage_spatial_stride[idx]),
                conv_b_padding=[k // 2 for k in stage_conv_b_kernel_size],
                conv_b_num_groups=dim_inner // stage_conv_b_width_per_group,
                conv_b_dilation=(1, 1, 1),
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
