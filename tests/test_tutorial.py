"""examples/tutorial.py (PyTorchVideo's classification tutorial on fastvid) runs a few steps on generated data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytorch_lightning as pl
import torch

from fastvid.train.synthetic import SyntheticMotionConfig, make_motion_dataset

TUTORIAL = Path(__file__).resolve().parents[1] / "examples" / "tutorial.py"


def _load_tutorial():
    spec = importlib.util.spec_from_file_location("fastvid_tutorial", TUTORIAL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Inspect(pl.Callback):
    def __init__(self):
        self.train_videos, self.val_batches = [], []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.train_videos.append(batch["video"].detach().clone())

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self.val_batches.append({k: batch[k] for k in ("video_index", "aug_index")})


def test_tutorial_trains_and_validates_a_few_steps(tmp_path):
    # 2 s videos (the tutorial's clip duration), small frames: the tutorial scales them to 256-320.
    root = make_motion_dataset(tmp_path, SyntheticMotionConfig(train_per_class=1, val_per_class=1, height=48,
                                                               width=64, seconds=2.0, fps=8))
    tutorial = _load_tutorial()
    tutorial.KineticsDataModule._DATA_PATH = str(root)
    tutorial.KineticsDataModule._BATCH_SIZE = 1  # ResNet-50 at 8x224x224 on a CPU: keep it short
    tutorial.KineticsDataModule._NUM_WORKERS = 0
    tutorial.KineticsDataModule._VAL_CLIPS_PER_VIDEO = 1
    # The transforms it builds are fused: one kernel call per clip, normalized after /255.
    train_loader = tutorial.KineticsDataModule().train_dataloader()
    assert train_loader.dataset.uses_frame_plan  # only the 8 kept frames are decoded
    assert len(train_loader) == 4  # 4 videos, batch 1
    inspect = _Inspect()
    torch.manual_seed(0)
    trainer = tutorial.train(max_epochs=1, limit_train_batches=2, limit_val_batches=1, accelerator="cpu", devices=1, logger=False,
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                             num_sanity_val_steps=0, callbacks=[inspect])
    assert trainer.global_step == 2
    for key in ("train_loss", "val_loss", "val_clip_acc", "val_video_acc"):
        assert key in trainer.callback_metrics, key
    assert torch.isfinite(trainer.callback_metrics["train_loss"])
    video = inspect.train_videos[0]
    assert video.shape == (1, 3, 8, 224, 224) and video.dtype == torch.float32  # crop 224, not 244
    # /255 before Normalize: a normalized clip lies within (0 - 0.45) / 0.225 .. (1 - 0.45) / 0.225.
    assert video.min() >= -2.0001 and video.max() <= 2.4445
    # Validation views carry the video and crop they belong to (the first: video 0, left crop).
    assert inspect.val_batches[0]["aug_index"].tolist() == [0]
    assert inspect.val_batches[0]["video_index"].tolist() == [0]
    val_loader = tutorial.KineticsDataModule().val_dataloader()
    assert len(val_loader.dataset) == 4 * 1 * 3  # 4 videos x 1 clip x 3 crops


def test_tutorial_names_what_it_changed():
    text = TUTORIAL.read_text()
    assert "import pytorchvideo" not in text and "from pytorchvideo" not in text
    assert "from torchvision" not in text
    for fix in ("FIXED (1)", "FIXED (2)", "FIXED (3)", "FIXED (4)", "FIXED (5)", "FIXED (6)"):
        assert fix in text, fix
