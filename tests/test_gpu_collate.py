"""fastvid.gpu on the CPU: collate_clips packs decoded clips (any sizes, THWC views) with the other keys
collated; BatchClipTransform draws each clip's parameters as the CPU transforms do (same calls, same
order: after the same seed, the batch equals the step-by-step pipeline clip by clip) and runs the
batched op; it follows train / eval mode, a generator, Python's random for flip_draw="python"."""

from __future__ import annotations

import random

import pytest
import torch
import torchvision.transforms as tv

from fastvid import ops, reference
from fastvid.gpu import BatchClipTransform, collate_clips
from fastvid.ops import PackedClips

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)
SOURCES = [(48, 64), (40, 40), (72, 50), (45, 61), (40, 56)]  # (H, W) of the decoded clips


def _items(sizes=SOURCES, t=4, seed=0, audio=False):
    g = torch.Generator().manual_seed(seed)
    items = []
    for i, (h, w) in enumerate(sizes):
        thwc = torch.randint(0, 256, (t, h, w, 3), dtype=torch.uint8, generator=g)
        item = {
            "video": thwc.permute(3, 0, 1, 2),  # what the frame-index decoder hands over
            "label": i % 3,
            "video_name": f"clip{i}.mp4",
            "video_index": i,
            "clip_index": 0,
            "aug_index": 0,
        }
        if audio:
            item["audio"] = torch.rand(100 + 7 * i, generator=g)
        items.append(item)
    return items


def _pipeline_oracle(video, *, min_size, max_size, crop, p):
    """The step-by-step CPU pipeline with the mirrored libraries' own draws: PyTorchVideo's
    RandomShortSideScale (torch.randint), torchvision's RandomCrop and RandomHorizontalFlip."""
    s = int(torch.randint(min_size, max_size + 1, (1,)).item())
    h, w = reference.short_side_scale_size(video.shape[2], video.shape[3], s)
    x = reference.clip_transform(video, size=(h, w), mean=MEAN, std=STD)  # /255, normalize, resize
    x = tv.RandomCrop(crop)(x)  # crops the last two dims of (C, T, H, W)
    return tv.RandomHorizontalFlip(p)(x)


# --------------------------------------------------------------------------------------------------
# collate


def test_collate_packs_clips_and_collates_the_rest():
    items = _items(audio=True)
    batch = collate_clips(items)
    packed = batch["video"]
    assert isinstance(packed, PackedClips) and len(packed) == len(items) and packed.layout == "CTHW"
    # pinned in the main process when CUDA is there (in DataLoader workers the loader's pin_memory does it)
    assert packed.buffer.dtype == torch.uint8 and packed.is_pinned() == torch.cuda.is_available()
    for b, item in enumerate(items):
        assert torch.equal(packed.clip(b), item["video"])
        assert packed.strides[b].tolist() == list(item["video"].stride())  # THWC memory order kept
    assert torch.equal(batch["label"], torch.tensor([0, 1, 2, 0, 1]))
    assert batch["video_name"] == [f"clip{i}.mp4" for i in range(5)]
    assert torch.equal(batch["video_index"], torch.arange(5))
    assert isinstance(batch["audio"], list) and [a.shape[0] for a in batch["audio"]] == [100 + 7 * i for i in range(5)]


def test_collate_float_and_contiguous_clips():
    items = [{"video": torch.rand(3, 2, 5 + i, 7), "label": i} for i in range(3)]
    batch = collate_clips(items)
    assert batch["video"].buffer.dtype == torch.float32
    assert all(torch.equal(batch["video"].clip(b), items[b]["video"]) for b in range(3))


def test_collate_in_a_dataloader_and_lightning_transfer():
    from lightning_fabric.utilities.apply_func import move_data_to_device

    items = _items()
    loader = torch.utils.data.DataLoader(items, batch_size=3, collate_fn=collate_clips)
    batches = list(loader)
    assert [len(b["video"]) for b in batches] == [3, 2]
    moved = move_data_to_device(batches[0], torch.device("cpu"))
    assert isinstance(moved["video"], PackedClips) and moved["video"].offsets.device.type == "cpu"
    assert torch.equal(moved["video"].clip(2), items[2]["video"])


def test_collate_in_a_worker_process():
    # The PackedClips made in a DataLoader worker crosses to the main process (shared memory) intact.
    items = _items()
    loader = torch.utils.data.DataLoader(items, batch_size=5, collate_fn=collate_clips, num_workers=1)
    (batch,) = list(loader)
    assert isinstance(batch["video"], PackedClips) and not batch["video"].is_pinned()
    assert all(torch.equal(batch["video"].clip(b), items[b]["video"]) for b in range(5))


