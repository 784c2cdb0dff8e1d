"""Batch-level MixUp, CutMix and MixVideo with label mixing and label smoothing.

Same names, arguments, defaults and random draws as PyTorchVideo's ``pytorchvideo.transforms.mix``:

* labels become one-hot rows, smoothed as ``convert_to_one_hot`` does: every class gets
  ``label_smoothing / num_classes`` and the true class ``1 - label_smoothing + label_smoothing / num_classes``;
  sample ``i`` is mixed with sample ``B - 1 - i`` (the batch flipped), ``new = lam * own + (1 - lam) * flipped``;
* MixUp draws ``lam ~ Beta(alpha, alpha)`` and mixes every pixel the same way;
* CutMix draws ``lam ~ Beta(alpha, alpha)``, a box of ``int(H * sqrt(1 - lam))`` by ``int(W * sqrt(1 - lam))``
  centred on ``(torch.randint(H), torch.randint(W))`` and clipped to the frame, pastes that box of the flipped
  batch into every frame of every clip of a (B, C, T, H, W) or (B, C, H, W) batch, and weights the labels by the
  area that is left: ``lam = 1 - box_area / (H * W)``;
* MixVideo draws ``torch.rand(1) < cutmix_prob`` and applies CutMix if true, MixUp otherwise.

Under ``torch.manual_seed(s)`` the draws are the same calls in the same order as PyTorchVideo's, so the same
lambda, box and choice come out. Pass ``generator=`` (a CPU ``torch.Generator``) to draw from it instead.

Differences from PyTorchVideo, on purpose: the input is never modified (PyTorchVideo mixes in place); uint8 and
other integer videos are accepted (MixUp rounds the mixed values back to the input dtype; CutMix only copies
pixels); bad arguments raise ValueError/TypeError at construction or on the call instead of ``assert``.
"""

from __future__ import annotations

import numbers
from typing import Optional

import torch

from fastvid.transforms import _checks

__all__ = ["MixUp", "CutMix", "MixVideo", "convert_to_one_hot"]


# --------------------------------------------------------------------------------------------------------------
# argument checks


def _check_alpha(name: str, alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {type(alpha).__name__} {alpha!r}.")
    if not alpha > 0:  # also rejects NaN
        raise ValueError(f"{name} must be > 0 (the Beta(alpha, alpha) concentration), got {alpha!r}.")
    return float(alpha)


def _check_smoothing(label_smoothing) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(
            f"label_smoothing must be a real number in [0, 1), got {type(label_smoothing).__name__} "
            f"{label_smoothing!r}."
        )
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
    return float(label_smoothing)


def _check_batch(name: str, x, labels, *, one_hot: bool, num_classes: int, dims=None) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: x_video must be a torch.Tensor, got {type(x).__name__}.")
    if dims is not None and x.dim() not in dims:
        raise ValueError(
            f"{name}: x_video must be a batch of shape (B, C, T, H, W) or (B, C, H, W), got shape {tuple(x.shape)}."
        )
    if x.dim() < 1 or x.shape[0] < 2:
        raise ValueError(
            f"{name} mixes each sample with another one of the batch and needs a batch of at least 2, got "
            f"x_video of shape {tuple(x.shape)}."
        )
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: x_video must be a real (integer or floating) tensor, got {x.dtype}.")
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name}: labels must be a torch.Tensor, got {type(labels).__name__}.")
    batch = x.shape[0]
    if one_hot:
        if labels.dim() != 2 or labels.shape[0] != batch or labels.shape[1] != num_classes:
            raise ValueError(
                f"{name}: with one_hot=True labels must have shape (B, num_classes) = ({batch}, {num_classes}), "
                f"got {tuple(labels.shape)}."
            )
        return
    if labels.dim() != 1 or labels.shape[0] != batch:
        raise ValueError(
            f"{name}: labels must be class indices of shape (B,) = ({batch},), got shape {tuple(labels.shape)}."
        )
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"{name}: labels must be an integer tensor of class indices, got {labels.dtype}.")
    if labels.device.type != "cpu":
        return  # reading the values would wait for the device; out-of-range indices fail in the scatter (as one_hot)
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"{name}: labels must be class indices in [0, num_classes) = [0, {num_classes}), got values from "
            f"{lo} to {hi}."
        )


# --------------------------------------------------------------------------------------------------------------
# labels


