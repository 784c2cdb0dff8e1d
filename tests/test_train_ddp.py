"""Two CPU processes (gloo) through Lightning's DDP: disjoint shards of the videos, synchronized metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fastvid.train.synthetic import SyntheticMotionConfig, make_motion_dataset

SCRIPT = Path(__file__).with_name("_ddp_train_script.py")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    cfg = SyntheticMotionConfig(train_per_class=2, val_per_class=1, height=40, width=48, seconds=1.0, fps=10)
    return make_motion_dataset(tmp_path_factory.mktemp("ddp-data"), cfg)


def _run_ranks(tiny_root, tmp_path, *extra_args, **extra_env) -> list[dict]:
    """Runs SCRIPT (two gloo ranks through Lightning's DDP) and returns what each rank wrote."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", **extra_env)
    env.pop("LOCAL_RANK", None)
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tiny_root), str(tmp_path), *map(str, extra_args)],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_ddp_two_ranks_disjoint_shards_and_synced_metrics(tiny_root, tmp_path):
    # Video-level scores reduced in blocks of 3 videos: the first block holds rows of both ranks.
    ranks = _run_ranks(tiny_root, tmp_path, VIDEO_REDUCE_CHUNK="3")
    assert [r["world"] for r in ranks] == [2, 2]
    n_train = ranks[0]["num_train_videos"]  # 8 videos, one random clip each
    # Training: each rank sees half of the videos, none twice, none on both ranks, none missing.
    train0, train1 = ranks[0]["train"], ranks[1]["train"]
    assert len(train0) == len(train1) == n_train // 2
    assert len(set(train0)) == len(train0) and len(set(train1)) == len(train1)
    assert not set(train0) & set(train1)
    assert set(train0) | set(train1) == set(range(n_train))
    # Validation: every view (video, clip, crop) exactly once over the two ranks, no padding duplicates.
    views0 = {tuple(v[:3]) for v in ranks[0]["val"]}
    views1 = {tuple(v[:3]) for v in ranks[1]["val"]}
    assert len(views0) == len(ranks[0]["val"]) and len(views1) == len(ranks[1]["val"])
    assert not views0 & views1
    n_items = ranks[0]["num_val_items"]
    assert len(views0) + len(views1) == n_items == 4 * 3  # 4 videos x 1 clip x 3 crops
    assert {v[0] for v in ranks[0]["val"]} != {v[0] for v in ranks[1]["val"]}
    # Metrics are the same on both ranks and are those of the union of both shards.
    m0, m1 = ranks[0]["metrics"], ranks[1]["metrics"]
    for key in ("val_acc", "val_video_acc", "val_loss", "val_videos", "train_loss_epoch", "train_acc"):
        assert m0[key] == pytest.approx(m1[key], abs=1e-6), key
    union = ranks[0]["val"] + ranks[1]["val"]
    clip_acc = sum(p == y for *_, p, y in union) / len(union)
    assert m0["val_acc"] == pytest.approx(clip_acc, abs=1e-6)
    assert m0["val_videos"] == 4  # each rank saw only some videos; the video metric covers all of them
    assert m0["val_views_per_video"] == 3
    scores = {}
    for video, _, _, probs, _, label in union:
        scores.setdefault(video, [label, []])[1].append(probs)
    video_acc = sum(torch.tensor(p).mean(0).argmax().item() == y for y, p in scores.values()) / len(scores)
    assert m0["val_video_acc"] == pytest.approx(video_acc, abs=1e-6)


def test_ddp_validation_when_every_video_of_one_rank_fails(tiny_root, tmp_path):
    # The views are split in contiguous parts: rank 1 gets those of the two missing videos only, so every batch
    # it loads is None. It must still take part in the metric reductions (it used to wait forever in them).
    lines = (tiny_root / "val.csv").read_text().splitlines()[:2]
    val = tmp_path / "val.csv"
    val.write_text("\n".join([*lines, f"{tmp_path / 'gone1.mp4'} 2", f"{tmp_path / 'gone2.mp4'} 3"]) + "\n")
    ranks = _run_ranks(tiny_root, tmp_path, val)
    assert ranks[1]["val"] == [] and len(ranks[0]["val"]) == 2 * 3
    assert sorted(f[0] for f in ranks[1]["val_failures"]) == [2, 3]
    m0, m1 = ranks[0]["metrics"], ranks[1]["metrics"]
    for key in ("val_acc", "val_acc5", "val_video_acc", "val_loss", "val_videos"):
        assert m0[key] == pytest.approx(m1[key], abs=1e-6), key
    assert m0["val_videos"] == 2
    assert m0["val_acc"] == pytest.approx(sum(p == y for *_, p, y in ranks[0]["val"]) / 6, abs=1e-6)


