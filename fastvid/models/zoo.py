"""Video classification models by name: PyTorchVideo-layout 3D ResNets, a small CPU ResNet, and
torchvision's video models (randomly initialized; nothing is downloaded)."""

from __future__ import annotations

import torch.nn as nn

from fastvid.models.resnet import create_resnet, create_small_resnet

__all__ = ["create_model", "list_models", "TORCHVISION_MODELS", "RESNET_MODELS"]

RESNET_MODELS = {"resnet50": 50, "resnet101": 101, "resnet152": 152}
TORCHVISION_MODELS = ("r3d_18", "r2plus1d_18", "mc3_18", "s3d", "mvit_v2_s", "swin3d_t")
_SMALL = "resnet_small"


def list_models() -> list[str]:
    """Every name :func:`create_model` accepts."""
    return [_SMALL, *RESNET_MODELS, *TORCHVISION_MODELS]


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
            state_dict), or a torchvision video model ("r3d_18", "r2plus1d_18", "mc3_18", "s3d",
            "mvit_v2_s", "swin3d_t"; weights=None, so nothing is downloaded).
        num_classes: size of the output layer.
        num_frames, crop_size: the clip the model will see. The ResNets keep PyTorchVideo's head
            (AvgPool3d (4, 7, 7)) for 8x224x224 and switch to an adaptive average pool otherwise (the
            pool has no weights: the state_dict is the same); s3d likewise keeps torchvision's
            AvgPool3d (2, 7, 7) for 16x224x224 (which its pool needs at least) and pools adaptively
            otherwise. mvit_v2_s works on 16x224x224 clips only (torchvision builds it for that
            size; other sizes raise ValueError here rather than a shape error in the first forward).
            The other torchvision models accept any size.
        dropout_rate: head dropout; None keeps the model's default.
        **kwargs: passed on to the builder (e.g. ``stem_dim_out`` for "resnet_small").

    Raises:
        ValueError: unknown name, num_classes < 1, or a clip size the model cannot take.
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"create_model: num_classes must be a positive int, got {num_classes!r}")
    if dropout_rate is not None:
        kwargs["dropout_rate" if name == _SMALL or name in RESNET_MODELS else "dropout"] = dropout_rate
    if name == _SMALL:
        return create_small_resnet(model_num_class=num_classes, **kwargs)
    if name in RESNET_MODELS:
        if (num_frames, crop_size) != (8, 224) and "head_pool" not in kwargs:
            kwargs["head_pool"] = nn.AdaptiveAvgPool3d
        return create_resnet(model_depth=RESNET_MODELS[name], model_num_class=num_classes, **kwargs)
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
