"""The class token and learned spatiotemporal position embedding of MViT (as
``pytorchvideo.layers.positional_encoding.SpatioTemporalClsPositionalEncoding``)."""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["SpatioTemporalClsPositionalEncoding"]


class SpatioTemporalClsPositionalEncoding(nn.Module):
    """Prepends a learned class token (``has_cls``) to (B, N, C) patch tokens and adds a learned position
    embedding.

    With ``sep_pos_embed`` the embedding is factorized: ``pos_embed_spatial`` (1, H*W, C) repeated over time
    plus ``pos_embed_temporal`` (1, T, C) repeated over space, and ``pos_embed_class`` (1, 1, C) for the class
    token; otherwise one ``pos_embed`` (1, N (+1), C). Parameters start at zero (the model initializes them)
    and are registered in PyTorchVideo's order: cls_token, pos_embed_spatial, pos_embed_temporal,
    pos_embed_class (or pos_embed).

    Args:
        embed_dim: C, the token width.
        patch_embed_shape: (T, H, W), the patch grid the tokens flatten (T * H * W tokens in).
        sep_pos_embed: factorized (True) or joint (False) position embedding.
        has_cls: whether to prepend a class token.
    """

    def __init__(
        self,
        embed_dim: int,
        patch_embed_shape: tuple[int, int, int],
        sep_pos_embed: bool = False,
        has_cls: bool = True,
    ) -> None:
        super().__init__()
        if len(patch_embed_shape) != 3:
            raise ValueError(
                f"SpatioTemporalClsPositionalEncoding: patch_embed_shape must be (T, H, W), got {patch_embed_shape!r}"
            )
        self.cls_embed_on = has_cls
        self.sep_pos_embed = sep_pos_embed
        self._patch_embed_shape = patch_embed_shape
        self.num_spatial_patch = patch_embed_shape[1] * patch_embed_shape[2]
        self.num_temporal_patch = patch_embed_shape[0]
        num_patches = self.num_spatial_patch * self.num_temporal_patch
        if has_cls:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        if sep_pos_embed:
            self.pos_embed_spatial = nn.Parameter(torch.zeros(1, self.num_spatial_patch, embed_dim))
            self.pos_embed_temporal = nn.Parameter(torch.zeros(1, self.num_temporal_patch, embed_dim))
            if has_cls:
                self.pos_embed_class = nn.Parameter(torch.zeros(1, 1, embed_dim))
        else:
            self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + (1 if has_cls else 0), embed_dim))

    @property
    def patch_embed_shape(self):
        """The (T, H, W) patch grid given at construction."""
        return self._patch_embed_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        expected = self.num_temporal_patch * self.num_spatial_patch
        if tokens != expected:
            t, h, w = self._patch_embed_shape
            raise ValueError(
                f"SpatioTemporalClsPositionalEncoding: expected {expected} patch tokens (a {t}x{h}x{w} patch grid, "
                f"the clip size the model was built for), got {tokens}"
            )
        if self.cls_embed_on:
            x = torch.cat((self.cls_token.expand(batch, -1, -1), x), dim=1)
        if self.sep_pos_embed:
            spatial = self.pos_embed_spatial.repeat(1, self.num_temporal_patch, 1)
            temporal = torch.repeat_interleave(self.pos_embed_temporal, self.num_spatial_patch, dim=1)
            pos_embed = spatial + temporal
            if self.cls_embed_on:
                pos_embed = torch.cat([self.pos_embed_class, pos_embed], 1)
            return x + pos_embed
        return x + self.pos_embed
