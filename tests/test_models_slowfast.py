"""fastvid.models.slowfast (and .multipathway, .roi_head): PyTorchVideo 0.1.5's SlowFast builders (signatures,
module tree, state_dict keys and shapes, parameter counts, initialization, forward), and
fastvid.transforms.PackPathway (the SlowFast tutorial's).

The comparison with PyTorchVideo's own code runs when ``pytorchvideo.models.slowfast`` imports, or when
FASTVID_PTV_SRC names unpacked source trees (``pip download pytorchvideo==0.1.5 fvcore --no-deps`` and unpack;
a ``:``-separated list of the folders holding ``pytorchvideo/`` and ``fvcore/``): its model modules are then
loaded without running the package ``__init__``\\ s, which import transforms that no longer work.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import pickle
import sys

import pytest
import torch
import torch.nn as nn

from fastvid.models import (
    BottleneckBlock,
    DetectionBBoxNetwork,
    FastToSlowFusionBuilder,
    FuseFastToSlow,
    MultiPathWayWithFuse,
    Net,
    PoolConcatPathway,
    ResBlock,
    ResNetBasicHead,
    ResNetBasicStem,
    ResNetRoIHead,
    ResStage,
    create_bottleneck_block,
    create_model,
    create_res_basic_head,
    create_res_basic_stem,
    create_res_roi_pooling_head,
    create_slowfast,
    create_slowfast_with_roi_head,
    list_models,
)

from _ptv_models import EMPTY, KW, POS, assert_signature, bn_keys, n_params, params_of, pytorchvideo_modules, same_model
from fastvid.transforms import Compose, Div255, PackPathway


# PyTorchVideo 0.1.5's signatures, written out from its source (pytorchvideo/models/slowfast.py, net.py, head.py),
# in order, with their defaults.
_BN, _RELU, _CBB = nn.BatchNorm3d, nn.ReLU, create_bottleneck_block
_STEMS = (create_res_basic_stem, create_res_basic_stem)
_SLOWFAST_COMMON = {
    "slowfast_channel_reduction_ratio": (8,), "slowfast_conv_channel_fusion_ratio": 2,
    "slowfast_fusion_conv_kernel_size": (7, 1, 1), "slowfast_fusion_conv_stride": (4, 1, 1), "fusion_builder": None,
    "input_channels": (3, 3), "model_depth": 50, "model_num_class": 400, "dropout_rate": 0.5, "norm": _BN,
    "activation": _RELU, "stem_function": _STEMS, "stem_dim_outs": (64, 8),
    "stem_conv_kernel_sizes": ((1, 7, 7), (5, 7, 7)), "stem_conv_strides": ((1, 2, 2), (1, 2, 2)),
    "stem_pool": (nn.MaxPool3d, nn.MaxPool3d), "stem_pool_kernel_sizes": ((1, 3, 3), (1, 3, 3)),
    "stem_pool_strides": ((1, 2, 2), (1, 2, 2)),
    "stage_conv_a_kernel_sizes": (((1, 1, 1), (1, 1, 1), (3, 1, 1), (3, 1, 1)), ((3, 1, 1),) * 4),
    "stage_conv_b_kernel_sizes": (((1, 3, 3),) * 4, ((1, 3, 3),) * 4),
    "stage_conv_b_num_groups": ((1, 1, 1, 1), (1, 1, 1, 1)),
    "stage_conv_b_dilations": (((1, 1, 1),) * 4, ((1, 1, 1),) * 4),
    "stage_spatial_strides": ((1, 2, 2, 2), (1, 2, 2, 2)), "stage_temporal_strides": ((1, 1, 1, 1), (1, 1, 1, 1)),
    "bottleneck": ((_CBB,) * 4, (_CBB,) * 4), "head": create_res_basic_head, "head_pool": nn.AvgPool3d,
    "head_pool_kernel_sizes": ((8, 7, 7), (32, 7, 7)), "head_output_size": (1, 1, 1), "head_activation": None,
    "head_output_with_global_average": True,
}
KW_SIGNATURES = {
    create_slowfast: _SLOWFAST_COMMON,
    create_slowfast_with_roi_head: {
        **_SLOWFAST_COMMON, "model_num_class": 80,
        "stage_conv_b_dilations": (((1, 1, 1),) * 3 + ((1, 2, 2),), ((1, 1, 1),) * 3 + ((1, 2, 2),)),
        "stage_spatial_strides": ((1, 2, 2, 1), (1, 2, 2, 1)), "head": create_res_roi_pooling_head,
        "head_pool_kernel_sizes": ((8, 1, 1), (32, 1, 1)), "head_activation": nn.Sigmoid,
        "head_output_with_global_average": False, "head_spatial_resolution": (7, 7), "head_spatial_scale": 1 / 16,
        "head_sampling_ratio": 0,
    },
    MultiPathWayWithFuse: {"multipathway_blocks": EMPTY, "multipathway_fusion": EMPTY, "inplace": True},
    create_res_roi_pooling_head: {
        "in_features": EMPTY, "out_features": EMPTY, "resolution": EMPTY, "spatial_scale": EMPTY,
        "sampling_ratio": 0, "roi": importlib.import_module("torchvision.ops").RoIAlign, "pool": nn.AvgPool3d,
        "output_size": (1, 1, 1), "pool_kernel_size": (1, 7, 7), "pool_stride": (1, 1, 1), "pool_padding": (0, 0, 0),
        "pool_spatial": nn.MaxPool2d, "dropout_rate": 0.5, "activation": None, "output_with_global_average": True,
    },
}
POS_SIGNATURES = {
    FastToSlowFusionBuilder: {
        "slowfast_channel_reduction_ratio": EMPTY, "conv_fusion_channel_ratio": EMPTY, "conv_kernel_size": EMPTY,
        "conv_stride": EMPTY, "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "activation": _RELU,
        "max_stage_idx": 3,
    },
    FuseFastToSlow: {"conv_fast_to_slow": EMPTY, "norm": None, "activation": None},
    PoolConcatPathway: {"retain_list": False, "pool": None, "dim": 1},
    DetectionBBoxNetwork: {"model": EMPTY, "detection_head": EMPTY},
    ResNetRoIHead: {
        "pool": None, "pool_spatial": None, "roi_layer": None, "dropout": None, "proj": None, "activation": None,
        "output_pool": None,
    },
}


@pytest.mark.parametrize("fn", list(KW_SIGNATURES) + list(POS_SIGNATURES), ids=lambda f: f.__name__)
def test_signatures_are_pytorchvideos(fn):
    assert_signature(fn, {**KW_SIGNATURES, **POS_SIGNATURES}[fn], KW if fn in KW_SIGNATURES else POS)


# --- state_dict layout, written out from PyTorchVideo's source --------------------------------------------------

_DEPTHS = {18: (1, 1, 1, 1), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}



def _stage(prefix: str, depth: int, dim_in: int, inner: int, dim_out: int, kt: int) -> list[tuple[str, tuple]]:
    keys = []
    for b in range(depth):
        p = f"{prefix}.res_blocks.{b}"
        if b == 0:  # the first block changes the width: a shortcut conv and norm
            keys += [(f"{p}.branch1_conv.weight", (dim_out, dim_in, 1, 1, 1)), *bn_keys(f"{p}.branch1_norm", dim_out)]
        keys += [(f"{p}.branch2.conv_a.weight", (inner, dim_in if b == 0 else dim_out, kt, 1, 1))]
        keys += [*bn_keys(f"{p}.branch2.norm_a", inner), (f"{p}.branch2.conv_b.weight", (inner, inner, 1, 3, 3))]
        keys += [*bn_keys(f"{p}.branch2.norm_b", inner), (f"{p}.branch2.conv_c.weight", (dim_out, inner, 1, 1, 1))]
        keys += bn_keys(f"{p}.branch2.norm_c", dim_out)
    return keys


def expected_slowfast_state(depth: int = 50, fusion_kt: int = 7, num_classes: int = 400) -> list[tuple[str, tuple]]:
    """create_slowfast's state_dict with its defaults: blocks.0 holds the slow stem (3 -> 64, 1x7x7), the fast
    stem (3 -> 8, 5x7x7) and a fusion conv 8 -> 16 (fusion_kt x1x1); blocks 1-4 a ResStage per pathway (the slow
    one takes its width plus the fused 2/8 of it; conv_a temporal kernel 1, 1, 3, 3 slow and 3 everywhere fast),
    fusions after stages 1-3 (none after 4); blocks.5 (pools) has no weights; blocks.6 the Linear 2048+256 ->
    num_classes."""
    keys = [("blocks.0.multipathway_blocks.0.conv.weight", (64, 3, 1, 7, 7)), *bn_keys("blocks.0.multipathway_blocks.0.norm", 64)]
    keys += [("blocks.0.multipathway_blocks.1.conv.weight", (8, 3, 5, 7, 7)), *bn_keys("blocks.0.multipathway_blocks.1.norm", 8)]
    keys += [("blocks.0.multipathway_fusion.conv_fast_to_slow.weight", (16, 8, fusion_kt, 1, 1))]
    keys += bn_keys("blocks.0.multipathway_fusion.norm", 16)
    dim_in, dim_out = 64, 256
    for s, n_blocks in enumerate(_DEPTHS[depth]):
        p = f"blocks.{s + 1}"
        keys += _stage(f"{p}.multipathway_blocks.0", n_blocks, dim_in + dim_in // 4, dim_out // 4, dim_out,
                       (1, 1, 3, 3)[s])
        keys += _stage(f"{p}.multipathway_blocks.1", n_blocks, dim_in // 8, dim_out // 32, dim_out // 8, 3)
        if s < 3:
            fast = dim_out // 8
            keys += [(f"{p}.multipathway_fusion.conv_fast_to_slow.weight", (2 * fast, fast, fusion_kt, 1, 1))]
            keys += bn_keys(f"{p}.multipathway_fusion.norm", 2 * fast)
        dim_in, dim_out = dim_out, dim_out * 2
    keys += [("blocks.6.proj.weight", (num_classes, 2048 + 256)), ("blocks.6.proj.bias", (num_classes,))]
    return keys




@pytest.mark.parametrize("depth, fusion_kt, n_keys, want_params", [(50, 7, 662, 34_566_488), (101, 5, 1274, 62_826_968)])
def test_hub_slowfast_state_dict_keys_shapes_and_parameter_counts(depth, fusion_kt, n_keys, want_params):
    # PyTorchVideo's hub: slowfast_r50 = create_slowfast(model_depth=50, slowfast_fusion_conv_kernel_size=(7, 1, 1)),
    # 34.57 M parameters; slowfast_r101 = (model_depth=101, slowfast_fusion_conv_kernel_size=(5, 1, 1)), 62.83 M.
    model = create_slowfast(model_depth=depth, slowfast_fusion_conv_kernel_size=(fusion_kt, 1, 1))
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    want = expected_slowfast_state(depth, fusion_kt)
    assert [k for k, _ in got] == [k for k, _ in want]  # same keys, same order
    assert got == want
    assert len(got) == n_keys
    assert n_params(model) == params_of(want) == want_params
    assert round(want_params / 1e6, 2) == {50: 34.57, 101: 62.83}[depth]


def test_slowfast_module_tree_and_initialization():
    torch.manual_seed(0)
    model = create_slowfast()
    assert isinstance(model, Net) and len(model.blocks) == 7
    for s in range(5):
        block = model.blocks[s]
        assert isinstance(block, MultiPathWayWithFuse) and block.inplace is True
        assert len(block.multipathway_blocks) == 2
        kind = ResNetBasicStem if s == 0 else ResStage
        assert all(isinstance(b, kind) for b in block.multipathway_blocks)
        assert isinstance(block.multipathway_fusion, FuseFastToSlow if s < 4 else nn.Identity)
    slow_stem, fast_stem = model.blocks[0].multipathway_blocks
    assert slow_stem.conv.kernel_size == (1, 7, 7) and fast_stem.conv.kernel_size == (5, 7, 7)
    assert fast_stem.conv.padding == (2, 3, 3) and isinstance(fast_stem.pool, nn.MaxPool3d)
    fuse = model.blocks[1].multipathway_fusion
    conv = fuse.conv_fast_to_slow
    assert conv.stride == (4, 1, 1) and conv.padding == (3, 0, 0) and conv.bias is None
    assert isinstance(fuse.norm, nn.BatchNorm3d) and isinstance(fuse.activation, nn.ReLU)
    assert abs(conv.weight.std().item() - math.sqrt(2.0 / (64 * 7))) < 0.01  # Kaiming normal, fan_out
    assert torch.all(fuse.norm.weight == 1) and torch.all(fuse.norm.bias == 0)
    for s in range(1, 5):
        for stage in model.blocks[s].multipathway_blocks:
            for block in stage.res_blocks:
                assert isinstance(block, ResBlock) and isinstance(block.branch2, BottleneckBlock)
                assert torch.all(block.branch2.norm_c.weight == 0)  # residual branch starts at zero
    slow3, fast3 = model.blocks[3].multipathway_blocks
    assert slow3.res_blocks[0].branch2.conv_a.kernel_size == (3, 1, 1)
    assert slow3.res_blocks[0].branch2.conv_b.stride == (1, 2, 2) and slow3.res_blocks[0].branch1_conv.stride == (1, 2, 2)
    assert model.blocks[1].multipathway_blocks[0].res_blocks[0].branch2.conv_a.kernel_size == (1, 1, 1)
    assert model.blocks[1].multipathway_blocks[1].res_blocks[0].branch2.conv_a.kernel_size == (3, 1, 1)
    pool = model.blocks[5]
    assert isinstance(pool, PoolConcatPathway) and pool.retain_list is False and pool.dim == 1
    assert [tuple(p.kernel_size) for p in pool.pool] == [(8, 7, 7), (32, 7, 7)]
    assert all(p.stride == (1, 1, 1) for p in pool.pool)
    head = model.blocks[6]
    assert isinstance(head, ResNetBasicHead) and head.pool is None and head.activation is None
    assert isinstance(head.dropout, nn.Dropout) and head.dropout.p == 0.5
    assert torch.all(head.proj.bias == 0) and 0.008 < head.proj.weight.std().item() < 0.012
    pickle.dumps(model)  # no lambdas (DDP spawn, torch.save(model))


def test_slowfast_forward_small_clips_and_input_list():
    torch.manual_seed(0)
    # Slow 4x64x64, fast 16x64x64: the final maps are 4x2x2 and 16x2x2.
    model = create_slowfast(model_depth=18, model_num_class=5, head_pool_kernel_sizes=((4, 2, 2), (16, 2, 2)))
    model.eval()
    slow, fast = torch.randn(2, 3, 4, 64, 64), torch.randn(2, 3, 16, 64, 64)
    inputs = [slow, fast]
    with torch.no_grad():
        out = model(inputs)
        assert out.shape == (2, 5)
        # As PyTorchVideo's, the first MultiPathWayWithFuse writes the stems' outputs into the caller's list.
        assert inputs[0].shape == (2, 64, 4, 16, 16) and inputs[1].shape == (2, 8, 16, 16, 16)
        # The same input again, packed from one clip, through an adaptive-pool model with the same weights.
        adaptive = create_slowfast(model_depth=18, model_num_class=5, head_pool=nn.AdaptiveAvgPool3d).eval()
        adaptive.load_state_dict(model.state_dict())
        torch.testing.assert_close(adaptive([slow, fast]), out, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="list"):
        model((slow, fast))


def test_fusion_pool_concat_and_multipathway_semantics():
    torch.manual_seed(0)
    builder = FastToSlowFusionBuilder(8, 2, (5, 1, 1), (4, 1, 1), norm=None, max_stage_idx=1)
    fuse = builder.create_module(fusion_dim_in=64, stage_idx=1)
    assert isinstance(builder.create_module(fusion_dim_in=64, stage_idx=2), nn.Identity)
    assert fuse.norm is None and fuse.conv_fast_to_slow.in_channels == 8 and fuse.conv_fast_to_slow.out_channels == 16
    slow, fast = torch.randn(2, 6, 3, 5, 5), torch.randn(2, 8, 12, 5, 5)
    got = fuse([slow, fast])
    lateral = torch.relu(nn.functional.conv3d(fast, fuse.conv_fast_to_slow.weight, stride=(4, 1, 1), padding=(2, 0, 0)))
    torch.testing.assert_close(got[0], torch.cat([slow, lateral], 1))
    assert got[1] is fast
    # PoolConcatPathway: per-pathway pools, None pathways skipped, channels concatenated.
    pools = nn.ModuleList([nn.AvgPool3d((3, 5, 5), stride=1), nn.AdaptiveAvgPool3d(1)])
    cat = PoolConcatPathway(pool=pools)
    x = [slow, fast]
    torch.testing.assert_close(cat(x), torch.cat([slow.mean((2, 3, 4), keepdim=True), fast.mean((2, 3, 4), keepdim=True)], 1))
    assert x[1].shape == (2, 8, 1, 1, 1)  # written back, as PyTorchVideo's
    assert PoolConcatPathway(retain_list=True)([slow, None])[0].shape == slow.shape
    # MultiPathWayWithFuse: in place by default; inplace=False leaves the input alone.
    blocks = nn.ModuleList([nn.Identity(), nn.Conv3d(8, 4, 1)])
    x = [slow, fast]
    out = MultiPathWayWithFuse(multipathway_blocks=blocks, multipathway_fusion=None)(x)
    assert out is x and x[1].shape == (2, 4, 12, 5, 5)
    x = [slow, fast]
    out = MultiPathWayWithFuse(multipathway_blocks=blocks, multipathway_fusion=None, inplace=False)(x)
    assert out is not x and x[1] is fast and out[1].shape == (2, 4, 12, 5, 5)


def test_checkpoint_with_pytorchvideo_keys_loads():
    torch.manual_seed(1)
    state = {}
    for key, shape in expected_slowfast_state(50, 7, num_classes=10):
        state[key] = torch.tensor(3) if key.endswith("num_batches_tracked") else torch.randn(shape)
    model = create_slowfast(model_num_class=10, head_pool=nn.AdaptiveAvgPool3d)
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_slowfast_with_roi_head():
    torch.manual_seed(0)
    model = create_slowfast_with_roi_head(model_depth=18, model_num_class=6, head_pool_kernel_sizes=((4, 1, 1), (16, 1, 1)))
    assert isinstance(model, DetectionBBoxNetwork) and isinstance(model.model, Net) and len(model.model.blocks) == 6
    head = model.detection_head
    assert isinstance(head, ResNetRoIHead) and head.pool is None and head.output_pool is None
    assert head.roi_layer.output_size == (7, 7) and head.roi_layer.spatial_scale == 1 / 16
    assert isinstance(head.pool_spatial, nn.MaxPool2d) and isinstance(head.activation, nn.Sigmoid)
    sd = model.state_dict()
    assert tuple(sd["detection_head.proj.weight"].shape) == (6, 2048 + 256)
    assert tuple(sd["model.blocks.0.multipathway_fusion.conv_fast_to_slow.weight"].shape) == (16, 8, 7, 1, 1)
    last = model.model.blocks[4].multipathway_blocks[0].res_blocks[0].branch2.conv_b
    assert last.dilation == (1, 2, 2) and last.stride == (1, 1, 1) and last.padding == (0, 2, 2)
    boxes = torch.tensor([[0, 3.0, 5.0, 40.0, 60.0], [1, 0.0, 0.0, 63.0, 63.0], [1, 10.5, 2.0, 30.0, 33.0]])
    with torch.no_grad():
        out = model.eval()([torch.randn(2, 3, 4, 64, 64), torch.randn(2, 3, 16, 64, 64)], boxes)
    assert out.shape == (3, 6) and bool(((out > 0) & (out < 1)).all())
    with pytest.raises(ValueError, match="1 frame"):
        head(torch.randn(1, 8, 2, 4, 4), boxes[:1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="model_depth"):
        create_slowfast(model_depth=34)
    with pytest.raises(ValueError, match="input_channels"):
        create_slowfast(input_channels=(3, 3, 3))
    with pytest.raises(ValueError, match="stage_spatial_strides"):
        create_slowfast(stage_spatial_strides=((1, 2, 2, 2), (1, 2)))
    with pytest.raises(ValueError, match="stem_dim_outs"):
        create_slowfast(stem_dim_outs=(64,))
    with pytest.raises(ValueError, match="head_pool"):
        create_slowfast(head_pool=nn.MaxPool3d)
    with pytest.raises(ValueError, match="model_depth"):
        create_slowfast_with_roi_head(model_depth=34)
    with pytest.raises(ValueError, match="proj"):
        ResNetRoIHead()
    with pytest.raises(TypeError, match="multipathway_blocks"):
        MultiPathWayWithFuse(multipathway_blocks=[nn.Identity()], multipathway_fusion=None)


def test_slowfast_is_not_in_the_zoo():
    # fastvid-train feeds a model one tensor; SlowFast takes [slow, fast] (see fastvid.models.slowfast).
    assert not any(name.startswith("slowfast") for name in list_models())
    with pytest.raises(ValueError, match="name must be one of"):
        create_model("slowfast_r50", num_classes=3)


# --- PackPathway ---------------------------------------------------------------------------------------------------


def _tutorial_pack(frames: torch.Tensor, alpha: int) -> list[torch.Tensor]:
    """The SlowFast tutorial's PackPathway.forward on a (C, T, H, W) clip, as published."""
    index = torch.linspace(0, frames.shape[1] - 1, frames.shape[1] // alpha).long()
    return [torch.index_select(frames, 1, index), frames]


@pytest.mark.parametrize("alpha", [1, 2, 3, 4, 8])
def test_pack_pathway_is_the_tutorials(alpha):
    g = torch.Generator().manual_seed(alpha)
    for t in (alpha, alpha + 1, 7, 16, 31, 32, 33, 64, 100):
        if t < alpha:
            continue
        clip = torch.randint(0, 256, (3, t, 5, 6), generator=g, dtype=torch.uint8)
        slow, fast = PackPathway(alpha)(clip)
        want_slow, _ = _tutorial_pack(clip, alpha)
        assert fast is clip and torch.equal(slow, want_slow) and slow.shape[1] == t // alpha
        # A batch packs along its time axis (-3) to the same frames.
        batch = torch.stack([clip, clip.flip(0)]).float()
        bslow, bfast = PackPathway(alpha=alpha)(batch)
        assert bfast is batch and torch.equal(bslow[0], want_slow.float()) and torch.equal(bslow[1], want_slow.flip(0).float())
    # Hand-checked: 32 frames, alpha 4 -> 8 frames 0, 4, 8, 13, 17, 22, 26, 31.
    clip = torch.arange(32.0).reshape(1, 32, 1, 1)
    assert PackPathway()(clip)[0].flatten().tolist() == [0, 4, 8, 13, 17, 22, 26, 31]


def test_pack_pathway_in_compose_and_errors():
    clip = torch.randint(0, 256, (3, 8, 4, 4), dtype=torch.uint8)
    slow, fast = Compose([Div255(), PackPathway(alpha=4)])(clip)
    torch.testing.assert_close(fast, clip.float() / 255)
    assert torch.equal(slow, fast[:, [0, 7]])
    assert PackPathway(2, temporal_dim=0)(torch.arange(6.0))[0].tolist() == [0, 2, 5]  # 0, 2.5, 5 truncated
    assert "alpha=4" in repr(PackPathway())
    with pytest.raises(ValueError, match="at least alpha=4 frames"):
        PackPathway()(torch.zeros(3, 3, 4, 4))
    with pytest.raises(ValueError, match="alpha"):
        PackPathway(alpha=0)
    with pytest.raises(TypeError, match="alpha"):
        PackPathway(alpha=2.5)
    with pytest.raises(ValueError, match="temporal_dim"):
        PackPathway(temporal_dim=4)(torch.zeros(3, 8, 4, 4))
    with pytest.raises(TypeError, match="tensor"):
        PackPathway()([torch.zeros(3, 8, 4, 4)])



def test_slowfast_trains_one_step_on_a_packed_batch():
    """The module docstring's recipe: PackPathway on the (B, C, T, H, W) batch, a new list every step."""
    torch.manual_seed(0)
    model = create_slowfast(model_depth=18, model_num_class=4, head_pool=nn.AdaptiveAvgPool3d)
    pack = PackPathway(alpha=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    video, label = torch.randn(2, 3, 8, 48, 48), torch.tensor([1, 3])
    before = model.blocks[6].proj.weight.detach().clone()
    for _ in range(2):
        loss = nn.functional.cross_entropy(model(pack(video)), label)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.isfinite(loss) and video.shape == (2, 3, 8, 48, 48)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert not torch.equal(before, model.blocks[6].proj.weight)
    assert model.blocks[0].multipathway_fusion.norm.num_batches_tracked.item() == 2

@pytest.mark.cuda
def test_pack_pathway_on_cuda_matches_cpu():
    clip = torch.randn(2, 3, 37, 8, 8)
    slow, fast = PackPathway()(clip.cuda())
    assert slow.is_cuda and fast.is_cuda
    assert torch.equal(slow.cpu(), PackPathway()(clip)[0])


# --- against PyTorchVideo's own code ------------------------------------------------------------------------------


def test_matches_pytorchvideo_source():
    (slowfast,) = pytorchvideo_modules("pytorchvideo.models.slowfast")
    # slowfast_r50 as the hub builds it, its head pool sized for 4x64x64 slow / 16x64x64 fast clips.
    kwargs = dict(model_depth=50, slowfast_fusion_conv_kernel_size=(7, 1, 1), head_pool_kernel_sizes=((4, 2, 2), (16, 2, 2)))
    same_model(lambda: create_slowfast(**kwargs), lambda: slowfast.create_slowfast(**kwargs),
                [(1, 3, 4, 64, 64), (1, 3, 16, 64, 64)], grads=True)
    # slowfast_r101: same seed, same initial weights.
    torch.manual_seed(0)
    ours = create_slowfast(model_depth=101, slowfast_fusion_conv_kernel_size=(5, 1, 1)).state_dict()
    torch.manual_seed(0)
    theirs = slowfast.create_slowfast(model_depth=101, slowfast_fusion_conv_kernel_size=(5, 1, 1)).state_dict()
    assert list(ours) == list(theirs) and all(torch.equal(ours[k], theirs[k]) for k in ours)
    # A small custom one: depth 18, beta 4, alpha 2, ResNeXt groups, dilation, temporal strides, 2-channel slow
    # input, broadcast stem pool and bottleneck, adaptive pools, softmax head.
    kwargs = dict(
        model_depth=18, slowfast_channel_reduction_ratio=4, slowfast_conv_channel_fusion_ratio=1,
        stem_dim_outs=(16, 4), slowfast_fusion_conv_kernel_size=(3, 1, 1), slowfast_fusion_conv_stride=(2, 1, 1),
        input_channels=(2, 3), stem_pool=nn.MaxPool3d, bottleneck=create_bottleneck_block,
        head_pool=nn.AdaptiveAvgPool3d, head_activation=nn.Softmax, dropout_rate=0.3, model_num_class=7,
        stage_temporal_strides=((1, 1, 2, 1), (1, 1, 2, 1)), stage_conv_b_num_groups=((1, 2, 1, 1), (1, 1, 1, 2)),
        stage_conv_b_dilations=(((1, 1, 1),) * 3 + ((1, 2, 2),), ((1, 1, 1),) * 4),
        stage_spatial_strides=((1, 2, 2, 1), (1, 2, 2, 1)),
    )
    same_model(lambda: create_slowfast(**kwargs), lambda: slowfast.create_slowfast(**kwargs),
                [(2, 2, 4, 48, 40), (2, 3, 8, 48, 40)], grads=True)
    # A custom fusion builder (no norm, no activation, its own kernel), and the detector.
    def fusion(module):
        return module.FastToSlowFusionBuilder(8, 2, (5, 1, 1), (4, 1, 1), norm=None, activation=None).create_module
    kwargs = dict(model_depth=18, head_pool=nn.AdaptiveAvgPool3d, model_num_class=3)
    same_model(lambda: create_slowfast(fusion_builder=fusion(sys.modules[create_slowfast.__module__]), **kwargs),
                lambda: slowfast.create_slowfast(fusion_builder=fusion(slowfast), **kwargs),
                [(1, 3, 2, 32, 32), (1, 3, 8, 32, 32)])
    boxes = torch.tensor([[0, 3.0, 5.0, 40.0, 60.0], [0, 0.0, 0.0, 63.0, 63.0], [1, 10.5, 2.25, 30.0, 33.0]])
    kwargs = dict(model_depth=18, head_pool_kernel_sizes=((4, 1, 1), (16, 1, 1)), model_num_class=5)
    same_model(lambda: create_slowfast_with_roi_head(**kwargs), lambda: slowfast.create_slowfast_with_roi_head(**kwargs),
                [(2, 3, 4, 64, 64), (2, 3, 16, 64, 64)], grads=True, boxes=boxes)
    # slowfast_16x8_r101_50_50: per-block conv_a kernels in stage 3.
    per_block = ((3, 1, 1),) * 6 + ((1, 1, 1),) * 17
    kernels = (((1, 1, 1), (1, 1, 1), per_block, (3, 1, 1)), ((3, 1, 1), (3, 1, 1), per_block, (3, 1, 1)))
    kwargs = dict(model_depth=101, slowfast_fusion_conv_kernel_size=(5, 1, 1), stage_conv_a_kernel_sizes=kernels,
                  head_pool_kernel_sizes=((16, 7, 7), (64, 7, 7)))
    ours, theirs = create_slowfast(**kwargs).state_dict(), slowfast.create_slowfast(**kwargs).state_dict()
    assert [(k, v.shape) for k, v in ours.items()] == [(k, v.shape) for k, v in theirs.items()]
    assert ours["blocks.3.multipathway_blocks.0.res_blocks.6.branch2.conv_a.weight"].shape[2] == 1


@pytest.mark.slow
def test_matches_pytorchvideo_source_full_size_r50():
    """slowfast_r50 exactly as the hub builds it, on 8x224x224 / 32x224x224 clips (about 6 s on 2 cores)."""
    (slowfast,) = pytorchvideo_modules("pytorchvideo.models.slowfast")
    kwargs = dict(model_depth=50, slowfast_fusion_conv_kernel_size=(7, 1, 1))
    same_model(lambda: create_slowfast(**kwargs), lambda: slowfast.create_slowfast(**kwargs),
                [(1, 3, 8, 224, 224), (1, 3, 32, 224, 224)])
