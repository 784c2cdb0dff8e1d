"""Multiscale attention layers of MViT (as ``pytorchvideo.layers.attention`` and
``pytorchvideo.layers.drop_path``): :class:`Mlp`, :class:`MultiScaleAttention`, :class:`MultiScaleBlock`
and stochastic depth (:func:`drop_path`, :class:`DropPath`).

Tokens travel as (B, N, C) sequences, the class token (when there is one) first; ``thw_shape`` carries the
(T, H, W) grid the other N - 1 tokens flatten. Submodules are registered in PyTorchVideo's order, so
state_dict keys and the random draws of construction are its own, and every forward runs the same operations
in the same order (its results and gradients are bit-identical for the same weights and seed).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn as nn

__all__ = ["DropPath", "Mlp", "MultiScaleAttention", "MultiScaleBlock", "drop_path"]

_POOL_MODES = ("conv", "avg", "max")


def drop_path(x: torch.Tensor, drop_prob: float = 0.0, training: bool = False) -> torch.Tensor:
    """Stochastic depth: in training, zeroes whole samples of ``x`` with probability ``drop_prob`` and scales
    the kept ones by ``1 / (1 - drop_prob)``; otherwise (or with ``drop_prob`` 0) returns ``x`` itself.

    The keep mask is ``floor(1 - drop_prob + U[0, 1))``, one uniform draw per sample, as PyTorchVideo's."""
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    per_sample = (x.shape[0],) + (1,) * (x.ndim - 1)
    mask = keep_prob + torch.rand(per_sample, dtype=x.dtype, device=x.device)
    mask.floor_()
    return x.div(keep_prob) * mask


