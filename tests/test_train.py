"""fastvid.train: the LightningModule's metrics and schedule, the DataModule's loaders, the CLI."""

from __future__ import annotations

import csv
import json
import math
import os
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F

from fastvid import reference
from fastvid.train import KineticsDataModule, VideoClassificationModule, make_motion_dataset, warmup_cosine
from fastvid.train.synthetic import CLASSES, SyntheticMotionConfig, render_video

TINY = SyntheticMotionConfig(train_per_class=2, val_per_class=1, height=40, width=48, seconds=1.0, fps=10)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return make_motion_dataset(tmp_path_factory.mktemp("train-data"), TINY)


# -- schedule and optimizer ---------------------------------------------------------------------


def test_warmup_cosine_schedule():
    f = lambda s: warmup_cosine(s, total_steps=100, warmup_steps=10, final_ratio=0.1)  # noqa: E731
    assert f(0) == pytest.approx(0.1) and f(4) == pytest.approx(0.5) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.1 + 0.9 * 0.5)  # halfway through the cosine
    assert f(100) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)
    values = [f(s) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))  # decreasing after warmup


def test_optimizer_groups_and_per_step_schedule():
    module = VideoClassificationModule("resnet_small", num_classes=4, lr=0.2, weight_decay=5e-4, warmup_epochs=1)
    module._trainer = SimpleNamespace(max_epochs=4, estimated_stepping_batches=40)
    conf = module.configure_optimizers()
    opt, sched = conf["optimizer"], conf["lr_scheduler"]
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.9 and opt.defaults["nesterov"]
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decay["params"]) and all(p.ndim <= 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(module.parameters()))
    assert sched["interval"] == "step"
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched["scheduler"].step()
    assert lrs[0] == pytest.approx(0.2 / 10)  # warmup: one epoch = 10 steps
    assert lrs[9] == pytest.approx(0.2)
    assert lrs[-1] < 0.01 and max(lrs) == pytest.approx(0.2)


def test_warmup_longer_than_the_run_is_cut_to_the_run():
    module = VideoClassificationModule("resnet_small", num_classes=4, lr=0.2, warmup_epochs=5)
    module._trainer = SimpleNamespace(max_epochs=4, estimated_stepping_batches=40)
    conf = module.configure_optimizers()
    opt, sched = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert max(lrs) == pytest.approx(0.2) and lrs == sorted(lrs)  # warmup over the whole run, reaching the peak


@pytest.mark.parametrize("mix", [False, True])
def test_training_step_loss_is_the_recipes(mix):
    from fastvid.transforms import MixUp

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(4, 3, 4, 32, 32), torch.tensor([0, 3, 1, 3])
    module = VideoClassificationModule("resnet_small", num_classes=4, label_smoothing=0.1,
                                       mix=MixUp(num_classes=4, generator=g) if mix else None).eval()
    module.log = lambda *args, **kwargs: None
    loss = module.training_step({"video": x, "label": y}, 0)
    with torch.no_grad():
        if mix:  # the mix's soft labels, the label smoothing left to the mix (its own default: none)
            xm, target = MixUp(num_classes=4, generator=torch.Generator().manual_seed(3))(x, y)
            want = (-target * F.log_softmax(module(xm), -1)).sum(-1).mean()
        else:
            want = F.cross_entropy(module(x), y, label_smoothing=0.1)
    torch.testing.assert_close(loss.detach(), want, rtol=1e-5, atol=1e-6)


def test_module_rejects_bad_arguments():
    with pytest.raises(ValueError, match="optimizer"):
        VideoClassificationModule("resnet_small", num_classes=4, optimizer="adam")
    with pytest.raises(ValueError, match="lr"):
        VideoClassificationModule("resnet_small", num_classes=4, lr=0)
    with pytest.raises(ValueError, match="num_classes"):
        VideoClassificationModule("resnet_small", num_classes=0)
    with pytest.raises(TypeError, match="model"):
        VideoClassificationModule(3, num_classes=4)


# -- clip- and video-level validation -----------------------------------------------------------


