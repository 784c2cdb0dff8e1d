"""Run by tests/test_train_ddp.py: two CPU processes (gloo) through Lightning's DDP.

Usage: python _ddp_train_script.py DATA_ROOT OUT_DIR [VAL_CSV]. Lightning's subprocess launcher starts rank 1
by running this same command again. Each rank writes OUT_DIR/rank<r>.json with what it saw (validation views:
video, clip, crop, softmax, prediction, label). VAL_CSV replaces the root's validation split; VIDEO_REDUCE_CHUNK
in the environment sets the module's video_reduce_chunk; NAN_RANK=r puts a nan into rank r's first training batch
and leaves validation out (the rank's JSON then records the TrainingDiverged message of the training loss's check).
"""

import json
import os
import sys

import pytorch_lightning as pl
import torch

from fastvid.train import KineticsDataModule, TrainingDiverged, VideoClassificationModule


class Recorder(pl.Callback):
    def __init__(self):
        self.train, self.val = [], []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.train += batch["video_index"].tolist()
        if batch_idx == 0 and os.environ.get("NAN_RANK") == str(trainer.global_rank):
            batch["video"][0] = float("nan")

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if batch is None:  # every video of the batch failed to load
            return
        with torch.no_grad():
            probs = pl_module(batch["video"]).float().softmax(dim=1)
        for v, c, a, q, y in zip(batch["video_index"].tolist(), batch["clip_index"].tolist(),
                                 batch["aug_index"].tolist(), probs.tolist(), batch["label"].tolist()):
            self.val.append([v, c, a, q, int(torch.tensor(q).argmax()), y])


def main():
    root, out = sys.argv[1], sys.argv[2]
    val = sys.argv[3] if len(sys.argv) > 3 else None
    pl.seed_everything(0, workers=True, verbose=False)
    dm = KineticsDataModule(os.path.join(root, "train.csv") if val else root, val, clip_duration=0.5, num_frames=4, batch_size=2, num_workers=0, crop_size=32,
                            min_short_side=32, max_short_side=40, val_clips_per_video=1, val_crops=3)
    module = VideoClassificationModule("resnet_small", num_classes=dm.num_classes, num_frames=4, crop_size=32, lr=0.01)
    module.video_reduce_chunk = int(os.environ.get("VIDEO_REDUCE_CHUNK", module.video_reduce_chunk))
    rec = Recorder()
    trainer = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, use_distributed_sampler=False, callbacks=[rec],
                         check_val_every_n_epoch=2 if "NAN_RANK" in os.environ else 1)  # (the training loss's check)
    diverged = None
    try:
        trainer.fit(module, datamodule=dm)
    except TrainingDiverged as e:
        diverged = str(e)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    with open(os.path.join(out, f"rank{trainer.global_rank}.json"), "w") as f:
        json.dump({"rank": trainer.global_rank, "world": trainer.world_size, "train": rec.train, "val": rec.val,
                   "metrics": metrics, "num_train_videos": len(dm.train_dataset) , "num_val_items": len(dm.val_dataset),
                   "val_failures": [list(f) for f in dm.val_dataset.failures], "diverged": diverged}, f)
    # Tear the process group down here, not in interpreter shutdown, where gloo's threads can still be
    # running when the C++ runtime exits ("terminate called without an active exception", seen once).
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