def convert_to_one_hot(targets: torch.Tensor, num_class: int, label_smooth: float = 0.0) -> torch.Tensor:
    """Class indices (N,) -> one-hot rows (N, num_class), smoothed as PyTorchVideo's ``convert_to_one_hot``.

    Non-target classes get ``label_smooth / num_class``, the target ``1 - label_smooth + label_smooth / num_class``.
    Like PyTorchVideo's, the result is int64 when ``label_smooth == 0`` and the default float dtype otherwise.
    """
    num_class = _checks.positive_int("convert_to_one_hot", "num_class", num_class)
    label_smooth = _check_smoothing(label_smooth)
    # the range check reads the values: on the CPU only (on a device it would wait for it; an index out of range
    # fails in the scatter there, as torch's one_hot relies on)
    if targets.numel() and targets.device.type == "cpu" and (int(targets.min()) < 0 or int(targets.max()) >= num_class):
        raise ValueError(
            f"convert_to_one_hot: targets must be class indices in [0, {num_class}), got values from "
            f"{int(targets.min())} to {int(targets.max())}."
        )
    off_value = label_smooth / num_class
    on_value = 1.0 - label_smooth + off_value
    out = torch.full(
        (targets.shape[0], num_class),
        off_value,
        dtype=torch.long if label_smooth == 0.0 else None,
        device=targets.device,
    )
    out.scatter_(1, targets.long().view(-1, 1), on_value)
    return out


def _mix_labels(labels, num_classes, lam, label_smoothing, one_hot):
    if one_hot:
        own, other = labels, labels.flip(0)
    else:
        own = convert_to_one_hot(labels, num_classes, label_smoothing)
        other = convert_to_one_hot(labels.flip(0), num_classes, label_smoothing)
    return own * lam + other * (1.0 - lam)


# --------------------------------------------------------------------------------------------------------------
# draws