class _Logits(nn.Module):
    """A "model" whose input already holds the logits (the tests choose them)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + self.dummy


@pytest.mark.parametrize("chunk", [None, 3])
def test_video_level_accuracy_averages_softmax_over_views(chunk):
    # chunk: the metrics are reduced that many videos at a time (3: blocks of 3, 3 and 1 of the 7 videos).
    torch.manual_seed(0)
    num_classes, views, videos = 10, 6, 7
    items, all_logits, labels = [], [], []
    for vid in range(videos):
        label = vid % num_classes
        logits = torch.randn(views, num_classes) * 2
        for i in range(views):
            items.append({"video": logits[i], "label": label, "video_index": vid, "aug_index": i % 3})
        all_logits.append(logits)
        labels.append(label)
    logits, labels = torch.stack(all_logits), torch.tensor(labels)  # (videos, views, classes), (videos,)
    clip_logits, clip_labels = logits.flatten(0, 1), labels.repeat_interleave(views)
    video_scores = F.softmax(logits, -1).mean(1)

    def top(k, scores, target):
        return (scores.topk(k, dim=-1).indices == target[:, None]).any(-1).float().mean().item()

    expected = {"val_acc": top(1, clip_logits, clip_labels), "val_acc5": top(5, clip_logits, clip_labels),
                "val_video_acc": top(1, video_scores, labels), "val_video_acc5": top(5, video_scores, labels),
                "val_loss": F.cross_entropy(clip_logits, clip_labels).item()}
    # Make sure the values tell the levels (and top-1 from top-5) apart.
    assert len({round(expected[k], 6) for k in ("val_acc", "val_acc5", "val_video_acc", "val_video_acc5")}) == 4
    assert 0 < expected["val_acc5"] < 1 and 0 < expected["val_video_acc5"] < 1
    # Shuffle the views: the video metric must not depend on the order. (42 views in batches of 4: the last
    # batch holds 2, so a mean of batch means would not be the loss over all clips.)
    perm = torch.randperm(len(items)).tolist()
    loader = torch.utils.data.DataLoader([items[i] for i in perm], batch_size=4)
    module = VideoClassificationModule(_Logits(), num_classes=num_classes)
    if chunk is not None:
        module.video_reduce_chunk = chunk
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    (metrics,) = trainer.validate(module, dataloaders=loader, verbose=False)
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value, rel=1e-6), name
    assert metrics["val_videos"] == videos and metrics["val_views_per_video"] == views
    scores, got_labels, counts = module.video_level_scores()
    torch.testing.assert_close(scores, video_scores, rtol=0, atol=1e-6)
    assert torch.equal(got_labels, labels) and torch.all(counts == views)


# -- data module ----------------------------------------------------------------------------------


def _tiny_dm(root, **kw):
    args = dict(clip_duration=0.5, num_frames=4, batch_size=2, num_workers=0, crop_size=32, min_short_side=32,
                max_short_side=40, val_clips_per_video=2, val_crops=3)
    args.update(kw)
    return KineticsDataModule(root, **args)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's /proc/self/statm")
def test_video_level_sums_take_one_row_per_video_of_memory():
    """20k videos x 400 classes is ~60 MiB of float64 sums; small per-video tensors kept between each step's
    temporaries fragmented the heap to ~30 KiB per video (~800 MiB)."""
    torch.manual_seed(0)
    num_videos, views, num_classes, batch = 5000, 10, 400, 64
    module = VideoClassificationModule(nn.Identity(), num_classes=num_classes)
    module.on_validation_epoch_start()
    labels = torch.randint(num_classes, (num_videos,))
    logits = torch.randn(num_videos * views, num_classes)

    def resident_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    before = resident_mib()
    for s in range(0, num_videos * views, batch):
        vid = torch.arange(s, min(s + batch, num_videos * views)) // views
        module.validation_step({"video": logits[s:s + len(vid)], "label": labels[vid], "video_index": vid}, 0)
    grown = resident_mib() - before
    scores, got_labels, counts = module.video_level_scores()
    want = logits.softmax(-1).view(num_videos, views, num_classes).double().mean(1).float()
    torch.testing.assert_close(scores, want, rtol=0, atol=1e-6)
    assert torch.equal(got_labels, labels) and torch.all(counts == views)
    rows = num_videos * num_classes * 8 / 2**20  # the float64 sums: 15 MiB (the table grows by doubling: up to 2x)
    assert grown < 2 * rows + 20, f"validation of {num_videos} videos grew the process by {grown:.0f} MiB"
    with pytest.raises(ValueError, match="video_index holds -1; video indices must be >= 0"):
        module.validation_step({"video": logits[:2], "label": labels[:2], "video_index": torch.tensor([3, -1])}, 0)


def test_video_level_sums_of_a_ranks_share_far_from_video_0():
    """Under DDP rank r validates the videos from r * N / W on: its table covers those, not every index below (a
    rank near the end held a table for all N videos, doubled). Videos may also come in any order."""
    torch.manual_seed(1)
    num_classes, first = 400, 200_000
    module = VideoClassificationModule(nn.Identity(), num_classes=num_classes)
    module.on_validation_epoch_start()
    order = [first + 7, first + 3, first + 12, first + 3, first, first + 12, first + 20, first + 1]
    logits = torch.randn(len(order), num_classes)
    labels = torch.tensor([v % num_classes for v in order])
    logits[torch.arange(len(order)), labels] += torch.tensor([4.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, 0.0])  # (some right)
    for i in range(0, len(order), 3):  # (batches of 3: each one reaches below or past the table so far)
        batch = slice(i, i + 3)
        module.validation_step({"video": logits[batch], "label": labels[batch], "video_index": torch.tensor(order[batch])}, 0)
    assert module._video_sums.numel() * 8 < 2**20  # (a table from video 0 on: 2 x 200k x 400 x 8 bytes = 1.3 GB)
    scores, got_labels, counts = module.video_level_scores()
    videos = sorted(set(order))
    probs = logits.softmax(-1).double()
    want = torch.stack([probs[[i for i, v in enumerate(order) if v == video]].mean(0) for video in videos]).float()
    torch.testing.assert_close(scores, want, rtol=0, atol=1e-6)
    assert got_labels.tolist() == [v % num_classes for v in videos]
    assert counts.tolist() == [order.count(v) for v in videos]
    # The epoch-end totals, block by block (blocks of 4 from the first video: unseen rows inside them skipped).
    module.video_reduce_chunk = 4
    n, top1, top5, views = module._video_level_totals().tolist()
    target = torch.tensor([v % num_classes for v in videos])
    assert n == len(videos) and views == len(order)
    assert 0 < top1 == (want.argmax(1) == target).sum().item() < len(videos)
    assert top5 == (want.topk(5, dim=1).indices == target[:, None]).any(1).sum().item()


def test_datamodule_train_and_val_batches(tiny_root):
    dm = _tiny_dm(tiny_root)
    assert dm.train_path.endswith("train.csv") and dm.val_path.endswith("val.csv")
    assert dm.num_classes == len(CLASSES)
    dm.setup("fit")
    assert dm.train_dataset.uses_frame_plan and dm.val_dataset.uses_frame_plan  # only kept frames decoded
    assert len(dm.train_dataset) == 8 and len(dm.val_dataset) == 4 * 2 * 3
    batches = list(dm.train_dataloader())
    assert len(batches) == 4  # full batches, an exact epoch
    b = batches[0]
    assert b["video"].shape == (2, 3, 4, 32, 32) and b["video"].dtype == torch.float32
    # /255 then normalize: values of a normalized clip, not of 0-255 pixels.
    assert -2.1 <= b["video"].min() and b["video"].max() <= 2.5
    seen = sorted(i for batch in batches for i in batch["video_index"].tolist())
    assert seen == list(range(8))
    val = list(dm.val_dataloader())
    views = [(v, c, a) for batch in val for v, c, a in
             zip(batch["video_index"].tolist(), batch["clip_index"].tolist(), batch["aug_index"].tolist())]
    assert sorted(views) == [(v, c, a) for v in range(4) for c in range(2) for a in range(3)]
    # validation batches of their own size: 6, a video's views, the items of batches of 2
    dm6 = _tiny_dm(tiny_root, val_batch_size=6)
    val6 = list(dm6.val_dataloader())
    assert [b["video"].shape[0] for b in val6] == [6] * 4 and dm6.batch_size == 2
    assert torch.equal(torch.cat([b["video"] for b in val6]), torch.cat([b["video"] for b in val]))
    assert _tiny_dm(tiny_root).val_batch_size == 2
    with pytest.raises(ValueError, match="val_batch_size"):
        _tiny_dm(tiny_root, val_batch_size=0)


def test_val_views_are_uniform_crops_of_the_scaled_clip(tiny_root):
    # A validation view equals the step-by-step reference: subsample, /255, normalize, short side 32,
    # then the aug_index crop (0: left, 1: centre, 2: right of the wider side).
    import av

    dm = _tiny_dm(tiny_root, val_clips_per_video=1)
    dm.setup("validate")
    items = [dm.val_dataset[i] for i in range(3)]
    path = dm.val_dataset._labeled_videos[0][0]
    with av.open(path) as c:
        frames = torch.stack([torch.from_numpy(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)])
    # constant_clips_per_video with one clip: the clip starts at 0 (step k * (D - d) / 1, k = 0), so a
    # 0.5 s clip of a 10 fps video holds frames [0, 5).
    window = frames[0:5]
    idx = reference.uniform_temporal_subsample_indices(window.shape[0], 4)
    h, w = reference.short_side_scale_size(40, 48, 32)
    for aug, item in enumerate(items):
        assert item["aug_index"] == aug
        left = {0: 0, 1: math.ceil((w - 32) / 2), 2: w - 32}[aug]
        want = reference.clip_transform(window, layout="THWC", frame_indices=idx, size=(h, w), crop=(0, left, 32, 32))
        torch.testing.assert_close(item["video"], want, atol=1e-4, rtol=0)


def test_datamodule_gpu_augment_path_runs_on_cpu(tiny_root):
    dm = _tiny_dm(tiny_root, gpu_augment=True)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    from fastvid.ops import PackedClips

    assert isinstance(batch["video"], PackedClips)
    assert all(clip.dtype == torch.uint8 and clip.shape[1] == 4 for clip in batch["video"].clips())
    transform = dm.train_gpu_transform
    out = transform(batch)
    assert out["video"].shape == (2, 3, 4, 32, 32) and out["video"].dtype == torch.float32
    assert -2.1 <= out["video"].min() and out["video"].max() <= 2.5


def test_datamodule_bad_arguments(tiny_root):
    with pytest.raises(ValueError, match="val_crops"):
        _tiny_dm(tiny_root, val_crops=2)
    with pytest.raises(ValueError, match="crop_size"):
        _tiny_dm(tiny_root, crop_size=64)
    with pytest.raises(ValueError, match="min_short_side"):
        _tiny_dm(tiny_root, min_short_side=50, max_short_side=40)
    with pytest.raises(FileNotFoundError):
        KineticsDataModule(tiny_root / "nope")
    with pytest.raises(ValueError, match="give a training split"):
        KineticsDataModule(None)


def test_datamodule_validation_only(tiny_root):
    # train_path=None: the validation split alone (fastvid-train --eval-only); nothing reads a training split.
    both, val_only = _tiny_dm(tiny_root), _tiny_dm(None, val_path=tiny_root / "val.csv")
    assert val_only.train_path is None and val_only.val_path == both.val_path
    with pytest.raises(ValueError, match="no training split"):
        val_only.num_classes
    with pytest.raises(ValueError, match="no training split"):
        val_only.train_dataloader()
    val_only.setup("validate")
    got, want = list(val_only.val_dataloader()), list(both.val_dataloader())
    assert len(got) == len(want) == 12  # 4 videos x 2 clips x 3 crops, batches of 2
    for a, b in zip(got, want):
        assert torch.equal(a["video"], b["video"]) and torch.equal(a["label"], b["label"])


# -- synthetic data -------------------------------------------------------------------------------


def test_synthetic_classes_differ_only_by_motion():
    cfg = SyntheticMotionConfig()
    rng = torch.Generator()
    import numpy as np

    for label, name in enumerate(CLASSES):
        frames = render_video(label, np.random.default_rng(label), cfg).astype(np.int16)
        assert frames.shape == (cfg.num_frames, cfg.height, cfg.width, 3)
        diff = np.abs(frames[1:] - frames[:-1]).sum()
        if name == "standing_still":
            assert diff == 0
        else:
            assert diff > 0
            # Shapes move along one axis only: rows (up/down) or columns (sideways).
            moved = np.abs(frames[6] - frames[0]).sum(axis=2) > 0
            rows, cols = np.nonzero(moved)
            assert rows.size > 0
    # Single frames carry no class: the first frame's statistics are drawn the same way for all classes.
    del rng


# -- command line --------------------------------------------------------------------------------


def test_cli_trains_writes_summary_plot_checkpoint_and_resumes(tiny_root, tmp_path, monkeypatch, capsys):
    import os

    from fastvid.train.cli import main

    monkeypatch.chdir(tmp_path)  # a relative --output-dir: the summary's paths must still all be absolute

    common = ["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
              "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
              "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "1",
              "--output-dir", "runs", "--run-name", "t", "--no-progress", "--seed", "3", "--val-batch-size", "3"]
    assert main(common + ["--epochs", "1", "--lr", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "val accuracy" in out and "training clips/s" in out and "checkpoints" in out
    assert "batch 2 x 1 device(s) (validation 3)," in out
    summary = json.loads((tmp_path / "runs" / "t" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["epochs"] == 1
    assert 0.0 <= summary["val_acc_video"] <= 1.0 and summary["chance"] == 0.25
    assert summary["train_clips_per_s"] > 0
    run_dir = os.path.realpath(tmp_path / "runs" / "t")
    assert summary["run_dir"] == run_dir
    for key in ("last_checkpoint", "best_checkpoint", "metrics_csv", "plot", "tensorboard"):
        path = summary[key]
        if key == "tensorboard" and path is None:
            continue  # tensorboard is not installed: CSV logs only
        assert path and os.path.isabs(path) and path.startswith(run_dir + os.sep) and os.path.exists(path), (key, path)
    for key in ("last_checkpoint", "best_checkpoint", "metrics_csv", "plot"):
        assert os.path.isfile(summary[key]) and summary[key] in out, key  # printed as written
    with open(summary["metrics_csv"]) as f:
        header = f.readline()
    for col in ("train_loss_step", "val_acc", "val_video_acc", "lr"):
        assert col in header, col
    with open(summary["metrics_csv"]) as f:
        rows = list(csv.DictReader(f))
    for key, col in (("val_acc_video", "val_video_acc"), ("val_acc5_video", "val_video_acc5"), ("val_acc_clip", "val_acc"),
                     ("val_acc5_clip", "val_acc5"), ("train_loss", "train_loss_epoch")):
        logged = [float(r[col]) for r in rows if r.get(col)]
        assert summary[key] == pytest.approx(logged[-1], rel=1e-6), key  # the last epoch's values, each its own
    # Resume from last.ckpt and train one more epoch: the step count continues.
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"epochs": 2, "lr": 0.01}))
    assert main(common + ["--config", str(config), "--resume", "last"]) == 0
    summary2 = json.loads((tmp_path / "runs" / "t" / "summary.json").read_text())
    assert summary2["steps"] == 8 and summary2["epochs"] == 2
    capsys.readouterr()
    # Fine-tune a new run from that run's checkpoint with more classes: all but the output layer come from it.
    last = summary2["last_checkpoint"]
    fine_tune = ["ft" if a == "t" else a for a in common]  # another --run-name
    assert main(fine_tune + ["--epochs", "1", "--lr", "0.01", "--num-classes", "6", "--weights", last]) == 0
    out = capsys.readouterr().out
    n = len(torch.load(last, weights_only=True)["state_dict"]) - 2
    assert f"initialized resnet_small with {n} tensors from {last}; the output layer (blocks.5.proj.weight, " \
           "blocks.5.proj.bias) keeps its initialization: the checkpoint has 4 classes" in out, out
    assert json.loads((tmp_path / "runs" / "ft" / "summary.json").read_text())["steps"] == 4
    # Evaluate run t's last checkpoint on the validation split alone: the same figures as its last validation.
    capsys.readouterr()
    val_only = [a for a in fine_tune if a not in ("--data", str(tiny_root))]
    assert main(val_only + ["--val", str(tiny_root / "val.csv"), "--run-name", "ev", "--eval-only",
                            "--weights", last]) == 0
    out = capsys.readouterr().out
    assert f"evaluated resnet_small ({last})" in out and "on 4 videos x 3 views" in out, out
    ev = json.loads((tmp_path / "runs" / "ev" / "eval_summary.json").read_text())
    assert ev["num_classes"] == 4 and ev["val_videos"] == 4 and ev["weights"] == last
    for key in ("val_acc_video", "val_acc5_video", "val_acc_clip", "val_acc5_clip"):
        assert ev[key] == summary2[key], key

    def last_val_loss(path):
        rows = [line.split(",") for line in open(path).read().splitlines()]
        col = rows[0].index("val_loss")
        return [r[col] for r in rows[1:] if r[col]][-1]

    assert last_val_loss(ev["metrics_csv"]) == last_val_loss(summary2["metrics_csv"])
    # without --run-name the evaluation goes to <model>-eval; pointed at the training run, it keeps its summary
    assert main(val_only + ["--run-name", "t", "--val", str(tiny_root / "val.csv"), "--eval-only",
                                 "--weights", last]) == 0
    assert json.loads((tmp_path / "runs" / "t" / "summary.json").read_text()) == summary2
    assert (tmp_path / "runs" / "t" / "eval_summary.json").is_file()
    no_name = [a for a in val_only if a not in ("--run-name", "ft")]
    assert main(no_name + ["--val", str(tiny_root / "val.csv"), "--eval-only", "--weights", last]) == 0
    assert (tmp_path / "runs" / "resnet_small-eval" / "eval_summary.json").is_file()


@pytest.mark.cuda
@pytest.mark.parametrize("gpu_augment", [False, True])
def test_cuda_cli_trains_on_the_gpu_and_its_validation_matches_the_cpu(tiny_root, tmp_path, capsys, monkeypatch,
                                                                       gpu_augment):
    # The whole Lightning path on a GPU (module hooks, the host-planned validation views, the non-blocking
    # score copies, the CUDA-event step timing, the timed progress bar); then the CPU evaluates the same last
    # checkpoint: the GPU's last validation loss, and its accuracies where the views are made alike (float32 on
    # both, no TF32).
    from fastvid.train.cli import main

    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # float32 convolutions (matmuls are by default)
    common = ["--model", "resnet_small", "--batch-size", "2", "--workers", "0", "--clip-duration", "0.5",
              "--frames", "4", "--crop-size", "32", "--min-short-side", "32", "--max-short-side", "40",
              "--val-clips-per-video", "1", "--devices", "1", "--precision", "32-true", "--output-dir",
              str(tmp_path), "--lr", "0.01", "--no-plot"]  # (the GPU machine may lack matplotlib)
    extra = ["--gpu-augment"] if gpu_augment else []
    assert main(["--data", str(tiny_root), "--accelerator", "gpu", "--epochs", "2", "--run-name", "gpu",
                 *common, *extra]) == 0
    summary = json.loads((tmp_path / "gpu" / "summary.json").read_text())
    assert summary["steps"] == 8 and summary["train_clips_per_s"] > 0
    assert 0.0 <= summary["train_data_wait_frac"] < 1.0
    capsys.readouterr()
    assert main(["--val", str(tiny_root / "val.csv"), "--accelerator", "cpu", "--eval-only", "--weights",
                 summary["last_checkpoint"], "--run-name", "cpu-eval", *common]) == 0
    assert "on 4 videos x 3 views" in capsys.readouterr().out
    ev = json.loads((tmp_path / "cpu-eval" / "eval_summary.json").read_text())

    def last_val_loss(path):
        rows = [line.split(",") for line in open(path).read().splitlines()]
        col = rows[0].index("val_loss")
        return float([r[col] for r in rows[1:] if r[col]][-1])

    gpu_loss, cpu_loss = last_val_loss(summary["metrics_csv"]), last_val_loss(ev["metrics_csv"])
    assert abs(gpu_loss - cpu_loss) <= 1e-3 * max(1.0, abs(cpu_loss)), (gpu_loss, cpu_loss)
    if not gpu_augment:  # the same views: the same predictions (GPU-made views agree within 1e-4 only)
        for key in ("val_acc_video", "val_acc5_video", "val_acc_clip", "val_acc5_clip"):
            assert ev[key] == summary[key], key


def test_cli_last_checkpoint_is_the_last_epoch(tiny_root, tmp_path):
    # Lightning's save_last writes last.ckpt only when the best checkpoint changes; with a learning rate too small
    # to move the validation accuracy, last.ckpt must still be the final epoch (what --resume last continues).
    from fastvid.train.cli import main

    assert main(["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
                 "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
                 "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "1",
                 "--epochs", "3", "--lr", "1e-12", "--output-dir", str(tmp_path), "--no-progress", "--no-plot"]) == 0
    summary = json.loads((tmp_path / "resnet_small" / "summary.json").read_text())
    last = torch.load(summary["last_checkpoint"], weights_only=False)
    assert last["global_step"] == summary["steps"] == 12 and last["epoch"] == 2
    files = sorted(p.name for p in (tmp_path / "resnet_small" / "checkpoints").iterdir())
    assert len(files) == 2 and files[1] == "last.ckpt" and files[0].startswith("epoch")  # + the best epoch's


def test_cli_eval_only_finds_the_validation_split_of_a_root(tiny_root, tmp_path, capsys):
    import shutil

    from fastvid.models import create_model
    from fastvid.train.cli import main

    weights = tmp_path / "w.pth"
    torch.save(create_model("resnet_small", num_classes=4).state_dict(), weights)
    only_val = tmp_path / "only-val"
    only_val.mkdir()
    shutil.copy(tiny_root / "val.csv", only_val / "val.csv")  # no train.csv beside it: none is read
    common = ["--model", "resnet_small", "--batch-size", "2", "--workers", "0", "--clip-duration", "0.5",
              "--frames", "4", "--crop-size", "32", "--min-short-side", "32", "--max-short-side", "40",
              "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "1", "--no-progress",
              "--output-dir", str(tmp_path / "runs"), "--eval-only", "--weights", str(weights)]
    assert main(["--data", str(only_val)] + common) == 0
    assert "on 4 videos x 3 views" in capsys.readouterr().out
    # the demo set's val/ class folders (sorted names: 4 classes, as the checkpoint)
    assert main(["--val", str(tiny_root / "val")] + common) == 0
    assert "on 4 videos x 3 views" in capsys.readouterr().out


def test_cli_eval_only_mistakes_end_in_one_error_line(tiny_root, tmp_path, capsys, no_training):
    from fastvid.models import create_model

    four, three = tmp_path / "four.pth", tmp_path / "three.pth"
    torch.save(create_model("resnet_small", num_classes=4).state_dict(), four)
    torch.save(create_model("resnet_small", num_classes=3).state_dict(), three)
    val = ["--val", str(tiny_root / "val.csv"), "--model", "resnet_small", "--eval-only"]
    assert "--weights" in _main_error(["--eval-only"], capsys)
    assert "--weights" in _main_error(["--eval-only", "--resume", "last"], capsys)
    last = _main_error(val + ["--weights", str(four), "--num-classes", "5"], capsys)
    assert "--num-classes" in last and "4 classes, not 5" in last, last
    last = _main_error(val + ["--weights", str(three)], capsys)
    assert "labels go up to 3" in last and "3 classes" in last, last
    empty = tmp_path / "no-val"
    (empty / "a").mkdir(parents=True)
    last = _main_error(["--data", str(empty), "--eval-only", "--weights", str(four)], capsys)
    assert "--eval-only" in last and "no validation split" in last, last
    assert "--limit-val-batches" in _main_error(val + ["--weights", str(four), "--limit-val-batches", "0"], capsys)
    # class folders are labelled by their sorted names: their count must be the checkpoint's
    folders = tmp_path / "folders"
    for name in ("a", "b", "c"):
        (folders / name).mkdir(parents=True)
    last = _main_error(["--val", str(folders), "--model", "resnet_small", "--eval-only", "--weights", str(four)], capsys)
    assert "--val" in last and "3 sorted class folders" in last and "4 classes" in last, last


def test_datamodule_distributed_training_order_follows_the_seed(tiny_root, monkeypatch):
    dm = _tiny_dm(tiny_root)
    monkeypatch.setattr(dm, "_world", lambda: (2, 0))

    def order(seed):
        torch.manual_seed(seed)
        return list(dm.train_dataloader().sampler)

    assert order(1) == order(1) and order(1) != order(2)  # (seeded runs repeat; another seed, another order)
    assert len(order(1)) == 4


def test_datamodule_walks_a_class_folder_split_once_and_prefixes_only_csv_paths(tiny_root, tmp_path, monkeypatch):
    import fastvid.data.labeled_video_paths as lvp

    walked = []
    scan = lvp.scan_class_folders
    monkeypatch.setattr(lvp, "scan_class_folders", lambda root, *a: walked.append(str(root)) or scan(root, *a))
    monkeypatch.chdir(tiny_root)
    # (relative folders and a prefix for the CSV: the prefix must not be put before the videos the walk found)
    dm = _tiny_dm("train", val_path="val", video_path_prefix=str(tmp_path / "elsewhere"))
    assert dm.num_classes == len(CLASSES)
    assert dm.max_label(dm.val_path) == len(CLASSES) - 1
    assert dm.steps_per_epoch() == 4
    dm.setup("fit")
    assert sorted(walked) == ["train", "val"]  # (was walked 3-4 times each: class count, labels, datasets)
    for ds in (dm.train_dataset, dm.val_dataset):
        path, info = ds._labeled_videos[0]
        assert path.startswith(("train/", "val/")) and os.path.isfile(path)
    assert dm.train_dataset[0]["video"].shape == (3, 4, 32, 32) and dm.train_dataset.num_failures == 0
    # A CSV split still gets the prefix.
    video = os.path.relpath(path, tiny_root)
    (tmp_path / "rel.csv").write_text(f"{video} {info['label']}\n")
    dm = _tiny_dm(str(tmp_path / "rel.csv"), video_path_prefix=str(tiny_root))
    dm.setup("fit")
    assert dm.train_dataset._labeled_videos[0] == (os.path.join(str(tiny_root), video), info)


def test_datamodule_refuses_class_folder_splits_that_differ(tmp_path):
    for split, names in (("train", ("a", "b", "c")), ("val", ("a", "c"))):
        for name in names:
            (tmp_path / split / name).mkdir(parents=True)
    with pytest.raises(ValueError, match=r"class folders differ.*classes only in .*train: b"):
        KineticsDataModule(tmp_path)
    (tmp_path / "val" / "b").mkdir()  # an empty class folder is enough
    assert KineticsDataModule(tmp_path).val_path == str(tmp_path / "val")


def test_cli_weights_that_do_not_fit_end_in_one_error_line(tiny_root, tmp_path, capsys, no_training):
    wrong = tmp_path / "other.pth"
    torch.save({"model_state": {"stem.weight": torch.zeros(2, 3)}}, wrong)
    last = _main_error(["--data", str(tiny_root), "--model", "resnet_small", "--weights", str(wrong)], capsys)
    assert "--weights" in last and "does not fit this model" in last and "stem.weight" in last, last
    assert str(wrong) in last and "the given mapping" not in last, last
    for content in (b"", b"not a checkpoint\n"):
        broken = tmp_path / "broken.ckpt"
        broken.write_bytes(content)
        last = _main_error(["--data", str(tiny_root), "--weights", str(broken)], capsys)
        assert "--weights" in last and "is not a readable PyTorch checkpoint" in last, last


@pytest.mark.parametrize("model", ["resnet50", "x3d_xs", "slow_r50", "csn_r101", "r2plus1d_r50", "resnet_small"])
def test_check_model_takes_small_clips(model):
    # a batch of one with a 1x1x1 final feature map is fine in eval mode (real training batches are larger)
    import argparse

    from fastvid.train.cli import check_model

    assert check_model(argparse.Namespace(model=model, frames=1, crop_size=32)) is None
    assert check_model(argparse.Namespace(model=model, frames=4, crop_size=32)) is None


def test_cli_config_rejects_unknown_keys(tmp_path):
    from fastvid.train.cli import parse_args

    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 3\nlearning_rat: 0.1\n")
    with pytest.raises(SystemExit):
        parse_args(["--config", str(bad)])
    good = tmp_path / "good.yaml"
    good.write_text("epochs: 3\nbatch_size: 4\n")
    args = parse_args(["--config", str(good), "--batch-size", "6"])
    assert args.epochs == 3 and args.batch_size == 6 and args.demo  # no data: the demo
    args = parse_args(["--data", "/x"])
    assert not args.demo and args.model == "resnet50" and args.crop_size == 224 and args.min_short_side == 256


def test_gpu_val_transform_equals_cpu_val_views(tiny_root):
    # The device-side validation path (uint8 clips -> one batched call) gives the CPU path's views.
    cpu = _tiny_dm(tiny_root, val_clips_per_video=1)
    gpu = _tiny_dm(tiny_root, val_clips_per_video=1, gpu_augment=True)
    cpu.setup("validate")
    gpu.setup("validate")
    want = next(iter(cpu.val_dataloader()))
    batch = next(iter(gpu.val_dataloader()))
    got = gpu.val_gpu_transform(batch)
    assert torch.equal(got["aug_index"], want["aug_index"]) and torch.equal(got["video_index"], want["video_index"])
    torch.testing.assert_close(got["video"], want["video"], atol=1e-4, rtol=0)
    # One crop: the centre crop, as CenterCropVideo.
    cpu1 = _tiny_dm(tiny_root, val_clips_per_video=1, val_crops=1)
    gpu1 = _tiny_dm(tiny_root, val_clips_per_video=1, val_crops=1, gpu_augment=True)
    cpu1.setup("validate")
    gpu1.setup("validate")
    want1 = next(iter(cpu1.val_dataloader()))
    got1 = gpu1.val_gpu_transform(next(iter(gpu1.val_dataloader())))
    torch.testing.assert_close(got1["video"], want1["video"], atol=1e-4, rtol=0)


def test_gpu_val_prepare_plans_on_the_host(tiny_root):
    # prepare() reads shapes and aug_index before the transfer; forward() then never reads the moved
    # aug_index (here a meta tensor, whose values cannot be read: as on a device, only slower to read).
    from lightning_fabric.utilities.apply_func import move_data_to_device

    dm = _tiny_dm(tiny_root, val_clips_per_video=1, gpu_augment=True, batch_size=6)
    dm.setup("validate")
    transform = dm.val_gpu_transform
    batch = next(iter(dm.val_dataloader()))
    assert sorted(set(batch["aug_index"].tolist())) == [0, 1, 2]
    want = transform(batch)
    prepared = transform.prepare(batch)
    moved = move_data_to_device(prepared, "cpu")  # Lightning's transfer leaves the plan as it is
    assert moved[next(k for k in moved if k.startswith("_fastvid"))] is next(v for k, v in prepared.items() if k.startswith("_fastvid"))
    moved["aug_index"] = torch.empty_like(batch["aug_index"], device="meta")
    got = transform(moved)
    assert not any(k.startswith("_fastvid") for k in got)  # the plan is removed
    assert torch.equal(got["video"], want["video"])
    with pytest.raises(NotImplementedError):
        transform({**batch, "aug_index": moved["aug_index"]})  # without the plan it would read the values
    # a stale plan for a batch of another size is not used
    small = {"video": batch["video"].clips()[:1], "aug_index": batch["aug_index"][:1],
             "_fastvid_view_plan": prepared["_fastvid_view_plan"]}
    assert transform(small)["video"].shape[0] == 1
    with pytest.raises(ValueError, match="2 clips but 1"):
        transform({"video": batch["video"].clips()[:2], "aug_index": batch["aug_index"][:1]})


def test_module_runs_prepare_before_and_the_gpu_transform_after_the_transfer():
    calls = []

    class Spy:
        def __init__(self, name):
            self.name = name

        def prepare(self, batch):
            calls.append((self.name, "prepare", batch["video"].device.type))
            return {**batch, "prepared": self.name}

        def __call__(self, batch):
            calls.append((self.name, "call", batch.get("prepared")))
            return batch

    torch.manual_seed(0)
    items = [{"video": torch.randn(3, 4, 16, 16), "label": i % 4, "video_index": i} for i in range(4)]
    loader = torch.utils.data.DataLoader(items, batch_size=2)
    module = VideoClassificationModule("resnet_small", num_classes=4, lr=0.01, train_gpu_transform=Spy("train"),
                                       val_gpu_transform=Spy("val"))
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(module, train_dataloaders=loader, val_dataloaders=loader)
    assert calls == [("train", "prepare", "cpu"), ("train", "call", "train")] * 2 + [
        ("val", "prepare", "cpu"), ("val", "call", "val")] * 2
    assert trainer.callback_metrics["val_videos"] == 4


def test_uniform_crop_box_matches_pytorchvideo_rule():
    from fastvid.train.gpu_val import uniform_crop_box

    assert uniform_crop_box(32, 39, 32, 0) == (0, 0, 32, 32)
    assert uniform_crop_box(32, 39, 32, 1) == (0, 4, 32, 32)  # ceil(7 / 2)
    assert uniform_crop_box(32, 39, 32, 2) == (0, 7, 32, 32)
    assert uniform_crop_box(45, 32, 32, 2) == (13, 0, 32, 32)  # portrait: moves along the height
    with pytest.raises(ValueError, match="aug_index"):
        uniform_crop_box(32, 39, 32, 3)
    with pytest.raises(ValueError, match="larger"):
        uniform_crop_box(32, 39, 40, 1)


def test_mixup_and_label_smoothing_training_steps_run():
    from fastvid.transforms import MixVideo

    torch.manual_seed(0)
    items = [{"video": torch.randn(3, 4, 16, 16), "label": i % 4} for i in range(8)]
    loader = torch.utils.data.DataLoader(items, batch_size=4)
    for kwargs in ({"mix": MixVideo(num_classes=4)}, {"label_smoothing": 0.1}):
        module = VideoClassificationModule("resnet_small", num_classes=4, lr=0.01, **kwargs)
        before = [p.detach().clone() for p in module.parameters()]
        trainer = pl.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(module, train_dataloaders=loader)
        assert trainer.global_step == 2
        assert torch.isfinite(trainer.callback_metrics["train_loss_epoch"])
        assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_cli_gpu_augment_path_trains_through_lightning(tiny_root, tmp_path):
    # --gpu-augment: workers return uint8 PackedClips; on_after_batch_transfer runs the batched transforms
    # (on the CPU here: the same op has a CPU kernel).
    from fastvid.train.cli import main

    assert main(["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
                 "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
                 "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--epochs", "1",
                 "--lr", "0.01", "--gpu-augment", "--output-dir", str(tmp_path), "--no-progress", "--no-plot"]) == 0
    summary = json.loads((tmp_path / "resnet_small" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["val_acc_video"] is not None and summary["plot"] is None
    with open(summary["metrics_csv"]) as f:
        rows = f.read()
    assert "val_videos" in rows.splitlines()[0]


def test_gpu_augment_clips_take_a_true_precisions_dtype(tiny_root, tmp_path):
    # Lightning casts the batch to a "-true" precision's dtype before the transfer, when it still holds the uint8
    # PackedClips; the float32 clips the transform makes after it reached a float64 / bf16 model: "Input type (float)
    # and weight type (double) should be the same". The whole run with 64-true (bf16-true BatchNorm training of this
    # toy model is unstable on the CPU: its weights go NaN in some processes, which TrainingDiverged reports) ...
    from fastvid.train.cli import main

    assert main(["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
                 "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
                 "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--epochs", "1",
                 "--limit-train-batches", "2", "--limit-val-batches", "2", "--precision", "64-true", "--lr", "0.01",
                 "--gpu-augment", "--output-dir", str(tmp_path), "--no-progress", "--no-plot"]) == 0
    summary = json.loads((tmp_path / "resnet_small" / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["val_acc_video"] is not None
    # ... and the hook alone under each precision: the clips come out in its input dtype.
    import pytorch_lightning as pl

    from fastvid.gpu import BatchClipTransform, collate_clips

    clips = [torch.randint(0, 256, (3, 6, 40, 48), dtype=torch.uint8) for _ in range(2)]
    for precision, dtype in (("bf16-true", torch.bfloat16), ("16-true", torch.float16), ("64-true", torch.float64),
                             ("bf16-mixed", torch.float32), ("32-true", torch.float32)):
        module = VideoClassificationModule(nn.Identity(), num_classes=4,
                                           train_gpu_transform=BatchClipTransform(crop_size=32, min_size=32, max_size=40))
        trainer = pl.Trainer(accelerator="cpu", precision=precision, logger=False, enable_progress_bar=False)
        module.trainer = trainer
        trainer.training = True
        batch = collate_clips([{"video": c, "label": 1} for c in clips], pin_memory=False)
        out = module.on_after_batch_transfer(batch, 0)
        assert out["video"].dtype == dtype and out["video"].shape == (2, 3, 6, 32, 32), precision
        assert out["label"].dtype == torch.long


def test_cli_run_keeps_its_summary_when_the_curves_cannot_be_drawn(tiny_root, tmp_path, capsys, monkeypatch):
    import fastvid.train.plot
    from fastvid.train.cli import main

    def no_matplotlib(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'matplotlib'")

    monkeypatch.setattr(fastvid.train.plot, "plot_curves", no_matplotlib)
    assert main(["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
                 "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
                 "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--epochs", "1",
                 "--limit-train-batches", "1", "--limit-val-batches", "1", "--output-dir", str(tmp_path),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "the curves were not drawn (ModuleNotFoundError: No module named 'matplotlib')" in out
    summary = json.loads((tmp_path / "resnet_small" / "summary.json").read_text())
    assert summary["plot"] is None and summary["steps"] == 1 and os.path.isfile(summary["metrics_csv"])
    assert not (tmp_path / "resnet_small" / "curves.png").exists()


def test_cli_batch_limits_count_or_fraction(tmp_path, capsys):
    # An integer is a count of batches; a number with a decimal point a fraction of the epoch, in (0, 1].
    from fastvid.train.cli import parse_args

    args = parse_args(["--data", "/x", "--limit-train-batches", "1", "--limit-val-batches", "0.25"])
    assert args.limit_train_batches == 1 and type(args.limit_train_batches) is int
    assert args.limit_val_batches == 0.25 and type(args.limit_val_batches) is float
    args = parse_args(["--data", "/x", "--limit-train-batches", "1.0", "--limit-val-batches", "3"])
    assert args.limit_train_batches == 1.0 and type(args.limit_train_batches) is float
    assert args.limit_val_batches == 3 and type(args.limit_val_batches) is int
    assert parse_args(["--data", "/x", "--limit-val-batches", "0"]).limit_val_batches == 0  # no validation
    config = tmp_path / "limits.yaml"
    config.write_text("limit_train_batches: 2.5\n")
    for argv, option in ((["--limit-train-batches", "2.0"], "--limit-train-batches"),
                         (["--limit-val-batches", "0.0"], "--limit-val-batches"),
                         (["--limit-val-batches", "-1"], "--limit-val-batches"),
                         (["--limit-train-batches", "two"], "--limit-train-batches"),
                         (["--config", str(config)], "--limit-train-batches")):
        with pytest.raises(SystemExit) as e:
            parse_args(["--data", "/x", *argv])
        err = capsys.readouterr().err
        assert e.value.code == 2 and option in err and "Traceback" not in err, (argv, err)


def test_cli_help_shows_only_real_defaults():
    from fastvid.models import list_models
    from fastvid.train.cli import build_parser

    text = build_parser().format_help()
    flat = " ".join(text.split())  # rsplit below: the last mention of a flag is its help entry, not the usage
    assert "(default: None)" not in flat and "(default: False)" not in flat and "(default: )" not in flat
    # The defaults argparse knows are still shown, once.
    assert "--momentum MOMENTUM SGD momentum (default: 0.9)" in flat
    assert "(default: 0)" in flat.rsplit("--seed SEED", 1)[1].split("--", 1)[0]
    assert "(default: 1)" in flat.rsplit("--num-nodes NUM_NODES", 1)[1].split("--", 1)[0]
    # Help that states its own default gets no second one.
    lr_help = flat.rsplit("--lr LR", 1)[1].split("--", 1)[0]
    assert lr_help.count("default") == 1
    assert ", ".join(list_models()) in flat


def test_docs_options_table_matches_the_parser():
    # Every flag of `fastvid-train --help` has a row in docs/TRAINING.md's options table, and every flag
    # named in the table exists.
    import pathlib
    import re

    from fastvid.train.cli import build_parser

    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "TRAINING.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| `--")]
    in_table = {flag for row in rows for flag in re.findall(r"--[a-z0-9-]+", row.split("|")[1])}
    in_parser = {o for a in build_parser()._actions for o in a.option_strings if o.startswith("--")} - {"--help"}
    assert in_table == in_parser, (sorted(in_parser - in_table), sorted(in_table - in_parser))


@pytest.fixture
def no_training(monkeypatch):
    """Makes main() fail loudly if a case it should reject gets as far as writing demo data or building datasets."""

    class Reached(Exception):
        pass

    def stop(*a, **k):
        raise Reached("main() went past the argument checks")

    monkeypatch.setattr("fastvid.train.synthetic.make_motion_dataset", stop)
    monkeypatch.setattr("fastvid.train.data.KineticsDataModule.setup", stop)
    return Reached


def _main_error(argv, capsys) -> str:
    from fastvid.train.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("fastvid-train: error: "), err
    return last


@pytest.mark.parametrize("argv, expected", [
    (["--train", "/nonexistent.csv"], ["--train", "/nonexistent.csv", "not found"]),
    (["--data", "/nonexistent-root"], ["--data", "/nonexistent-root", "not found"]),
    (["--data", "{tmp}", "--val", "/nonexistent-val.csv"], ["--val", "/nonexistent-val.csv", "not found"]),
    (["--config", "nope.yaml"], ["--config", "nope.yaml", "not found"]),
    (["--model", "foo"], ["--model", "foo", "resnet_small", "resnet50", "swin3d_t"]),
    (["--batch-size", "0"], ["--batch-size"]),
    (["--val-batch-size", "0"], ["--val-batch-size"]),
    (["--loader-timeout", "-1"], ["--loader-timeout", ">= 0"]),
    (["--hflip", "2"], ["--hflip"]),
    (["--lr", "0"], ["--lr"]),
    (["--lr", "-0.1"], ["--lr"]),
    (["--workers", "-1"], ["--workers"]),
    (["--frames", "0"], ["--frames"]),
    (["--epochs", "0"], ["--epochs"]),
    (["--clip-duration", "0"], ["--clip-duration"]),
    (["--momentum", "1.5"], ["--momentum"]),
    (["--momentum", "1"], ["--momentum", "[0, 1)"]),
    (["--crop-size", "100", "--min-short-side", "128", "--max-short-side", "160", "--val-short-side", "90"],
     ["--crop-size", "--val-short-side"]),
    (["--label-smoothing", "1"], ["--label-smoothing"]),
    (["--max-steps", "0"], ["--max-steps"]),
    (["--crop-size", "100", "--min-short-side", "80", "--max-short-side", "90"], ["--crop-size", "--min-short-side"]),
    (["--min-short-side", "90", "--max-short-side", "80", "--crop-size", "64"], ["--min-short-side", "--max-short-side"]),
    (["--val", "x.csv"], ["--val", "--train"]),
    (["--demo", "--train", "x.csv"], ["--demo", "--train"]),
    (["--demo", "--data", "{tmp}"], ["--demo", "--data"]),
    (["--demo", "--val", "x.csv"], ["--demo", "--val"]),
    (["--data", "{tmp}", "--train", "{tmp}"], ["--data", "--train"]),
    (["--resume", "/nonexistent.ckpt"], ["--resume", "/nonexistent.ckpt"]),
    (["--model", "mvit_v2_s", "--frames", "8"], ["--model", "mvit_v2_s", "--frames 16"]),
    (["--model", "x3d_xs", "--crop-size", "16", "--min-short-side", "16", "--max-short-side", "16"],
     ["--model", "--crop-size"]),
    (["--model", "c2d_r50", "--frames", "1"], ["--model", "c2d_r50", "1x64x64", "--frames"]),
    (["--weights", "/nonexistent.pth"], ["--weights", "/nonexistent.pth"]),
    (["--weights", "pytorchvideo", "--model", "resnet50"], ["--weights", "resnet50", "slow_r50", "x3d_m"]),
    (["--weights", "pytorchvideo", "--model", "slow_r50", "--resume", "last"], ["--weights", "--resume"]),
])
def test_cli_rejects_mistakes_with_one_error_line(argv, expected, tmp_path, capsys, no_training):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    last = _main_error(argv, capsys)
    for piece in expected:
        assert piece in last, (piece, last)


def test_cli_val_short_side_defaults_to_the_min_short_side():
    from fastvid.train.cli import parse_args

    args = parse_args(["--data", "/x", "--min-short-side", "200", "--max-short-side", "300", "--crop-size", "100"])
    assert args.val_short_side == 200
    assert parse_args(["--data", "/x", "--crop-size", "100", "--val-short-side", "150"]).val_short_side == 150


def test_cli_config_errors_name_the_file_and_option(tmp_path, capsys, no_training):
    bad_value = tmp_path / "bad-value.yaml"
    bad_value.write_text("batch_size: 0\n")
    assert "--batch-size" in _main_error(["--config", str(bad_value)], capsys)
    not_int = tmp_path / "not-int.json"
    not_int.write_text('{"frames": 8.5}')
    assert "--frames" in _main_error(["--config", str(not_int)], capsys)
    bad_model = tmp_path / "model.yaml"
    bad_model.write_text("model: resnet9\n")
    assert "--model" in _main_error(["--config", str(bad_model)], capsys)
    not_mapping = tmp_path / "list.yaml"
    not_mapping.write_text("- 1\n- 2\n")
    last = _main_error(["--config", str(not_mapping)], capsys)
    assert "--config" in last and "list.yaml" in last and "mapping" in last
    broken = tmp_path / "broken.json"
    broken.write_text("{epochs: ")
    last = _main_error(["--config", str(broken)], capsys)
    assert "--config" in last and "broken.json" in last


def test_cli_num_classes_below_the_labels_is_an_error(tiny_root, capsys, no_training):
    last = _main_error(["--data", str(tiny_root), "--model", "resnet_small", "--num-classes", "2"], capsys)
    assert "--num-classes" in last and "3" in last  # labels 0..3


def _prepared_root(tmp_path):
    """A fastvid-prepare-style root: train.csv / val.csv whose paths are relative to the root."""
    root = tmp_path / "prepared"
    (root / "videos").mkdir(parents=True)
    for name in ("a.mp4", "b.mp4"):
        (root / "videos" / name).write_bytes(b"")  # only their existence is checked
    (root / "train.csv").write_text("videos/a.mp4 0\nvideos/b.mp4 1\n")
    (root / "val.csv").write_text("videos/b.mp4 1\n")
    return root


def test_cli_csv_paths_relative_to_the_csv_folder_ask_for_the_prefix(tmp_path, monkeypatch, capsys, no_training):
    root = _prepared_root(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the relative paths do not resolve from the current directory
    last = _main_error(["--data", str(root), "--model", "resnet_small"], capsys)
    assert "--data" in last and "train.csv" in last and "videos/a.mp4" in last
    assert last.endswith(f"pass --video-path-prefix {root}"), last
    last = _main_error(["--train", str(root / "train.csv"), "--model", "resnet_small"], capsys)
    assert "--train" in last and f"--video-path-prefix {root}" in last
    # A wrong prefix: the message says which path was tried and where the video is.
    last = _main_error(["--train", str(root / "train.csv"), "--video-path-prefix", str(elsewhere)], capsys)
    assert str(elsewhere / "videos" / "a.mp4") in last and f"are below {root}" in last
    # Training CSV with absolute paths, validation CSV relative: the validation split is named.
    (root / "train.csv").write_text(f"{root / 'videos' / 'a.mp4'} 0\n")
    last = _main_error(["--data", str(root), "--model", "resnet_small"], capsys)
    assert "--data" in last and "val.csv" in last and f"--video-path-prefix {root}" in last


def test_cli_first_video_checks(tmp_path):
    from fastvid.train.cli import _check_first_video

    root = _prepared_root(tmp_path)
    csv = str(root / "train.csv")
    assert _check_first_video(csv, str(root), "--train") is None  # the right prefix
    assert _check_first_video(csv, str(root) + "/", "--train") is None
    missing = tmp_path / "missing.csv"
    # a missing first video among found ones is the dataset's to skip (Kinetics always has missing videos)
    missing.write_text("videos/zzz.mp4 0\nvideos/a.mp4 1\n")
    assert _check_first_video(str(missing), str(root), "--train") is None
    missing.write_text("videos/zzz.mp4 0\nvideos/yyy.mp4 1\n")
    problem = _check_first_video(str(missing), str(root), "--train")
    assert problem.startswith("argument --train: none of the first 2 videos of") and "(line 1: " in problem
    assert problem.endswith(str(root / "videos" / "zzz.mp4") + ")") and "--video-path-prefix" not in problem
    # relative to the CSV's folder, the first one missing: still the prefix to pass
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "c.mp4").write_bytes(b"")
    missing.write_text("videos/zzz.mp4 0\nvideos/c.mp4 1\n")
    problem = _check_first_video(str(missing), str(root / "nowhere"), "--train")
    assert problem.endswith(f"pass --video-path-prefix {tmp_path}")
    absolute = tmp_path / "abs.csv"
    absolute.write_text(f"{root / 'videos' / 'b.mp4'} 1\n")
    assert _check_first_video(str(absolute), "/somewhere/else", "--val") is None  # an absolute path ignores the prefix
    youtube = tmp_path / "kinetics.csv"
    youtube.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,0,10,train\n")
    assert "--train" in _check_first_video(str(youtube), "", "--train") and "youtube_id" in _check_first_video(str(youtube), "", "--train")


def test_throughput_monitor_reports_none_when_nothing_was_timed():
    from fastvid.train.callbacks import ThroughputMonitor

    m = ThroughputMonitor(skip_batches=2)
    assert m.clips_per_s is None and m.data_wait_frac is None and not m.measured
    m.clips, m.wall, m.wait = 16, 2.0, 0.5
    assert m.clips_per_s == 8.0 and m.data_wait_frac == 0.25 and m.measured


class _DeviceClock:
    """A device-like clock for ThroughputMonitor: a mark is the time on a fake timeline when it is recorded,
    and it completes only once the test moves ``done`` past it (or the monitor waits for it)."""

    def __init__(self):
        self.now, self.done, self.waits = 0.0, -1.0, []

    def mark(self):
        return self.now

    def ready(self, mark):
        return mark <= self.done

    def wait(self, mark):
        self.waits.append(mark)
        self.done = max(self.done, mark)

    def seconds(self, a, b):
        assert self.ready(a) and self.ready(b), "read before the device reached it"
        return b - a


def test_throughput_monitor_times_device_steps_without_waiting_for_them():
    from types import SimpleNamespace

    from fastvid.train.callbacks import ThroughputMonitor

    clock = _DeviceClock()
    m = ThroughputMonitor(skip_batches=2, clock=clock)
    trainer = SimpleNamespace(world_size=2)
    logged = {}
    module = SimpleNamespace(log=lambda name, value, **kw: logged.__setitem__(name, value))
    batch = {"video": torch.zeros(4, 3, 1, 1, 1)}
    waits, steps = [0.5, 0.25, 0.125, 1.0, 0.0, 0.375], [2.0, 1.0, 1.5, 1.25, 1.0, 3.0]
    m.on_train_epoch_start(trainer, module)
    for i, (w, s) in enumerate(zip(waits, steps)):
        clock.now += w
        m.on_train_batch_start(trainer, module, batch, i)
        clock.now += s
        m.on_train_batch_end(trainer, module, None, batch, i)
        if i == 3:
            assert m.clips == 0 and not clock.waits  # nothing completed, nothing waited for
            clock.done = clock.now  # the device caught up: the next batch end collects batches 2 and 3
        if i == 4:
            assert m.clips == 16 and m.wall == pytest.approx(0.125 + 1.5 + 1.0 + 1.25) and not clock.waits
    m.on_train_epoch_end(trainer, module)
    assert clock.waits  # the epoch's end waits for the rest
    assert m.clips == 4 * 4 * 2 and m.wall == pytest.approx(sum(waits[2:]) + sum(steps[2:]))
    assert m.data_wait_frac == pytest.approx(sum(waits[2:]) / m.wall)
    assert logged["train_clips_per_s"] == pytest.approx(32 / m.wall)
    # validation between steps is not waiting: the next step's wait starts when validation ends
    m.on_validation_start(trainer, module)
    clock.now += 100.0
    m.on_validation_end(trainer, module)
    clock.now += 0.5
    m.on_train_batch_start(trainer, module, batch, 6)
    clock.now += 1.0
    m.on_train_batch_end(trainer, module, None, batch, 6)
    m.on_train_end(trainer, module)
    assert m.wall == pytest.approx(sum(waits[2:]) + sum(steps[2:]) + 1.5)


def _host_reads_in_training_steps(monkeypatch, callbacks, **trainer_kw):
    """Counts Tensor.item() calls (a host read: a device sync on a GPU) made while training batches run, outside
    the DataLoader (its seeding reads CPU tensors), over 12 steps of VideoClassificationModule."""
    import traceback

    reads, phase = [], {"train": False}
    item = torch.Tensor.item

    def counting_item(self):
        if phase["train"] and not any("torch/utils/data" in f.filename for f in traceback.extract_stack()):
            reads.append("".join(traceback.format_stack(limit=6)))
        return item(self)

    class Phase(pl.Callback):
        def on_train_batch_start(self, *args):
            phase["train"] = True

        def on_validation_start(self, *args):
            phase["train"] = False

        def on_train_epoch_end(self, *args):
            phase["train"] = False

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    torch.manual_seed(0)
    items = [{"video": torch.randn(3, 4, 16, 16), "label": i % 4, "video_index": i} for i in range(24)]
    loader = torch.utils.data.DataLoader(items, batch_size=2)
    module = VideoClassificationModule("resnet_small", num_classes=4, lr=0.01)
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                         enable_model_summary=False, num_sanity_val_steps=0, log_every_n_steps=50,
                         callbacks=[Phase(), *callbacks], **trainer_kw)
    trainer.fit(module, train_dataloaders=loader, val_dataloaders=loader)
    assert trainer.global_step == 12
    return reads


def test_training_steps_read_nothing_on_the_host(monkeypatch):
    # On a GPU a host read waits for the device: the module (its logging, metrics), the throughput timing and
    # the progress bar must not read anything in a step (Lightning reads every progress-bar value after each
    # step: the step loss is logged off the bar). The bar reads when it redraws: with a long interval, at its
    # first and last batch.
    from fastvid.train.callbacks import ThroughputMonitor, TimedProgressBar

    reads = _host_reads_in_training_steps(monkeypatch, [ThroughputMonitor()], enable_progress_bar=False)
    assert reads == [], reads[0]
    reads = _host_reads_in_training_steps(monkeypatch, [ThroughputMonitor(), TimedProgressBar(interval=1e9)])
    assert 1 <= len(reads) <= 2 and all("callbacks.py" in r for r in reads), reads


def test_timed_progress_bar_shows_the_last_count_of_a_loader_without_length():
    # an iterable dataset: the bar's total is unknown, so no batch is "the last"; the epoch's end shows the count
    from fastvid.train.callbacks import TimedProgressBar

    class Clips(torch.utils.data.IterableDataset):
        def __iter__(self):
            for i in range(10):
                yield {"video": torch.randn(3, 4, 16, 16), "label": i % 4, "video_index": i}

    seen = {}

    class Check(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            seen["train"] = bar.train_progress_bar.n

    bar = TimedProgressBar(interval=1e9)
    loader = torch.utils.data.DataLoader(Clips(), batch_size=2)
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                         enable_model_summary=False, num_sanity_val_steps=0, callbacks=[bar, Check()])
    trainer.fit(VideoClassificationModule("resnet_small", num_classes=4, lr=0.01), train_dataloaders=loader)
    assert seen["train"] == 5


def test_timed_progress_bar_redraws_at_most_every_interval(monkeypatch):
    from fastvid.train import callbacks

    bar = callbacks.TimedProgressBar(interval=0.5)
    now = [100.0]
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: now[0])
    drawn = []
    for n in range(1, 11):
        now[0] += 0.2
        drawn.append(bar._should_update(n, 10))
    # at 0.2 s (first), then 0.6, 1.2 (0.4 s after 0.8 is too soon), 1.8 and the bar's end
    assert [n for n, d in zip(range(1, 11), drawn) if d] == [1, 4, 7, 10]
    with pytest.raises(ValueError, match="interval"):
        callbacks.TimedProgressBar(interval=-1)


def test_cli_too_few_batches_to_time_and_fraction_limit(tiny_root, tmp_path, monkeypatch, capsys):
    # --limit-train-batches 0.5 is half the epoch (2 of 4 batches), not a count; both are skipped by the
    # ThroughputMonitor (worker start-up), so there is no throughput to report: n/a, null in summary.json.
    from fastvid.train.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
                 "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
                 "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "1",
                 "--epochs", "1", "--lr", "0.01", "--limit-train-batches", "0.5", "--limit-val-batches", "1",
                 "--output-dir", "runs", "--run-name", "few", "--no-progress", "--no-plot"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "runs" / "few" / "summary.json").read_text())
    assert summary["steps"] == 2
    assert summary["train_clips_per_s"] is None and summary["train_data_wait_frac"] is None
    throughput = [line for line in out.splitlines() if line.strip().startswith("throughput")]
    assert len(throughput) == 1 and "n/a" in throughput[0] and "0.0" not in throughput[0], out


# -- messy data: failed videos, class folders, labels, earlier runs --------------------------------------------


def _small_run(root_args, tmp_path, *extra):
    return [*root_args, "--model", "resnet_small", "--batch-size", "2", "--workers", "0", "--clip-duration", "0.5",
            "--frames", "4", "--crop-size", "32", "--min-short-side", "32", "--max-short-side", "40",
            "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "1", "--output-dir",
            str(tmp_path / "runs"), "--run-name", "m", "--no-progress", "--no-plot", "--epochs", "1", "--lr", "0.01",
            *extra]


def test_cli_summary_reports_each_metric_under_its_own_name(tiny_root, tmp_path, monkeypatch, capsys):
    """The run above cannot tell a swapped summary key from the right one where two accuracies are equal: here the
    validation logs a distinct value under each name."""
    from fastvid.train.cli import main

    values = {"val_loss": 1.5, "val_acc": 0.125, "val_acc5": 0.625, "val_video_acc": 0.375, "val_video_acc5": 0.875}

    def log_values(self):
        for name, value in values.items():
            self.log(name, value)

    monkeypatch.setattr(VideoClassificationModule, "on_validation_epoch_end", log_values)
    assert main(_small_run(["--data", str(tiny_root)], tmp_path)) == 0
    summary = json.loads((tmp_path / "runs" / "m" / "summary.json").read_text())
    assert {k: summary[k] for k in ("val_acc_clip", "val_acc5_clip", "val_acc_video", "val_acc5_video")} == {
        "val_acc_clip": 0.125, "val_acc5_clip": 0.625, "val_acc_video": 0.375, "val_acc5_video": 0.875}
    assert summary["best_val_acc_video"] == 0.375  # (the checkpoint's monitor)
    out = capsys.readouterr().out
    assert "video top-1 37.5% (top-5 87.5%), clip top-1 12.5%" in out, out


def test_cli_warns_that_a_prefix_with_only_class_folders_is_not_used(tiny_root, tmp_path, capsys, no_training):
    from fastvid.train.cli import main

    folders = ["--train", str(tiny_root / "train"), "--val", str(tiny_root / "val"), "--video-path-prefix", "/data"]
    with pytest.raises(no_training):
        main(_small_run(folders, tmp_path))
    assert "fastvid-train: warning: --video-path-prefix /data is not used: every split is a class-folder tree" in (
        capsys.readouterr().err)
    with pytest.raises(no_training):  # (a CSV split uses it: no warning)
        main(_small_run(["--train", str(tiny_root / "train.csv"), "--val", str(tiny_root / "val"),
                         "--video-path-prefix", "/"], tmp_path))
    assert "warning" not in capsys.readouterr().err


def test_cli_leaves_a_failed_validation_video_out_and_reports_every_failure(tiny_root, tmp_path, capsys):
    from fastvid.train.cli import main

    (tmp_path / "broken.mp4").write_bytes(b"")
    (tmp_path / "gone.mp4").write_text("not a video")
    val = tmp_path / "val.csv"
    lines = (tiny_root / "val.csv").read_text().splitlines()
    val.write_text("\n".join([lines[0], f"{tmp_path / 'broken.mp4'} 1", *lines[1:], f"{tmp_path / 'gone.mp4'} 2"]) + "\n")
    train = tmp_path / "train.csv"
    train.write_text((tiny_root / "train.csv").read_text() + f"{tmp_path / 'broken.mp4'} 0\n")
    assert main(_small_run(["--train", str(train), "--val", str(val)], tmp_path)) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "runs" / "m" / "summary.json").read_text())
    failed = summary["failed_videos"]
    assert [row[:2] for row in failed["val"]] == [[1, str(tmp_path / "broken.mp4")], [5, str(tmp_path / "gone.mp4")]]
    assert [row[:2] for row in failed["train"]] == [[8, str(tmp_path / "broken.mp4")]]
    assert "failed videos  3 skipped (train 1, val 2)" in out, out
    metrics = open(summary["metrics_csv"]).read().splitlines()
    col = metrics[0].split(",").index("val_videos")
    assert [r.split(",")[col] for r in metrics[1:] if r.split(",")[col]] == ["4.0"]  # the 4 readable videos, once each


def test_class_count_is_the_number_of_class_folders_with_an_empty_last_one(tmp_path):
    from fastvid.data.synthetic import write_video

    for split, classes in (("train", ("a", "b")), ("val", ("a", "b", "z_empty"))):
        for c in classes:
            (tmp_path / split / c).mkdir(parents=True)
            if split == "val" or c != "z_empty":
                write_video(tmp_path / split / c / "v.mp4", num_frames=10, height=32, width=32)
    (tmp_path / "train" / "z_empty").mkdir()
    dm = _tiny_dm(tmp_path)
    assert dm.num_classes == 3  # z_empty is a class whose video is only in val


def test_cli_label_mistakes_end_in_one_error_line(tiny_root, tmp_path, capsys, no_training):
    lines = (tiny_root / "val.csv").read_text().splitlines()
    high = tmp_path / "val_high.csv"
    high.write_text("\n".join([*lines[:-1], lines[-1].rsplit(" ", 1)[0] + " 9"]) + "\n")
    last = _main_error(_small_run(["--train", str(tiny_root / "train.csv"), "--val", str(high)], tmp_path), capsys)
    assert "val_high.csv" in last and "go up to 9" in last and "4 classes" in last and "--num-classes" in last, last
    neg = tmp_path / "train_neg.csv"
    neg.write_text("\n".join([*lines[:2], lines[2].rsplit(" ", 1)[0] + " -1"]) + "\n")
    last = _main_error(_small_run(["--train", str(neg), "--val", str(tiny_root / "val.csv")], tmp_path), capsys)
    assert "train_neg.csv, line 3" in last and "negative label -1" in last, last


def test_cli_refuses_to_train_over_an_earlier_run_unless_told(tiny_root, tmp_path, capsys, no_training):
    from fastvid.train.cli import main

    run = tmp_path / "runs" / "m"
    (run / "checkpoints").mkdir(parents=True)
    for name in ("epoch000.ckpt", "last.ckpt"):
        (run / "checkpoints" / name).write_text("x")
    (run / "summary.json").write_text("{}")
    (run / "checkpoints" / "notes.txt").write_text("mine")
    argv = _small_run(["--data", str(tiny_root)], tmp_path)
    last = _main_error(argv, capsys)
    assert str(run) in last and "checkpoints/epoch000.ckpt and 1 more" in last and "summary.json" in last, last
    assert "--resume last" in last and "--run-name" in last and "--overwrite" in last
    assert (run / "summary.json").is_file()
    with pytest.raises(no_training):  # with --overwrite it goes on to train (stopped at the data here) ...
        main(argv + ["--overwrite"])
    # ... after deleting the earlier run's checkpoints and summary (other files stay; .lock is the run's lock file)
    assert sorted(p.name for p in run.rglob("*") if p.is_file() and "logs" not in p.parts) == [".lock", "notes.txt"]
    capsys.readouterr()


def test_cli_validation_that_scores_no_clip_is_a_clear_error(tiny_root, tmp_path):
    from fastvid.train.cli import main

    val = tmp_path / "val.csv"
    val.write_text(f"{tmp_path / 'gone1.mp4'} 0\n{tmp_path / 'gone2.mp4'} 1\n")
    (tmp_path / "gone1.mp4").write_bytes(b"")
    (tmp_path / "gone2.mp4").write_text("text")
    with pytest.raises(RuntimeError, match="this validation scored no clip: every validation video it read failed"):
        main(_small_run(["--train", str(tiny_root / "train.csv"), "--val", str(val)], tmp_path))


def test_the_demo_replaces_only_its_own_run(tmp_path, capsys, no_training):
    run = tmp_path / "runs" / "myexp"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "epoch029.ckpt").write_text("x")
    last = _main_error(["--demo", "--output-dir", str(tmp_path / "runs"), "--run-name", "myexp"], capsys)
    assert "holds an earlier run" in last and "--overwrite" in last
    assert (run / "checkpoints" / "epoch029.ckpt").is_file()


def test_module_validation_with_failed_batches_sanity_check_and_direct_calls(tiny_root):
    # Lightning's default sanity check (2 batches) on batches that all failed passes quietly; a real validation
    # with some failed batches scores the others; validation_step also works outside Lightning's loop.
    import pytorch_lightning as pl

    from fastvid.data import skip_none

    dm = _tiny_dm(tiny_root, val_crops=1, val_clips_per_video=1)
    dm.setup("fit")
    module = VideoClassificationModule("resnet_small", num_classes=4, num_frames=4, crop_size=32, lr=0.01)

    class FailFirst(torch.utils.data.Dataset):
        def __init__(self, inner):
            self.inner = inner

        def __len__(self):
            return len(self.inner) + 4

        def __getitem__(self, i):
            return None if i < 4 else self.inner[i - 4]

    val = torch.utils.data.DataLoader(FailFirst(dm.val_dataset), batch_size=2, collate_fn=skip_none())
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, train_dataloaders=dm.train_dataloader(), val_dataloaders=val)
    assert trainer.callback_metrics["val_videos"] == 4
    fresh = VideoClassificationModule("resnet_small", num_classes=4, num_frames=4, crop_size=32)
    batch = next(iter(torch.utils.data.DataLoader(dm.val_dataset, batch_size=2)))
    assert torch.isfinite(fresh.validation_step(batch, 0))


@pytest.mark.parametrize("n, world, block", [(0, 2, 1), (1, 2, 1), (7, 3, 1), (100, 4, 1), (210, 4, 30), (200, 3, 30),
                                             (45, 4, 30), (90, 4, 30), (31, 1, 6), (600, 8, 6)])
def test_contiguous_distributed_sampler_splits_every_item_once_at_block_boundaries(n, world, block):
    from fastvid.train.data import ContiguousDistributedSampler

    parts = [list(ContiguousDistributedSampler(range(n), num_replicas=world, rank=r, block=block)) for r in range(world)]
    assert [i for p in parts for i in p] == list(range(n))  # contiguous, in order, each item once
    assert all(len(p) == len(ContiguousDistributedSampler(range(n), num_replicas=world, rank=r, block=block))
               for r, p in enumerate(parts))
    blocks = -(-n // block)
    if blocks >= world:  # each rank starts on a block boundary: no video's views split between ranks
        assert all(p[0] % block == 0 for p in parts if p)
        assert all(p for p in parts)  # and none is left without items
        sizes = [-(-len(p) // block) for p in parts]
        assert max(sizes) - min(sizes) <= 1
    else:  # fewer videos than ranks: split by items, as without a block
        assert [len(p) for p in parts] == [(r + 1) * n // world - r * n // world for r in range(world)]
    with pytest.raises(ValueError, match="block"):
        ContiguousDistributedSampler(range(4), num_replicas=2, rank=0, block=0)


def test_default_workers_share_the_machines_cpus_between_its_devices(monkeypatch):
    from fastvid.train.cli import default_workers

    for cpus, devices, want in ((16, 1, 15), (96, 8, 11), (2, 1, 2), (64, 1, 16), (8, 4, 2), (26, 2, 12)):
        monkeypatch.setattr("os.sched_getaffinity", lambda pid, n=cpus: set(range(n)), raising=False)
        assert default_workers(devices) == want, (cpus, devices)
    # srun --cpus-per-task=8, one task per GPU, each bound to its 8 CPUs: they are this task's alone (not 8 // 8 - 1)
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "8")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert default_workers(8) == 7
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(64)), raising=False)  # (not bound: shared)
    assert default_workers(8) == 7


@pytest.mark.parametrize("argv, want", [(["--accelerator", "gpu", "--devices", "2"], 7),
                                        (["--accelerator", "gpu", "--devices", "0,1"], 7),  # (ids: 2 devices)
                                        (["--accelerator", "gpu", "--devices", "1,"], 15),  # (Lightning's 1-id list)
                                        (["--accelerator", "gpu", "--devices", "2", "--workers", "3"], 3),
                                        (["--accelerator", "cpu"], 4), (["--demo"], 2)])
def test_cli_workers_default_by_where_it_trains(argv, want, tiny_root, tmp_path, monkeypatch):
    from fastvid.train import cli

    class Built(Exception):
        pass

    def record(self, *a, num_workers, **k):
        raise Built(num_workers)

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr("fastvid.train.data.KineticsDataModule.__init__", record)
    monkeypatch.setattr("fastvid.train.synthetic.make_motion_dataset", lambda root, *a, **k: tiny_root)
    data = [] if "--demo" in argv else ["--data", str(tiny_root)]
    with pytest.raises(Built) as e:
        cli.main([*data, *argv, "--output-dir", str(tmp_path), "--no-progress"])
    assert e.value.args[0] == want


def test_cli_says_when_it_trains_without_validation(tiny_root, tmp_path, capsys):
    # --data pointed at a folder of class folders (no train/ val/ split inside): it trained and said nothing of the
    # missing validation; the summary's accuracy was null
    from fastvid.train.cli import main

    assert main(["--data", str(tiny_root / "train.csv"), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
                 "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
                 "--max-short-side", "40", "--accelerator", "cpu", "--devices", "1", "--epochs", "1", "--output-dir",
                 str(tmp_path), "--no-progress", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "fastvid-train: no validation split (give --val" in out and "without validation" in out
    assert "(1 epoch, 4 steps)" in out and ", 1 epoch -> " in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cli_accelerator_gpu_without_one_is_one_error_line(tiny_root, tmp_path, capsys, no_training):
    last = _main_error(["--data", str(tiny_root), "--model", "resnet_small", "--accelerator", "gpu", "--output-dir",
                        str(tmp_path)], capsys)
    assert "Lightning rejected --accelerator" in last and "No supported gpu backend found" in last


def test_cli_warns_when_the_training_labels_do_not_start_at_0(tiny_root, tmp_path, capsys, no_training):
    # labels counted from 1 were taken as one class more, without a word (and a chance level that is not the data's)
    for split in ("train", "val"):
        lines = (tiny_root / f"{split}.csv").read_text().splitlines()
        (tmp_path / f"{split}.csv").write_text("".join(f"{p} {int(label) + 1}\n" for p, label in
                                                       (line.rsplit(" ", 1) for line in lines)))
    from fastvid.train.cli import main

    with pytest.raises(no_training):
        main(["--data", str(tmp_path), "--model", "resnet_small", "--output-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert f"the labels of {tmp_path / 'train.csv'} start at 1, not 0: label 0 is a class without a training " \
           "video (5 classes in all, chance 20.0%); if the labels count from 1, subtract 1 from each" in out
    with pytest.raises(no_training):
        main(["--data", str(tiny_root), "--model", "resnet_small", "--output-dir", str(tmp_path / "runs2")])
    assert "start at" not in capsys.readouterr().out


def test_cli_warns_when_a_clip_holds_fewer_frames_than_frames(tiny_root, tmp_path, capsys, no_training):
    # --frames 8 of a 0.5 s clip of 10 fps videos: 3 of the 8 frames were copies, in silence (PyTorchVideo's behaviour)
    from fastvid.train.cli import clip_frames_warning, main

    base = ["--model", "resnet_small", "--clip-duration", "0.5", "--output-dir"]
    for i, data in enumerate((tiny_root, tiny_root / "train.csv", tiny_root / "train")):  # root, CSV, class folders
        with pytest.raises(no_training):
            main(["--data", str(data), "--frames", "8", *base, str(tmp_path / f"r{i}")])
        out = capsys.readouterr().out
        assert ("fastvid-train: warning: --frames 8 is more than the 5 frames a 0.5 s clip (--clip-duration) holds at "
                "10 fps (the frame rate of ") in out, out
        assert ", the split's first video): its clips repeat frames" in out
        assert "a --clip-duration of 0.8 s or more, or fewer --frames, gives each kept frame its own" in out
        with pytest.raises(no_training):
            main(["--data", str(data), "--frames", "5", *base, str(tmp_path / f"s{i}")])
        assert "repeat frames" not in capsys.readouterr().out
    (tmp_path / "gone.csv").write_text("gone.mp4 0\n")
    assert clip_frames_warning(str(tmp_path / "gone.csv"), str(tmp_path), 8, 0.5) is None  # (no video to look at)
    assert "1.2 s or more" in clip_frames_warning(str(tiny_root / "train.csv"), "", 12, 1.0)
    # a window of 5.5 frame times holds 5 or 6 frames: 6 repeat in half the clips at most, by one frame (64 frames of
    # 2.1333 s at 30 fps, 63.999 frame times, hold 64 in nearly every clip): not worth a warning; 7 are too many
    train = str(tiny_root / "train.csv")
    assert clip_frames_warning(train, "", 6, 0.55) is None and clip_frames_warning(train, "", 64, 6.3999) is None
    assert "the 6 frames a 0.55 s clip" in clip_frames_warning(train, "", 7, 0.55)


def test_the_continue_command_says_to_use_the_launcher_of_the_run(monkeypatch):
    # under torchrun or a multi-task srun, the printed command (fastvid-train ...) alone starts one process, not the run
    from fastvid.train.cli import _launcher, _resume_command

    for k in ("TORCHELASTIC_RUN_ID", "SLURM_STEP_ID", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"):
        monkeypatch.delenv(k, raising=False)
    argv = ["--data", "d", "--devices", "2", "--resume", "x.ckpt", "--overwrite"]
    assert _resume_command(argv) == "fastvid-train --data d --devices 2 --resume last"
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "abc")
    assert _resume_command(argv).endswith("--resume last (started the way this run was: under torchrun, with its own "
                                          "arguments)")
    monkeypatch.delenv("TORCHELASTIC_RUN_ID")
    assert _launcher({"SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4"}) == "srun, with its own arguments"
    assert _launcher({"SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "1"}) is None  # (one task: the command alone is it)
    assert _launcher({"SLURM_NTASKS": "8"}) is None  # (a batch script, not a task of srun)
    assert _launcher({"SLURM_STEP_ID": "0", "SLURM_NTASKS": "2(x4)"}) is None


def test_cli_mistakes_print_a_short_usage_line_and_the_error(capsys):
    # argparse printed all ~40 options (27 lines) before the one line that says what is wrong
    from fastvid.train.cli import main
    from fastvid.train.prepare import main as prepare_main

    with pytest.raises(SystemExit):
        main(["--frames", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["usage: fastvid-train [options]   (every option: fastvid-train --help)",
                   "fastvid-train: error: argument --frames: expected an integer >= 1, got 0"]
    with pytest.raises(SystemExit):
        prepare_main([])
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_eval_only_reads_the_weights_file_without_running_its_code(tmp_path):
    # the settings of --weights were read with weights_only=False while the arguments were parsed: a pickle's code ran
    # before the safe read refused the file
    from fastvid.train.cli import parse_args

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    weights = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"model": "resnet_small"}, "x": Payload()}, weights)
    args = parse_args(["--eval-only", "--weights", str(weights)])
    assert not marker.exists()
    assert args.model == "resnet_small"  # (the demo's default: nothing taken from the refused file)


def test_datamodule_csv_paths_relative_to_their_folder_ask_for_the_prefix(tmp_path, monkeypatch):
    root = _prepared_root(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    dm = KineticsDataModule(root, num_workers=0)
    with pytest.raises(FileNotFoundError, match=f"pass video_path_prefix='{root}'"):
        dm.setup("fit")
    dm = KineticsDataModule(root, num_workers=0, video_path_prefix=str(root))
    dm.setup("fit")
    assert len(dm.train_dataset) == 2
