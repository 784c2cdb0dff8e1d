"""Multiscale Vision Transformers (MViT; Fan et al., https://arxiv.org/abs/2104.11227) with PyTorchVideo's
builder, arguments, defaults, module tree and initialization (``pytorchvideo.models.vision_transformers``).

``create_multiscale_vision_transformers()`` returns :class:`MultiscaleVisionTransformers` holding
``patch_embed`` (:class:`~fastvid.models.stem.PatchEmbed`), ``cls_positional_encoding``
(:class:`~fastvid.models.positional_encoding.SpatioTemporalClsPositionalEncoding`), ``pos_drop``,
``norm_patch_embed``, ``blocks`` (an ``nn.ModuleList`` of :class:`~fastvid.models.attention.MultiScaleBlock`),
``norm_embed`` and ``head`` (:class:`~fastvid.models.head.VisionTransformerBasicHead`): the state_dict keys
and shapes are PyTorchVideo's, so its published MViT-B checkpoints (mvit_base_16x4, mvit_base_32x3,
mvit_base_16) load unchanged. :data:`MVIT_HUB_CONFIGS` holds the hub's arguments for those three.

The model is built for one clip size: the position embedding has one entry per patch of a
``temporal_size`` x ``spatial_size`` clip, and other sizes raise ValueError in the forward.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn as nn

from fastvid.models.attention import MultiScaleBlock
from fastvid.models.head import create_vit_basic_head
from fastvid.models.positional_encoding import SpatioTemporalClsPositionalEncoding
from fastvid.models.stem import create_conv_patch_embed
from fastvid.models.x3d import round_width

__all__ = ["MVIT_HUB_CONFIGS", "MultiscaleVisionTransformers", "create_multiscale_vision_transformers"]

_MVIT_B_SCHEDULE = {
    "embed_dim_mul": [[1, 2.0], [3, 2.0], [14, 2.0]],
    "atten_head_mul": [[1, 2.0], [3, 2.0], [14, 2.0]],
    "pool_q_stride_size": [[1, 1, 2, 2], [3, 1, 2, 2], [14, 1, 2, 2]],
}
# PyTorchVideo's hub (pytorchvideo/models/hub/vision_transformers.py): the arguments each published MViT-B is
# built with (everything else at create_multiscale_vision_transformers' defaults; 400 classes).
MVIT_HUB_CONFIGS = {
    "mvit_base_16x4": {
        "spatial_size": 224,
        "temporal_size": 16,
        **_MVIT_B_SCHEDULE,
        "pool_kv_stride_adaptive": [1, 8, 8],
        "pool_kvq_kernel": [3, 3, 3],
    },
    "mvit_base_32x3": {
        "spatial_size": 224,
        "temporal_size": 32,
        **_MVIT_B_SCHEDULE,
        "pool_kv_stride_adaptive": [1, 8, 8],
        "pool_kvq_kernel": [3, 3, 3],
    },
    "mvit_base_16": {  # ImageNet: (B, 3, 224, 224) images through a 2D patch embedding
        "spatial_size": 224,
        "temporal_size": 1,
        "depth": 16,
        "conv_patch_embed_kernel": [7, 7],
        "conv_patch_embed_stride": [4, 4],
        "conv_patch_embed_padding": [3, 3],
        "use_2d_patch": True,
        **_MVIT_B_SCHEDULE,
        "pool_kv_stride_adaptive": [1, 4, 4],
        "pool_kvq_kernel": [1, 3, 3],
    },
}


def _init_vit_weights(model: nn.Module, trunc_normal_std: float = 0.02) -> None:
    """PyTorchVideo's ``init_net_weights(style="vit")``: every Linear gets a truncated-normal weight (std
    ``trunc_normal_std``, cut at +-2) and a zero bias, every LayerNorm weight 1 and bias 0, and every parameter
    of the positional encoding a truncated-normal draw; in ``model.modules()`` order (which fixes the draws)."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=trunc_normal_std)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)
        elif isinstance(m, SpatioTemporalClsPositionalEncoding):
            for weight in m.parameters():
                nn.init.trunc_normal_(weight, std=trunc_normal_std)


