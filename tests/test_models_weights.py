"""Fine-tuning from checkpoints: fastvid.models.load_pretrained / read_state_dict, PyTorchVideo's hub ResNet
presets (slow_r50, c2d_r50, i3d_r50) and the table of PyTorchVideo's published checkpoints."""

import argparse
import pickle

import pytest
import torch
import torch.nn as nn
from _ptv_models import n_params, pytorchvideo_modules, same_model

from fastvid.models import (
    PYTORCHVIDEO_CHECKPOINTS,
    create_model,
    list_models,
    load_pretrained,
    read_state_dict,
)
from fastvid.models.weights import output_layer
from fastvid.models.zoo import PTV_HUB_MODELS

SMALL = dict(stem_dim_out=4)  # resnet_small's smallest width: fast to build, save and load


def _small(num_classes: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return create_model("resnet_small", num_classes=num_classes, **SMALL)


def _equal(a: dict, b: dict, keys) -> bool:
    return all(torch.equal(a[k], b[k]) for k in keys)


def _wrappings(sd: dict) -> dict:
    """The same weights as the usual checkpoint files hold them."""
    return {
        "state_dict": sd,
        "pytorchvideo_pyth": {"model_state": sd, "epoch": 196, "optimizer_state": {}, "cfg": "TRAIN:\n  ENABLE: True\n"},
        "lightning": {"state_dict": {f"model.{k}": v for k, v in sd.items()}, "epoch": 3, "global_step": 12},
        "ddp": {f"module.{k}": v for k, v in sd.items()},
        # torchvision's references/video_classification/train.py also saves its argparse.Namespace
        "torchvision_reference": {"model": {f"module.{k}": v for k, v in sd.items()}, "optimizer": {}, "epoch": 44,
                                  "args": argparse.Namespace(lr=0.64, data_path="/data/kinetics")},
        "ddp_in_lightning": {"state_dict": {f"model.module.{k}": v for k, v in sd.items()}},
    }


@pytest.mark.parametrize("wrapping", list(_wrappings({})))
@pytest.mark.parametrize("how", ["path", "url", "mapping"])
def test_same_classes_every_tensor_loads(wrapping, how, tmp_path):
    src = _small(5, seed=1)
    sd = src.state_dict()
    checkpoint = _wrappings(sd)[wrapping]
    if how == "mapping":
        source = checkpoint
    else:
        path = tmp_path / f"{wrapping}.pth"
        torch.save(checkpoint, path)
        source = str(path) if how == "path" else path.as_uri()
    dst = _small(5, seed=2)
    assert not _equal(dst.state_dict(), sd, [k for k in sd if k.endswith("weight")])
    report = load_pretrained(dst, source)
    assert _equal(dst.state_dict(), sd, sd)
    assert report.loaded == len(sd) and report.kept_at_init == () and report.checkpoint_classes is None


def test_file_urls_are_read_in_place(tmp_path):
    # Two runs' last.ckpt: same file name, other weights (torch.hub's cache would hand back the first).
    a, b = _small(2, seed=1).state_dict(), _small(2, seed=2).state_dict()
    for run, sd in (("a", a), ("b", b)):
        (tmp_path / run).mkdir()
        torch.save({"state_dict": sd}, tmp_path / run / "last.ckpt")
    for run, sd in (("a", a), ("b", b)):
        got = read_state_dict((tmp_path / run / "last.ckpt").as_uri())
        assert _equal(got, sd, sd), run


class _Wrapper(nn.Module):
    def __init__(self, child_name: str):
        super().__init__()
        self.add_module(child_name, nn.Sequential(nn.Conv3d(3, 4, 1), nn.BatchNorm3d(4), nn.Linear(4, 2)))


@pytest.mark.parametrize("child", ["model", "module"])
def test_prefixes_are_stripped_only_when_the_model_lacks_them(child):
    # A model whose own keys start with "model." / "module." takes its state dict as it is.
    src, dst = _Wrapper(child), _Wrapper(child)
    sd = src.state_dict()
    assert all(k.startswith(child + ".") for k in sd)
    report = load_pretrained(dst, sd)
    assert report.loaded == len(sd) and _equal(dst.state_dict(), sd, sd)
    # and the same weights saved by DDP (module.<child>.) still load
    load_pretrained(_Wrapper(child), {f"module.{k}": v for k, v in sd.items()})


def test_old_batchnorm_checkpoints_without_num_batches_tracked_load():
    sd = {k: v for k, v in _small(3, seed=1).state_dict().items() if not k.endswith("num_batches_tracked")}
    dst = _small(3, seed=2)
    load_pretrained(dst, sd)
    assert _equal(dst.state_dict(), sd, sd)


def test_other_class_count_keeps_the_output_layer_at_init():
    src, dst = _small(7, seed=1), _small(3, seed=2)
    head = output_layer(dst)
    fresh = {k: v.clone() for k, v in dst.state_dict().items()}
    report = load_pretrained(dst, src.state_dict())
    out = dst.state_dict()
    head_keys = [k for k in out if k.startswith(head + ".")]
    assert sorted(report.kept_at_init) == sorted(head_keys) and len(head_keys) == 2
    assert report.checkpoint_classes == 7 and report.loaded == len(out) - 2
    assert _equal(out, fresh, head_keys)
    assert _equal(out, src.state_dict(), [k for k in out if k not in head_keys])
    assert "keeps its initialization: the checkpoint has 7 classes" in str(report)
    # and the model runs with its own class count
    assert dst(torch.randn(1, 3, 4, 32, 32)).shape == (1, 3)


def test_checkpoints_that_do_not_fit_are_refused_with_the_keys():
    src = _small(5, seed=1)
    sd = src.state_dict()
    wider = create_model("resnet_small", num_classes=5, stem_dim_out=8)
    with pytest.raises(ValueError, match=r"differ in shape \(blocks\.0\.conv\.weight: checkpoint \(4, 3"):
        load_pretrained(wider, sd)
    missing = dict(sd)
    del missing["blocks.0.norm.running_mean"]
    with pytest.raises(ValueError, match=r"1 of the model's tensors are not in it \(blocks\.0\.norm\.running_mean\)"):
        load_pretrained(_small(5, seed=2), missing)
    extra = {**sd, "blocks.9.conv.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"1 of its tensors are not in the model \(blocks\.9\.conv\.weight\)"):
        load_pretrained(_small(5, seed=2), extra)
    # only the output layer's weight differs, its bias fits: not a class-count change, refused
    head = output_layer(src)
    half = {**sd, f"{head}.weight": torch.zeros(5, sd[f"{head}.weight"].shape[1] + 1)}
    with pytest.raises(ValueError, match="differ in shape"):
        load_pretrained(_small(5, seed=2), half)
    # a slow_r50 checkpoint into the tutorial's resnet50: the stems differ
    with torch.device("meta"):
        slow, r50 = create_model("slow_r50", num_classes=400), create_model("resnet50", num_classes=400)
    with pytest.raises(ValueError, match=r"blocks\.0\.conv\.weight: checkpoint \(64, 3, 1, 7, 7\), model \(64, 3, 3, 7, 7\)"):
        load_pretrained(r50, slow.state_dict())


class _NotATensor:
    pass


def test_files_that_are_not_checkpoints(tmp_path):
    sd = _small(2, seed=0).state_dict()
    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": sd}, good)
    data = good.read_bytes()
    cases = {"empty": b"", "text": b"blocks.0.conv.weight 1 2 3\n", "prose": b"not a checkpoint\n",
             "truncated": data[: len(data) // 2],
             "random": bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0)).tolist())}
    for case, content in cases.items():
        path = tmp_path / f"{case}.ckpt"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="is not a readable PyTorch checkpoint") as info:
            read_state_dict(path)
        assert "weights_only" not in str(info.value), case  # no advice to load it unsafely (torch's message has some)


