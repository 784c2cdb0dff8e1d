"""fastvid.models: PyTorchVideo 0.1.5's X3D, CSN and R(2+1)D builders (signatures, module tree, state_dict keys
and shapes, parameter counts, initialization, forward) and their model-zoo presets.

The comparison with PyTorchVideo's own code runs when ``pytorchvideo.models.x3d`` imports, or when
FASTVID_PTV_SRC names unpacked source trees (``pip download pytorchvideo==0.1.5 fvcore --no-deps`` and unpack;
a ``:``-separated list of the folders holding ``pytorchvideo/`` and ``fvcore/``): its model modules are then
loaded without running the package ``__init__``\\ s, which import transforms that no longer work.
"""

from __future__ import annotations

import math
import pickle

import pytest
import torch
import torch.nn as nn

from fastvid.models import (
    BottleneckBlock,
    Conv2plus1d,
    Net,
    ProjectedPool,
    ResBlock,
    ResNetBasicHead,
    ResNetBasicStem,
    ResStage,
    SqueezeExcitation,
    Swish,
    create_2plus1d_bottleneck_block,
    create_bottleneck_block,
    create_conv_2plus1d,
    create_csn,
    create_model,
    create_r2plus1d,
    create_x3d,
    create_x3d_bottleneck_block,
    create_x3d_head,
    create_x3d_res_block,
    create_x3d_res_stage,
    create_x3d_stem,
    list_models,
)

from _ptv_models import EMPTY, KW, POS, assert_signature, bn_keys, n_params, params_of, pytorchvideo_modules, same_model


