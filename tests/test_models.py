"""fastvid.models: PyTorchVideo's create_resnet module tree, state_dict keys and shapes; the model zoo."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from fastvid.models import (
    BottleneckBlock,
    Net,
    ResBlock,
    ResNetBasicHead,
    ResNetBasicStem,
    ResStage,
    create_model,
    create_resnet,
    create_small_resnet,
    list_models,
)


def _bn(prefix: str, c: int) -> list[tuple[str, tuple]]:
    return [
        (f"{prefix}.weight", (c,)),
        (f"{prefix}.bias", (c,)),
        (f"{prefix}.running_mean", (c,)),
        (f"{prefix}.running_var", (c,)),
        (f"{prefix}.num_batches_tracked", ()),
    ]


def expected_resnet_state(
    depth: int,
    *,
    num_classes: int = 400,
    stem_kernel=(3, 7, 7),
    conv_a_temporal=(1, 1, 3, 3),
) -> list[tuple[str, tuple]]:
    """The state_dict that pytorchvideo.models.resnet.create_resnet builds, written out from its source:
    stem (Conv3d 3->64, no bias; BatchNorm3d), four ResStages of ResBlocks whose first block has a
    branch1_conv/branch1_norm shortcut, each branch2 a BottleneckBlock conv_a (Tx1x1) / conv_b (1x3x3) /
    conv_c (1x1x1) with a norm after each, and a head with a Linear `proj`."""
    stage_depths = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}[depth]
    keys = [("blocks.0.conv.weight", (64, 3, *stem_kernel)), *_bn("blocks.0.norm", 64)]
    dim_in, dim_out = 64, 256
    for s, n_blocks in enumerate(stage_depths):
        inner = dim_out // 4
        for b in range(n_blocks):
            p = f"blocks.{s + 1}.res_blocks.{b}"
            block_in = dim_in if b == 0 else dim_out
            if b == 0:
                keys += [(f"{p}.branch1_conv.weight", (dim_out, dim_in, 1, 1, 1)), *_bn(f"{p}.branch1_norm", dim_out)]
            keys += [(f"{p}.branch2.conv_a.weight", (inner, block_in, conv_a_temporal[s], 1, 1))]
            keys += _bn(f"{p}.branch2.norm_a", inner)
            keys += [(f"{p}.branch2.conv_b.weight", (inner, inner, 1, 3, 3))]
            keys += _bn(f"{p}.branch2.norm_b", inner)
            keys += [(f"{p}.branch2.conv_c.weight", (dim_out, inner, 1, 1, 1))]
            keys += _bn(f"{p}.branch2.norm_c", dim_out)
        dim_in, dim_out = dim_out, dim_out * 2
    keys += [("blocks.5.proj.weight", (num_classes, 2048)), ("blocks.5.proj.bias", (num_classes,))]
    return keys


def _params_of(entries) -> int:
    # Learnable parameters: everything except BatchNorm's running statistics.
    return sum(
        math.prod(shape)
        for key, shape in entries
        if not key.endswith(("running_mean", "running_var", "num_batches_tracked"))
    )


@pytest.mark.parametrize("depth", [50, 101, 152])
def test_create_resnet_state_dict_keys_and_shapes_match_pytorchvideo(depth):
    model = create_resnet(model_depth=depth)
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    want = expected_resnet_state(depth)
    assert [k for k, _ in got] == [k for k, _ in want]  # same keys, same order
    assert got == want
    assert sum(p.numel() for p in model.parameters()) == _params_of(want)


def test_create_resnet_50_pinned_values():
    sd = create_resnet().state_dict()
    assert len(sd) == 320
    pinned = {
        "blocks.0.conv.weight": (64, 3, 3, 7, 7),
        "blocks.0.norm.running_var": (64,),
        "blocks.1.res_blocks.0.branch1_conv.weight": (256, 64, 1, 1, 1),
        "blocks.1.res_blocks.0.branch2.conv_a.weight": (64, 64, 1, 1, 1),
        "blocks.1.res_blocks.2.branch2.conv_b.weight": (64, 64, 1, 3, 3),
        "blocks.2.res_blocks.0.branch1_conv.weight": (512, 256, 1, 1, 1),
        "blocks.2.res_blocks.1.branch2.conv_a.weight": (128, 512, 1, 1, 1),
        "blocks.3.res_blocks.0.branch2.conv_a.weight": (256, 512, 3, 1, 1),
        "blocks.3.res_blocks.5.branch2.norm_c.weight": (1024,),
        "blocks.4.res_blocks.0.branch1_norm.running_mean": (2048,),
        "blocks.4.res_blocks.2.branch2.conv_c.weight": (2048, 512, 1, 1, 1),
        "blocks.5.proj.weight": (400, 2048),
        "blocks.5.proj.bias": (400,),
    }
    for key, shape in pinned.items():
        assert tuple(sd[key].shape) == shape, key
    # No shortcut conv where the block keeps its shape.
    assert "blocks.1.res_blocks.1.branch1_conv.weight" not in sd
    model = create_resnet()
    assert sum(p.numel() for p in model.parameters()) == 32_472_912
    # PyTorchVideo's hub slow_r50 (create_resnet with a 1x7x7 stem and an 8x7x7 head pool) is listed in
    # its model zoo at 32.45 M parameters.
    slow = create_resnet(stem_conv_kernel_size=(1, 7, 7), head_pool_kernel_size=(8, 7, 7))
    assert round(sum(p.numel() for p in slow.parameters()) / 1e6, 2) == 32.45


def test_create_resnet_module_tree():
    model = create_resnet()
    assert isinstance(model, Net) and isinstance(model.blocks, nn.ModuleList) and len(model.blocks) == 6
    assert isinstance(model.blocks[0], ResNetBasicStem)
    assert isinstance(model.blocks[0].pool, nn.MaxPool3d)
    assert model.blocks[0].pool.padding == [0, 1, 1] or model.blocks[0].pool.padding == (0, 1, 1)
    for s in range(1, 5):
        assert isinstance(model.blocks[s], ResStage)
        for block in model.blocks[s].res_blocks:
            assert isinstance(block, ResBlock) and isinstance(block.branch2, BottleneckBlock)
            assert isinstance(block.activation, nn.ReLU)
    head = model.blocks[5]
    assert isinstance(head, ResNetBasicHead)
    assert isinstance(head.pool, nn.AvgPool3d) and tuple(head.pool.kernel_size) == (4, 7, 7)
    assert isinstance(head.dropout, nn.Dropout) and head.dropout.p == 0.5
    assert isinstance(head.output_pool, nn.AdaptiveAvgPool3d)
    # Strides: stage 2-4 first blocks stride 2 spatially in conv_b and in the shortcut.
    b = model.blocks[2].res_blocks[0]
    assert b.branch2.conv_b.stride == (1, 2, 2) and b.branch1_conv.stride == (1, 2, 2)
    assert model.blocks[1].res_blocks[0].branch1_conv.stride == (1, 1, 1)
    assert model.blocks[3].res_blocks[0].branch2.conv_a.padding == (1, 0, 0)


def test_create_resnet_initialization():
    torch.manual_seed(0)
    model = create_resnet()
    for block in model.blocks[1].res_blocks:
        assert torch.all(block.branch2.norm_c.weight == 0)  # residual branch starts at zero
        assert torch.all(block.branch2.norm_a.weight == 1)
    proj = model.blocks[5].proj
    assert torch.all(proj.bias == 0)
    assert 0.008 < proj.weight.std().item() < 0.012
    conv = model.blocks[0].conv.weight  # Kaiming normal, fan_out = 64 * 3 * 7 * 7
    assert abs(conv.std().item() - math.sqrt(2.0 / (64 * 3 * 7 * 7))) < 0.002


def test_create_resnet_forward_kinetics_clip_shape():
    model = create_resnet(model_num_class=7).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 8, 224, 224))
    assert out.shape == (1, 7)


def test_create_resnet_stage_temporal_stride_and_dilation():
    model = create_resnet(model_num_class=3, stage_temporal_stride=(1, 2, 1, 1), head=None).eval()
    assert model.blocks[2].res_blocks[0].branch2.conv_a.stride == (2, 1, 1)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 8, 64, 64)).shape[2] == 4  # 8 frames, halved once
    dilated = create_resnet(model_num_class=3, stage_spatial_h_stride=(1, 2, 2, 1), stage_spatial_w_stride=(1, 2, 2, 1),
                            stage_conv_b_dilation=((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 2, 2)), head=None).eval()
    assert dilated.blocks[4].res_blocks[0].branch2.conv_b.padding == (0, 2, 2)
    with torch.no_grad():
        assert dilated(torch.randn(1, 3, 4, 64, 64)).shape[-2:] == (4, 4)  # stride 16, not 32: res5 keeps its size


def test_checkpoint_with_pytorchvideo_keys_loads_and_round_trips():
    # A checkpoint written as PyTorchVideo lays it out (keys and shapes from its source) loads strictly.
    torch.manual_seed(1)
    state = {}
    for key, shape in expected_resnet_state(50, num_classes=10):
        state[key] = torch.tensor(3) if key.endswith("num_batches_tracked") else torch.randn(shape)
    model = create_resnet(model_num_class=10)
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_create_resnet_matches_pytorchvideo_when_installed():
    try:
        from pytorchvideo.models.resnet import create_resnet as ptv_create_resnet
    except Exception as exc:  # noqa: BLE001 - not installed, or it no longer imports with this torchvision
        pytest.skip(f"pytorchvideo.models.resnet does not import here: {type(exc).__name__}: {exc}")
    for depth in (50, 101):
        ours = {k: tuple(v.shape) for k, v in create_resnet(model_depth=depth).state_dict().items()}
        theirs = {k: tuple(v.shape) for k, v in ptv_create_resnet(model_depth=depth).state_dict().items()}
        assert ours == theirs


def test_create_resnet_bad_arguments():
    with pytest.raises(ValueError, match="model_depth"):
        create_resnet(model_depth=34)
    with pytest.raises(ValueError, match="stage_spatial_h_stride"):
        create_resnet(stage_spatial_h_stride=(1, 2))
    with pytest.raises(ValueError, match="stage_depths"):
        create_small_resnet(stage_depths=(1, 1))


def test_small_resnet_trains_on_small_clips():
    torch.manual_seed(0)
    model = create_small_resnet(model_num_class=4)
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    x = torch.randn(4, 3, 8, 64, 64)
    out = model(x)
    assert out.shape == (4, 4)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    # Any clip size works (adaptive head).
    assert model.eval()(torch.randn(1, 3, 5, 48, 80)).shape == (1, 4)


def test_create_model_by_name():
    names = list_models()
    assert {"resnet_small", "resnet50", "r3d_18", "r2plus1d_18", "mc3_18", "s3d", "mvit_v2_s", "swin3d_t"} <= set(names)
    for name in names:
        frames = {"mvit_v2_s": 16, "mvit_base_16x4": 16, "mvit_base_32x3": 32}.get(name, 8)
        model = create_model(name, num_classes=3, num_frames=frames)
        last = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv3d))][-1]
        out_size = last.out_channels if isinstance(last, nn.Conv3d) else last.out_features
        assert out_size == 3, name
    # The resnets keep PyTorchVideo's head for 8x224 and pool adaptively otherwise (same state_dict).
    r50 = create_model("resnet50", num_classes=3, num_frames=4, crop_size=112)
    assert isinstance(r50.blocks[5].pool, nn.AdaptiveAvgPool3d)
    assert r50.eval()(torch.randn(1, 3, 4, 112, 112)).shape == (1, 3)
    assert create_model("resnet50", num_classes=3).state_dict().keys() == r50.state_dict().keys()
    r2 = create_model("r2plus1d_18", num_classes=5).eval()
    with torch.no_grad():
        assert r2(torch.randn(1, 3, 4, 32, 32)).shape == (1, 5)
    with pytest.raises(ValueError, match="name must be one of"):
        create_model("resnet18", num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        create_model("resnet_small", num_classes=0)


def test_torchvision_models_take_the_clip_size_they_are_built_for():
    # s3d: torchvision's (2, 7, 7) pool needs 16x224x224 at least; other sizes pool adaptively (same weights).
    s3d = create_model("s3d", num_classes=3, num_frames=8, crop_size=112).eval()
    assert isinstance(s3d.avgpool, nn.AdaptiveAvgPool3d)
    assert isinstance(create_model("s3d", num_classes=3, num_frames=16).avgpool, nn.AvgPool3d)
    assert s3d.state_dict().keys() == create_model("s3d", num_classes=3, num_frames=16).state_dict().keys()
    with torch.no_grad():
        assert s3d(torch.randn(2, 3, 8, 112, 112)).shape == (2, 3)
        swin = create_model("swin3d_t", num_classes=3, num_frames=8, crop_size=112).eval()
        assert swin(torch.randn(1, 3, 8, 112, 112)).shape == (1, 3)
        mvit = create_model("mvit_v2_s", num_classes=3, num_frames=16, crop_size=224).eval()
        assert mvit(torch.randn(1, 3, 16, 224, 224)).shape == (1, 3)
    # mvit_v2_s is fixed at 16x224x224: a clear error up front instead of a shape error in the first step.
    with pytest.raises(ValueError, match=r"mvit_v2_s takes 16x224x224 clips only .* got num_frames=8, crop_size=224"):
        create_model("mvit_v2_s", num_classes=3)


def test_create_resnet_signature_is_pytorchvideos():
    import inspect

    from fastvid.models.head import create_res_basic_head
    from fastvid.models.resnet import create_bottleneck_block
    from fastvid.models.stem import create_res_basic_stem

    params = inspect.signature(create_resnet).parameters
    # PyTorchVideo's create_resnet, in its order, with its defaults (all keyword-only).
    want = {
        "input_channel": 3, "model_depth": 50, "model_num_class": 400, "dropout_rate": 0.5,
        "norm": nn.BatchNorm3d, "activation": nn.ReLU, "stem_dim_out": 64, "stem_conv_kernel_size": (3, 7, 7),
        "stem_conv_stride": (1, 2, 2), "stem_pool": nn.MaxPool3d, "stem_pool_kernel_size": (1, 3, 3),
        "stem_pool_stride": (1, 2, 2), "stem": create_res_basic_stem, "stage1_pool": None,
        "stage1_pool_kernel_size": (2, 1, 1),
        "stage_conv_a_kernel_size": ((1, 1, 1), (1, 1, 1), (3, 1, 1), (3, 1, 1)),
        "stage_conv_b_kernel_size": ((1, 3, 3), (1, 3, 3), (1, 3, 3), (1, 3, 3)),
        "stage_conv_b_num_groups": (1, 1, 1, 1),
        "stage_conv_b_dilation": ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
        "stage_spatial_h_stride": (1, 2, 2, 2), "stage_spatial_w_stride": (1, 2, 2, 2),
        "stage_temporal_stride": (1, 1, 1, 1), "bottleneck": create_bottleneck_block,
        "head": create_res_basic_head, "head_pool": nn.AvgPool3d, "head_pool_kernel_size": (4, 7, 7),
        "head_output_size": (1, 1, 1), "head_activation": None, "head_output_with_global_average": True,
    }
    assert list(params) == list(want)
    for name, default in want.items():
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == default, name


def test_create_res_basic_stem_signature_is_pytorchvideos_and_takes_a_conv():
    import inspect

    from fastvid.models.stem import create_res_basic_stem

    params = inspect.signature(create_res_basic_stem).parameters
    # PyTorchVideo's create_res_basic_stem, in its order, with its defaults (all keyword-only).
    want = {
        "in_channels": inspect.Parameter.empty, "out_channels": inspect.Parameter.empty,
        "conv_kernel_size": (3, 7, 7), "conv_stride": (1, 2, 2), "conv_padding": (1, 3, 3), "conv_bias": False,
        "conv": nn.Conv3d, "pool": nn.MaxPool3d, "pool_kernel_size": (1, 3, 3), "pool_stride": (1, 2, 2),
        "pool_padding": (0, 1, 1), "norm": nn.BatchNorm3d, "norm_eps": 1e-5, "norm_momentum": 0.1,
        "activation": nn.ReLU,
    }
    assert list(params) == list(want)
    for name, default in want.items():
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == default, name

    class CountingConv(nn.Conv3d):
        calls = 0

        def forward(self, x):
            CountingConv.calls += 1
            return super().forward(x)

    stem = create_res_basic_stem(in_channels=3, out_channels=8, conv=CountingConv, conv_padding=(1, 3, 3))
    assert isinstance(stem.conv, CountingConv) and stem.conv.weight.shape == (8, 3, 3, 7, 7)
    assert stem(torch.randn(1, 3, 4, 32, 32)).shape == (1, 8, 4, 8, 8) and CountingConv.calls == 1
