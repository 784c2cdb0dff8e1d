"""Video models: PyTorchVideo's single-pathway builders (3D ResNet, X3D, CSN, R(2+1)D; same module tree,
state_dict keys, initialization and forward), a small 3D ResNet for CPU runs, and torchvision's video
models by name."""

from fastvid.models.csn import create_csn
from fastvid.models.head import ResNetBasicHead, create_res_basic_head
from fastvid.models.net import Net, init_net_weights
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
    create_small_resnet,
)
from fastvid.models.stem import ResNetBasicStem, create_res_basic_stem
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
from fastvid.models.zoo import create_model, list_models

__all__ = [
    "BottleneckBlock",
    "Conv2plus1d",
    "Net",
    "ProjectedPool",
    "ResBlock",
    "ResNetBasicHead",
    "ResNetBasicStem",
    "ResStage",
    "SqueezeExcitation",
    "Swish",
    "create_2plus1d_bottleneck_block",
    "create_bottleneck_block",
    "create_conv_2plus1d",
    "create_csn",
    "create_model",
    "create_r2plus1d",
    "create_res_basic_head",
    "create_res_basic_stem",
    "create_res_block",
    "create_res_stage",
    "create_resnet",
    "create_small_resnet",
    "create_x3d",
    "create_x3d_bottleneck_block",
    "create_x3d_head",
    "create_x3d_res_block",
    "create_x3d_res_stage",
    "create_x3d_stem",
    "init_net_weights",
    "list_models",
]