# PyTorchVideo 0.1.5's signatures, written out from its source (pytorchvideo/models/x3d.py, csn.py, r2plus1d.py,
# layers/convolutions.py; fvcore.nn.SqueezeExcitation), in order, with their defaults.
_BN, _RELU = nn.BatchNorm3d, nn.ReLU
SIGNATURES = {
    create_x3d_stem: {
        "in_channels": EMPTY, "out_channels": EMPTY, "conv_kernel_size": (5, 3, 3), "conv_stride": (1, 2, 2),
        "conv_padding": (2, 1, 1), "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "activation": _RELU,
    },
    create_x3d_bottleneck_block: {
        "dim_in": EMPTY, "dim_inner": EMPTY, "dim_out": EMPTY, "conv_kernel_size": (3, 3, 3),
        "conv_stride": (1, 2, 2), "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "se_ratio": 0.0625,
        "activation": _RELU, "inner_act": Swish,
    },
    create_x3d_res_block: {
        "dim_in": EMPTY, "dim_inner": EMPTY, "dim_out": EMPTY, "bottleneck": create_x3d_bottleneck_block,
        "use_shortcut": True, "conv_kernel_size": (3, 3, 3), "conv_stride": (1, 2, 2), "norm": _BN,
        "norm_eps": 1e-5, "norm_momentum": 0.1, "se_ratio": 0.0625, "activation": _RELU, "inner_act": Swish,
    },
    create_x3d_res_stage: {
        "depth": EMPTY, "dim_in": EMPTY, "dim_inner": EMPTY, "dim_out": EMPTY,
        "bottleneck": create_x3d_bottleneck_block, "conv_kernel_size": (3, 3, 3), "conv_stride": (1, 2, 2),
        "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "se_ratio": 0.0625, "activation": _RELU,
        "inner_act": Swish,
    },
    create_x3d_head: {
        "dim_in": EMPTY, "dim_inner": EMPTY, "dim_out": EMPTY, "num_classes": EMPTY, "pool_act": _RELU,
        "pool_kernel_size": (13, 5, 5), "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "bn_lin5_on": False,
        "dropout_rate": 0.5, "activation": nn.Softmax, "output_with_global_average": True,
    },
    create_x3d: {
        "input_channel": 3, "input_clip_length": 13, "input_crop_size": 160, "model_num_class": 400,
        "dropout_rate": 0.5, "width_factor": 2.0, "depth_factor": 2.2, "norm": _BN, "norm_eps": 1e-5,
        "norm_momentum": 0.1, "activation": _RELU, "stem_dim_in": 12, "stem_conv_kernel_size": (5, 3, 3),
        "stem_conv_stride": (1, 2, 2), "stage_conv_kernel_size": ((3, 3, 3),) * 4,
        "stage_spatial_stride": (2, 2, 2, 2), "stage_temporal_stride": (1, 1, 1, 1),
        "bottleneck": create_x3d_bottleneck_block, "bottleneck_factor": 2.25, "se_ratio": 0.0625,
        "inner_act": Swish, "head_dim_out": 2048, "head_pool_act": _RELU, "head_bn_lin5_on": False,
        "head_activation": nn.Softmax, "head_output_with_global_average": True,
    },
    ProjectedPool: {
        "pre_conv": None, "pre_norm": None, "pre_act": None, "pool": None, "post_conv": None, "post_norm": None,
        "post_act": None,
    },
    create_csn: {
        "input_channel": 3, "model_depth": 50, "model_num_class": 400, "dropout_rate": 0, "norm": _BN,
        "activation": _RELU, "stem_dim_out": 64, "stem_conv_kernel_size": (3, 7, 7), "stem_conv_stride": (1, 2, 2),
        "stem_pool": None, "stem_pool_kernel_size": (1, 3, 3), "stem_pool_stride": (1, 2, 2),
        "stage_conv_a_kernel_size": (1, 1, 1), "stage_conv_b_kernel_size": (3, 3, 3),
        "stage_conv_b_width_per_group": 1, "stage_spatial_stride": (1, 2, 2, 2),
        "stage_temporal_stride": (1, 2, 2, 2), "bottleneck": create_bottleneck_block, "bottleneck_ratio": 4,
        "head_pool": nn.AvgPool3d, "head_pool_kernel_size": (1, 7, 7), "head_output_size": (1, 1, 1),
        "head_activation": None, "head_output_with_global_average": True,
    },
    create_conv_2plus1d: {
        "in_channels": EMPTY, "out_channels": EMPTY, "inner_channels": None, "conv_xy_first": False,
        "kernel_size": (3, 3, 3), "stride": (2, 2, 2), "padding": (1, 1, 1), "bias": False, "dilation": (1, 1, 1),
        "groups": 1, "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "activation": _RELU,
    },
    Conv2plus1d: {"conv_t": None, "norm": None, "activation": None, "conv_xy": None, "conv_xy_first": False},
    create_2plus1d_bottleneck_block: {
        "dim_in": EMPTY, "dim_inner": EMPTY, "dim_out": EMPTY, "conv_a_kernel_size": (1, 1, 1),
        "conv_a_stride": (1, 1, 1), "conv_a_padding": (0, 0, 0), "conv_a": nn.Conv3d,
        "conv_b_kernel_size": (3, 3, 3), "conv_b_stride": (2, 2, 2), "conv_b_padding": (1, 1, 1),
        "conv_b_num_groups": 1, "conv_b_dilation": (1, 1, 1), "conv_b": create_conv_2plus1d, "conv_c": nn.Conv3d,
        "norm": _BN, "norm_eps": 1e-5, "norm_momentum": 0.1, "activation": _RELU,
    },
    create_r2plus1d: {
        "input_channel": 3, "model_depth": 50, "model_num_class": 400, "dropout_rate": 0.0, "norm": _BN,
        "norm_eps": 1e-5, "norm_momentum": 0.1, "activation": _RELU, "stem_dim_out": 64,
        "stem_conv_kernel_size": (1, 7, 7), "stem_conv_stride": (1, 2, 2),
        "stage_conv_a_kernel_size": ((1, 1, 1),) * 4, "stage_conv_b_kernel_size": ((3, 3, 3),) * 4,
        "stage_conv_b_num_groups": (1, 1, 1, 1), "stage_conv_b_dilation": ((1, 1, 1),) * 4,
        "stage_spatial_stride": (2, 2, 2, 2), "stage_temporal_stride": (1, 1, 2, 2),
        "stage_bottleneck": (create_2plus1d_bottleneck_block,) * 4, "head_pool": nn.AvgPool3d,
        "head_pool_kernel_size": (4, 7, 7), "head_output_size": (1, 1, 1), "head_activation": nn.Softmax,
        "head_output_with_global_average": True,
    },
}
# fvcore's SqueezeExcitation takes positional arguments.
SE_SIGNATURE = {"num_channels": EMPTY, "num_channels_reduced": None, "reduction_ratio": 2.0, "is_3d": False,
                "activation": None}