def test_read_state_dict_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        read_state_dict(tmp_path / "missing.pth")
    with pytest.raises(TypeError, match="path, a URL or a mapping"):
        read_state_dict(3)
    with pytest.raises(ValueError, match="holds no state dict .*'epoch'"):
        read_state_dict({"epoch": 3, "lr": 0.1})
    with pytest.raises(ValueError, match="holds no tensors"):
        read_state_dict({"model_state": {}})
    pickled = tmp_path / "objects.pth"
    sd = _small(2, seed=0).state_dict()
    torch.save({"model_state": sd, "extra": _NotATensor()}, pickled)
    with pytest.raises(ValueError, match="weights_only=True refuses .it pickles test_models_weights._NotATensor") as info:
        read_state_dict(pickled)
    assert isinstance(info.value.__context__, pickle.UnpicklingError) and "\x1b[" not in str(info.value)
    got = read_state_dict(pickled, weights_only=False)
    assert _equal(got, sd, sd) and list(got) == list(sd)


def test_output_layer_of_every_zoo_model():
    expected = {"r3d_18": "fc", "r2plus1d_18": "fc", "mc3_18": "fc", "s3d": "classifier.1", "mvit_v2_s": "head.1",
                "swin3d_t": "head", "mvit_base_16x4": "head.proj", "mvit_base_32x3": "head.proj",
                # stage 1's pool is a block of its own in PyTorchVideo's C2D / I3D
                "c2d_r50": "blocks.6.proj", "i3d_r50": "blocks.6.proj"}
    with torch.device("meta"):
        for name in list_models():
            frames, crop = {"mvit_base_32x3": (32, 224), "mvit_v2_s": (16, 224), "mvit_base_16x4": (16, 224)}.get(name, (8, 224))
            model = create_model(name, num_classes=11, num_frames=frames, crop_size=crop)
            head = output_layer(model)
            assert head == expected.get(name, "blocks.5.proj"), name
            layer = model.get_submodule(head)
            assert (layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels) == 11, name


