"""Video classification models by name: PyTorchVideo-layout 3D ResNets, X3D, CSN, R(2+1)D and MViT-B, a small
CPU ResNet, and torchvision's video models (randomly initialized; nothing is downloaded)."""

from __future__ import annotations

import torch.nn as nn

from fastvid.models.csn import create_csn
from fastvid.models.r2plus1d import create_r2plus1d
from fastvid.models.resnet import create_resnet, create_small_resnet
from fastvid.models.vision_transformers import MVIT_HUB_CONFIGS, create_multiscale_vision_transformers
from fastvid.models.x3d import create_x3d

__all__ = [
    "create_model",
    "list_models",
    "TORCHVISION_MODELS",
    "RESNET_MODELS",
    "X3D_MODELS",
    "PTV_HUB_MODELS",
    "MVIT_MODELS",
]

RESNET_MODELS = {"resnet50": 50, "resnet101": 101, "resnet152": 152}
# PyTorchVideo's hub X3Ds: the clip (frames, crop) each was published for, and create_x3d's depth_factor.
X3D_MODELS = {
    "x3d_xs": {"clip": (4, 160), "depth_factor": 2.2},
    "x3d_s": {"clip": (13, 160), "depth_factor": 2.2},
    "x3d_m": {"clip": (16, 224), "depth_factor": 2.2},
    "x3d_l": {"clip": (16, 312), "depth_factor": 5.0},
}
# PyTorchVideo's hub Slow / C2D / I3D ResNet-50s, CSN and R(2+1)D: the builder, its hub arguments, and the clip
# its head pool is sized for.
PTV_HUB_MODELS = {
    "slow_r50": (
        create_resnet,
        {"model_depth": 50, "stem_conv_kernel_size": (1, 7, 7), "head_pool_kernel_size": (8, 7, 7)},
        (8, 224),
    ),
    "c2d_r50": (
        create_resnet,
        {
            "model_depth": 50,
            "stem_conv_kernel_size": (1, 7, 7),
            "stage1_pool": nn.MaxPool3d,
            "stage_conv_a_kernel_size": ((1, 1, 1),) * 4,
        },
        (8, 224),
    ),
    "i3d_r50": (
        create_resnet,
        {
            "model_depth": 50,
            "stem_conv_kernel_size": (5, 7, 7),
            "stage1_pool": nn.MaxPool3d,
            "stage_conv_a_kernel_size": (
                (3, 1, 1),
                [(3, 1, 1), (1, 1, 1)],
                [(3, 1, 1), (1, 1, 1)],
                [(1, 1, 1), (3, 1, 1)],
            ),
        },
        (8, 224),
    ),
    "csn_r101": (
        create_csn,
        {"model_depth": 101, "stem_pool": nn.MaxPool3d, "head_pool_kernel_size": (4, 7, 7)},
        (32, 224),
    ),
    "r2plus1d_r50": (create_r2plus1d, {"dropout_rate": 0.5, "head_activation": None}, (16, 224)),
}
# PyTorchVideo's hub MViT-B video models (create_multiscale_vision_transformers with MVIT_HUB_CONFIGS[name]): the
# (frames, crop) their position embedding is built for, the only clip they take.
MVIT_MODELS = {"mvit_base_16x4": (16, 224), "mvit_base_32x3": (32, 224)}
# X3D's total spatial stride (stem 2 x four stages of 2): the smallest crop its head can pool.
_X3D_MIN_CROP = 32
TORCHVISION_MODELS = ("r3d_18", "r2plus1d_18", "mc3_18", "s3d", "mvit_v2_s", "swin3d_t")
_SMALL = "resnet_small"


def list_models() -> list[str]:
    """Every name :func:`create_model` accepts."""
    return [_SMALL, *RESNET_MODELS, *X3D_MODELS, *PTV_HUB_MODELS, *MVIT_MODELS, *TORCHVISION_MODELS]


