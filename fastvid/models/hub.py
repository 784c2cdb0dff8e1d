"""PyTorchVideo's torch.hub model builders (``pytorchvideo.models.hub``): same names, same signature
``name(pretrained=False, progress=True, **kwargs)``, same architectures.

Each builder calls fastvid's PyTorchVideo-compatible builder (:func:`~fastvid.models.create_resnet`,
:func:`~fastvid.models.create_x3d`, :func:`~fastvid.models.create_slowfast`, ...) with the settings PyTorchVideo
0.1.5's hub passes, so the model has PyTorchVideo's module tree, state_dict keys, initialization and outputs
(including its output activations: a softmax for the X3Ds and R(2+1)D, a sigmoid for the detectors; pass
``head_activation=None`` for logits).
``pretrained=True`` loads PyTorchVideo's published checkpoint (:data:`CHECKPOINT_URLS`, downloaded once into
torch.hub's cache, ``progress`` showing a progress bar) with :func:`fastvid.models.load_pretrained`.

Differences on purpose:

* ``kwargs`` may change any setting, the hub's own included (``x3d_m(input_crop_size=256)``; PyTorchVideo
  raised TypeError for a repeated keyword, except for the MViTs, where a ``None`` value keeps the hub's setting,
  as there).
* ``pretrained=True`` accepts ``kwargs``: the checkpoint must then still fit, except the output layer, which
  keeps its fresh initialization when ``model_num_class`` / ``head_num_classes`` differs (fine-tuning); other
  mismatches raise ValueError naming the tensors (PyTorchVideo asserted for the MViTs and failed in
  ``load_state_dict`` otherwise).
* ``efficient_x3d_xs`` / ``efficient_x3d_s`` (PyTorchVideo's mobile-CPU accelerator models) raise
  NotImplementedError naming the alternative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.nn as nn

from fastvid.models.csn import create_csn
from fastvid.models.r2plus1d import create_r2plus1d
from fastvid.models.resnet import create_resnet_with_roi_head
from fastvid.models.slowfast import create_slowfast
from fastvid.models.vision_transformers import MVIT_HUB_CONFIGS, create_multiscale_vision_transformers
from fastvid.models.weights import _ZOO, PYTORCHVIDEO_CHECKPOINTS, load_pretrained
from fastvid.models.x3d import create_x3d
from fastvid.models.zoo import PTV_HUB_MODELS, X3D_MODELS

__all__ = [
    "CHECKPOINT_URLS",
    "c2d_r50",
    "csn_r101",
    "efficient_x3d_s",
    "efficient_x3d_xs",
    "i3d_r50",
    "mvit_base_16",
    "mvit_base_16x4",
    "mvit_base_32x3",
    "r2plus1d_r50",
    "slow_r50",
    "slow_r50_detection",
    "slowfast_16x8_r101_50_50",
    "slowfast_r101",
    "slowfast_r50",
    "slowfast_r50_detection",
    "x3d_l",
    "x3d_m",
    "x3d_s",
    "x3d_xs",
]

#: PyTorchVideo's published checkpoint of each hub model (Kinetics-400; AVA for the detectors, ImageNet-1k for
#: mvit_base_16).
CHECKPOINT_URLS = {
    **PYTORCHVIDEO_CHECKPOINTS,
    "slowfast_r50": f"{_ZOO}/kinetics/SLOWFAST_8x8_R50.pyth",
    "slowfast_r101": f"{_ZOO}/kinetics/SLOWFAST_8x8_R101.pyth",
    "slowfast_16x8_r101_50_50": f"{_ZOO}/kinetics/SLOWFAST_16x8_R101_50_50.pyth",
    "slowfast_r50_detection": f"{_ZOO}/ava/SLOWFAST_8x8_R50_DETECTION.pyth",
    "slow_r50_detection": f"{_ZOO}/ava/SLOW_4x16_R50_DETECTION.pyth",
    "mvit_base_16": f"{_ZOO}/imagenet/MVIT_B_16_f292487636.pyth",
}


def _slowfast_with_roi_head(**kwargs) -> nn.Module:
    from fastvid.models.roi_head import create_slowfast_with_roi_head  # imports torchvision.ops: on use only

    return create_slowfast_with_roi_head(**kwargs)


def _x3d(name: str) -> tuple[Callable, dict]:
    frames, crop = X3D_MODELS[name]["clip"]
    settings = {"input_clip_length": frames, "input_crop_size": crop}
    if X3D_MODELS[name]["depth_factor"] != 2.2:  # create_x3d's default; PyTorchVideo's hub passes it for x3d_l only
        settings["depth_factor"] = X3D_MODELS[name]["depth_factor"]
    return create_x3d, settings


# slowfast_16x8_r101_50_50: stage 4 (res4) has a temporal kernel of 3 in its first 6 blocks only.
_R101_50_50_RES4 = ((3, 1, 1),) * 6 + ((1, 1, 1),) * (23 - 6)

# name -> (fastvid builder, the keyword arguments PyTorchVideo 0.1.5's hub passes it)
_HUB: dict[str, tuple[Callable, dict[str, Any]]] = {
    **{name: (PTV_HUB_MODELS[name][0], dict(PTV_HUB_MODELS[name][1])) for name in ("slow_r50", "c2d_r50", "i3d_r50")},
    "slow_r50_detection": (create_resnet_with_roi_head, {}),
    "csn_r101": (create_csn, dict(PTV_HUB_MODELS["csn_r101"][1])),
    "r2plus1d_r50": (create_r2plus1d, {"dropout_rate": 0.5}),
    **{name: _x3d(name) for name in ("x3d_xs", "x3d_s", "x3d_m", "x3d_l")},
    "slowfast_r50": (create_slowfast, {"model_depth": 50, "slowfast_fusion_conv_kernel_size": (7, 1, 1)}),
    "slowfast_r101": (create_slowfast, {"model_depth": 101, "slowfast_fusion_conv_kernel_size": (5, 1, 1)}),
    "slowfast_16x8_r101_50_50": (
        create_slowfast,
        {
            "model_depth": 101,
            "slowfast_fusion_conv_kernel_size": (5, 1, 1),
            "stage_conv_a_kernel_sizes": (
                ((1, 1, 1), (1, 1, 1), _R101_50_50_RES4, (3, 1, 1)),
                ((3, 1, 1), (3, 1, 1), _R101_50_50_RES4, (3, 1, 1)),
            ),
            "head_pool_kernel_sizes": ((16, 7, 7), (64, 7, 7)),
        },
    ),
    "slowfast_r50_detection": (_slowfast_with_roi_head, {}),
    **{name: (create_multiscale_vision_transformers, dict(MVIT_HUB_CONFIGS[name])) for name in MVIT_HUB_CONFIGS},
}


def _build(name: str, pretrained: bool, progress: bool, kwargs: dict[str, Any]) -> nn.Module:
    builder, settings = _HUB[name]
    if builder is create_multiscale_vision_transformers:
        # PyTorchVideo's hub_model_builder: a None argument takes the hub's value
        kwargs = {k: v for k, v in kwargs.items() if not (v is None and k in settings)}
    model = builder(**{**settings, **kwargs})
    if pretrained:
        loaded = load_pretrained(model, CHECKPOINT_URLS[name], progress=progress)
        if loaded.kept_at_init and not {"model_num_class", "head_num_classes"} & set(kwargs):
            # the checkpoint's output layer does not fit a model at the hub's own class count: not a fine-tuning
            # request, so a fresh head would be a silent surprise (PyTorchVideo's load_state_dict fails here)
            raise ValueError(
                f"{name}(pretrained=True): the checkpoint's output layer ({', '.join(loaded.kept_at_init)}) is for "
                f"{loaded.checkpoint_classes} classes, not the model's; pass model_num_class / head_num_classes to "
                "fine-tune with a fresh output layer"
            )
    return model


def slow_r50(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """Slow R50, 8x8 (Kinetics-400, top-1 74.58): ``create_resnet(stem_conv_kernel_size=(1, 7, 7),
    head_pool_kernel_size=(8, 7, 7), model_depth=50)``; 8x224x224 clips. ``kwargs`` change any setting."""
    return _build("slow_r50", pretrained, progress, kwargs)


def c2d_r50(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """C2D R50, 8x8 (Kinetics-400, top-1 71.46): ``create_resnet`` with a (1, 7, 7) stem, no temporal kernels
    and a max-pool over time after stage 1; 8x224x224 clips."""
    return _build("c2d_r50", pretrained, progress, kwargs)


def i3d_r50(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """I3D R50, 8x8 (Kinetics-400, top-1 73.27): ``create_resnet`` with a (5, 7, 7) stem, inflated temporal
    kernels and a max-pool over time after stage 1; 8x224x224 clips."""
    return _build("i3d_r50", pretrained, progress, kwargs)


def slow_r50_detection(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """Slow R50 detector, 4x16 (AVA): :func:`~fastvid.models.resnet.create_resnet_with_roi_head` at its defaults
    (80 classes, sigmoid scores); ``model(x, bboxes)``."""
    return _build("slow_r50_detection", pretrained, progress, kwargs)


def x3d_xs(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """X3D-XS (Kinetics-400, top-1 69.12): ``create_x3d(input_clip_length=4, input_crop_size=160)``; softmax
    output, as PyTorchVideo's (``head_activation=None`` for logits)."""
    return _build("x3d_xs", pretrained, progress, kwargs)