def test_ddp_cli_summary_lists_the_failures_of_every_rank(tiny_root, tmp_path):
    # The views are split in contiguous parts: the missing last video is rank 1's; rank 0 writes the summary.
    val = tmp_path / "val.csv"
    val.write_text((tiny_root / "val.csv").read_text() + f"{tmp_path / 'gone.mp4'} 2\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    env.pop("LOCAL_RANK", None)
    args = ["--train", str(tiny_root / "train.csv"), "--val", str(val), "--model", "resnet_small", "--batch-size", "2",
            "--workers", "0", "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
            "--max-short-side", "40", "--val-clips-per-video", "1", "--val-crops", "1", "--accelerator", "cpu",
            "--devices", "2", "--strategy", "ddp", "--epochs", "1", "--output-dir", str(tmp_path / "runs"),
            "--run-name", "d", "--no-progress", "--no-plot"]
    proc = subprocess.run([sys.executable, "-m", "fastvid.train.cli", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((tmp_path / "runs" / "d" / "summary.json").read_text())
    assert [row[:2] for row in summary["failed_videos"]["val"]] == [[4, str(tmp_path / "gone.mp4")]]
    assert "failed videos  1 skipped (val 1)" in proc.stdout


def test_ddp_divergence_stops_every_rank_and_names_the_first_bad_step(tiny_root, tmp_path):
    # A nan in rank 1's first batch (step 0): its gradients make every rank's weights nan, so rank 0's loss is nan
    # from step 1. Both ranks must stop (one alone would leave the other in a collective) naming step 0.
    for r in _run_ranks(tiny_root, tmp_path, NAN_RANK="1"):
        assert r["diverged"] and "the training loss was not finite (nan or inf) at step 0, in epoch 0" in r["diverged"]


def test_cli_ddp_under_slurm_srun(tiny_root, tmp_path):
    # srun starts every task itself and sets SLURM_PROCID / SLURM_LOCALID, not LOCAL_RANK / RANK: the run folder's lock
    # is taken by the trainer's global rank 0 only (every task took it for rank 0, and all but one were refused).
    out = tmp_path / "runs"
    argv = ["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0",
            "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
            "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "2",
            "--strategy", "ddp", "--epochs", "1", "--lr", "0.01", "--output-dir", str(out), "--run-name", "m",
            "--no-progress", "--no-plot"]
    procs = []
    for r in (0, 1):
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", SLURM_JOB_ID="4242",
                   SLURM_JOB_NAME="train", SLURM_NTASKS="2", SLURM_NTASKS_PER_NODE="2", SLURM_NODELIST="localhost",
                   SLURM_NNODES="1", SLURM_NODEID="0", SLURM_PROCID=str(r), SLURM_LOCALID=str(r),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(29500 + os.getpid() % 1000))
        for key in ("LOCAL_RANK", "RANK", "WORLD_SIZE"):
            env.pop(key, None)
        procs.append(subprocess.Popen([sys.executable, "-c", "import sys; from fastvid.train.cli import main; "
                                       "sys.exit(main(sys.argv[1:]))", *argv], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        try:
            results.append((p.wait(timeout=240), *p.communicate()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    for rc, stdout, stderr in results:
        assert rc == 0, stdout[-2000:] + stderr[-3000:]
    summary = json.loads((out / "m" / "summary.json").read_text())
    assert summary["steps"] == 2  # (8 videos, 2 ranks, batches of 2)



@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups")
@pytest.mark.parametrize("workers, to, phase", [(0, "group", "train"), (2, "group", "train"),
                                                (2, "rank 0", "validation")])
def test_ddp_sigterm_to_every_process_stops_every_rank_at_the_same_step(tiny_root, tmp_path, workers, to, phase):
    # SLURM and timeout(1) signal every process of the job. Lightning's handler broadcast from inside the signal
    # handler, wherever each rank was (a collective that no other rank's matched), and each rank then stopped at a
    # step of its own: the ranks waited on one another until the process group's timeout (5 of 6 runs without
    # workers, 4 of 5 with 2 per rank, hung > 45 s). With workers, a rank whose workers the signal killed raised
    # mid-step. Now every rank stops after the same step, its workers shut down, status 143, within seconds.
    # A SIGTERM to rank 0 alone (as Kubernetes sends it) during validation: every rank stops after that epoch.
    import signal
    import time

    from _train_scripts import epoch1_signal_script

    ready = tmp_path / "epoch1"
    argv = ["--data", str(tiny_root), "--model", "resnet_small", "--batch-size", "2", "--workers", str(workers),
            "--clip-duration", "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32",
            "--max-short-side", "40", "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "2",
            "--strategy", "ddp", "--epochs", "100", "--lr", "0.01", "--output-dir", str(tmp_path / "runs"),
            "--run-name", "m", "--no-progress", "--no-plot"]
    script = tmp_path / "run.py"  # (Lightning starts rank 1 by running this process's command line again)
    script.write_text(epoch1_signal_script(argv, ready, phase=phase))
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", MASTER_PORT=str(29500 + os.getpid() % 1000))
    env.pop("LOCAL_RANK", None)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 200
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        time.sleep(0.3 if phase == "train" else 0.1)  # (into the epoch's steps; into the validation)
        if to == "group":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            err = proc.communicate(timeout=60)[1]  # (stderr closes when every process of the group is gone)
        except subprocess.TimeoutExpired:
            pytest.fail("the ranks were still running 60 s after the SIGTERM")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 143, err[-3000:]
    assert "Traceback" not in err and "stopped by SIGTERM " in err, err[-3000:]
    if phase == "validation":  # (the epoch done: Lightning counted it; a stop in training says "in epoch N")
        assert "stopped by SIGTERM after epoch 1; " in err, err[-2000:]
    if phase == "validation":  # (stopped once the epoch was written)
        last = torch.load(tmp_path / "runs" / "m" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
        assert last["epoch"] == 1, (last["epoch"], err[-2000:])
