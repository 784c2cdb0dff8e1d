"""PyTorchVideo's module paths under fastvid: each alias module gives fastvid's own objects under PyTorchVideo's
names (the same objects, not copies), and the few additions behave as PyTorchVideo's: VideoPathHandler,
init_net_weights (styles "resnet" and "vit"), create_resnet_with_roi_head."""

from __future__ import annotations

import importlib
import inspect

import pytest
import torch
import torch.nn as nn
from _ptv_models import pytorchvideo_modules, same_model

import fastvid.data
import fastvid.models
import fastvid.transforms
from fastvid.data.synthetic import write_video

# PyTorchVideo 0.1.5's module -> the names it defines (classes and functions) that fastvid provides there
ALIASES = {
    "fastvid.transforms.transforms": (
        fastvid.transforms,
        "ApplyTransformToKey RemoveKey UniformTemporalSubsample UniformTemporalSubsampleRepeated ShortSideScale "
        "RandomShortSideScale UniformCropVideo Normalize ConvertFloatToUint8 ConvertUint8ToFloat MoveChannelRear "
        "MoveChannelFront RandomResizedCrop Permute OpSampler Div255",
    ),
    "fastvid.transforms.transforms_factory": (fastvid.transforms, "create_video_transform"),
    "fastvid.transforms.augmix": (fastvid.transforms, "AugMix"),
    "fastvid.transforms.rand_augment": (fastvid.transforms, "RandAugment"),
    "fastvid.data.encoded_video_pyav": (fastvid.data, "EncodedVideoPyAV"),
    "fastvid.models.weight_init": (fastvid.models, "init_net_weights"),
    "fastvid.models.net": (fastvid.models, "Net MultiPathWayWithFuse DetectionBBoxNetwork"),
    "fastvid.models.head": (
        fastvid.models,
        "ResNetBasicHead ResNetRoIHead SequencePool VisionTransformerBasicHead create_res_basic_head "
        "create_res_roi_pooling_head create_vit_basic_head",
    ),
    "fastvid.models.resnet": (fastvid.models, "create_resnet create_resnet_with_roi_head create_bottleneck_block"),
}


@pytest.mark.parametrize("module", list(ALIASES))
def test_pytorchvideo_module_paths_give_fastvids_objects(module):
    package, names = ALIASES[module]
    mod = importlib.import_module(module)
    for name in names.split():
        assert getattr(mod, name) is getattr(package, name), name
        exec(f"from {module} import {name}", {})  # the import statement a migrated script has
    for name in getattr(mod, "__all__", ()):
        assert hasattr(mod, name), name


def test_alias_modules_export_every_class_they_define():
    # the whole of each pure alias module: __all__ lists everything public it holds
    for module in ("transforms", "transforms_factory", "augmix", "rand_augment"):
        mod = importlib.import_module(f"fastvid.transforms.{module}")
        public = {n for n, v in vars(mod).items() if not n.startswith("_") and not inspect.ismodule(v)}
        public -= {"annotations"}
        assert public == set(mod.__all__), module
    assert importlib.import_module("fastvid.transforms.augmix").SAMPLING_AUGMIX_DEFAULT_HPARAS["sampling_min"] == 0.1


def test_lazy_head_names_fail_cleanly_for_unknown_names():
    head = importlib.import_module("fastvid.models.head")
    with pytest.raises(AttributeError, match="no_such_head"):
        head.no_such_head  # noqa: B018
    with pytest.raises(ImportError):
        exec("from fastvid.models.head import create_no_such_head", {})


# -- fastvid.data.video -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video_file(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("alias") / "v.mp4", num_frames=20, fps=10, gop=5)


def test_video_path_handler_opens_files_as_encoded_video_from_path(video_file, tmp_path):
    from fastvid.data.video import Video, VideoPathHandler

    handler = VideoPathHandler()
    assert handler.path_order_cache == {}
    video = handler.video_from_path(video_file)
    direct = fastvid.data.EncodedVideo.from_path(video_file)
    try:
        assert isinstance(video, fastvid.data.EncodedVideoPyAV) and isinstance(video, Video)
        assert video.name == "v.mp4" and video.duration == direct.duration
        a, b = video.get_clip(0.3, 1.1), direct.get_clip(0.3, 1.1)
        assert torch.equal(a["video"], b["video"]) and a["video"].shape[1] == 8
        assert a["audio"] is None  # decode_audio=False, as PyTorchVideo's handler defaults
    finally:
        video.close()
        direct.close()
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        handler.video_from_path(tmp_path / "nope.mp4")
    (tmp_path / "frames").mkdir()
    with pytest.raises(NotImplementedError, match="directory"):
        handler.video_from_path(tmp_path / "frames")
    with pytest.raises(ValueError, match="decoder"):
        handler.video_from_path(video_file, decoder="decord")


def test_video_interface_is_abstract():
    from fastvid.data.video import Video

    with pytest.raises(TypeError):
        Video()

    class Frames(Video):
        def __init__(self, file, video_name=None, decode_audio=True):
            self.n = file

        @property
        def duration(self):
            return 2.0

        def get_clip(self, start_sec, end_sec):
            return {"video": torch.zeros(3, 1, 2, 2), "audio": None}

    clip = Frames(1)
    assert clip.duration == 2.0 and clip.get_clip(0, 1)["video"].shape == (3, 1, 2, 2) and clip.close() is None


# -- fastvid.models.weight_init ----------------------------------------------------------------------------------