def x3d_s(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """X3D-S (Kinetics-400, top-1 73.33): ``create_x3d(input_clip_length=13, input_crop_size=160)``."""
    return _build("x3d_s", pretrained, progress, kwargs)


def x3d_m(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """X3D-M (Kinetics-400, top-1 75.94): ``create_x3d(input_clip_length=16, input_crop_size=224)``."""
    return _build("x3d_m", pretrained, progress, kwargs)


def x3d_l(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """X3D-L (Kinetics-400, top-1 77.44): ``create_x3d(input_clip_length=16, input_crop_size=312,
    depth_factor=5.0)``."""
    return _build("x3d_l", pretrained, progress, kwargs)


def slowfast_r50(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """SlowFast R50, 8x8 (Kinetics-400, top-1 76.94): ``create_slowfast(model_depth=50,
    slowfast_fusion_conv_kernel_size=(7, 1, 1))``; input ``[slow (8 frames), fast (32 frames)]``."""
    return _build("slowfast_r50", pretrained, progress, kwargs)


def slowfast_r101(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """SlowFast R101, 8x8 (Kinetics-400, top-1 77.90): ``create_slowfast(model_depth=101,
    slowfast_fusion_conv_kernel_size=(5, 1, 1))``."""
    return _build("slowfast_r101", pretrained, progress, kwargs)


def slowfast_16x8_r101_50_50(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """SlowFast R101_50_50, 16x8 (Kinetics-400, top-1 78.70): SlowFast R101 whose res4 has temporal kernels in
    its first 6 blocks only; input ``[slow (16 frames), fast (64 frames)]``."""
    return _build("slowfast_16x8_r101_50_50", pretrained, progress, kwargs)


def slowfast_r50_detection(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """SlowFast R50 detector, 8x8 (AVA): :func:`~fastvid.models.create_slowfast_with_roi_head` at its defaults
    (80 classes, sigmoid scores); ``model([slow, fast], bboxes)``."""
    return _build("slowfast_r50_detection", pretrained, progress, kwargs)


def csn_r101(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """CSN R101, 32x2 (Kinetics-400, top-1 77.0): ``create_csn(model_depth=101, stem_pool=nn.MaxPool3d,
    head_pool_kernel_size=(4, 7, 7))``; 32x224x224 clips."""
    return _build("csn_r101", pretrained, progress, kwargs)


def r2plus1d_r50(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """R(2+1)D R50, 16x4 (Kinetics-400, top-1 76.01): ``create_r2plus1d(dropout_rate=0.5)``; 16x224x224
    clips, softmax output as PyTorchVideo's."""
    return _build("r2plus1d_r50", pretrained, progress, kwargs)


def mvit_base_16x4(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """MViT-B 16x4 (Kinetics-400, top-1 78.9): ``create_multiscale_vision_transformers`` with
    ``MVIT_HUB_CONFIGS["mvit_base_16x4"]``; 16x224x224 clips only."""
    return _build("mvit_base_16x4", pretrained, progress, kwargs)


def mvit_base_32x3(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """MViT-B 32x3 (Kinetics-400, top-1 80.3): as mvit_base_16x4 for 32x224x224 clips."""
    return _build("mvit_base_32x3", pretrained, progress, kwargs)


def mvit_base_16(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
    """MViT-B 16 (ImageNet-1k images, top-1 83.0): a 2D patch embedding over (B, 3, 224, 224) images, built
    with PyTorchVideo's settings (``head_num_classes`` stays create_multiscale_vision_transformers' default,
    400, as there)."""
    return _build("mvit_base_16", pretrained, progress, kwargs)


def _not_provided(name: str, instead: str) -> Callable[..., nn.Module]:
    def builder(pretrained: bool = False, progress: bool = True, **kwargs: Any) -> nn.Module:
        raise NotImplementedError(
            f"fastvid.models.hub.{name}: PyTorchVideo's mobile-CPU accelerator model (pytorchvideo.accelerator's "
            f"EfficientX3d) is not provided by fastvid; use fastvid.models.hub.{instead} (the same X3D architecture "
            "built from PyTorchVideo's standard layers, with its own Kinetics-400 checkpoint), or keep "
            "pytorchvideo.accelerator for mobile deployment"
        )

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"Not provided: raises NotImplementedError (use :func:`{instead}`)."
    return builder


efficient_x3d_xs = _not_provided("efficient_x3d_xs", "x3d_xs")
efficient_x3d_s = _not_provided("efficient_x3d_s", "x3d_s")
