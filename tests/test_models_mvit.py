"""fastvid.models: PyTorchVideo 0.1.5's Multiscale Vision Transformers (create_multiscale_vision_transformers and its
layers: signatures, module tree, state_dict keys and shapes, parameter counts, initialization, forward) and the
mvit_base_16x4 / mvit_base_32x3 model-zoo presets.

The comparison with PyTorchVideo's own code runs when ``pytorchvideo.models.vision_transformers`` imports, or when
FASTVID_PTV_SRC names unpacked source trees (``pip download pytorchvideo==0.1.5 fvcore --no-deps`` and unpack;
a ``:``-separated list of the folders holding ``pytorchvideo/`` and ``fvcore/``).
"""

from __future__ import annotations

import argparse
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from fastvid.models import (
    DropPath,
    Mlp,
    MultiScaleAttention,
    MultiScaleBlock,
    MultiscaleVisionTransformers,
    PatchEmbed,
    SequencePool,
    SpatioTemporalClsPositionalEncoding,
    VisionTransformerBasicHead,
    create_conv_patch_embed,
    create_model,
    create_multiscale_vision_transformers,
    create_vit_basic_head,
    list_models,
)
from fastvid.models.attention import drop_path
from fastvid.models.vision_transformers import MVIT_HUB_CONFIGS

from _ptv_models import EMPTY, KW, POS, assert_signature, n_params, params_of, pytorchvideo_modules, same_model

_LN = nn.LayerNorm

# PyTorchVideo 0.1.5's signatures, written out from its source (pytorchvideo/models/vision_transformers.py,
# models/head.py, models/stem.py, layers/attention.py, layers/positional_encoding.py, layers/drop_path.py), in
# order, with their defaults.
KW_SIGNATURES = {
    create_multiscale_vision_transformers: {
        "spatial_size": EMPTY, "temporal_size": EMPTY, "cls_embed_on": True, "sep_pos_embed": True, "depth": 16,
        "norm": "layernorm", "enable_patch_embed": True, "input_channels": 3, "patch_embed_dim": 96,
        "conv_patch_embed_kernel": (3, 7, 7), "conv_patch_embed_stride": (2, 4, 4),
        "conv_patch_embed_padding": (1, 3, 3), "enable_patch_embed_norm": False, "use_2d_patch": False,
        "num_heads": 1, "mlp_ratio": 4.0, "qkv_bias": True, "dropout_rate_block": 0.0, "droppath_rate_block": 0.0,
        "pooling_mode": "conv", "pool_first": False, "embed_dim_mul": None, "atten_head_mul": None,
        "pool_q_stride_size": None, "pool_kv_stride_size": None, "pool_kv_stride_adaptive": None,
        "pool_kvq_kernel": None, "head": create_vit_basic_head, "head_dropout_rate": 0.5, "head_activation": None,
        "head_num_classes": 400,
    },
    MultiscaleVisionTransformers: {
        "patch_embed": EMPTY, "cls_positional_encoding": EMPTY, "pos_drop": EMPTY, "norm_patch_embed": EMPTY,
        "blocks": EMPTY, "norm_embed": EMPTY, "head": EMPTY,
    },
    create_vit_basic_head: {
        "in_features": EMPTY, "out_features": EMPTY, "seq_pool_type": "cls", "dropout_rate": 0.5, "activation": None,
    },
    create_conv_patch_embed: {
        "in_channels": EMPTY, "out_channels": EMPTY, "conv_kernel_size": (1, 16, 16), "conv_stride": (1, 4, 4),
        "conv_padding": (1, 7, 7), "conv_bias": True, "conv": nn.Conv3d,
    },
    PatchEmbed: {"patch_model": None},
}
POS_SIGNATURES = {
    MultiScaleAttention: {
        "dim": EMPTY, "num_heads": 8, "qkv_bias": False, "dropout_rate": 0.0, "kernel_q": (1, 1, 1),
        "kernel_kv": (1, 1, 1), "stride_q": (1, 1, 1), "stride_kv": (1, 1, 1), "norm_layer": _LN,
        "has_cls_embed": True, "pool_mode": "conv", "pool_first": False,
    },
    MultiScaleBlock: {
        "dim": EMPTY, "dim_out": EMPTY, "num_heads": EMPTY, "mlp_ratio": 4.0, "qkv_bias": False, "dropout_rate": 0.0,
        "droppath_rate": 0.0, "act_layer": nn.GELU, "norm_layer": _LN, "kernel_q": (1, 1, 1), "kernel_kv": (1, 1, 1),
        "stride_q": (1, 1, 1), "stride_kv": (1, 1, 1), "pool_mode": "conv", "has_cls_embed": True,
        "pool_first": False,
    },
    Mlp: {"in_features": EMPTY, "hidden_features": None, "out_features": None, "act_layer": nn.GELU,
          "dropout_rate": 0.0},
    SpatioTemporalClsPositionalEncoding: {
        "embed_dim": EMPTY, "patch_embed_shape": EMPTY, "sep_pos_embed": False, "has_cls": True,
    },
    VisionTransformerBasicHead: {"sequence_pool": None, "dropout": None, "proj": None, "activation": None},
    SequencePool: {"mode": EMPTY},
    DropPath: {"drop_prob": 0.0},
    drop_path: {"x": EMPTY, "drop_prob": 0.0, "training": False},
}


