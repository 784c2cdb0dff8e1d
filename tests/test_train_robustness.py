"""fastvid-train over a long run's failures: divergence, signals, checkpoint writes, resumes, two runs in a folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from fastvid.train import TrainingDiverged, make_motion_dataset
from fastvid.train.checkpoint_io import AtomicCheckpointIO, remove_partial_checkpoints
from fastvid.train.synthetic import SyntheticMotionConfig

TINY = SyntheticMotionConfig(train_per_class=2, val_per_class=1, height=40, width=48, seconds=1.0, fps=10)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return make_motion_dataset(tmp_path_factory.mktemp("robust-data"), TINY)


def _argv(root, tmp_path, *extra, run="m"):
    return ["--data", str(root), "--model", "resnet_small", "--batch-size", "2", "--workers", "0", "--clip-duration",
            "0.5", "--frames", "4", "--crop-size", "32", "--min-short-side", "32", "--max-short-side", "40",
            "--val-clips-per-video", "1", "--accelerator", "cpu", "--devices", "1", "--output-dir", str(tmp_path / "runs"),
            "--run-name", run, "--no-progress", "--no-plot", "--epochs", "1", "--lr", "0.01", *extra]


def _error(argv, capsys) -> str:
    from fastvid.train.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err, err
    return err.strip().splitlines()[-1]


# -- divergence ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("val_every", [1, 2])
def test_a_diverged_run_stops_before_saving_it(tiny_root, tmp_path, capsys, val_every):
    # --lr 1e6: the loss is nan from the second step on. With a validation after the epoch, its loss is nan; with
    # none (--val-every 2, one epoch), the training loss's check at the epoch's end stops the run. Either way no
    # checkpoint holds the broken weights and no summary claims a result (the run said "video top-1 25%" and exit 0).
    from fastvid.train.cli import main

    run = tmp_path / "runs" / "m"
    assert main(_argv(tiny_root, tmp_path, "--lr", "1e6", "--val-every", str(val_every))) == 1
    err = capsys.readouterr().err
    what = "the validation loss is not finite" if val_every == 1 else "the training loss was not finite (nan or inf) at step"
    assert what in err and "Lower the learning rate" in err, err
    assert not list((run / "checkpoints").glob("*.ckpt")) if (run / "checkpoints").is_dir() else True
    assert not (run / "summary.json").exists()


def test_the_divergence_check_names_the_first_bad_step(monkeypatch):
    from fastvid.train import VideoClassificationModule

    monkeypatch.setattr(VideoClassificationModule, "global_step", property(lambda self: self.fake_step))
    module = VideoClassificationModule(torch.nn.Flatten(), num_classes=12)
    module.on_train_epoch_start()
    video = torch.randn(2, 3, 1, 2, 2)
    for step, bad in enumerate([False, False, True, False, True]):
        module.fake_step = step
        v = video.clone()
        if bad:
            v[0, 0] = float("inf") if step == 2 else float("nan")
        module.training_step({"video": v, "label": torch.tensor([0, 1])}, step)
    with pytest.raises(TrainingDiverged, match=r"not finite \(nan or inf\) at step 2, in epoch 0"):
        module.on_train_epoch_end()
    module.on_train_epoch_start()  # (a new epoch starts clean)
    module.training_step({"video": video, "label": torch.tensor([0, 1])}, 0)
    module.on_train_epoch_end()
    quiet = VideoClassificationModule(torch.nn.Flatten(), num_classes=12, stop_on_divergence=False)
    quiet.fake_step = 0
    quiet.on_train_epoch_start()
    quiet.training_step({"video": torch.full((2, 3, 1, 2, 2), float("nan")), "label": torch.tensor([0, 1])}, 0)
    quiet.on_train_epoch_end()  # (told not to)


# -- signals ------------------------------------------------------------------------------------------------------


def test_sigterm_ends_the_run_with_143_and_says_how_to_resume(tiny_root, tmp_path, capsys, monkeypatch):
    # A job scheduler's stop: Lightning raises SIGTERMException (a SystemExit without a code: exit status 0, and the
    # scheduler recorded the job as done). Sent here in the second epoch's second step.
    from fastvid.train import VideoClassificationModule
    from fastvid.train.cli import main

    step = VideoClassificationModule.training_step

    def training_step(self, batch, batch_idx):
        if self.current_epoch == 1 and batch_idx == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return step(self, batch, batch_idx)

    monkeypatch.setattr(VideoClassificationModule, "training_step", training_step)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert main(_argv(tiny_root, tmp_path, "--epochs", "3")) == 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    last = tmp_path / "runs" / "m" / "checkpoints" / "last.ckpt"
    assert f"stopped by SIGTERM in epoch 1; {last} holds the last epoch saved; continue with: fastvid-train " in err
    command = err.split("continue with: ")[1].splitlines()[0]
    assert command.endswith(" --epochs 3 --resume last") and "--run-name m" in command
    assert torch.load(last, map_location="cpu", weights_only=False)["global_step"] == 4  # (epoch 0's 4 steps)


def _stop_in_epoch_1(monkeypatch):
    from fastvid.train import VideoClassificationModule

    step = VideoClassificationModule.training_step

    def training_step(self, batch, batch_idx):
        if self.current_epoch == 1 and batch_idx == 1 and os.environ.get("_FASTVID_TEST_STOP") == "1":
            os.kill(os.getpid(), signal.SIGTERM)
        return step(self, batch, batch_idx)

    monkeypatch.setattr(VideoClassificationModule, "training_step", training_step)


def _schedule_warnings(argv) -> tuple[int, list[str]]:
    import warnings

    from fastvid.train.cli import main

    previous = signal.getsignal(signal.SIGTERM)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return status, [str(w.message) for w in caught if "learning-rate schedule" in str(w.message)]


def test_a_resume_that_reshapes_the_learning_rate_schedule_says_so(tiny_root, tmp_path, monkeypatch):
    # Resuming with another --epochs re-plans the cosine over the new step count: the learning rate jumps (back up,
    # for a longer run) at the resumed step. Said with both values; a resume with the run's own settings says nothing.
    _stop_in_epoch_1(monkeypatch)
    for run, epochs, reshaped in (("same", "3", False), ("longer", "6", True)):
        monkeypatch.setenv("_FASTVID_TEST_STOP", "1")
        assert _schedule_warnings(_argv(tiny_root, tmp_path, "--epochs", "3", run=run)) == (143, [])
        monkeypatch.setenv("_FASTVID_TEST_STOP", "0")
        status, said = _schedule_warnings(_argv(tiny_root, tmp_path, "--epochs", epochs, "--resume", "last", run=run))
        assert status == 0
        if not reshaped:
            assert said == []
            continue
        # 4 steps per epoch, 2 epochs of warmup: 12 steps (8 of warmup) planned, then 24 (8): at step 4, still in the
        # warmup, both give 0.01 * 5 / 8; they part after it
        assert len(said) == 1, said
        assert ("that run's was planned over 12 steps (8 of warmup), this run's is planned over 24 steps (8 of "
                "warmup); at step 4 the learning rate is 0.00625 where the checkpoint's schedule gives 0.00625") in said[0]
    # a checkpoint that does not record its plan (an earlier fastvid's): the restored learning rate tells, past warmup
    monkeypatch.setenv("_FASTVID_TEST_STOP", "1")
    short = ["--epochs", "3", "--warmup-epochs", "0.5"]
    assert _schedule_warnings(_argv(tiny_root, tmp_path, *short, run="old")) == (143, [])
    last = tmp_path / "runs" / "old" / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, map_location="cpu", weights_only=False)
    assert ckpt.pop("fastvid_lr_schedule") == {"total": 12, "warmup": 2, "unit": "step"}
    torch.save(ckpt, last)
    monkeypatch.setenv("_FASTVID_TEST_STOP", "0")
    status, said = _schedule_warnings(_argv(tiny_root, tmp_path, "--epochs", "6", "--warmup-epochs", "0.5", "--resume",
                                            "last", run="old"))
    assert status == 0 and len(said) == 1 and "whose plan the checkpoint does not record" in said[0], said


def test_sigterm_during_an_evaluation_exits_143(tiny_root, tmp_path, capsys, monkeypatch):
    from fastvid.train import VideoClassificationModule
    from fastvid.train.cli import main

    assert main(_argv(tiny_root, tmp_path)) == 0
    weights = tmp_path / "runs" / "m" / "checkpoints" / "last.ckpt"
    step = VideoClassificationModule.validation_step

    def validation_step(self, batch, batch_idx):
        if batch_idx == 0:
            os.kill(os.getpid(), signal.SIGTERM)
        return step(self, batch, batch_idx)

    monkeypatch.setattr(VideoClassificationModule, "validation_step", validation_step)
    capsys.readouterr()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert main(_argv(tiny_root, tmp_path, "--eval-only", "--weights", str(weights), run="e")) == 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "the evaluation was stopped by SIGTERM; nothing was written" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "e" / "eval_summary.json").exists()


def test_ctrl_c_ends_the_run_with_130(tiny_root, tmp_path):
    # (in a child process: Lightning ignores SIGINT for the rest of the process after a Ctrl-C)
    script = textwrap.dedent(f"""
        import os, signal, sys
        from fastvid.train import VideoClassificationModule
        from fastvid.train.cli import main
        step = VideoClassificationModule.training_step
        def training_step(self, batch, batch_idx):
            if self.current_epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)
            return step(self, batch, batch_idx)
        VideoClassificationModule.training_step = training_step
        sys.exit(main({_argv(tiny_root, tmp_path, "--epochs", "2")!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 130, proc.stderr[-3000:]
    assert "stopped by Ctrl-C in epoch 1; " in proc.stderr and " --epochs 2 --resume last" in proc.stderr


def test_synchronized_sigterm_leaves_one_process_to_lightning_and_stops_ranks_together(monkeypatch):
    # (its DDP runs: tests/test_train_ddp.py::test_ddp_sigterm_to_every_process_stops_every_rank_at_the_same_step)
    import torch.distributed as dist
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from fastvid.train.callbacks import SynchronizedSigterm

    class Connector:
        received_sigterm = False

        def _sigterm_notifier_fn(self, signum, frame):
            raise AssertionError("Lightning's handler")

    class State:
        fn = "fit"

    class Trainer:
        world_size = 1
        _signal_connector = Connector()
        state = State()

        class strategy:
            root_device = torch.device("cpu")

    trainer = Trainer()
    cb = SynchronizedSigterm()
    cb.setup(trainer, None, "fit")
    assert trainer._signal_connector._sigterm_notifier_fn != cb._note  # one process: Lightning's handler stays
    cb.on_train_batch_end(trainer, None, None, None, 0)  # (no collective)

    Trainer.world_size = 2
    reduced = []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "all_reduce", lambda t, op=None: reduced.append(int(t)))
    cb.setup(trainer, None, "fit")
    assert trainer._signal_connector._sigterm_notifier_fn == cb._note  # (what Lightning then registers)
    cb.on_train_batch_end(trainer, None, None, None, 0)
    cb._note(signal.SIGTERM, None)  # a SIGTERM: noted only
    cb.on_validation_epoch_end(trainer, None)  # in a fit: agreed, and the epoch ends first
    assert reduced == [0, 1] and not trainer._signal_connector.received_sigterm
    cb.on_train_epoch_end(trainer, None)
    assert trainer._signal_connector.received_sigterm  # (Lightning's fit loop stops every rank after the epoch)
    with pytest.raises(SIGTERMException):
        cb.on_train_batch_end(trainer, None, None, None, 1)

    State.fn = "validate"  # --eval-only: the evaluation stops at its end
    cb.setup(trainer, None, "validate")
    cb._note(signal.SIGTERM, None)
    with pytest.raises(SIGTERMException):
        cb.on_validation_epoch_end(trainer, None)


def test_the_stop_message_says_in_or_after_which_epoch():
    from types import SimpleNamespace

    from fastvid.train.cli import _where_stopped

    def trainer(started, completed):
        progress = SimpleNamespace(started=started, completed=completed)
        return SimpleNamespace(fit_loop=SimpleNamespace(epoch_progress=SimpleNamespace(current=progress)),
                               current_epoch=completed)

    assert _where_stopped(trainer(2, 1)) == "in epoch 1"  # (epoch 1 running)
    assert _where_stopped(trainer(2, 2)) == "after epoch 1"  # (epoch 1 done, epoch 2 not started)
    assert _where_stopped(trainer(0, 0)) == "in epoch 0"  # (before the first epoch)


def test_ddp_loader_workers_ignore_the_first_sigterm_and_are_seeded_per_rank(monkeypatch):
    # Lightning seeds each rank's workers apart only in a DataLoader without a worker_init_fn: the SIGTERM one made
    # every rank's workers draw the same clips, crops and flips
    import random

    from lightning_fabric.utilities.seed import pl_worker_init_function

    from fastvid.train.data import _ddp_worker_init

    previous = signal.getsignal(signal.SIGTERM)
    draws = {}
    try:
        for rank in (0, 1):
            torch.manual_seed(1234)
            _ddp_worker_init(0, rank=rank, seed_workers=True)
            draws[rank] = (random.random(), float(torch.rand(1)))
            torch.manual_seed(1234)
            pl_worker_init_function(0, rank=rank)
            assert draws[rank] == (random.random(), float(torch.rand(1)))
        assert draws[0] != draws[1]
        _ddp_worker_init(0, rank=0, seed_workers=False)
        os.kill(os.getpid(), signal.SIGTERM)  # the first one: ignored
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # (a second one ends the worker)
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups")
@pytest.mark.parametrize("overwrite", [False, True])
def test_sigterm_to_the_whole_process_group_ends_the_run_with_143(tiny_root, tmp_path, overwrite):
    # timeout(1), SLURM and most schedulers signal every process of the job: the DataLoader workers died first and the
    # main process ended in a traceback ("DataLoader worker ... is killed by signal: Terminated"), exit status 1
    import time

    argv = _argv(tiny_root, tmp_path, "--epochs", "50", "--workers", "2", *(["--overwrite"] if overwrite else []))
    ready = tmp_path / "epoch1"
    from _train_scripts import epoch1_signal_script

    script = epoch1_signal_script(argv, ready)
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        deadline = time.monotonic() + 200
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # (into the epoch's steps, the workers busy)
        os.killpg(proc.pid, signal.SIGTERM)
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err[-3000:]
    assert "Traceback" not in err and "stopped by SIGTERM in epoch" in err, err[-3000:]
    command = err.split("continue with: ")[1].splitlines()[0]
    assert command.endswith("--resume last") and "--overwrite" not in command  # (it would delete the checkpoints)


# -- checkpoint files ---------------------------------------------------------------------------------------------


def test_checkpoints_are_replaced_whole_in_their_own_folder(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "ckpt" / "last.ckpt"
    io.save_checkpoint({"global_step": 1, "w": torch.arange(4)}, path)
    assert torch.load(path, weights_only=False)["global_step"] == 1
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # (not mkstemp's 0600)

    # A save cut short (Ctrl-C, a full disk) halfway through the file: the old checkpoint stays whole.
    real_save = torch.save

    def cut(obj, f, *a, **k):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", cut)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"global_step": 2}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(path, weights_only=False)["global_step"] == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"]  # (the temporary file removed)
    # What a kill -9 during a save leaves, removed at the next start (other hidden files stay).
    (path.parent / f".last.ckpt.{os.getpid()}.0a1b2c3d.tmp").write_bytes(b"partial")
    (path.parent / ".keep").write_text("")
    assert [p.name for p in remove_partial_checkpoints(path.parent)] == [f".last.ckpt.{os.getpid()}.0a1b2c3d.tmp"]
    assert sorted(p.name for p in path.parent.iterdir()) == [".keep", "last.ckpt"]


def test_the_cli_writes_its_checkpoints_through_the_atomic_writer(tiny_root, tmp_path, monkeypatch):
    # Lightning's own writer made its temporary file in $TMPDIR: a run whose /tmp is too small for a checkpoint
    # died at the end of its first epoch ("No space left on device"), and across file systems its move was a copy
    # straight into last.ckpt.
    from fastvid.train.cli import main

    saved = []
    real = AtomicCheckpointIO.save_checkpoint
    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint",
                        lambda self, ckpt, path, storage_options=None: (saved.append(os.path.basename(path)),
                                                                        real(self, ckpt, path, storage_options)))
    assert main(_argv(tiny_root, tmp_path)) == 0
    assert sorted(saved) == ["epoch000.ckpt", "last.ckpt"]


def test_val_every_n_still_saves_every_epoch_and_says_when_it_validated(tiny_root, tmp_path, capsys):
    # With --val-every 2 Lightning saved last.ckpt only after a validation: nothing in epoch 0, and the final epoch 2
    # never (its weights lost, epoch 1's accuracy shown as the final one).
    from fastvid.train.cli import main

    assert main(_argv(tiny_root, tmp_path, "--epochs", "3", "--val-every", "2")) == 0
    out = capsys.readouterr().out
    run = tmp_path / "runs" / "m"
    assert torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["global_step"] == 12
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == 3 and summary["val_after_epochs"] == 2
    assert "(after epoch 2: the last validation)" in out


def test_summary_json_has_no_bare_nan():
    from fastvid.train.cli import _json_safe

    value = {"a": float("nan"), "b": [1.5, float("inf"), {"c": -float("inf")}], "d": "x", "e": None, "f": 2}
    assert _json_safe(value) == {"a": None, "b": [1.5, None, {"c": None}], "d": "x", "e": None, "f": 2}
    json.dumps(_json_safe(value), allow_nan=False)


# -- resuming -----------------------------------------------------------------------------------------------------


def _first_batches(monkeypatch):
    """Records (epoch, video index list, clip sum) of each epoch's first training batch."""
    from fastvid.train import VideoClassificationModule

    seen = []
    step = VideoClassificationModule.training_step

    def training_step(self, batch, batch_idx):
        if batch_idx == 0:
            seen.append((self.current_epoch, batch["video_index"].tolist(), round(float(batch["video"].sum()), 3)))
        return step(self, batch, batch_idx)

    monkeypatch.setattr(VideoClassificationModule, "training_step", training_step)
    return seen


def test_each_resume_draws_new_batches(tiny_root, tmp_path, monkeypatch, capsys):
    # Re-seeded with --seed alone, every resumed segment replayed the first one's sample order and augmentations:
    # a job restarted once per epoch trained on one fixed order and one set of crops.
    from fastvid.train.cli import main

    seen = _first_batches(monkeypatch)
    assert main(_argv(tiny_root, tmp_path)) == 0
    assert main(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", "last")) == 0
    assert main(_argv(tiny_root, tmp_path, "--epochs", "3", "--resume", "last")) == 0
    assert [s[0] for s in seen] == [0, 1, 2]
    assert len({s[2] for s in seen}) == 3, seen  # (three different first batches)
    assert "resuming from" in capsys.readouterr().out


def test_resuming_a_finished_run_leaves_it_as_it_is(tiny_root, tmp_path, capsys):
    # A requeue script that always passes --resume last: the run had finished; a second start rewrote its
    # summary.json with nulls from an empty epoch.
    from fastvid.train.cli import main

    assert main(_argv(tiny_root, tmp_path, "--epochs", "2")) == 0
    summary = tmp_path / "runs" / "m" / "summary.json"
    before = summary.read_text()
    capsys.readouterr()
    assert main(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", "last")) == 0
    out = capsys.readouterr().out
    assert "has finished this run already (2 epochs, 8 steps; --epochs 2): nothing to train" in out
    assert summary.read_text() == before


def test_resume_refuses_other_model_settings_and_warns_of_restored_ones(tiny_root, tmp_path, capsys):
    from fastvid.train.cli import main

    assert main(_argv(tiny_root, tmp_path)) == 0
    capsys.readouterr()
    last = _error(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", "last", "--num-classes", "6"), capsys)
    assert "the checkpoint's run has num_classes 4 where this command has 6" in last
    last = _error(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", "last", "--optimizer", "adamw",
                        "--model", "r3d_18"), capsys)
    assert "model 'resnet_small', optimizer 'sgd' where this command has 'r3d_18', 'adamw'" in last
    assert main(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", "last", "--lr", "0.5")) == 0
    out = capsys.readouterr().out
    assert "the checkpoint's optimizer state is restored with its own lr 0.01 (this command's 0.5 is not used)" in out


def test_resume_from_an_unreadable_checkpoint_is_a_clear_error(tiny_root, tmp_path, capsys):
    bad = tmp_path / "torn.ckpt"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    last = _error(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", str(bad)), capsys)
    assert f"argument --resume: cannot read {bad}" in last and "an epoch checkpoint beside it may be intact" in last


def test_resume_from_another_runs_checkpoint_does_not_mix_two_runs(tiny_root, tmp_path, capsys):
    from fastvid.train.cli import main

    assert main(_argv(tiny_root, tmp_path, run="a")) == 0
    assert main(_argv(tiny_root, tmp_path, run="b")) == 0
    capsys.readouterr()
    other = tmp_path / "runs" / "a" / "checkpoints" / "last.ckpt"
    last = _error(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", str(other), run="b"), capsys)
    assert "holds an earlier run" in last
    assert main(_argv(tiny_root, tmp_path, "--epochs", "2", "--resume", str(other), run="c")) == 0  # (a new folder)
    capsys.readouterr()
    assert main(_argv(tiny_root, tmp_path, "--resume", str(other), run="d")) == 0
    assert "has finished its run already (1 epoch, 4 steps; --epochs 1): nothing to train (raise --epochs" in \
        capsys.readouterr().out


# -- one run per folder -------------------------------------------------------------------------------------------


def test_a_second_run_into_a_busy_folder_is_refused(tiny_root, tmp_path, capsys):
    import fcntl

    from fastvid.train.cli import main

    run = tmp_path / "runs" / "m"
    run.mkdir(parents=True)
    with open(run / ".lock", "a+") as held:  # (another process's run: a lock on another open file)
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("12345 on elsewhere\n")
        held.flush()
        last = _error(_argv(tiny_root, tmp_path), capsys)
    assert f"another fastvid-train run is using {run} (process 12345 on elsewhere)" in last
    assert main(_argv(tiny_root, tmp_path)) == 0  # (free again)


def test_eval_only_takes_the_model_frames_and_crop_from_a_fastvid_checkpoint(tiny_root, tmp_path, capsys):
    # without --model the evaluation built a resnet50 (the run default) and refused the weights with 266 tensor
    # names; with --model but no --crop-size it evaluated a model trained on 32 crops at 224
    from fastvid.train.cli import main

    assert main(_argv(tiny_root, tmp_path)) == 0
    weights = str(tmp_path / "runs" / "m" / "checkpoints" / "last.ckpt")
    capsys.readouterr()
    common = ["--data", str(tiny_root), "--eval-only", "--weights", weights, "--batch-size", "2", "--workers", "0",
              "--clip-duration", "0.5", "--min-short-side", "32", "--max-short-side", "40", "--val-clips-per-video", "1",
              "--accelerator", "cpu", "--devices", "1", "--output-dir", str(tmp_path / "runs"), "--no-progress"]
    assert main(common) == 0
    out = capsys.readouterr().out
    assert "evaluating with the checkpoint's --model resnet_small, --frames 4, --crop-size 32" in out, out
    assert (tmp_path / "runs" / "resnet_small-eval" / "eval_summary.json").is_file()
    last = _error(common + ["--crop-size", "40"], capsys)
    assert f"argument --crop-size: the checkpoint {weights} was trained with --crop-size 32, not 40" in last
    # --model given: the frames and crop still come from the checkpoint; another model is refused
    assert main(common + ["--model", "resnet_small"]) == 0
    assert "evaluating with the checkpoint's --frames 4, --crop-size 32" in capsys.readouterr().out
    last = _error(common + ["--model", "resnet50"], capsys)
    assert "argument --model: the checkpoint" in last
    # its 4 frames from a 0.3 s clip of 10 fps videos (3 frames): the evaluation says its clips repeat frames
    shorter = [a if a != "0.5" else "0.3" for a in common]
    assert main(shorter) == 0
    assert "warning: --frames 4 is more than the 3 frames a 0.3 s clip (--clip-duration) holds at 10 fps" in \
        capsys.readouterr().out


def test_a_stalled_worker_stops_the_run_after_the_loader_timeout(tiny_root, tmp_path):
    # a read that never returns (a hung network file system) hung the run forever, with no message
    script = textwrap.dedent(f"""
        import os, pathlib, sys, time
        from fastvid.data.labeled_video_dataset import LabeledVideoMapDataset
        from fastvid.train import VideoClassificationModule
        from fastvid.train.cli import main
        get = LabeledVideoMapDataset.__getitem__
        def stalled(self, index):
            import torch.utils.data
            info = torch.utils.data.get_worker_info()
            if info is not None and os.path.exists({str(tmp_path / "stall")!r}):
                time.sleep(3600)
            return get(self, index)
        LabeledVideoMapDataset.__getitem__ = stalled
        start = VideoClassificationModule.on_train_epoch_start
        def on_train_epoch_start(self):
            if self.current_epoch == 1:  # (read by the workers, which hold their own copy of the dataset)
                pathlib.Path({str(tmp_path / "stall")!r}).touch()
            return start(self)
        VideoClassificationModule.on_train_epoch_start = on_train_epoch_start
        sys.exit(main({_argv(tiny_root, tmp_path, "--epochs", "3", "--workers", "1", "--loader-timeout", "5")!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert ("stopped by the DataLoader: no batch came from its workers within --loader-timeout (DataLoader timed out "
            "after 5.0 seconds) in epoch") in proc.stderr
    assert "continue with: fastvid-train " in proc.stderr


# -- from a mutation-testing review: behaviour no test pinned down


def test_the_continue_command_of_a_resumed_run_has_one_resume():
    from fastvid.train.cli import _resume_command

    assert _resume_command(["--data", "d", "--resume", "last", "--epochs", "3"]) == \
        "fastvid-train --data d --epochs 3 --resume last"
    assert _resume_command(["--data", "d", "--resume=runs/x.ckpt", "--overwrite"]) == "fastvid-train --data d --resume last"


def test_an_error_in_training_is_raised_not_taken_for_an_interruption(tiny_root, tmp_path, monkeypatch):
    from fastvid.train import VideoClassificationModule
    from fastvid.train.cli import main

    def boom(self, batch, batch_idx):
        raise ValueError("boom in training_step")

    monkeypatch.setattr(VideoClassificationModule, "training_step", boom)
    with pytest.raises(ValueError, match="boom"):
        main(_argv(tiny_root, tmp_path))


def test_the_loader_timeout_is_on_by_default():
    from fastvid.train.cli import parse_args

    assert parse_args(["--data", "x"]).loader_timeout == 600.0


def _stopped_then_resumed(tiny_root, tmp_path, monkeypatch, first: list, resumed: list) -> list[str]:
    """The schedule warnings of a run started with ``first``, stopped in epoch 1, resumed with ``resumed``."""
    _stop_in_epoch_1(monkeypatch)
    monkeypatch.setenv("_FASTVID_TEST_STOP", "1")
    assert _schedule_warnings(_argv(tiny_root, tmp_path, *first))[0] == 143
    monkeypatch.setenv("_FASTVID_TEST_STOP", "0")
    status, said = _schedule_warnings(_argv(tiny_root, tmp_path, *resumed, "--resume", "last"))
    assert status == 0
    return said


def test_a_resume_with_another_warmup_warns(tiny_root, tmp_path, monkeypatch):
    said = _stopped_then_resumed(tiny_root, tmp_path, monkeypatch, ["--epochs", "3", "--warmup-epochs", "1"],
                                 ["--epochs", "3", "--warmup-epochs", "2"])
    assert len(said) == 1, said


def test_the_schedule_warning_gives_the_checkpoints_lr_past_warmup(tiny_root, tmp_path, monkeypatch):
    from fastvid.train.module import warmup_cosine

    said = _stopped_then_resumed(tiny_root, tmp_path, monkeypatch, ["--epochs", "3", "--warmup-epochs", "0.5"],
                                 ["--epochs", "6", "--warmup-epochs", "0.5"])
    assert len(said) == 1, said
    old = 0.01 * warmup_cosine(4, total_steps=12, warmup_steps=2, final_ratio=0.0)
    new = 0.01 * warmup_cosine(4, total_steps=24, warmup_steps=2, final_ratio=0.0)
    assert f"the learning rate is {new:.6g} where the checkpoint's schedule gives {old:.6g}" in said[0], said
