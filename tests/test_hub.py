"""fastvid.models.hub: PyTorchVideo's torch.hub builders (names, signature, architecture, pretrained loading).

Parameter counts are PyTorchVideo's model-zoo figures (docs/source/model_zoo.md, in millions to 2 decimals)
and the exact counts of the architecture; with FASTVID_PTV_SRC (see tests/_ptv_models.py) every builder is
compared with PyTorchVideo 0.1.5's own hub builder (module tree and state_dict keys and shapes).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import sys
import types

import pytest
import torch
import torch.nn as nn
from _ptv_models import n_params, pytorchvideo_modules

import fastvid.models.hub as hub
from fastvid.models.weights import PYTORCHVIDEO_CHECKPOINTS

# name -> exact parameter count (400 classes; 80 for the AVA detectors), and PyTorchVideo's model-zoo figure (M)
PARAMS = {
    "slow_r50": (32_454_096, 32.45),
    "c2d_r50": (24_327_632, 24.33),
    "i3d_r50": (28_043_472, 28.04),
    "csn_r101": (22_213_776, 22.21),
    "r2plus1d_r50": (28_107_600, 28.11),
    "x3d_xs": (3_794_274, 3.79),
    "x3d_s": (3_794_274, 3.79),
    "x3d_m": (3_794_274, 3.79),
    "x3d_l": (6_153_384, 6.15),  # PySlowFast's X3D table
    "slowfast_r50": (34_566_488, 34.57),
    "slowfast_r101": (62_826_968, 62.83),
    "slowfast_16x8_r101_50_50": (53_774_808, 53.77),
    "mvit_base_16x4": (36_610_672, 36.61),
    "mvit_base_32x3": (36_611_440, 36.61),
    "mvit_base_16": (36_521_296, None),
    "slow_r50_detection": (31_798_416, None),
    "slowfast_r50_detection": (33_828_888, None),
}
BUILT = list(PARAMS)
NOT_PROVIDED = {"efficient_x3d_xs": "x3d_xs", "efficient_x3d_s": "x3d_s"}
# PyTorchVideo's hubconf.py: every name it publishes
PTV_HUB_NAMES = {
    "c2d_r50", "csn_r101", "efficient_x3d_s", "efficient_x3d_xs", "i3d_r50", "mvit_base_16", "mvit_base_16x4",
    "mvit_base_32x3", "r2plus1d_r50", "slow_r50", "slow_r50_detection", "slowfast_16x8_r101_50_50", "slowfast_r101",
    "slowfast_r50", "slowfast_r50_detection", "x3d_l", "x3d_m", "x3d_s", "x3d_xs",
}


def _build(name: str, **kwargs) -> nn.Module:
    # MViT builds draw numbers with .item(), which the meta device refuses: build those on the CPU
    with contextlib.nullcontext() if name.startswith("mvit") else torch.device("meta"):
        return getattr(hub, name)(**kwargs)


def _linear(i: int, o: int) -> int:
    return i * o + o


def test_every_pytorchvideo_hub_name_is_there_with_its_signature():
    assert set(hub.__all__) - {"CHECKPOINT_URLS"} == PTV_HUB_NAMES == set(BUILT) | set(NOT_PROVIDED)
    for name in PTV_HUB_NAMES:
        params = list(inspect.signature(getattr(hub, name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in params] == [
            ("pretrained", inspect.Parameter.POSITIONAL_OR_KEYWORD, False),
            ("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, True),
            ("kwargs", inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty),
        ], name
    # every built model has PyTorchVideo's checkpoint, under its zoo's URL layout
    assert set(hub.CHECKPOINT_URLS) == set(BUILT)
    for name, url in hub.CHECKPOINT_URLS.items():
        assert re.fullmatch(r"https://dl\.fbaipublicfiles\.com/pytorchvideo/model_zoo/(kinetics|ava|imagenet)/\w+\.pyth", url)
        assert ("/ava/" in url) == name.endswith("_detection"), name
        assert PYTORCHVIDEO_CHECKPOINTS.get(name, url) == url


@pytest.mark.parametrize("name", BUILT)
def test_parameter_counts_are_pytorchvideo_model_zoo_figures(name):
    exact, zoo = PARAMS[name]
    model = _build(name)
    assert n_params(model) == exact
    if zoo is not None:
        assert round(exact / 1e6, 2) == zoo


def test_detectors_are_the_classification_bodies_with_an_80_class_roi_head():
    # the RoI head's only weights are its Linear (2048 channels; SlowFast 2048 + 256)
    assert PARAMS["slow_r50_detection"][0] == PARAMS["slow_r50"][0] - _linear(2048, 400) + _linear(2048, 80)
    assert PARAMS["slowfast_r50_detection"][0] == PARAMS["slowfast_r50"][0] - _linear(2304, 400) + _linear(2304, 80)
    det = _build("slow_r50_detection")
    assert type(det).__name__ == "DetectionBBoxNetwork" and isinstance(det.detection_head.activation, nn.Sigmoid)
    assert det.detection_head.roi_layer.output_size == (7, 7) and det.detection_head.roi_layer.spatial_scale == 1 / 16
    assert det.model.blocks[4].res_blocks[0].branch2.conv_b.dilation == (1, 2, 2)
    assert det.model.blocks[4].res_blocks[0].branch2.conv_b.padding == (0, 2, 2)  # res5 stays at stride 16


def test_hub_settings_that_the_state_dict_does_not_show():
    # the X3Ds and R(2+1)D end in PyTorchVideo's softmax; the ResNets in logits
    assert isinstance(_build("x3d_m").blocks[-1].activation, nn.Softmax)
    assert isinstance(_build("r2plus1d_r50").blocks[-1].activation, nn.Softmax)
    assert _build("r2plus1d_r50").blocks[-1].dropout.p == 0.5 and _build("slow_r50").blocks[-1].dropout.p == 0.5
    assert _build("slow_r50").blocks[-1].activation is None
    assert _build("x3d_xs").blocks[-1].pool.pool.kernel_size == (4, 5, 5)  # 4x160x160 clips
    assert _build("x3d_l").blocks[-1].pool.pool.kernel_size == (16, 10, 10)  # 16x312x312 clips
    assert _build("slow_r50").blocks[-1].pool.kernel_size == (8, 7, 7)
    assert _build("csn_r101").blocks[-1].pool.kernel_size == (4, 7, 7)
    fast = _build("slowfast_16x8_r101_50_50")
    assert [p.kernel_size for p in fast.blocks[5].pool] == [(16, 7, 7), (64, 7, 7)]
    res4 = fast.blocks[3].multipathway_blocks[0].res_blocks
    assert [b.branch2.conv_a.kernel_size[0] for b in res4] == [3] * 6 + [1] * 17


def test_kwargs_change_the_settings():
    assert _build("slow_r50", model_num_class=7).blocks[-1].proj.out_features == 7
    # a hub setting may be changed (PyTorchVideo raised TypeError for the repeated keyword)
    assert _build("x3d_m", input_crop_size=160).blocks[-1].pool.pool.kernel_size == (16, 5, 5)
    assert isinstance(_build("slow_r50", head_pool=nn.AdaptiveAvgPool3d).blocks[-1].pool, nn.AdaptiveAvgPool3d)
    with pytest.raises(ValueError, match="model_depth"):
        _build("slowfast_r50", model_depth=34)
    # MViT: a None keyword keeps the hub's setting (PyTorchVideo's hub_model_builder)
    none = _build("mvit_base_32x3", temporal_size=None, head_num_classes=5)
    assert none.cls_positional_encoding.pos_embed_temporal.shape[1] == 16  # 32 frames, temporal patch stride 2
    assert none.head.proj.out_features == 5


@pytest.mark.parametrize("name", sorted(NOT_PROVIDED))
def test_names_not_provided_raise_naming_the_alternative(name):
    with pytest.raises(NotImplementedError, match=rf"{name}.*fastvid\.models\.hub\.{NOT_PROVIDED[name]}\b"):
        getattr(hub, name)()
    with pytest.raises(NotImplementedError):
        getattr(hub, name)(pretrained=True)


def _save_fresh(name: str, path, seed: int, **kwargs) -> dict:
    torch.manual_seed(seed)
    state = getattr(hub, name)(**kwargs).state_dict()
    torch.save({"model_state": state, "epoch": 10}, path)  # PyTorchVideo's .pyth layout
    return state


@pytest.mark.parametrize("name", ["x3d_xs", "slowfast_r50_detection", "mvit_base_16"])
def test_pretrained_loads_the_checkpoint(name, tmp_path, monkeypatch):
    want = _save_fresh(name, tmp_path / "ckpt.pyth", seed=1)
    monkeypatch.setitem(hub.CHECKPOINT_URLS, name, (tmp_path / "ckpt.pyth").as_uri())
    torch.manual_seed(2)
    got = getattr(hub, name)(pretrained=True).state_dict()
    assert list(got) == list(want)
    assert all(torch.equal(got[k], want[k]) for k in want)
    torch.manual_seed(2)
    fresh = getattr(hub, name)().state_dict()
    assert not all(torch.equal(fresh[k], want[k]) for k in want)  # the seeds do differ: the load did it


def test_pretrained_with_another_class_count_keeps_a_fresh_output_layer(tmp_path, monkeypatch):
    want = _save_fresh("x3d_xs", tmp_path / "x3d.pyth", seed=1)
    monkeypatch.setitem(hub.CHECKPOINT_URLS, "x3d_xs", (tmp_path / "x3d.pyth").as_uri())
    torch.manual_seed(3)
    model = hub.x3d_xs(pretrained=True, model_num_class=11)
    got = model.state_dict()
    head = {"blocks.5.proj.weight", "blocks.5.proj.bias"}
    assert got["blocks.5.proj.weight"].shape == (11, 2048)
    assert all(torch.equal(got[k], want[k]) for k in want if k not in head)
    # an architecture change is refused with the tensors named
    with pytest.raises(ValueError, match="does not fit"):
        hub.x3d_xs(pretrained=True, depth_factor=5.0)
    # a checkpoint whose head does not fit the hub's own class count, with no class count asked: refused, not a
    # silently fresh head
    _save_fresh("x3d_xs", tmp_path / "x3d_7.pyth", seed=1, model_num_class=7)
    monkeypatch.setitem(hub.CHECKPOINT_URLS, "x3d_xs", (tmp_path / "x3d_7.pyth").as_uri())
    with pytest.raises(ValueError, match=r"x3d_xs\(pretrained=True\): the checkpoint's output layer .* is for 7 classes"):
        hub.x3d_xs(pretrained=True)
    assert hub.x3d_xs(pretrained=True, model_num_class=400).blocks[5].proj.out_features == 400


def test_pretrained_http_checkpoint_is_fetched_once_into_torch_hub_cache(tmp_path, monkeypatch):
    src = tmp_path / "src.pyth"
    want = _save_fresh("x3d_xs", src, seed=4)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, progress))
        with open(src, "rb") as fh, open(dst, "wb") as out:
            out.write(fh.read())

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    for _ in range(2):
        got = hub.x3d_xs(pretrained=True, progress=False).state_dict()
        assert all(torch.equal(got[k], want[k]) for k in want)
    assert calls == [(hub.CHECKPOINT_URLS["x3d_xs"], False)]  # once, without a progress bar
    assert (tmp_path / "hub" / "checkpoints" / "X3D_XS.pyth").is_file()


# -- against PyTorchVideo 0.1.5's own hub (FASTVID_PTV_SRC) ---------------------------------------------------


def _ptv_hub_builders() -> dict:
    pytorchvideo_modules("pytorchvideo.models.resnet")  # loads PyTorchVideo without its package __init__s, or skips
    if "pytorchvideo.models.hub" not in sys.modules:  # its __init__ imports the accelerator models: skip it too
        package = types.ModuleType("pytorchvideo.models.hub")
        package.__path__ = [os.path.join(sys.modules["pytorchvideo.models"].__path__[0], "hub")]
        sys.modules[package.__name__] = package
    builders = {}
    for module in ("resnet", "x3d", "slowfast", "csn", "r2plus1d", "vision_transformers"):
        loaded = importlib.import_module(f"pytorchvideo.models.hub.{module}")
        builders.update({n: getattr(loaded, n) for n in PTV_HUB_NAMES if hasattr(loaded, n)})
    return builders


def _tree(model: nn.Module) -> str:
    return re.sub(r"np\.int64\((\d+)\)", r"\1", repr(model))  # PyTorchVideo passes some strides as numpy ints


@pytest.mark.parametrize("name", BUILT)
def test_same_module_tree_and_state_dict_as_pytorchvideo_hub(name):
    theirs_fn = _ptv_hub_builders()[name]
    ours = _build(name)
    with contextlib.nullcontext() if name.startswith("mvit") else torch.device("meta"):
        theirs = theirs_fn()
    assert _tree(ours) == _tree(theirs)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]
    # and the checkpoint it would load
    assert hub.CHECKPOINT_URLS[name] == inspect.getmodule(theirs_fn).checkpoint_paths[name]


def test_a_checkpoint_that_cannot_be_downloaded_is_named_with_the_way_out(tmp_path, monkeypatch):
    # offline: a raw URLError ("<urlopen error [Errno -2] Name or service not known>") named neither the URL nor
    # what to do
    import urllib.error

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(url, dst, hash_prefix=None, progress=True):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ConnectionError) as e:
        hub.x3d_xs(pretrained=True, progress=False)
    assert hub.CHECKPOINT_URLS["x3d_xs"] in str(e.value) and "give the local file's path" in str(e.value)
    assert "Name or service not known" in str(e.value)


def test_a_checkpoint_url_the_server_refuses_is_named_with_its_http_status(tmp_path, monkeypatch):
    import urllib.error

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def not_found(url, dst, hash_prefix=None, progress=True):
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(torch.hub, "download_url_to_file", not_found)
    with pytest.raises(ConnectionError, match=r"cannot download .*X3D_XS.pyth: HTTP 404 Not Found$"):
        hub.x3d_xs(pretrained=True, progress=False)