@pytest.mark.parametrize("fn", list(SIGNATURES), ids=lambda f: f.__name__)
def test_signatures_are_pytorchvideos(fn):
    assert_signature(fn, SIGNATURES[fn], KW)


def test_squeeze_excitation_signature_is_fvcores():
    assert_signature(SqueezeExcitation, SE_SIGNATURE, POS)


# --- state_dict layout, written out from PyTorchVideo's source --------------------------------------------------



# round_width(dim_inner, 0.0625) for X3D's inner widths (min 8, multiple of 8, not below 90% of the product).
_SE_WIDTH = {54: 8, 108: 8, 216: 16, 432: 32}


def expected_x3d_state(depth_factor: float = 2.2, num_classes: int = 400) -> list[tuple[str, tuple]]:
    """create_x3d's state_dict with its defaults: a (2+1)D stem of 24 channels (spatial conv stored as
    conv_t, depthwise temporal conv as conv_xy), stages of ceil(depth_factor * (1, 2, 5, 3)) blocks with 24,
    48, 96, 192 channels (inner 54, 108, 216, 432; depthwise conv_b; SE in norm_b.1 of blocks 0, 2, 4, ...),
    and a ProjectedPool head 192 -> 432 -> 2048 -> num_classes."""
    keys = [("blocks.0.conv.conv_t.weight", (24, 3, 1, 3, 3)), ("blocks.0.conv.conv_xy.weight", (24, 1, 5, 1, 1))]
    keys += bn_keys("blocks.0.norm", 24)
    dim_in = 24
    for s, (dim_out, base) in enumerate(zip((24, 48, 96, 192), (1, 2, 5, 3))):
        inner = int(2.25 * dim_out)
        for b in range(math.ceil(depth_factor * base)):
            p = f"blocks.{s + 1}.res_blocks.{b}"
            block_in = dim_in if b == 0 else dim_out
            if b == 0:  # every stage's first block strides: a shortcut conv, and a norm if the width changes
                keys += [(f"{p}.branch1_conv.weight", (dim_out, dim_in, 1, 1, 1))]
                if dim_in != dim_out:
                    keys += bn_keys(f"{p}.branch1_norm", dim_out)
            keys += [(f"{p}.branch2.conv_a.weight", (inner, block_in, 1, 1, 1)), *bn_keys(f"{p}.branch2.norm_a", inner)]
            keys += [(f"{p}.branch2.conv_b.weight", (inner, 1, 3, 3, 3)), *bn_keys(f"{p}.branch2.norm_b.0", inner)]
            if b % 2 == 0:
                se = _SE_WIDTH[inner]
                keys += [
                    (f"{p}.branch2.norm_b.1.block.0.weight", (se, inner, 1, 1, 1)),
                    (f"{p}.branch2.norm_b.1.block.0.bias", (se,)),
                    (f"{p}.branch2.norm_b.1.block.2.weight", (inner, se, 1, 1, 1)),
                    (f"{p}.branch2.norm_b.1.block.2.bias", (inner,)),
                ]
            keys += [(f"{p}.branch2.conv_c.weight", (dim_out, inner, 1, 1, 1)), *bn_keys(f"{p}.branch2.norm_c", dim_out)]
        dim_in = dim_out
    keys += [("blocks.5.pool.pre_conv.weight", (432, 192, 1, 1, 1)), *bn_keys("blocks.5.pool.pre_norm", 432)]
    keys += [("blocks.5.pool.post_conv.weight", (2048, 432, 1, 1, 1))]
    keys += [("blocks.5.proj.weight", (num_classes, 2048)), ("blocks.5.proj.bias", (num_classes,))]
    return keys




@pytest.mark.parametrize("depth_factor, n_keys", [(2.2, 563), (5.0, 1141)])
def test_create_x3d_state_dict_keys_and_shapes_match_pytorchvideo(depth_factor, n_keys):
    model = create_x3d(depth_factor=depth_factor)
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    want = expected_x3d_state(depth_factor)
    assert [k for k, _ in got] == [k for k, _ in want]  # same keys, same order
    assert got == want
    assert len(got) == n_keys
    assert n_params(model) == params_of(want)


