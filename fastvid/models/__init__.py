"""Video models: PyTorchVideo's 3D ResNet builders (same module tree and state_dict keys), a small
3D ResNet for CPU runs, and torchvision's video models by name."""

from fastvid.models.head import ResNetBasicHead, create_res_basic_head
from fastvid.models.net import Net, init_net_weights
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
from fastvid.models.zoo import create_model, list_models

__all__ = [
    "BottleneckBlock",
    "Net",
    "ResBlock",
    "ResNetBasicHead",
    "ResNetBasicStem",
    "ResStage",
    "create_bottleneck_block",
    "create_model",
    "create_res_basic_head",
    "create_res_basic_stem",
    "create_res_block",
    "create_res_stage",
    "create_resnet",
    "create_small_resnet",
    "init_net_weights",
    "list_models",
]