class _Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 3)
        self.conv2d = nn.Conv2d(4, 5, 1)
        self.bn = nn.BatchNorm3d(4)
        self.final_bn = nn.BatchNorm3d(4)
        self.final_bn.block_final_bn = True
        self.fc = nn.Linear(6, 7)
        self.xavier_fc = nn.Linear(8, 9)
        self.xavier_fc.xavier_init = True
        self.ln = nn.LayerNorm(5)


def _expected_resnet_init(model: _Toy, std: float) -> dict:
    """PyTorchVideo's _init_resnet_weights, written out for _Toy in model.modules() order."""
    with torch.no_grad():
        for conv in (model.conv, model.conv2d):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        for bn, w in ((model.bn, 1.0), (model.final_bn, 0.0)):
            bn.weight.fill_(w)
            bn.bias.zero_()
        model.fc.weight.normal_(0.0, std)
        model.fc.bias.zero_()
        nn.init.kaiming_uniform_(model.xavier_fc.weight, a=1)
        model.xavier_fc.bias.zero_()
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_init_net_weights_resnet_style():
    from fastvid.models.weight_init import init_net_weights

    torch.manual_seed(0)
    model = _Toy()
    before_ln = {k: v.clone() for k, v in model.ln.state_dict().items()}
    torch.manual_seed(1)
    want = _expected_resnet_init(model, 0.03)
    torch.manual_seed(1)
    assert init_net_weights(model, 0.03) is model
    got = model.state_dict()
    for k in want:
        assert torch.equal(got[k], want[k]), k
    assert all(torch.equal(model.ln.state_dict()[k], v) for k, v in before_ln.items())  # untouched
    assert torch.all(model.final_bn.weight == 0) and abs(model.fc.weight.std().item() - 0.03) < 0.015


def test_init_net_weights_vit_style():
    from fastvid.models.positional_encoding import SpatioTemporalClsPositionalEncoding
    from fastvid.models.weight_init import init_net_weights

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.LayerNorm(5), nn.Conv3d(2, 2, 1),
                          SpatioTemporalClsPositionalEncoding(embed_dim=5, patch_embed_shape=(2, 2, 2)))
    conv = {k: v.clone() for k, v in model[2].state_dict().items()}
    with torch.no_grad():
        model[1].weight.fill_(3.0)
    torch.manual_seed(1)
    want_w = nn.init.trunc_normal_(torch.empty(5, 4), std=0.05)
    want_pos = [nn.init.trunc_normal_(torch.empty_like(p), std=0.05) for p in model[3].parameters()]
    torch.manual_seed(1)
    init_net_weights(model, 0.05, "vit")
    assert torch.equal(model[0].weight, want_w) and torch.all(model[0].bias == 0)
    assert torch.all(model[1].weight == 1) and torch.all(model[1].bias == 0)
    assert all(torch.equal(p, q) for p, q in zip(model[3].parameters(), want_pos))
    assert all(torch.equal(model[2].state_dict()[k], v) for k, v in conv.items())  # convs untouched in "vit"
    with pytest.raises(ValueError, match="style"):
        init_net_weights(model, 0.01, "xavier")


@pytest.mark.parametrize("style", ["resnet", "vit"])
def test_init_net_weights_matches_pytorchvideo(style):
    (theirs,) = pytorchvideo_modules("pytorchvideo.models.weight_init")
    from fastvid.models.weight_init import init_net_weights

    def toy():
        torch.manual_seed(0)
        return nn.Sequential(_Toy(), nn.Linear(3, 3))

    a, b = toy(), toy()
    torch.manual_seed(9)
    init_net_weights(a, 0.02, style)
    torch.manual_seed(9)
    theirs.init_net_weights(b, 0.02, style)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k


# -- fastvid.models.resnet.create_resnet_with_roi_head -----------------------------------------------------------

BOXES = torch.tensor([[0, 3.0, 5.0, 40.0, 50.0], [1, 0.0, 0.0, 63.0, 63.0], [0, 10.0, 12.0, 20.0, 30.0]])


def test_resnet_with_roi_head_layout_and_output():
    from fastvid.models.resnet import create_resnet_with_roi_head

    torch.manual_seed(0)
    model = create_resnet_with_roi_head(model_num_class=6).eval()
    keys = list(model.state_dict())
    assert keys[0].startswith("model.blocks.0.") and keys[-2:] == ["detection_head.proj.weight", "detection_head.proj.bias"]
    assert model.detection_head.proj.in_features == 2048 and not hasattr(model.model.blocks, "5")
    out = model(torch.randn(2, 3, 4, 64, 64), BOXES)
    assert out.shape == (3, 6) and bool(((out > 0) & (out < 1)).all())  # sigmoid scores, one row per box
    want = [p for p in inspect.signature(create_resnet_with_roi_head).parameters]
    assert want[:3] == ["input_channel", "model_depth", "model_num_class"] and want[-1] == "head_sampling_ratio"


def test_resnet_with_roi_head_matches_pytorchvideo():
    (resnet,) = pytorchvideo_modules("pytorchvideo.models.resnet")
    from fastvid.models.resnet import create_resnet_with_roi_head

    ours = inspect.signature(create_resnet_with_roi_head).parameters
    theirs = inspect.signature(resnet.create_resnet_with_roi_head).parameters
    assert list(ours) == list(theirs)
    for name in ours:
        if name not in ("head", "stem", "bottleneck"):  # callables: fastvid's own builders
            assert ours[name].default == theirs[name].default, name
    same_model(
        lambda: create_resnet_with_roi_head(model_num_class=5),
        lambda: resnet.create_resnet_with_roi_head(model_num_class=5),
        (2, 3, 4, 64, 64),
        boxes=BOXES,
    )