def create_model(
    name: str,
    *,
    num_classes: int,
    num_frames: int = 8,
    crop_size: int = 224,
    dropout_rate: float | None = None,
    **kwargs,
) -> nn.Module:
    """Builds a video classifier that maps (B, 3, T, H, W) float clips to (B, num_classes) logits.

    Args:
        name: one of :func:`list_models`: "resnet_small" (:func:`create_small_resnet`, for CPU runs),
            "resnet50" / "resnet101" / "resnet152" (:func:`create_resnet`, PyTorchVideo's layout and
            state_dict), "x3d_xs" / "x3d_s" / "x3d_m" / "x3d_l" (:func:`~fastvid.models.x3d.create_x3d`
            as PyTorchVideo's hub builds them), "csn_r101" (:func:`~fastvid.models.csn.create_csn`) and
            "r2plus1d_r50" (:func:`~fastvid.models.r2plus1d.create_r2plus1d`), "slow_r50" / "c2d_r50" /
            "i3d_r50" (:func:`create_resnet` with the hub's Slow, C2D and I3D settings), "mvit_base_16x4" /
            "mvit_base_32x3" (:func:`~fastvid.models.vision_transformers.create_multiscale_vision_transformers`
            with the hub's MViT-B configuration), PyTorchVideo's hub models with its state_dict keys, or a
            torchvision video model ("r3d_18", "r2plus1d_18", "mc3_18",
            "s3d", "mvit_v2_s", "swin3d_t"; weights=None, so nothing is downloaded). Every model returns
            logits: the X3Ds and r2plus1d_r50 are built with ``head_activation=None`` (PyTorchVideo's
            default is a softmax; the weights are the same).
        num_classes: size of the output layer.
        num_frames, crop_size: the clip the model will see. The ResNets keep PyTorchVideo's head
            (AvgPool3d (4, 7, 7)) for 8x224x224 and switch to an adaptive average pool otherwise (the
            pool has no weights: the state_dict is the same); s3d likewise keeps torchvision's
            AvgPool3d (2, 7, 7) for 16x224x224 (which its pool needs at least) and pools adaptively
            otherwise. The X3Ds' head pool is built for the clip given (``input_clip_length=num_frames``,
            ``input_crop_size=crop_size``, as create_x3d does for its hub sizes: XS 4x160x160, S 13x160x160,
            M 16x224x224, L 16x312x312); the crop must be at least 32 (the total spatial stride).
            csn_r101 keeps its hub head (AvgPool3d (4, 7, 7)) for 32x224x224, r2plus1d_r50 for
            16x224x224 and slow_r50 / c2d_r50 / i3d_r50 for 8x224x224, and they pool adaptively otherwise
            (c2d_r50 and i3d_r50 halve the frames after stage 1: they need at least 2). mvit_base_16x4 takes 16x224x224 and mvit_base_32x3
            32x224x224 clips only (their position embedding has one entry per patch of that clip; other sizes
            raise ValueError here). mvit_v2_s works on 16x224x224 clips only
            (torchvision builds it for that size; other sizes raise ValueError here rather than a shape
            error in the first forward).
            The other torchvision models accept any size.
        dropout_rate: head dropout (``head_dropout_rate`` for the MViTs); None keeps the model's default.
        **kwargs: passed on to the builder (e.g. ``stem_dim_out`` for "resnet_small").

    Raises:
        ValueError: unknown name, num_classes < 1, or a clip size the model cannot take.
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"create_model: num_classes must be a positive int, got {num_classes!r}")
    if dropout_rate is not None and name in MVIT_MODELS:
        kwargs["head_dropout_rate"] = dropout_rate
    elif dropout_rate is not None:
        takes_rate = name == _SMALL or name in RESNET_MODELS or name in X3D_MODELS or name in PTV_HUB_MODELS
        kwargs["dropout_rate" if takes_rate else "dropout"] = dropout_rate
    if name == _SMALL:
        return create_small_resnet(model_num_class=num_classes, **kwargs)
    if name in RESNET_MODELS:
        if (num_frames, crop_size) != (8, 224) and "head_pool" not in kwargs:
            kwargs["head_pool"] = nn.AdaptiveAvgPool3d
        return create_resnet(model_depth=RESNET_MODELS[name], model_num_class=num_classes, **kwargs)
    if name in X3D_MODELS:
        frames_ok = isinstance(num_frames, int) and num_frames >= 1
        if not frames_ok or not isinstance(crop_size, int) or crop_size < _X3D_MIN_CROP:
            raise ValueError(
                f"create_model: {name} needs num_frames >= 1 and crop_size >= {_X3D_MIN_CROP} (its total spatial "
                f"stride; its head pools the whole final feature map), got num_frames={num_frames!r}, "
                f"crop_size={crop_size!r}; use a crop of {_X3D_MIN_CROP} or more (fastvid-train --crop-size)"
            )
        kwargs.setdefault("head_activation", None)
        return create_x3d(
            input_clip_length=num_frames,
            input_crop_size=crop_size,
            model_num_class=num_classes,
            depth_factor=X3D_MODELS[name]["depth_factor"],
            **kwargs,
        )
    if name in PTV_HUB_MODELS:
        builder, hub_kwargs, hub_clip = PTV_HUB_MODELS[name]
        kwargs = {**hub_kwargs, **kwargs}
        if (num_frames, crop_size) != hub_clip and "head_pool" not in kwargs:
            kwargs["head_pool"] = nn.AdaptiveAvgPool3d
        return builder(model_num_class=num_classes, **kwargs)
    if name in MVIT_MODELS:
        frames, crop = MVIT_MODELS[name]
        if (num_frames, crop_size) != (frames, crop):
            raise ValueError(
                f"create_model: {name} takes {frames}x{crop}x{crop} clips only (its position embedding is built "
                f"for that size), got num_frames={num_frames}, crop_size={crop_size}; use {frames} frames and a "
                f"{crop} crop (fastvid-train --frames {frames} --crop-size {crop})"
            )
        return create_multiscale_vision_transformers(
            **{**MVIT_HUB_CONFIGS[name], "head_num_classes": num_classes, **kwargs}
        )
    if name in TORCHVISION_MODELS:
        import torchvision.models.video as tv_video

        builder = getattr(tv_video, name)
        if "dropout" in kwargs and name in ("r3d_18", "r2plus1d_18", "mc3_18"):
            raise ValueError(f"create_model: torchvision's {name} has no dropout; pass dropout_rate=None")
        if name == "mvit_v2_s" and (num_frames, crop_size) != (16, 224):
            raise ValueError(
                f"create_model: mvit_v2_s takes 16x224x224 clips only (torchvision builds it for that size), "
                f"got num_frames={num_frames}, crop_size={crop_size}; use 16 frames and a 224 crop "
                "(fastvid-train --frames 16 --crop-size 224)"
            )
        model = builder(weights=None, num_classes=num_classes, **kwargs)
        if name == "s3d" and (num_frames, crop_size) != (16, 224):
            model.avgpool = nn.AdaptiveAvgPool3d(1)
        return model
    raise ValueError(f"create_model: name must be one of {list_models()}, got {name!r}")