@pytest.mark.parametrize(
    "items, exc, match",
    [
        ([], ValueError, "at least one dataset item"),
        ([torch.zeros(3, 2, 4, 4)], TypeError, r"items\[0\] must be a dict"),
        ([{"label": 1}], ValueError, r"items\[0\] has no 'video' key"),
        ([{"video": torch.zeros(3, 2, 4, 4, dtype=torch.uint8), "label": 1}, {"video": torch.zeros(3, 2, 4, 4, dtype=torch.uint8)}], ValueError, "has keys"),
        ([{"video": torch.zeros(3, 4, 4, dtype=torch.uint8)}], TypeError, r"must be a \(C, T, H, W\) tensor"),
        ([{"video": torch.zeros(3, 2, 4, 4, dtype=torch.int16)}], TypeError, "must be uint8 or float32"),
        ([{"video": torch.zeros(3, 2, 4, 4, dtype=torch.uint8)}, {"video": torch.zeros(1, 2, 4, 4, dtype=torch.uint8)}], ValueError, "same dtype and channels"),
    ],
)
def test_collate_bad_items(items, exc, match):
    with pytest.raises(exc, match=match):
        collate_clips(items)


# --------------------------------------------------------------------------------------------------
# BatchClipTransform


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_equals_step_by_step_pipeline(seed):
    items = _items(seed=seed)
    batch = collate_clips(items)
    transform = BatchClipTransform(crop_size=32, min_size=40, max_size=56, flip_p=0.5)
    torch.manual_seed(seed)
    out = transform(batch)
    after = torch.rand(1)
    assert set(out) == set(batch) and out["label"] is batch["label"]
    got = out["video"]
    assert got.shape == (5, 3, 4, 32, 32) and got.dtype == torch.float32
    torch.manual_seed(seed)
    want = torch.stack([_pipeline_oracle(it["video"], min_size=40, max_size=56, crop=32, p=0.5) for it in items])
    assert torch.equal(torch.rand(1), after)  # the same number of draws
    assert (got - want).abs().max().item() <= 1e-4


def test_packed_clips_or_a_list_alone_give_the_batch_dicts_video():
    items = _items(seed=5)
    batch = collate_clips(items)
    transform = BatchClipTransform(crop_size=32, min_size=40, max_size=56, flip_p=0.5)
    torch.manual_seed(5)
    want = transform(batch)["video"]
    for videos in (batch["video"], [it["video"] for it in items]):
        torch.manual_seed(5)
        assert torch.equal(transform(videos), want)


def test_train_equals_fastvid_cpu_transforms():
    from fastvid.transforms import Compose, Div255, Normalize, RandomCrop, RandomHorizontalFlip, RandomShortSideScale

    items = _items(seed=7)
    cpu = Compose([Div255(), Normalize(MEAN, STD), RandomShortSideScale(40, 56), RandomCrop(32), RandomHorizontalFlip(0.5)])
    torch.manual_seed(3)
    want = torch.stack([cpu(it["video"]) for it in items])
    torch.manual_seed(3)
    got = BatchClipTransform(crop_size=32, min_size=40, max_size=56)(collate_clips(items))["video"]
    assert (got - want).abs().max().item() <= 1e-4


def test_eval_is_short_side_scale_and_center_crop():
    items = _items()
    transform = BatchClipTransform(crop_size=(30, 36), min_size=40, max_size=56, eval_size=44).eval()
    state = torch.get_rng_state()
    got = transform([it["video"] for it in items])
    assert torch.equal(torch.get_rng_state(), state)  # no draws
    for b, it in enumerate(items):
        h, w = reference.short_side_scale_size(*SOURCES[b], 44)
        top, left = int(round((h - 30) / 2.0)), int(round((w - 36) / 2.0))
        want = reference.clip_transform(it["video"], size=(h, w), crop=(top, left, 30, 36))
        assert (got[b] - want).abs().max().item() <= 1e-4
    # Lightning's .eval() / .train() reach it as a submodule.
    parent = torch.nn.Sequential(BatchClipTransform(crop_size=8))
    parent.eval()
    assert not parent[0].training