def test_x3d_pinned_keys_and_parameter_counts():
    sd = create_x3d().state_dict()
    pinned = {
        "blocks.0.conv.conv_t.weight": (24, 3, 1, 3, 3),
        "blocks.0.conv.conv_xy.weight": (24, 1, 5, 1, 1),
        "blocks.1.res_blocks.0.branch1_conv.weight": (24, 24, 1, 1, 1),
        "blocks.2.res_blocks.0.branch1_norm.running_var": (48,),
        "blocks.2.res_blocks.4.branch2.norm_b.1.block.0.weight": (8, 108, 1, 1, 1),
        "blocks.3.res_blocks.10.branch2.conv_b.weight": (216, 1, 3, 3, 3),
        "blocks.4.res_blocks.6.branch2.norm_b.1.block.2.bias": (432,),
        "blocks.5.pool.pre_conv.weight": (432, 192, 1, 1, 1),
        "blocks.5.pool.post_conv.weight": (2048, 432, 1, 1, 1),
        "blocks.5.proj.weight": (400, 2048),
    }
    for key, shape in pinned.items():
        assert tuple(sd[key].shape) == shape, key
    assert "blocks.1.res_blocks.0.branch1_norm.weight" not in sd  # 24 -> 24: stride only, no norm
    assert "blocks.2.res_blocks.1.branch2.norm_b.1.block.0.weight" not in sd  # odd blocks: no SE
    # PyTorchVideo's hub (400 classes): x3d_xs, x3d_s, x3d_m 3.79 M parameters, x3d_l 6.15 M; the clip size
    # changes only the head's pool. csn_r101 22.21 M, r2plus1d_r50 28.11 M.
    for clip, crop in ((4, 160), (13, 160), (16, 224)):
        assert n_params(create_x3d(input_clip_length=clip, input_crop_size=crop)) == 3_794_274
    assert n_params(create_x3d(input_clip_length=16, input_crop_size=312, depth_factor=5.0)) == 6_153_384


def test_csn_and_r2plus1d_layout_and_parameter_counts():
    csn = create_csn(model_depth=101, stem_pool=nn.MaxPool3d, head_pool_kernel_size=(4, 7, 7))
    sd = csn.state_dict()
    assert len(sd) == 626 and n_params(csn) == 22_213_776
    assert tuple(sd["blocks.1.res_blocks.0.branch2.conv_b.weight"].shape) == (64, 1, 3, 3, 3)  # depthwise
    assert tuple(sd["blocks.3.res_blocks.22.branch2.conv_c.weight"].shape) == (1024, 256, 1, 1, 1)
    assert csn.blocks[2].res_blocks[0].branch2.conv_b.stride == (2, 2, 2)
    assert isinstance(csn.blocks[0].pool, nn.MaxPool3d)
    assert n_params(create_csn()) == 13_131_152 and len(create_csn().state_dict()) == 320

    r2 = create_r2plus1d(dropout_rate=0.5)
    sd = r2.state_dict()
    assert len(sd) == 416 and n_params(r2) == 28_107_600
    pinned = {
        "blocks.0.conv.weight": (64, 3, 1, 7, 7),
        "blocks.1.res_blocks.0.branch2.conv_b.conv_t.weight": (64, 64, 3, 1, 1),
        "blocks.1.res_blocks.0.branch2.conv_b.norm.running_mean": (64,),
        "blocks.1.res_blocks.0.branch2.conv_b.conv_xy.weight": (64, 64, 1, 3, 3),
        "blocks.4.res_blocks.2.branch2.conv_b.conv_xy.weight": (512, 512, 1, 3, 3),
        "blocks.5.proj.weight": (400, 2048),
    }
    for key, shape in pinned.items():
        assert tuple(sd[key].shape) == shape, key
    conv_b = r2.blocks[3].res_blocks[0].branch2.conv_b
    assert isinstance(conv_b, Conv2plus1d) and conv_b.conv_t.stride == (2, 1, 1) and conv_b.conv_xy.stride == (1, 2, 2)
    assert isinstance(r2.blocks[5].activation, nn.Softmax) and r2.blocks[0].pool is None


