"""Batch-level MixUp, CutMix and MixVideo with label mixing and label smoothing (work in progress)."""

from __future__ import annotations

import torch


def _one_hot(labels, num_classes, label_smoothing=0.0):
    off = label_smoothing / num_classes
    on = 1.0 - label_smoothing + off
    out = torch.full((labels.shape[0], num_classes), off, device=labels.device)
    out.scatter_(1, labels.long().view(-1, 1), on)
    return out


def _mix_labels(labels, num_classes, lam, label_smoothing):
    a = _one_hot(labels, num_classes, label_smoothing)
    b = _one_hot(labels.flip(0), num_classes, label_smoothing)
    return a * lam + b * (1.0 - lam)


class MixUp(torch.nn.Module):
    def __init__(self, alpha=1.0, label_smoothing=0.0, num_classes=400, *, generator=None):
        super().__init__()
        self.alpha, self.label_smoothing, self.num_classes, self.generator = alpha, label_smoothing, num_classes, generator
        self._beta = torch.distributions.Beta(alpha, alpha)

    def forward(self, x_video, labels):
        lam = self._beta.sample()
        out = x_video * lam + x_video.flip(0) * (1.0 - lam)
        return out.to(x_video.dtype), _mix_labels(labels, self.num_classes, lam, self.label_smoothing)


class CutMix(torch.nn.Module):
    def __init__(self, alpha=1.0, label_smoothing=0.0, num_classes=400, *, generator=None):
        super().__init__()
        self.alpha, self.label_smoothing, self.num_classes, self.generator = alpha, label_smoothing, num_classes, generator
        self._beta = torch.distributions.Beta(alpha, alpha)

    def forward(self, x_video, labels):
        lam = self._beta.sample()
        h, w = x_video.shape[-2:]
        r = float(1 - lam) ** 0.5
        ch, cw = int(h * r), int(w * r)
        cy = torch.randint(h, (1,)).item()
        cx = torch.randint(w, (1,)).item()
        yl, yh = min(max(cy - ch // 2, 0), h), min(max(cy + ch // 2, 0), h)
        xl, xh = min(max(cx - cw // 2, 0), w), min(max(cx + cw // 2, 0), w)
        out = x_video.clone()
        out[..., yl:yh, xl:xh] = x_video.flip(0)[..., yl:yh, xl:xh]
        lam_c = 1.0 - (yh - yl) * (xh - xl) / float(h * w)
        return out, _mix_labels(labels, self.num_classes, lam_c, self.label_smoothing)


class MixVideo(torch.nn.Module):
    def __init__(self, cutmix_prob=0.5, mixup_alpha=1.0, cutmix_alpha=1.0, label_smoothing=0.0,
                 num_classes=400, *, generator=None):
        super().__init__()
        self.cutmix_prob = cutmix_prob
        self.generator = generator
        self.mixup = MixUp(mixup_alpha, label_smoothing, num_classes, generator=generator)
        self.cutmix = CutMix(cutmix_alpha, label_smoothing, num_classes, generator=generator)

    def forward(self, x_video, labels):
        if torch.rand(1).item() < self.cutmix_prob:
            return self.cutmix(x_video, labels)
        return self.mixup(x_video, labels)