def test_generator_and_python_flip_draws():
    items = _items()
    videos = [it["video"] for it in items]
    t1 = BatchClipTransform(crop_size=32, min_size=40, max_size=56, generator=torch.Generator().manual_seed(5))
    t2 = BatchClipTransform(crop_size=32, min_size=40, max_size=56, generator=torch.Generator().manual_seed(5))
    state = torch.get_rng_state()
    assert torch.equal(t1(videos), t2(videos))
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is untouched

    # flip_draw="python": sizes and crops from torch, flips from Python's random, clip by clip.
    t = BatchClipTransform(crop_size=32, min_size=40, max_size=56, flip_p=0.5, flip_draw="python")
    torch.manual_seed(1)
    random.seed(1)
    sizes, crops, flips = t.draw_params(SOURCES)
    torch.manual_seed(1)
    random.seed(1)
    for b, (h, w) in enumerate(SOURCES):
        s = int(torch.randint(40, 57, (1,)).item())
        assert tuple(sizes[b].tolist()) == reference.short_side_scale_size(h, w, s)
        if tuple(sizes[b].tolist()) != (32, 32):
            top = int(torch.randint(0, int(sizes[b, 0]) - 32 + 1, (1,)).item())
            left = int(torch.randint(0, int(sizes[b, 1]) - 32 + 1, (1,)).item())
            assert crops[b].tolist() == [top, left, 32, 32]
        assert bool(flips[b]) == (random.random() < 0.5)


def test_no_draw_when_the_frame_is_the_crop():
    # RandomCrop draws nothing when the resized frame already has the crop's size (torchvision).
    t = BatchClipTransform(crop_size=40, min_size=40, max_size=40, flip_p=0.0)
    torch.manual_seed(0)
    sizes, crops, flips = t.draw_params([(40, 40)])
    assert crops.tolist() == [[0, 0, 40, 40]] and not bool(flips[0])
    after = torch.rand(1)
    torch.manual_seed(0)
    torch.randint(40, 41, (1,))
    torch.rand(1)
    assert torch.equal(torch.rand(1), after)


def test_num_samples_and_out_dtype():
    items = _items(t=6)
    t = BatchClipTransform(crop_size=32, min_size=40, max_size=48, num_samples=3, out_dtype=torch.bfloat16)
    torch.manual_seed(0)
    got = t(collate_clips(items))["video"]
    assert got.shape == (5, 3, 3, 32, 32) and got.dtype == torch.bfloat16
    torch.manual_seed(0)
    sizes, crops, flips = t.draw_params(SOURCES)
    idx = reference.uniform_temporal_subsample_indices(6, 3)
    want = ops.clip_transform_batch(
        [it["video"] for it in items], frame_indices=idx, sizes=sizes, crops=crops, flips=flips, out_dtype=torch.bfloat16
    )
    assert torch.equal(got, want)


def test_uint8_output():
    items = _items()
    t = BatchClipTransform(crop_size=32, min_size=40, max_size=56, scale=None, mean=None, std=None, out_dtype=torch.uint8)
    torch.manual_seed(4)
    got = t(collate_clips(items))["video"]
    torch.manual_seed(4)
    sizes, crops, flips = t.draw_params(SOURCES)
    want = reference.clip_transform_batch(
        [it["video"] for it in items], sizes=sizes, crops=crops, flips=flips, scale=None, mean=None, std=None, out_dtype=torch.uint8
    )
    assert got.dtype == torch.uint8 and (got.int() - want.int()).abs().max().item() <= 1


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(crop_size=0), ValueError, "crop_size must be a positive int"),
        (dict(crop_size=(3, 4, 5)), ValueError, "crop_size must be a positive int or two"),
        (dict(min_size=300, max_size=200), ValueError, "min_size must be <= max_size"),
        (dict(min_size=0), ValueError, "min_size must be a positive int"),
        (dict(flip_p=1.5), ValueError, "flip_p must be a probability"),
        (dict(flip_draw="numpy"), ValueError, 'flip_draw must be "torch" or "python"'),
        (dict(generator=3), TypeError, "generator must be a torch.Generator"),
        (dict(out_dtype="float"), TypeError, "out_dtype must be a torch.dtype"),
        (dict(num_samples=0), ValueError, "num_samples must be a positive int"),
    ],
)
def test_transform_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        BatchClipTransform(**kwargs)


def test_transform_bad_batches():
    t = BatchClipTransform(crop_size=64, min_size=40, max_size=56)
    with pytest.raises(ValueError, match=r"clip 0 \(48x64\) scaled to short side .* smaller than the crop 64x64"):
        t(collate_clips(_items()))
    with pytest.raises(ValueError, match="the batch has no 'video' key"):
        t({"label": torch.zeros(2)})
    with pytest.raises(TypeError, match="expected a batch dict, a PackedClips or a list"):
        t(torch.zeros(2, 3, 4, 5, 6))
    with pytest.raises(ValueError, match="the batch holds no clips"):
        t([])