def test_x3d_module_tree_and_initialization():
    torch.manual_seed(0)
    model = create_x3d()
    assert isinstance(model, Net) and len(model.blocks) == 6
    stem = model.blocks[0]
    assert isinstance(stem, ResNetBasicStem) and stem.pool is None and isinstance(stem.conv, Conv2plus1d)
    assert stem.conv.conv_t.kernel_size == (1, 3, 3) and stem.conv.conv_t.stride == (1, 2, 2)
    assert stem.conv.conv_xy.kernel_size == (5, 1, 1) and stem.conv.conv_xy.groups == 24
    for s, depth in zip(range(1, 5), (3, 5, 11, 7)):
        stage = model.blocks[s]
        assert isinstance(stage, ResStage) and len(stage.res_blocks) == depth
        for b, block in enumerate(stage.res_blocks):
            assert isinstance(block, ResBlock) and isinstance(block.branch2, BottleneckBlock)
            bottleneck = block.branch2
            assert isinstance(bottleneck.act_b, Swish) and isinstance(bottleneck.act_a, nn.ReLU)
            assert isinstance(bottleneck.norm_b, nn.Sequential)
            assert isinstance(bottleneck.norm_b[1], SqueezeExcitation if b % 2 == 0 else nn.Identity)
            assert bottleneck.conv_b.stride == ((1, 2, 2) if b == 0 else (1, 1, 1))
            assert torch.all(bottleneck.norm_c.weight == 0)  # residual branch starts at zero
            assert torch.all(bottleneck.norm_a.weight == 1) and torch.all(bottleneck.norm_b[0].weight == 1)
            if b % 2 == 0:
                assert torch.all(bottleneck.norm_b[1].block[0].bias == 0)
    head = model.blocks[5]
    assert isinstance(head, ResNetBasicHead) and isinstance(head.pool, ProjectedPool)
    assert isinstance(head.pool.pool, nn.AvgPool3d) and tuple(head.pool.pool.kernel_size) == (13, 5, 5)
    assert head.pool.post_norm is None and isinstance(head.pool.post_act, nn.ReLU)
    assert isinstance(head.activation, nn.Softmax) and head.activation.dim == 1
    assert isinstance(head.dropout, nn.Dropout) and head.dropout.p == 0.5
    assert torch.all(head.proj.bias == 0) and 0.008 < head.proj.weight.std().item() < 0.012
    w = head.pool.post_conv.weight  # Kaiming normal, fan_out = 2048
    assert abs(w.std().item() - math.sqrt(2.0 / 2048)) < 0.002
    # X3D's branch1_norm takes the norm's defaults, not norm_eps/norm_momentum (as PyTorchVideo builds it).
    custom = create_x3d(norm_eps=1e-3, norm_momentum=0.2)
    assert custom.blocks[2].res_blocks[0].branch1_norm.eps == 1e-5
    assert custom.blocks[2].res_blocks[0].branch2.norm_a.eps == 1e-3
    pickle.dumps(model)  # no lambdas (DDP spawn, torch.save(model))


@pytest.mark.parametrize("clip, crop, depth_factor", [(4, 160, 2.2), (13, 160, 2.2), (16, 224, 2.2)])
def test_x3d_hub_presets_forward(clip, crop, depth_factor):
    model = create_x3d(input_clip_length=clip, input_crop_size=crop, depth_factor=depth_factor, model_num_class=7)
    pool = model.blocks[5].pool.pool
    assert tuple(pool.kernel_size) == (clip, math.ceil(crop / 32), math.ceil(crop / 32))
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 3, clip, crop, crop))
    assert out.shape == (1, 7)
    torch.testing.assert_close(out.sum(dim=1), torch.ones(1))  # softmax head by default


def test_x3d_layers():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    y = Swish()(x)
    torch.testing.assert_close(y, x * torch.sigmoid(x), rtol=0, atol=0)
    # The hand-written gradient is the derivative of x * sigmoid(x).
    assert torch.autograd.gradcheck(Swish(), (x,))
    se = SqueezeExcitation(6, 4, is_3d=True).double()
    se.block[0].bias.data.normal_()
    squeezed = x.mean(dim=(2, 3, 4), keepdim=True)
    scale = torch.sigmoid(se.block[2](torch.relu(se.block[0](squeezed))))
    torch.testing.assert_close(se(x), x * scale)
    assert SqueezeExcitation(16).block[0].out_channels == 8 and isinstance(SqueezeExcitation(16).block[0], nn.Conv2d)
    # Conv2plus1d runs conv_t, norm, activation, conv_xy (or conv_xy first).
    conv = create_conv_2plus1d(in_channels=6, out_channels=4, inner_channels=5, stride=(1, 1, 1), norm=None).double()
    torch.testing.assert_close(conv(x), conv.conv_xy(torch.relu(conv.conv_t(x))))
    first = create_conv_2plus1d(in_channels=6, out_channels=4, conv_xy_first=True, stride=(1, 1, 1), activation=None)
    first = first.double().eval()
    torch.testing.assert_close(first(x), first.conv_t(first.norm(first.conv_xy(x))))