@pytest.mark.parametrize("fn", list(KW_SIGNATURES) + list(POS_SIGNATURES), ids=lambda f: f.__name__)
def test_signatures_are_pytorchvideos(fn):
    assert_signature(fn, {**KW_SIGNATURES, **POS_SIGNATURES}[fn], KW if fn in KW_SIGNATURES else POS)


# --- state_dict layout, written out from PyTorchVideo's source --------------------------------------------------


def _ln(prefix: str, c: int) -> list[tuple[str, tuple]]:
    return [(f"{prefix}.weight", (c,)), (f"{prefix}.bias", (c,))]


def _linear(prefix: str, c_in: int, c_out: int) -> list[tuple[str, tuple]]:
    return [(f"{prefix}.weight", (c_out, c_in)), (f"{prefix}.bias", (c_out,))]


def expected_mvit_b_state(frames: int = 16, image: bool = False, num_classes: int = 400) -> list[tuple[str, tuple]]:
    """MViT-B as the hub builds it: a 96-channel patch embedding (3x7x7 stride 2x4x4, or 7x7 stride 4 for the
    image model), class token and separate spatial (56*56) / temporal (frames / 2) / class position embeddings,
    16 blocks whose width doubles after blocks 0, 2 and 13 (96, 192 x2, 384 x11, 768 x2) with heads 1, 2, 4, 8
    (head width 96), q pooled at blocks 1, 3 and 14, k and v pooled in every block (3x3x3, or 1x3x3 for the
    image model, depthwise over the 96 head channels, each with a LayerNorm), an Mlp 4x wide and, where the
    width changes, a Linear residual projection; then a LayerNorm and a Linear head."""
    pool_kernel = (1, 3, 3) if image else (3, 3, 3)
    keys = [("patch_embed.patch_model.weight", (96, 3, 7, 7) if image else (96, 3, 3, 7, 7)),
            ("patch_embed.patch_model.bias", (96,))]
    p = "cls_positional_encoding"
    keys += [(f"{p}.cls_token", (1, 1, 96)), (f"{p}.pos_embed_spatial", (1, 56 * 56, 96)),
             (f"{p}.pos_embed_temporal", (1, 1 if image else frames // 2, 96)), (f"{p}.pos_embed_class", (1, 1, 96))]
    dims = [96, 192, 192] + [384] * 11 + [768, 768]
    for i, dim in enumerate(dims):
        dim_out = dims[i + 1] if i + 1 < len(dims) else dim
        b = f"blocks.{i}"
        keys += _ln(f"{b}.norm1", dim)
        for name in ("q", "k", "v", "proj"):
            keys += _linear(f"{b}.attn.{name}", dim, dim)
        for name in (("q", "k", "v") if i in (1, 3, 14) else ("k", "v")):
            keys += [(f"{b}.attn.pool_{name}.weight", (96, 1, *pool_kernel)), *_ln(f"{b}.attn.norm_{name}", 96)]
        keys += _ln(f"{b}.norm2", dim) + _linear(f"{b}.mlp.fc1", dim, 4 * dim) + _linear(f"{b}.mlp.fc2", 4 * dim, dim_out)
        if dim != dim_out:
            keys += _linear(f"{b}.proj", dim, dim_out)
    return keys + _ln("norm_embed", 768) + _linear("head.proj", 768, num_classes)


@pytest.mark.parametrize("name, want_params", [
    ("mvit_base_16x4", 36_610_672), ("mvit_base_32x3", 36_611_440), ("mvit_base_16", 36_521_296),
])
def test_hub_mvit_state_dict_keys_shapes_and_parameter_counts(name, want_params):
    # PyTorchVideo's model zoo: MViT-B 16x4 and 32x3, 36.61 M parameters each (the 32-frame one has 8 more
    # temporal position entries); mvit_base_16, the ImageNet model, as the hub builds it (400 classes).
    model = create_multiscale_vision_transformers(**MVIT_HUB_CONFIGS[name])
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    want = expected_mvit_b_state(frames=MVIT_HUB_CONFIGS[name]["temporal_size"], image=name == "mvit_base_16")
    assert [k for k, _ in got] == [k for k, _ in want]  # same keys, same order
    assert got == want
    assert len(got) == 377
    assert n_params(model) == params_of(want) == want_params
    if name != "mvit_base_16":
        assert round(want_params / 1e6, 2) == 36.61


def test_mvit_b_module_tree_and_initialization():
    torch.manual_seed(0)
    model = create_multiscale_vision_transformers(**MVIT_HUB_CONFIGS["mvit_base_16x4"])
    blocks = model.blocks
    assert [b.attn.num_heads for b in blocks] == [1, 2, 2] + [4] * 11 + [8, 8]
    assert [(b.dim, b.dim_out) for b in blocks][:4] == [(96, 192), (192, 192), (192, 384), (384, 384)]
    assert [tuple(b.attn.pool_q.stride) for b in blocks if b.attn.pool_q is not None] == [(1, 2, 2)] * 3
    assert [i for i, b in enumerate(blocks) if b.pool_skip is not None] == [1, 3, 14]
    assert tuple(blocks[1].pool_skip.kernel_size) == (1, 3, 3) and tuple(blocks[1].pool_skip.padding) == (0, 1, 1)
    # Adaptive kv stride: (1, 8, 8), divided by each q stride: (1, 4, 4) from block 1, (1, 2, 2) from 3, 1 from 14.
    kv = [tuple(b.attn.pool_k.stride) for b in blocks]
    assert kv == [(1, 8, 8)] + [(1, 4, 4)] * 2 + [(1, 2, 2)] * 11 + [(1, 1, 1)] * 2
    assert all(b.attn.pool_k.groups == 96 and b.attn.pool_k.padding == (1, 1, 1) for b in blocks)
    assert all(b.attn.scale == 96**-0.5 for b in blocks)
    # Norms: the model's LayerNorms have eps 1e-6; the attention pooling norms are plain LayerNorms (1e-5).
    assert blocks[0].norm1.eps == 1e-6 and model.norm_embed.eps == 1e-6 and blocks[0].attn.norm_k.eps == 1e-5
    assert model.pos_drop is None and model.norm_patch_embed is None and isinstance(blocks[0].drop_path, nn.Identity)
    assert isinstance(model.head.sequence_pool, SequencePool) and model.head.sequence_pool.mode == "cls"
    assert model.head.dropout.p == 0.5 and model.head.activation is None
    assert model.cls_positional_encoding.patch_embed_shape == [8, 56, 56]
    # ViT initialization: Linears truncated normal (std 0.02, cut at +-2) with zero bias, LayerNorms identity,
    # position embeddings truncated normal too; the convolutions keep PyTorch's default (kaiming uniform).
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    weights = torch.cat([m.weight.flatten() for m in linears])
    assert abs(weights.std().item() - 0.02) < 2e-4 and abs(weights.mean().item()) < 1e-4
    assert all(torch.count_nonzero(m.bias) == 0 for m in linears)
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    assert all(torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in norms)
    pos = torch.cat([p.flatten() for p in model.cls_positional_encoding.parameters()])
    assert abs(pos.std().item() - 0.02) < 1e-3 and torch.count_nonzero(pos) == pos.numel()
    conv = model.patch_embed.patch_model.weight
    bound = 1 / math.sqrt(3 * 3 * 7 * 7)
    assert conv.abs().max() <= bound and conv.abs().max() > 0.9 * bound


def test_checkpoint_with_pytorchvideo_keys_loads():
    g = torch.Generator().manual_seed(3)
    checkpoint = {k: torch.randn(shape, generator=g) for k, shape in expected_mvit_b_state(frames=32)}
    model = create_model("mvit_base_32x3", num_classes=400, num_frames=32, crop_size=224)
    model.load_state_dict(checkpoint)  # strict
    assert torch.equal(model.blocks[14].attn.pool_q.weight, checkpoint["blocks.14.attn.pool_q.weight"])


# --- forward semantics -------------------------------------------------------------------------------------------


def test_attention_without_pooling_is_multi_head_self_attention():
    torch.manual_seed(0)
    attn = MultiScaleAttention(32, num_heads=4, qkv_bias=True).eval()
    assert attn.pool_q is None and attn.pool_k is None and attn.norm_q is None
    x = torch.randn(2, 1 + 2 * 3 * 3, 32)
    out, thw = attn(x, [2, 3, 3])
    assert thw == [2, 3, 3]

    def heads(t):
        return t.reshape(2, -1, 4, 8).transpose(1, 2)

    ref = F.scaled_dot_product_attention(heads(attn.q(x)), heads(attn.k(x)), heads(attn.v(x)))
    ref = attn.proj(ref.transpose(1, 2).reshape(2, -1, 32))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)


def test_pooling_keeps_the_class_token_and_follows_the_grid():
    torch.manual_seed(0)
    kw = dict(kernel_q=(3, 3, 3), kernel_kv=(3, 3, 3), stride_q=(1, 2, 2), stride_kv=(2, 4, 4))
    x = torch.randn(2, 1 + 4 * 8 * 8, 16)
    for mode in ("conv", "avg", "max"):
        for first in (False, True):
            attn = MultiScaleAttention(16, num_heads=2, pool_mode=mode, pool_first=first, **kw)
            out, thw = attn(x, [4, 8, 8])
            assert thw == [4, 4, 4] and out.shape == (2, 1 + 4 * 4 * 4, 16)
    # Without a class token every token is pooled; the block's residual is max-pooled on the q grid.
    block = MultiScaleBlock(16, 32, 2, has_cls_embed=False, **kw).eval()
    out, thw = block(x[:, 1:], [4, 8, 8])
    assert thw == [4, 4, 4] and out.shape == (2, 64, 32)
    block = MultiScaleBlock(16, 16, 2, **kw).eval()
    with torch.no_grad():
        for layer in (block.attn.proj, block.mlp.fc2):
            layer.weight.zero_()
            layer.bias.zero_()
    out, _ = block(x, [4, 8, 8])  # both branches add zero: the output is the pooled residual
    grid = x[:, 1:].reshape(2, 4, 8, 8, 16).permute(0, 4, 1, 2, 3)
    pooled = F.max_pool3d(grid, (1, 3, 3), (1, 2, 2), (0, 1, 1)).flatten(2).transpose(1, 2)
    assert torch.equal(out[:, 0], x[:, 0]) and torch.equal(out[:, 1:], pooled)


def test_drop_path_drops_whole_samples():
    x = torch.randn(64, 5, 3)
    assert drop_path(x, 0.3, training=False) is x and drop_path(x, 0.0, training=True) is x
    layer = DropPath(0.25).train()
    torch.manual_seed(7)
    out = layer(x)
    torch.manual_seed(7)
    keep = (0.75 + torch.rand(64, 1, 1)).floor()
    assert torch.equal(out, x / 0.75 * keep)
    kept = out.flatten(1).abs().sum(1) > 0
    assert 0 < kept.sum() < 64 and torch.allclose(out[kept], x[kept] / 0.75)
    assert layer.eval()(x) is x


def test_patch_embed_position_encoding_and_head():
    torch.manual_seed(0)
    embed = create_conv_patch_embed(in_channels=3, out_channels=8, conv_kernel_size=(3, 7, 7),
                                    conv_stride=(2, 4, 4), conv_padding=(1, 3, 3))
    x = torch.randn(2, 3, 4, 16, 16)
    assert torch.equal(embed(x), embed.patch_model(x).flatten(2).transpose(1, 2))
    tokens = torch.randn(2, 2 * 4 * 4, 8)
    sep = SpatioTemporalClsPositionalEncoding(8, (2, 4, 4), sep_pos_embed=True)
    joint = SpatioTemporalClsPositionalEncoding(8, (2, 4, 4))
    assert [n for n, _ in sep.named_parameters()] == ["cls_token", "pos_embed_spatial", "pos_embed_temporal",
                                                      "pos_embed_class"]
    with torch.no_grad():
        for p in sep.parameters():
            p.normal_()
        joint.cls_token.copy_(sep.cls_token)
        spatial = sep.pos_embed_spatial.reshape(1, 1, 16, 8)
        grid = (spatial + sep.pos_embed_temporal.reshape(1, 2, 1, 8)).reshape(1, 32, 8)
        joint.pos_embed.copy_(torch.cat([sep.pos_embed_class, grid], 1))
    out = sep(tokens)
    assert out.shape == (2, 33, 8) and torch.equal(out[:, 0], (sep.cls_token + sep.pos_embed_class)[0].expand(2, 8))
    torch.testing.assert_close(out, joint(tokens), rtol=0, atol=1e-6)
    no_cls = SpatioTemporalClsPositionalEncoding(8, (2, 4, 4), has_cls=False)
    assert no_cls(tokens).shape == (2, 32, 8) and no_cls.pos_embed.shape == (1, 32, 8)
    with pytest.raises(ValueError, match=r"expected 32 patch tokens \(a 2x4x4 patch grid.* got 18"):
        sep(tokens[:, :18])
    seq = torch.randn(3, 5, 8)
    assert torch.equal(SequencePool("cls")(seq), seq[:, 0]) and torch.equal(SequencePool("mean")(seq), seq.mean(1))
    head = create_vit_basic_head(in_features=8, out_features=4, seq_pool_type="mean", activation=nn.Softmax).eval()
    torch.testing.assert_close(head(seq), torch.softmax(head.proj(seq.mean(1)), dim=1))
    assert create_vit_basic_head(in_features=8, out_features=4, seq_pool_type="none", dropout_rate=0).sequence_pool is None


def test_small_mvit_forward_backward_and_no_class_token():
    torch.manual_seed(0)
    kw = dict(spatial_size=32, temporal_size=4, depth=3, patch_embed_dim=16, num_heads=2, head_num_classes=5,
              embed_dim_mul=[[1, 2.0]], atten_head_mul=[[1, 2.0]], pool_q_stride_size=[[1, 1, 2, 2]],
              pool_kv_stride_adaptive=[1, 4, 4], pool_kvq_kernel=[3, 3, 3], droppath_rate_block=0.2)
    model = create_multiscale_vision_transformers(**kw)
    assert [b.drop_path.drop_prob for b in model.blocks[1:]] == [0.10000000149011612, 0.20000000298023224]
    x = torch.randn(2, 3, 4, 32, 32, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 5)
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    mean_head = create_multiscale_vision_transformers(**kw, cls_embed_on=False).eval()
    assert mean_head.head.sequence_pool.mode == "mean" and not hasattr(mean_head.cls_positional_encoding, "cls_token")
    assert mean_head(x).shape == (2, 5)
    with pytest.raises(ValueError, match="patch tokens"):
        model(torch.randn(1, 3, 8, 32, 32))
    image = create_multiscale_vision_transformers(
        spatial_size=32, temporal_size=1, depth=2, use_2d_patch=True, conv_patch_embed_kernel=(7, 7),
        conv_patch_embed_stride=(4, 4), conv_patch_embed_padding=(3, 3), pool_q_stride_size=[[1, 1, 2, 2]],
        pool_kv_stride_adaptive=[1, 4, 4], pool_kvq_kernel=[1, 3, 3], head_num_classes=3)
    assert image.cls_positional_encoding.patch_embed_shape == [1, 8, 8]
    assert image.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="use_2d_patch needs temporal_size=1"):
        create_multiscale_vision_transformers(spatial_size=32, temporal_size=4, use_2d_patch=True)
    with pytest.raises(ValueError, match="pool_kv_stride_adaptive or pool_kv_stride_size, not both"):
        create_multiscale_vision_transformers(spatial_size=32, temporal_size=4, pool_kv_stride_adaptive=[1, 2, 2],
                                              pool_kv_stride_size=[[0, 1, 2, 2]])
    with pytest.raises(ValueError, match='norm must be "layernorm"'):
        create_multiscale_vision_transformers(spatial_size=32, temporal_size=4, norm="batchnorm")
    with pytest.raises(ValueError, match="depth must be a positive int"):
        create_multiscale_vision_transformers(spatial_size=32, temporal_size=4, depth=0)
    with pytest.raises(ValueError, match="pool_mode must be one of"):
        MultiScaleAttention(16, num_heads=2, pool_mode="min")
    with pytest.raises(ValueError, match="patch_embed_shape must be"):
        SpatioTemporalClsPositionalEncoding(8, (4, 4))
    with pytest.raises(ValueError, match="mode must be one of"):
        SequencePool("max")
    with pytest.raises(ValueError, match="seq_pool_type"):
        create_vit_basic_head(in_features=8, out_features=2, seq_pool_type="max")
    with pytest.raises(ValueError, match="proj is required"):
        VisionTransformerBasicHead()
    with pytest.raises(ValueError, match="patch_model is required"):
        PatchEmbed()
    with pytest.raises(TypeError, match="patch_embed_shape"):
        MultiscaleVisionTransformers(patch_embed=None, cls_positional_encoding=nn.Identity(), pos_drop=None,
                                     norm_patch_embed=None, blocks=nn.ModuleList(), norm_embed=None, head=None)


# --- the model zoo -----------------------------------------------------------------------------------------------


def test_zoo_mvit_presets_and_clip_size_errors():
    assert {"mvit_base_16x4", "mvit_base_32x3"} <= set(list_models())
    model = create_model("mvit_base_16x4", num_classes=3, num_frames=16, crop_size=224, dropout_rate=0.2)
    assert [k for k, _ in expected_mvit_b_state(num_classes=3)] == list(model.state_dict())
    assert model.head.dropout.p == 0.2 and model.head.activation is None  # logits, for cross-entropy
    assert create_model("mvit_base_32x3", num_classes=3, num_frames=32).cls_positional_encoding.patch_embed_shape == [
        16, 56, 56]
    for name, frames, crop in (("mvit_base_16x4", 8, 224), ("mvit_base_16x4", 16, 160), ("mvit_base_32x3", 16, 224)):
        want = MVIT_HUB_CONFIGS[name]["temporal_size"]
        with pytest.raises(ValueError, match=rf"{name} takes {want}x224x224 clips only .* got num_frames={frames}, "
                                             rf"crop_size={crop}; .*fastvid-train --frames {want} --crop-size 224"):
            create_model(name, num_classes=3, num_frames=frames, crop_size=crop)
    # fastvid-train checks the clip size on the meta device before reading any data.
    from fastvid.train.cli import check_model

    assert check_model(argparse.Namespace(model="mvit_base_16x4", frames=16, crop_size=224)) is None
    message = check_model(argparse.Namespace(model="mvit_base_16x4", frames=8, crop_size=224))
    assert message.startswith("argument --model:") and "--frames 16" in message


@pytest.mark.slow
def test_zoo_mvit_trains_one_step_on_cpu_at_its_size():
    """mvit_base_16x4 on one 16x224x224 clip: forward, backward and an SGD step (about 4 s on 2 cores)."""
    torch.manual_seed(0)
    model = create_model("mvit_base_16x4", num_classes=4, num_frames=16, crop_size=224)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(1, 3, 16, 224, 224), torch.tensor([2])
    before = model.head.proj.weight.detach().clone()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    opt.step()
    assert not torch.equal(before, model.head.proj.weight)


# --- against PyTorchVideo's own code ------------------------------------------------------------------------------

_SMALL = dict(
    spatial_size=32, temporal_size=4, depth=4, patch_embed_dim=16, num_heads=2, embed_dim_mul=[[1, 2.0], [3, 2.0]],
    atten_head_mul=[[1, 2.0], [3, 2.0]], pool_q_stride_size=[[1, 1, 2, 2], [3, 1, 2, 2]],
    pool_kv_stride_adaptive=[1, 4, 4], pool_kvq_kernel=[3, 3, 3], dropout_rate_block=0.2, droppath_rate_block=0.3,
    head_num_classes=7,
)
_VARIANTS = {
    "small": {},
    "pool_first": dict(pool_first=True),
    "avg_pool": dict(pooling_mode="avg", temporal_size=8),
    "max_pool_first": dict(pooling_mode="max", pool_first=True, temporal_size=8),
    "joint_pos_no_cls": dict(cls_embed_on=False, sep_pos_embed=False),
    "joint_pos_patch_norm_softmax": dict(sep_pos_embed=False, enable_patch_embed_norm=True, head_activation=nn.Softmax),
    "no_cls_no_qkv_bias": dict(cls_embed_on=False, qkv_bias=False, mlp_ratio=2.5),
    "explicit_kv_default_kernels": dict(pool_kv_stride_adaptive=None, pool_kv_stride_size=[[0, 1, 2, 2], [2, 2, 2, 2]],
                                        pool_kvq_kernel=None),
    "fractional_multipliers": dict(embed_dim_mul=[[1, 1.5], [2, 1.3]], atten_head_mul=[[2, 1.5]], num_heads=1),
    "rectangular": dict(spatial_size=(32, 48)),
    "no_head": dict(head=None),
    "no_dropout": dict(dropout_rate_block=0.0, droppath_rate_block=0.0, head_dropout_rate=0.0),
    "image_2d_patch": dict(temporal_size=1, use_2d_patch=True, conv_patch_embed_kernel=[7, 7],
                           conv_patch_embed_stride=[4, 4], conv_patch_embed_padding=[3, 3],
                           pool_kvq_kernel=[1, 3, 3]),
    "tokens_in": dict(enable_patch_embed=False, temporal_size=2, spatial_size=8),
}


@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_matches_pytorchvideo_source(variant):
    (vt,) = pytorchvideo_modules("pytorchvideo.models.vision_transformers")
    kw = {**_SMALL, **_VARIANTS[variant]}
    size = kw["spatial_size"]
    h, w = (size, size) if isinstance(size, int) else size
    if kw.get("use_2d_patch"):
        shape = (2, 3, h, w)
    elif kw.get("enable_patch_embed", True):
        shape = (2, 3, kw["temporal_size"], h, w)
    else:
        shape = (2, kw["temporal_size"] * h * w, kw["patch_embed_dim"])
    same_model(lambda: create_multiscale_vision_transformers(**kw),
               lambda: vt.create_multiscale_vision_transformers(**kw), shape, grads=True)


def test_matches_pytorchvideo_source_hub_construction():
    # The hub's three MViT-B: same seed, same state_dict (keys, order, shapes, initial values).
    (vt,) = pytorchvideo_modules("pytorchvideo.models.vision_transformers")
    for name, config in MVIT_HUB_CONFIGS.items():
        torch.manual_seed(0)
        ours = create_multiscale_vision_transformers(**config).state_dict()
        torch.manual_seed(0)
        theirs = vt.create_multiscale_vision_transformers(**config).state_dict()
        assert list(ours) == list(theirs), name
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name


@pytest.mark.slow
def test_matches_pytorchvideo_source_full_size_mvit_base_16x4():
    """mvit_base_16x4 exactly as the hub builds it, on one 16x224x224 clip, eval and train (dropout), with
    gradients (about 10 s on 2 cores)."""
    (vt,) = pytorchvideo_modules("pytorchvideo.models.vision_transformers")
    config = {**MVIT_HUB_CONFIGS["mvit_base_16x4"], "droppath_rate_block": 0.2}
    same_model(lambda: create_multiscale_vision_transformers(**config),
               lambda: vt.create_multiscale_vision_transformers(**config), (1, 3, 16, 224, 224), grads=True)