def _sample_beta(concentration: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    # torch.distributions.Beta(a, a).sample() is torch._sample_dirichlet(tensor([a, a]))[0]: the same call,
    # with the generator passed through when one is given (Beta itself takes none).
    if generator is None:
        return torch.distributions.Beta(concentration[0], concentration[1]).sample()
    with torch.no_grad():
        return torch._sample_dirichlet(concentration, generator=generator)[0]


def _mix_pixels(x: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    if x.is_floating_point():
        # the same operations, in the same order and dtype, as PyTorchVideo's in-place version
        out = x * lam
        out.add_(x.flip(0) * (1.0 - lam))
        return out
    xf = x.to(torch.float32)
    out = xf * lam
    out.add_(xf.flip(0) * (1.0 - lam))
    info = torch.iinfo(x.dtype)
    return out.round_().clamp_(info.min, info.max).to(x.dtype)


# --------------------------------------------------------------------------------------------------------------
# transforms


class _BetaMix(torch.nn.Module):
    """What MixUp and CutMix share: their arguments, checks, the Beta(alpha, alpha) draw and the repr."""

    def __init__(
        self,
        alpha: float = 1.0,
        label_smoothing: float = 0.0,
        num_classes: int = 400,
        one_hot: bool = False,
        *,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        self.alpha = _check_alpha("alpha", alpha)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.num_classes = _checks.positive_int(type(self).__name__, "num_classes", num_classes)
        self.one_hot = bool(one_hot)
        self.generator = _checks.generator(type(self).__name__, generator)
        self._concentration = torch.tensor([self.alpha, self.alpha])

    def sample_lambda(self) -> torch.Tensor:
        """Draw lambda ~ Beta(alpha, alpha) as a 0-dim float32 CPU tensor (the draw ``forward`` makes)."""
        return _sample_beta(self._concentration, self.generator)

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, label_smoothing={self.label_smoothing}, num_classes={self.num_classes}"
            + (", one_hot=True" if self.one_hot else "")
        )


class MixUp(_BetaMix):
    """MixUp for a batch of videos (https://arxiv.org/abs/1710.09412), as PyTorchVideo's ``MixUp``.

    ``forward(x_video, labels, x_audio=None)`` returns ``(mixed_video, mixed_labels)`` or, with ``x_audio``,
    ``(mixed_video, mixed_audio, mixed_labels)``. ``x_video`` is (B, ...) with B >= 2, float or integer (integer
    results are rounded back to the input dtype); ``labels`` are class indices (B,) or, with ``one_hot=True``,
    rows (B, num_classes) that are mixed as they are (no smoothing added, as PyTorchVideo). Mixed labels are
    float32 rows (B, num_classes) that sum to 1. The inputs are not modified.
    """

    def forward(self, x_video: torch.Tensor, labels: torch.Tensor, x_audio: Optional[torch.Tensor] = None):
        _check_batch("MixUp", x_video, labels, one_hot=self.one_hot, num_classes=self.num_classes)
        if x_audio is not None:
            _check_batch("MixUp (x_audio)", x_audio, labels, one_hot=self.one_hot, num_classes=self.num_classes)
        lam = self.sample_lambda()
        video = _mix_pixels(x_video, lam)
        new_labels = _mix_labels(labels, self.num_classes, lam, self.label_smoothing, self.one_hot)
        if x_audio is None:
            return video, new_labels
        return video, _mix_pixels(x_audio, lam), new_labels


class CutMix(_BetaMix):
    """CutMix for a batch of videos (https://arxiv.org/abs/1905.04899), as PyTorchVideo's ``CutMix``.

    One box, the same for every frame and every clip, is copied from the flipped batch (sample ``B - 1 - i``
    into sample ``i``) over the last two dims of a (B, C, T, H, W) or (B, C, H, W) batch. The labels are mixed
    with ``lam = 1 - box_area / (H * W)``, the share of each clip's own pixels that is left. ``forward`` and
    its arguments are as :class:`MixUp`'s; with ``x_audio`` a second box (same lambda, new centre) is drawn
    for the audio, as PyTorchVideo does. The inputs are not modified.
    """

    def sample_box(self, height: int, width: int, lam: torch.Tensor) -> tuple[int, int, int, int]:
        """Draw the box ``(y_low, y_high, x_low, x_high)`` (high exclusive) for lambda ``lam``, as ``forward`` does."""
        # ratio and the cut sizes are computed in float32 tensor arithmetic, as PyTorchVideo does with its
        # 0-dim lambda tensor, so that int() truncates the same values.
        ratio = (1 - lam) ** 0.5
        cut_h, cut_w = int(height * ratio), int(width * ratio)
        cy = torch.randint(height, (1,), generator=self.generator).item()
        cx = torch.randint(width, (1,), generator=self.generator).item()
        yl = min(max(cy - cut_h // 2, 0), height)
        yh = min(max(cy + cut_h // 2, 0), height)
        xl = min(max(cx - cut_w // 2, 0), width)
        xh = min(max(cx + cut_w // 2, 0), width)
        return yl, yh, xl, xh

    def _cutmix(self, x: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, float]:
        height, width = x.shape[-2], x.shape[-1]
        yl, yh, xl, xh = self.sample_box(height, width, lam)
        out = x.clone()
        out[..., yl:yh, xl:xh] = x.flip(0)[..., yl:yh, xl:xh]
        return out, 1.0 - float((yh - yl) * (xh - xl)) / (height * width)

    def forward(self, x_video: torch.Tensor, labels: torch.Tensor, x_audio: Optional[torch.Tensor] = None):
        _check_batch("CutMix", x_video, labels, one_hot=self.one_hot, num_classes=self.num_classes, dims=(4, 5))
        if x_audio is not None:
            _check_batch(
                "CutMix (x_audio)", x_audio, labels, one_hot=self.one_hot, num_classes=self.num_classes, dims=(4, 5)
            )
        lam = self.sample_lambda()
        video, lam_corrected = self._cutmix(x_video, lam)
        new_labels = _mix_labels(labels, self.num_classes, lam_corrected, self.label_smoothing, self.one_hot)
        if x_audio is None:
            return video, new_labels
        audio, _ = self._cutmix(x_audio, lam)
        return video, audio, new_labels


class MixVideo(torch.nn.Module):
    """Applies CutMix with probability ``cutmix_prob`` and MixUp otherwise, as PyTorchVideo's ``MixVideo``.

    The choice is ``torch.rand(1) < cutmix_prob`` (from ``generator`` when one is given, which the inner
    MixUp and CutMix share). ``forward(x_video, labels, x_audio=None)`` returns what the chosen transform
    returns.
    """

    def __init__(
        self,
        cutmix_prob: float = 0.5,
        mixup_alpha: float = 1.0,
        cutmix_alpha: float = 1.0,
        label_smoothing: float = 0.0,
        num_classes: int = 400,
        one_hot: bool = False,
        *,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        self.cutmix_prob = _checks.probability("MixVideo", "cutmix_prob", cutmix_prob)
        self.generator = _checks.generator(type(self).__name__, generator)
        self.mixup = MixUp(
            _check_alpha("mixup_alpha", mixup_alpha), label_smoothing, num_classes, one_hot, generator=generator
        )
        self.cutmix = CutMix(
            _check_alpha("cutmix_alpha", cutmix_alpha), label_smoothing, num_classes, one_hot, generator=generator
        )

    def forward(self, x_video: torch.Tensor, labels: torch.Tensor, x_audio: Optional[torch.Tensor] = None):
        if torch.rand(1, generator=self.generator).item() < self.cutmix_prob:
            return self.cutmix(x_video, labels, x_audio=x_audio)
        return self.mixup(x_video, labels, x_audio=x_audio)

    def extra_repr(self) -> str:
        return f"cutmix_prob={self.cutmix_prob}"