def test_checkpoint_with_pytorchvideo_keys_loads():
    torch.manual_seed(1)
    state = {}
    for key, shape in expected_x3d_state(2.2, num_classes=10):
        state[key] = torch.tensor(3) if key.endswith("num_batches_tracked") else torch.randn(shape)
    model = create_x3d(model_num_class=10, input_clip_length=4, input_crop_size=64)
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_bad_arguments():
    with pytest.raises(ValueError, match="input_crop_size"):
        create_x3d(input_crop_size=16)
    with pytest.raises(ValueError, match="input_clip_length"):
        create_x3d(input_clip_length=1, stage_temporal_stride=(1, 2, 1, 1))
    with pytest.raises(ValueError, match="stage_spatial_stride"):
        create_x3d(stage_spatial_stride=(2, 2))
    with pytest.raises(ValueError, match="activation"):
        create_x3d_head(dim_in=8, dim_inner=8, dim_out=8, num_classes=2, activation=nn.ReLU)
    with pytest.raises(ValueError, match="depth"):
        create_x3d_res_stage(depth=0, dim_in=8, dim_inner=8, dim_out=8)
    with pytest.raises(ValueError, match="pre_conv"):
        ProjectedPool(pool=nn.AvgPool3d(1))
    with pytest.raises(ValueError, match="model_depth"):
        create_csn(model_depth=34)
    with pytest.raises(ValueError, match="stage_temporal_stride"):
        create_csn(stage_temporal_stride=(1, 2))
    with pytest.raises(ValueError, match="model_depth"):
        create_r2plus1d(model_depth=18)
    with pytest.raises(ValueError, match="stage_bottleneck"):
        create_r2plus1d(stage_bottleneck=(create_2plus1d_bottleneck_block,))
    with pytest.raises(ValueError, match="groups"):
        create_conv_2plus1d(in_channels=4, out_channels=4, groups=2)
    with pytest.raises(ValueError, match="dilation"):
        create_conv_2plus1d(in_channels=4, out_channels=4, dilation=(1, 2, 2))
    with pytest.raises(ValueError, match="conv_xy"):
        Conv2plus1d(conv_t=nn.Conv3d(1, 1, 1))
    with pytest.raises(ValueError, match=r"x3d_m needs num_frames >= 1 and crop_size >= 32 .* crop_size=16"):
        create_model("x3d_m", num_classes=3, crop_size=16)


# --- the model zoo -----------------------------------------------------------------------------------------------


def test_zoo_x3d_presets():
    assert {"x3d_xs", "x3d_s", "x3d_m", "x3d_l", "csn_r101", "r2plus1d_r50"} <= set(list_models())
    m = create_model("x3d_m", num_classes=3, num_frames=16, crop_size=224)
    assert tuple(m.blocks[5].pool.pool.kernel_size) == (16, 7, 7)
    assert m.blocks[5].activation is None  # logits, for cross-entropy
    assert [k for k, _ in expected_x3d_state(2.2, num_classes=3)] == list(m.state_dict())
    assert len(create_model("x3d_l", num_classes=3).state_dict()) == 1141
    assert create_model("x3d_s", num_classes=3, dropout_rate=0.2).blocks[5].dropout.p == 0.2
    with torch.no_grad():
        out = create_model("x3d_xs", num_classes=3, num_frames=4, crop_size=96).eval()(torch.randn(2, 3, 4, 96, 96))
    assert out.shape == (2, 3) and not torch.allclose(out.sum(dim=1), torch.ones(2))
    # csn_r101 / r2plus1d_r50 keep the hub head for their clip and pool adaptively otherwise (same state_dict).
    r2 = create_model("r2plus1d_r50", num_classes=3, num_frames=16, crop_size=224)
    assert isinstance(r2.blocks[5].pool, nn.AvgPool3d) and r2.blocks[5].activation is None
    assert r2.blocks[5].dropout.p == 0.5
    small = create_model("r2plus1d_r50", num_classes=3, num_frames=4, crop_size=64).eval()
    assert isinstance(small.blocks[5].pool, nn.AdaptiveAvgPool3d)
    assert small.state_dict().keys() == r2.state_dict().keys()
    assert isinstance(create_model("csn_r101", num_classes=3, num_frames=32).blocks[5].pool, nn.AvgPool3d)
    with torch.no_grad():
        assert small(torch.randn(1, 3, 4, 64, 64)).shape == (1, 3)


