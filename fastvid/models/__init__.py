"""Video models: PyTorchVideo's builders (3D ResNet, X3D, CSN, R(2+1)D, SlowFast, MViT; same module tree,
state_dict keys, initialization and forward), a small 3D ResNet for CPU runs, and torchvision's video
models by name; ``load_pretrained`` initializes any of them from a checkpoint (PyTorchVideo's published ones
included) for fine-tuning.

``ResNetRoIHead``, ``create_res_roi_pooling_head`` and ``create_slowfast_with_roi_head`` (detection) come
from :mod:`fastvid.models.roi_head`, which is imported on first use (it imports ``torchvision.ops``).
"""

from fastvid.models.attention import DropPath, Mlp, MultiScaleAttention, MultiScaleBlock
from fastvid.models.csn import create_csn
from fastvid.models.head import (
    ResNetBasicHead,
    SequencePool,
    VisionTransformerBasicHead,
    create_res_basic_head,
    create_vit_basic_head,
)
from fastvid.models.multipathway import DetectionBBoxNetwork, MultiPathWayWithFuse
from fastvid.models.net import Net, init_net_weights
from fastvid.models.positional_encoding import SpatioTemporalClsPositionalEncoding
from fastvid.models.r2plus1d import (
    Conv2plus1d,
    create_2plus1d_bottleneck_block,
    create_conv_2plus1d,
    create_r2plus1d,
)
from fastvid.models.resnet import (
    BottleneckBlock,
    ResBlock,
    ResStage,
    create_bottleneck_block,
    create_res_block,
    create_res_stage,
    create_resnet,
    create_resnet_with_roi_head,
    create_small_resnet,
)
from fastvid.models.slowfast import FastToSlowFusionBuilder, FuseFastToSlow, PoolConcatPathway, create_slowfast
from fastvid.models.stem import PatchEmbed, ResNetBasicStem, create_conv_patch_embed, create_res_basic_stem
from fastvid.models.vision_transformers import MultiscaleVisionTransformers, create_multiscale_vision_transformers
from fastvid.models.x3d import (
    ProjectedPool,
    SqueezeExcitation,
    Swish,
    create_x3d,
    create_x3d_bottleneck_block,
    create_x3d_head,
    create_x3d_res_block,
    create_x3d_res_stage,
    create_x3d_stem,
)
from fastvid.models.weights import PYTORCHVIDEO_CHECKPOINTS, LoadedWeights, load_pretrained, read_state_dict
from fastvid.models.zoo import create_model, list_models

_ROI_HEAD_NAMES = ("ResNetRoIHead", "create_res_roi_pooling_head", "create_slowfast_with_roi_head")


def __getattr__(name: str):
    if name in _ROI_HEAD_NAMES:
        from fastvid.models import roi_head

        return getattr(roi_head, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BottleneckBlock",
    "Conv2plus1d",
    "DetectionBBoxNetwork",
    "DropPath",
    "FastToSlowFusionBuilder",
    "FuseFastToSlow",
    "LoadedWeights",
    "Mlp",
    "MultiPathWayWithFuse",
    "MultiScaleAttention",
    "MultiScaleBlock",
    "MultiscaleVisionTransformers",
    "Net",
    "PYTORCHVIDEO_CHECKPOINTS",
    "PatchEmbed",
    "PoolConcatPathway",
    "ProjectedPool",
    "ResBlock",
    "ResNetBasicHead",
    "ResNetBasicStem",
    "ResNetRoIHead",
    "ResStage",
    "SequencePool",
    "SpatioTemporalClsPositionalEncoding",
    "SqueezeExcitation",
    "Swish",
    "VisionTransformerBasicHead",
    "create_2plus1d_bottleneck_block",
    "create_bottleneck_block",
    "create_conv_2plus1d",
    "create_conv_patch_embed",
    "create_csn",
    "create_model",
    "create_multiscale_vision_transformers",
    "create_r2plus1d",
    "create_res_basic_head",
    "create_res_basic_stem",
    "create_res_block",
    "create_res_roi_pooling_head",
    "create_res_stage",
    "create_resnet",
    "create_resnet_with_roi_head",
    "create_slowfast",
    "create_slowfast_with_roi_head",
    "create_small_resnet",
    "create_vit_basic_head",
    "create_x3d",
    "create_x3d_bottleneck_block",
    "create_x3d_head",
    "create_x3d_res_block",
    "create_x3d_res_stage",
    "create_x3d_stem",
    "init_net_weights",
    "list_models",
    "load_pretrained",
    "read_state_dict",
]