def test_pytorchvideo_checkpoint_table_names_fastvid_models():
    assert set(PYTORCHVIDEO_CHECKPOINTS) <= set(list_models())
    for name, url in PYTORCHVIDEO_CHECKPOINTS.items():
        assert url.startswith("https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/") and url.endswith(".pyth"), name


# PyTorchVideo's model zoo table: Slow R50 32.45 M, C2D R50 24.33 M, I3D R50 28.04 M parameters.
HUB_RESNET_PARAMS = {"slow_r50": 32_454_096, "c2d_r50": 24_327_632, "i3d_r50": 28_043_472}


@pytest.mark.parametrize("name", list(HUB_RESNET_PARAMS))
def test_hub_resnet_presets(name):
    with torch.device("meta"):
        model = create_model(name, num_classes=400)
        assert n_params(model) == HUB_RESNET_PARAMS[name]
        assert model(torch.empty(2, 3, 8, 224, 224)).shape == (2, 400)
        # other clips pool adaptively (c2d / i3d halve the frames after stage 1)
        small = create_model(name, num_classes=5, num_frames=4, crop_size=96)
        assert isinstance(small.blocks[-1].pool, nn.AdaptiveAvgPool3d)
        assert small(torch.empty(1, 3, 4, 96, 96)).shape == (1, 5)
    stem = model.blocks[0].conv.kernel_size
    assert stem == {"slow_r50": (1, 7, 7), "c2d_r50": (1, 7, 7), "i3d_r50": (5, 7, 7)}[name]


@pytest.mark.parametrize("name", list(HUB_RESNET_PARAMS))
def test_hub_resnet_presets_match_pytorchvideo_source(name):
    (resnet,) = pytorchvideo_modules("pytorchvideo.models.resnet")
    _, hub_kwargs, _ = PTV_HUB_MODELS[name]
    same_model(lambda: create_model(name, num_classes=400), lambda: resnet.create_resnet(**hub_kwargs), (1, 3, 8, 224, 224))