def test_zoo_x3d_trains_one_step_on_cpu():
    torch.manual_seed(0)
    model = create_model("x3d_xs", num_classes=4, num_frames=4, crop_size=64)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(2, 3, 4, 64, 64), torch.tensor([1, 3])
    before = model.blocks[5].proj.weight.detach().clone()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    opt.step()
    assert not torch.equal(before, model.blocks[5].proj.weight)
    assert model.blocks[1].res_blocks[0].branch2.norm_a.num_batches_tracked.item() == 1


# --- against PyTorchVideo's own code ------------------------------------------------------------------------------


def test_matches_pytorchvideo_source():
    x3d, csn, r2plus1d, convolutions = pytorchvideo_modules(
        "pytorchvideo.models.x3d", "pytorchvideo.models.csn", "pytorchvideo.models.r2plus1d",
        "pytorchvideo.layers.convolutions")
    for kwargs, shape in (
        (dict(input_clip_length=4, input_crop_size=160), (1, 3, 4, 160, 160)),
        (
            dict(input_clip_length=6, input_crop_size=72, depth_factor=1.0, head_activation=None, se_ratio=0.1,
                 head_bn_lin5_on=True, norm_eps=1e-3, norm_momentum=0.2, stage_temporal_stride=(1, 2, 1, 1),
                 width_factor=1.5, model_num_class=7, head_output_with_global_average=False),
            (2, 3, 6, 72, 72),
        ),
    ):
        same_model(lambda: create_x3d(**kwargs), lambda: x3d.create_x3d(**kwargs), shape, grads=True)
    # Built for 2x64x64, fed 3x96x96: the head's stride-1 pool and the global average both show.
    same_model(lambda: create_x3d(depth_factor=5.0, input_clip_length=2, input_crop_size=64),
                lambda: x3d.create_x3d(depth_factor=5.0, input_clip_length=2, input_crop_size=64), (1, 3, 3, 96, 96))
    kwargs = dict(dim_in=16, dim_inner=40, dim_out=24, norm=None, conv_stride=(2, 2, 2), se_ratio=0.25)
    same_model(lambda: create_x3d_res_block(**kwargs), lambda: x3d.create_x3d_res_block(**kwargs),
                (2, 16, 6, 12, 12), grads=True)
    kwargs = dict(dim_in=16, dim_inner=40, dim_out=16, conv_stride=(1, 1, 1), use_shortcut=False)
    same_model(lambda: create_x3d_res_block(**kwargs), lambda: x3d.create_x3d_res_block(**kwargs), (2, 16, 4, 8, 8))
    for first in (False, True):
        kwargs = dict(in_channels=5, out_channels=7, inner_channels=9, conv_xy_first=first, stride=(1, 2, 2), bias=True)
        same_model(lambda: create_conv_2plus1d(**kwargs), lambda: convolutions.create_conv_2plus1d(**kwargs),
                    (2, 5, 4, 10, 10), grads=True)
    kwargs = dict(head_pool=nn.AdaptiveAvgPool3d, stem_pool=nn.MaxPool3d, dropout_rate=0.5)
    same_model(lambda: create_csn(**kwargs), lambda: csn.create_csn(**kwargs), (1, 3, 8, 64, 64))
    kwargs = dict(head_pool=nn.AdaptiveAvgPool3d, dropout_rate=0.5)
    same_model(lambda: create_r2plus1d(**kwargs), lambda: r2plus1d.create_r2plus1d(**kwargs), (1, 3, 8, 64, 64))
    for depth in (101, 152):
        ours, theirs = create_csn(model_depth=depth).state_dict(), csn.create_csn(model_depth=depth).state_dict()
        assert [(k, v.shape) for k, v in ours.items()] == [(k, v.shape) for k, v in theirs.items()]