class DropPath(nn.Module):
    """:func:`drop_path` as a module (drops only in training mode)."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.drop_prob, self.training)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class Mlp(nn.Module):
    """The transformer's feed-forward block: ``fc1 -> act -> dropout -> fc2 -> dropout``.

    ``hidden_features`` and ``out_features`` default to ``in_features``; the dropout (one module, used twice)
    exists only when ``dropout_rate > 0``."""

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        act_layer: Callable = nn.GELU,
        dropout_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.dropout_rate = dropout_rate
        hidden = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, out_features or in_features)
        if dropout_rate > 0.0:
            self.dropout = nn.Dropout(dropout_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        use_dropout = self.dropout_rate > 0.0
        x = self.act(self.fc1(x))
        if use_dropout:
            x = self.dropout(x)
        x = self.fc2(x)
        if use_dropout:
            x = self.dropout(x)
        return x


def _attention_pool(
    tensor: torch.Tensor,
    pool: Callable | None,
    thw_shape: list[int],
    has_cls_embed: bool = True,
    norm: Callable | None = None,
) -> tuple[torch.Tensor, list[int]]:
    """Pools a token sequence over its (T, H, W) grid.

    ``tensor`` is (B, N, C) or per head (B, heads, N, C); the class token (``has_cls_embed``) is set aside,
    the rest reshaped to (B * heads, C, T, H, W) for ``pool``, flattened back, the class token put in front
    again and ``norm`` applied. Returns the pooled tensor (same rank) and its new (T, H, W); with ``pool``
    None, the input and ``thw_shape`` unchanged.
    """
    if pool is None:
        return tensor, thw_shape
    rank = tensor.ndim
    if rank == 3:
        tensor = tensor.unsqueeze(1)
    elif rank != 4:
        raise ValueError(
            f"_attention_pool: tensor must be (B, N, C) or (B, heads, N, C), got shape {tuple(tensor.shape)}"
        )
    if has_cls_embed:
        cls_token, tensor = tensor[:, :, :1, :], tensor[:, :, 1:, :]
    batch, heads, _, channels = tensor.shape
    t, h, w = thw_shape
    grid = tensor.reshape(batch * heads, t, h, w, channels).permute(0, 4, 1, 2, 3).contiguous()
    grid = pool(grid)
    new_thw = [grid.shape[2], grid.shape[3], grid.shape[4]]
    tensor = grid.reshape(batch, heads, channels, new_thw[0] * new_thw[1] * new_thw[2]).transpose(2, 3)
    if has_cls_embed:
        tensor = torch.cat((cls_token, tensor), dim=2)
    if norm is not None:
        tensor = norm(tensor)
    if rank == 3:
        tensor = tensor.squeeze(1)
    return tensor, new_thw


def _is_identity_pool(kernel, stride) -> bool:
    """A kernel and stride of all ones (or empty) pool nothing."""
    return math.prod(kernel) == 1 and math.prod(stride) == 1


class MultiScaleAttention(nn.Module):
    """Multi-head self-attention whose queries, keys and values may be pooled over the token grid (MViT).

    ``q``, ``k``, ``v`` (Linear dim -> dim) project the tokens and split them into ``num_heads`` heads; each of
    q and kv is pooled by ``pool_mode``: "conv" (a depthwise Conv3d over each head's channels, no bias,
    followed by a LayerNorm ``norm_q`` / ``norm_k`` / ``norm_v``), "avg" or "max" (AvgPool3d / MaxPool3d, no
    norm), with padding ``kernel // 2``. A kernel and stride of all ones (or empty) disable that pooling.
    With ``pool_first`` the heads are pooled before the projections. Softmax(q k^T * head_dim^-0.5) v goes
    through ``proj`` (Linear dim -> dim) and, when ``dropout_rate > 0``, ``proj_drop``. The class token
    (``has_cls_embed``) is never pooled.

    ``forward(x, thw_shape)`` takes (B, N, C) tokens and their grid and returns the output tokens and the
    queries' (pooled) grid.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        dropout_rate: float = 0.0,
        kernel_q=(1, 1, 1),
        kernel_kv=(1, 1, 1),
        stride_q=(1, 1, 1),
        stride_kv=(1, 1, 1),
        norm_layer: Callable = nn.LayerNorm,
        has_cls_embed: bool = True,
        pool_mode: str = "conv",
        pool_first: bool = False,
    ) -> None:
        super().__init__()
        if pool_mode not in _POOL_MODES:
            raise ValueError(f"MultiScaleAttention: pool_mode must be one of {_POOL_MODES}, got {pool_mode!r}")
        self.pool_first = pool_first
        self.dropout_rate = dropout_rate
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim**-0.5
        self.has_cls_embed = has_cls_embed
        padding_q = [int(k // 2) for k in kernel_q]
        padding_kv = [int(k // 2) for k in kernel_kv]

        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.k = nn.Linear(dim, dim, bias=qkv_bias)
        self.v = nn.Linear(dim, dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        if dropout_rate > 0.0:
            self.proj_drop = nn.Dropout(dropout_rate)

        if kernel_q is not None and _is_identity_pool(kernel_q, stride_q):
            kernel_q = None
        if kernel_kv is not None and _is_identity_pool(kernel_kv, stride_kv):
            kernel_kv = None

        def make_pool(kernel, stride, padding):
            if kernel is None:
                return None
            if pool_mode == "conv":
                return nn.Conv3d(
                    head_dim, head_dim, kernel, stride=stride, padding=padding, groups=head_dim, bias=False
                )
            pool_cls = nn.MaxPool3d if pool_mode == "max" else nn.AvgPool3d
            return pool_cls(kernel, stride, padding, ceil_mode=False)

        def make_norm(kernel):
            return norm_layer(head_dim) if pool_mode == "conv" and kernel is not None else None

        # Registration order (pool_q, norm_q, pool_k, norm_k, pool_v, norm_v) fixes the state_dict order and the
        # construction draws.
        self.pool_q = make_pool(kernel_q, stride_q, padding_q)
        self.norm_q = make_norm(kernel_q)
        self.pool_k = make_pool(kernel_kv, stride_kv, padding_kv)
        self.norm_k = make_norm(kernel_kv)
        self.pool_v = make_pool(kernel_kv, stride_kv, padding_kv)
        self.norm_v = make_norm(kernel_kv)

    def _split_heads(self, x: torch.Tensor, length: int, batch: int, channels: int) -> torch.Tensor:
        # (B, L, C) -> (B, heads, L, C / heads)
        return x.reshape(batch, length, self.num_heads, channels // self.num_heads).permute(0, 2, 1, 3)

    def _pool_heads(self, q, k, v, thw_shape):
        q, q_thw = _attention_pool(q, self.pool_q, thw_shape, has_cls_embed=self.has_cls_embed, norm=self.norm_q)
        k, k_thw = _attention_pool(k, self.pool_k, thw_shape, has_cls_embed=self.has_cls_embed, norm=self.norm_k)
        v, v_thw = _attention_pool(v, self.pool_v, thw_shape, has_cls_embed=self.has_cls_embed, norm=self.norm_v)
        return q, q_thw, k, k_thw, v, v_thw

    def forward(self, x: torch.Tensor, thw_shape: list[int]) -> tuple[torch.Tensor, list[int]]:
        batch, length, channels = x.shape
        if self.pool_first:
            heads = self._split_heads(x, length, batch, channels)
            q, q_thw, k, k_thw, v, v_thw = self._pool_heads(heads, heads, heads, thw_shape)
            extra = 1 if self.has_cls_embed else 0
            q_len, k_len, v_len = (math.prod(s) + extra for s in (q_thw, k_thw, v_thw))
            q = q.permute(0, 2, 1, 3).reshape(batch, q_len, channels)
            v = v.permute(0, 2, 1, 3).reshape(batch, v_len, channels)
            k = k.permute(0, 2, 1, 3).reshape(batch, k_len, channels)
            q = self._split_heads(self.q(q), q_len, batch, channels)
            k = self._split_heads(self.k(k), k_len, batch, channels)
            v = self._split_heads(self.v(v), v_len, batch, channels)
        else:
            q = self._split_heads(self.q(x), length, batch, channels)
            k = self._split_heads(self.k(x), length, batch, channels)
            v = self._split_heads(self.v(x), length, batch, channels)
            q, q_thw, k, k_thw, v, v_thw = self._pool_heads(q, k, v, thw_shape)

        weights = (q @ k.transpose(-2, -1)) * self.scale
        weights = weights.softmax(dim=-1)
        out_len = q.shape[2]
        x = (weights @ v).transpose(1, 2).reshape(batch, out_len, channels)
        x = self.proj(x)
        if self.dropout_rate > 0.0:
            x = self.proj_drop(x)
        return x, q_thw


class MultiScaleBlock(nn.Module):
    """One MViT transformer block.

    ``x = pool_skip(x) + drop_path(attn(norm1(x)))``, then ``x = r + drop_path(mlp(norm2(x)))`` where the
    residual ``r`` is ``x`` itself or, when ``dim != dim_out``, ``proj(norm2(x))`` (Linear dim -> dim_out).
    ``pool_skip`` is a MaxPool3d with kernel ``s + 1 if s > 1 else s`` and stride ``stride_q`` (so the
    residual follows the pooled queries; None when ``stride_q`` is empty). The attention's pooling norms are
    ``nn.LayerNorm`` (eps 1e-5) whatever ``norm_layer`` is, as in PyTorchVideo; ``norm_layer`` builds norm1
    and norm2. The Mlp's hidden width is ``int(dim * mlp_ratio)``.
    """

    def __init__(
        self,
        dim: int,
        dim_out: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = False,
        dropout_rate: float = 0.0,
        droppath_rate: float = 0.0,
        act_layer: Callable = nn.GELU,
        norm_layer: Callable = nn.LayerNorm,
        kernel_q=(1, 1, 1),
        kernel_kv=(1, 1, 1),
        stride_q=(1, 1, 1),
        stride_kv=(1, 1, 1),
        pool_mode: str = "conv",
        has_cls_embed: bool = True,
        pool_first: bool = False,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.dim_out = dim_out
        self.norm1 = norm_layer(dim)
        skip_kernel = [s + 1 if s > 1 else s for s in stride_q]
        self.attn = MultiScaleAttention(
            dim,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            dropout_rate=dropout_rate,
            kernel_q=kernel_q,
            kernel_kv=kernel_kv,
            stride_q=stride_q,
            stride_kv=stride_kv,
            norm_layer=nn.LayerNorm,
            has_cls_embed=has_cls_embed,
            pool_mode=pool_mode,
            pool_first=pool_first,
        )
        self.drop_path = DropPath(droppath_rate) if droppath_rate > 0.0 else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.has_cls_embed = has_cls_embed
        self.mlp = Mlp(
            in_features=dim,
            hidden_features=int(dim * mlp_ratio),
            out_features=dim_out,
            act_layer=act_layer,
            dropout_rate=dropout_rate,
        )
        if dim != dim_out:
            self.proj = nn.Linear(dim, dim_out)
        self.pool_skip = (
            nn.MaxPool3d(skip_kernel, stride_q, [int(k // 2) for k in skip_kernel], ceil_mode=False)
            if len(skip_kernel) > 0
            else None
        )

    def forward(self, x: torch.Tensor, thw_shape: list[int]) -> tuple[torch.Tensor, list[int]]:
        attended, new_thw = self.attn(self.norm1(x), thw_shape)
        residual, _ = _attention_pool(x, self.pool_skip, thw_shape, has_cls_embed=self.has_cls_embed)
        x = residual + self.drop_path(attended)
        normed = self.norm2(x)
        mlp_out = self.mlp(normed)
        if self.dim != self.dim_out:
            x = self.proj(normed)
        x = x + self.drop_path(mlp_out)
        return x, new_thw