class MultiscaleVisionTransformers(nn.Module):
    """Patch embedding -> class token and position embedding -> dropout -> norm -> blocks -> norm -> head.

    Any of ``patch_embed``, ``pos_drop``, ``norm_patch_embed``, ``norm_embed`` and ``head`` may be None (that
    step is skipped). The blocks take the token grid from ``cls_positional_encoding.patch_embed_shape`` and
    pass it on (each may pool it). Weights are initialized as PyTorchVideo's ViT style (truncated normal,
    std 0.02, for Linears and the position embedding; LayerNorms to identity; convolutions keep PyTorch's
    default initialization).
    """

    def __init__(
        self,
        *,
        patch_embed: nn.Module | None,
        cls_positional_encoding: nn.Module,
        pos_drop: nn.Module | None,
        norm_patch_embed: nn.Module | None,
        blocks: nn.ModuleList,
        norm_embed: nn.Module | None,
        head: nn.Module | None,
    ) -> None:
        super().__init__()
        if not hasattr(cls_positional_encoding, "patch_embed_shape"):
            raise TypeError(
                "MultiscaleVisionTransformers: cls_positional_encoding must have a patch_embed_shape attribute "
                f"(the (T, H, W) patch grid), got {type(cls_positional_encoding).__name__}"
            )
        self.patch_embed = patch_embed
        self.cls_positional_encoding = cls_positional_encoding
        self.pos_drop = pos_drop
        self.norm_patch_embed = norm_patch_embed
        self.blocks = blocks
        self.norm_embed = norm_embed
        self.head = head
        _init_vit_weights(self, 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.patch_embed is not None:
            x = self.patch_embed(x)
        x = self.cls_positional_encoding(x)
        if self.pos_drop is not None:
            x = self.pos_drop(x)
        if self.norm_patch_embed is not None:
            x = self.norm_patch_embed(x)
        thw = self.cls_positional_encoding.patch_embed_shape
        for block in self.blocks:
            x, thw = block(x, thw)
        if self.norm_embed is not None:
            x = self.norm_embed(x)
        if self.head is not None:
            x = self.head(x)
        return x


def _pool_kernel(stride) -> list[int]:
    """The default pooling kernel for a stride: s + 1 where s > 1, else s."""
    return [s + 1 if s > 1 else s for s in stride]


def create_multiscale_vision_transformers(
    *,
    spatial_size,
    temporal_size: int,
    cls_embed_on: bool = True,
    sep_pos_embed: bool = True,
    depth: int = 16,
    norm: str = "layernorm",
    enable_patch_embed: bool = True,
    input_channels: int = 3,
    patch_embed_dim: int = 96,
    conv_patch_embed_kernel: tuple[int, ...] = (3, 7, 7),
    conv_patch_embed_stride: tuple[int, ...] = (2, 4, 4),
    conv_patch_embed_padding: tuple[int, ...] = (1, 3, 3),
    enable_patch_embed_norm: bool = False,
    use_2d_patch: bool = False,
    num_heads: int = 1,
    mlp_ratio: float = 4.0,
    qkv_bias: bool = True,
    dropout_rate_block: float = 0.0,
    droppath_rate_block: float = 0.0,
    pooling_mode: str = "conv",
    pool_first: bool = False,
    embed_dim_mul: list[list[int]] | None = None,
    atten_head_mul: list[list[int]] | None = None,
    pool_q_stride_size: list[list[int]] | None = None,
    pool_kv_stride_size: list[list[int]] | None = None,
    pool_kv_stride_adaptive=None,
    pool_kvq_kernel=None,
    head: Callable | None = create_vit_basic_head,
    head_dropout_rate: float = 0.5,
    head_activation: Callable | None = None,
    head_num_classes: int = 400,
) -> nn.Module:
    """Builds an MViT (PyTorchVideo's arguments, defaults and construction order). A ViT is the case with no
    pooling schedule.

    Args:
        spatial_size: input (H, W), or one int for both; temporal_size: input frames (1 with ``use_2d_patch``).
        cls_embed_on: prepend a class token (the head then takes it; otherwise the head averages the tokens).
        sep_pos_embed: factorized spatial + temporal position embedding (else one joint embedding).
        depth: number of :class:`MultiScaleBlock`\\ s.
        norm: "layernorm" (LayerNorm, eps 1e-6), the only one.
        enable_patch_embed: patchify the input with a convolution of ``patch_embed_dim`` output channels and
            the given kernel / stride / padding (a Conv2d on (B, C, H, W) images with ``use_2d_patch``); if
            False, the input must already be (B, T*H*W, patch_embed_dim) tokens.
        input_channels: input channels; enable_patch_embed_norm: a LayerNorm after the position embedding.
        num_heads: heads of the first block; mlp_ratio: the Mlp's hidden width over its input width.
        qkv_bias: biases in the q / k / v projections.
        dropout_rate_block: dropout after the position embedding, in each attention and each Mlp.
        droppath_rate_block: stochastic depth, rising linearly from 0 at the first block to this at the last.
        pooling_mode: "conv" (learned depthwise), "avg" or "max" pooling of q / k / v.
        pool_first: pool before (True) or after the q / k / v projections.
        embed_dim_mul, atten_head_mul: ``[[block, multiplier], ...]``: the width / heads grow by the
            multiplier at that block.
        pool_q_stride_size, pool_kv_stride_size: ``[[block, stride_t, stride_h, stride_w], ...]``.
        pool_kv_stride_adaptive: the first block's kv stride, divided (down to 1) by the q stride wherever
            q is pooled; excludes ``pool_kv_stride_size``.
        pool_kvq_kernel: the pooling kernel of q and kv (default ``s + 1 if s > 1 else s`` per stride s).
        head: the head builder (called with in_features, out_features, seq_pool_type, dropout_rate,
            activation), or None for no head.
        head_dropout_rate, head_activation, head_num_classes: passed to ``head``.

    Raises:
        ValueError: depth < 1, ``use_2d_patch`` with ``temporal_size`` other than 1, both ``pool_kv_stride_adaptive`` and
            ``pool_kv_stride_size``, or a ``norm`` other than "layernorm".
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"create_multiscale_vision_transformers: depth must be a positive int, got {depth!r}")
    if use_2d_patch and temporal_size != 1:
        raise ValueError(
            f"create_multiscale_vision_transformers: use_2d_patch needs temporal_size=1, got {temporal_size!r}"
        )
    if pool_kv_stride_adaptive is not None and pool_kv_stride_size is not None:
        raise ValueError(
            "create_multiscale_vision_transformers: pass pool_kv_stride_adaptive or pool_kv_stride_size, not both "
            f"(got {pool_kv_stride_adaptive!r} and {pool_kv_stride_size!r})"
        )
    if norm != "layernorm":
        raise ValueError(f'create_multiscale_vision_transformers: norm must be "layernorm", got {norm!r}')
    norm_layer = partial(nn.LayerNorm, eps=1e-6)
    if isinstance(spatial_size, int):
        spatial_size = (spatial_size, spatial_size)

    patch_embed = None
    if enable_patch_embed:
        patch_embed = create_conv_patch_embed(
            in_channels=input_channels,
            out_channels=patch_embed_dim,
            conv_kernel_size=conv_patch_embed_kernel,
            conv_stride=conv_patch_embed_stride,
            conv_padding=conv_patch_embed_padding,
            conv=nn.Conv2d if use_2d_patch else nn.Conv3d,
        )
    input_dims = [temporal_size, spatial_size[0], spatial_size[1]]
    if enable_patch_embed:
        stride = (1, *conv_patch_embed_stride) if use_2d_patch else conv_patch_embed_stride
        patch_embed_shape = [size // s for size, s in zip(input_dims, stride)]
    else:
        patch_embed_shape = input_dims
    cls_positional_encoding = SpatioTemporalClsPositionalEncoding(
        embed_dim=patch_embed_dim,
        patch_embed_shape=patch_embed_shape,
        sep_pos_embed=sep_pos_embed,
        has_cls=cls_embed_on,
    )

    # Stochastic depth rises linearly over the blocks (float32 steps, as PyTorchVideo's torch.linspace).
    # (device="cpu": these are plain numbers, also when the model is built under a torch.device("meta") context.)
    droppath_rates = [r.item() for r in torch.linspace(0, droppath_rate_block, depth, device="cpu")]
    pos_drop = nn.Dropout(p=dropout_rate_block) if dropout_rate_block > 0.0 else None

    # Per-block width and head multipliers; float32 tensors, as PyTorchVideo's, so that round_width rounds alike.
    dim_mul, head_mul = torch.ones(depth + 1, device="cpu"), torch.ones(depth + 1, device="cpu")
    for block, mul in embed_dim_mul or []:
        dim_mul[block] = mul
    for block, mul in atten_head_mul or []:
        head_mul[block] = mul

    norm_patch_embed = norm_layer(patch_embed_dim) if enable_patch_embed_norm else None

    # Pooling schedule: per block, the q and kv strides and kernels ([] where that block does not pool).
    kernel_q = [[] for _ in range(depth)]
    kernel_kv = [[] for _ in range(depth)]
    stride_q = [[] for _ in range(depth)]
    stride_kv = [[] for _ in range(depth)]
    for block, *strides in pool_q_stride_size or []:
        stride_q[block] = strides
        kernel_q[block] = pool_kvq_kernel if pool_kvq_kernel is not None else _pool_kernel(strides)
    if pool_kv_stride_adaptive is not None:
        current = pool_kv_stride_adaptive
        pool_kv_stride_size = []
        for i in range(depth):
            if len(stride_q[i]) > 0:
                current = [max(current[d] // stride_q[i][d], 1) for d in range(len(current))]
            pool_kv_stride_size.append([i, *current])
    for block, *strides in pool_kv_stride_size or []:
        stride_kv[block] = strides
        kernel_kv[block] = pool_kvq_kernel if pool_kvq_kernel is not None else _pool_kernel(strides)

    blocks = nn.ModuleList()
    dim = patch_embed_dim
    for i in range(depth):
        num_heads = round_width(num_heads, head_mul[i], min_width=1, divisor=1)
        dim = round_width(dim, dim_mul[i], divisor=num_heads)
        # PyTorchVideo rounds the output width to a multiple of round_width(num_heads, next multiplier) with
        # round_width's defaults (min_width 8, divisor 8): kept for the same widths.
        dim_out = round_width(dim, dim_mul[i + 1], divisor=round_width(num_heads, head_mul[i + 1]))
        blocks.append(
            MultiScaleBlock(
                dim=dim,
                dim_out=dim_out,
                num_heads=num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                dropout_rate=dropout_rate_block,
                droppath_rate=droppath_rates[i],
                norm_layer=norm_layer,
                kernel_q=kernel_q[i],
                kernel_kv=kernel_kv[i],
                stride_q=stride_q[i],
                stride_kv=stride_kv[i],
                pool_mode=pooling_mode,
                has_cls_embed=cls_embed_on,
                pool_first=pool_first,
            )
        )

    norm_embed = norm_layer(dim_out)
    head_model = None
    if head is not None:
        head_model = head(
            in_features=dim_out,
            out_features=head_num_classes,
            seq_pool_type="cls" if cls_embed_on else "mean",
            dropout_rate=head_dropout_rate,
            activation=head_activation,
        )
    return MultiscaleVisionTransformers(
        patch_embed=patch_embed,
        cls_positional_encoding=cls_positional_encoding,
        pos_drop=pos_drop,
        norm_patch_embed=norm_patch_embed,
        blocks=blocks,
        norm_embed=norm_embed,
        head=head_model,
    )
