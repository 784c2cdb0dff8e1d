"""``fastvid-train``: train a video classifier on Kinetics-style data, or run the built-in demo.

    fastvid-train --demo                                   # no data needed: CPU, a few minutes
    fastvid-train --data /data/kinetics400 --model resnet50 --epochs 30 --batch-size 16 --workers 8
    fastvid-train --train train.csv --val val.csv --devices 4 --strategy ddp --gpu-augment
    fastvid-train --config run.yaml --resume last
    fastvid-train --data /data/ucf101 --model slow_r50 --weights pytorchvideo --epochs 8   # fine-tune K400 weights
    fastvid-train --val /data/k400/val.csv --model slow_r50 --weights pytorchvideo --eval-only

``--data`` is a root holding ``train.csv``/``val.csv`` (``<path> <label>`` lines) or ``train/``/``val/``
class folders; ``--train``/``--val`` name each split (a CSV or a class-folder tree). Every option can
also come from ``--config`` (YAML or JSON, keys as the option names with underscores); flags given on
the command line win. See docs/TRAINING.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

__all__ = ["main", "build_parser", "DEMO_DEFAULTS", "RUN_DEFAULTS"]

# Defaults of a real run (Kinetics, 3D ResNet-50) and of the demo (synthetic motion set, small ResNet on CPU).
RUN_DEFAULTS = dict(
    model="resnet50", epochs=30, batch_size=8, workers=None, clip_duration=2.0, frames=8, crop_size=224,
    min_short_side=256, max_short_side=320, val_short_side=None, val_clips_per_video=10, val_crops=3,
    warmup_epochs=2.0, weight_decay=1e-4, hflip=0.5, dropout=None, output_dir="runs",
)
DEMO_DEFAULTS = dict(
    model="resnet_small", epochs=12, batch_size=8, workers=2, clip_duration=1.0, frames=8, crop_size=64,
    min_short_side=64, max_short_side=80, val_short_side=None, val_clips_per_video=2, val_crops=3,
    warmup_epochs=1.0, weight_decay=1e-4, hflip=0.5, dropout=None, lr=0.02, accelerator="cpu", devices=1,
    precision="32-true", output_dir="runs",
)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" only where it tells something: not for a default of None, False (an off
    flag) or "", nor where the help already states the default."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if default is None or default is False or (isinstance(default, str) and default == "") or "default" in text:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    from fastvid.models import list_models

    p = argparse.ArgumentParser(
        prog="fastvid-train",
        usage="%(prog)s [options]   (every option: fastvid-train --help)",
        description="Train a video classifier (3D ResNet by default) with fastvid's data pipeline and Lightning. "
        "With no data (or --demo) it generates a small synthetic motion dataset and trains on the CPU.",
        formatter_class=_HelpFormatter,
    )
    d = p.add_argument_group("data")
    d.add_argument("--demo", action="store_true", help="generate the synthetic motion set and train on it (the default without data)")
    d.add_argument("--data", help="dataset root holding train.csv/val.csv or train/ and val/ class folders")
    d.add_argument("--train", help="training split: CSV of '<path> <label>' or a class-folder tree")
    d.add_argument("--val", help="validation split (CSV or class folders)")
    d.add_argument("--video-path-prefix", default="", help="prepended to the paths in the CSVs (not to the videos of class folders)")
    d.add_argument("--num-classes", type=int, help="default: the training split's number of class folders, or 1 + the "
                   "largest label of its CSV")
    d.add_argument("--clip-duration", type=float, help="seconds per clip (run: 2.0, demo: 1.0)")
    d.add_argument("--frames", type=int, help="frames kept per clip, uniformly (8)")
    d.add_argument("--crop-size", type=int, help="training/validation crop (run: 224, demo: 64)")
    d.add_argument("--min-short-side", type=int, help="random short-side scale, low end (run: 256, demo: 64)")
    d.add_argument("--max-short-side", type=int, help="random short-side scale, high end (run: 320, demo: 80)")
    d.add_argument("--val-short-side", type=int, help="validation short side (default: --min-short-side)")
    d.add_argument("--hflip", type=float, help="horizontal flip probability (0.5)")
    d.add_argument("--val-clips-per-video", type=int, help="validation clips per video (run: 10, demo: 2)")
    d.add_argument("--val-crops", type=int, choices=(1, 3), help="validation crops per clip: 3 (UniformCropVideo) or 1 (center)")
    d.add_argument("--batch-size", type=int, help="clips per batch per device (8)")
    d.add_argument("--val-batch-size", type=int, help="validation clips per batch per device (default: --batch-size); a "
                   "multiple of --val-clips-per-video x --val-crops (30) has each worker decode a video's windows in "
                   "shared passes (faster validation: docs/TRAINING.md)")
    d.add_argument("--workers", type=int, help="DataLoader workers per device (run on GPUs: the CPUs this process may "
                   "use per device on this machine, minus one, from 2 to 16; run on the CPU: 4; demo: 2)")
    d.add_argument("--gpu-augment", action="store_true", help="workers only decode; scale/crop/flip/normalize run on the GPU in one launch")
    m = p.add_argument_group("model and optimization")
    m.add_argument("--model", metavar="NAME", choices=list_models(),
                   help=f"one of {', '.join(list_models())} (run: resnet50, demo: resnet_small)")
    m.add_argument("--weights", metavar="PATH|URL|pytorchvideo",
                   help="initialize the model from a checkpoint to fine-tune: a file (PyTorchVideo .pyth, state dict, "
                   "fastvid-train .ckpt), a URL, or 'pytorchvideo' (PyTorchVideo's Kinetics-400 checkpoint for "
                   "--model); the output layer starts fresh when the class count differs")
    m.add_argument("--eval-only", action="store_true",
                   help="validate the --weights model once (clip and video level) and stop: no training; on --val "
                   "(alone), a --data root's val split, or with no data the demo's; the class count is the checkpoint's; results in "
                   "OUTPUT_DIR/RUN_NAME/eval_summary.json (RUN_NAME default: the model name + '-eval'; demo-eval on the demo set)")
    m.add_argument("--dropout", type=float, help="head dropout (model default)")
    m.add_argument("--epochs", type=int, help="training epochs (run: 30, demo: 12)")
    m.add_argument("--lr", type=float, help="peak learning rate (default: 0.1 x global batch / 64; demo: 0.02)")
    m.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd", help="SGD (Nesterov) or AdamW")
    m.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    m.add_argument("--weight-decay", type=float, help="on every weight of 2 or more dimensions (conv/linear weights, a transformer's position "
                   "embeddings), none on norms and biases (1e-4)")
    m.add_argument("--warmup-epochs", type=float, help="linear warmup before the cosine decay (run: 2, demo: 1)")
    m.add_argument("--label-smoothing", type=float, default=0.0, help="cross-entropy label smoothing")
    m.add_argument("--mixup", action="store_true", help="MixUp/CutMix (fastvid.transforms.MixVideo) on training batches")
    t = p.add_argument_group("hardware and run")
    t.add_argument("--accelerator", help="auto|cpu|gpu (demo: cpu)")
    t.add_argument("--devices", help="number of devices, or 'auto'")
    t.add_argument("--num-nodes", type=int, default=1, help="machines (Lightning's num_nodes)")
    t.add_argument("--strategy", default="auto", help="auto|ddp|ddp_spawn|...")
    t.add_argument("--precision", help="default: bf16-mixed on GPU, 32-true on CPU (demo: 32-true)")
    t.add_argument("--seed", type=int, default=0, help="seeds torch, numpy, Python and the workers")
    t.add_argument("--resume", help="checkpoint to resume from, or 'last' (this run's last.ckpt)")
    t.add_argument("--overwrite", action="store_true",
                   help="train in a RUN_DIR that holds an earlier run: delete its checkpoints, summary.json and "
                   "curves.png first (its logs stay, beside the new version); without it such a RUN_DIR is refused "
                   "unless --resume (the demo replaces its own runs/demo without it)")
    t.add_argument("--output-dir", help="runs are written to OUTPUT_DIR/RUN_NAME (runs)")
    t.add_argument("--run-name", help="default: 'demo' for the demo, else the model name ('-eval' added for --eval-only)")
    t.add_argument("--val-every", type=int, default=1, help="validate every N epochs")
    t.add_argument("--max-steps", type=int, default=-1, help="stop after this many optimizer steps (-1: epochs decide)")
    t.add_argument("--limit-train-batches", type=_limit_arg, metavar="N|FRACTION",
                   help="training batches per epoch: an integer is a count (2), a number with a decimal point a "
                   "fraction of the epoch in (0, 1] (0.25, 1.0)")
    t.add_argument("--limit-val-batches", type=_limit_arg, metavar="N|FRACTION",
                   help="validation batches: a count (2) or a fraction in (0, 1] (0.25); 0 skips validation")
    t.add_argument("--cache-dir", help="where the demo set is written (default: $FASTVID_CACHE, else $XDG_CACHE_HOME/fastvid, else ~/.cache/fastvid)")
    t.add_argument("--log-every", type=int, metavar="N",
                   help="log the training loss and learning rate every N steps (default: 20 on a GPU, else 1); each "
                   "logged step reads the loss on the host, which waits for the device")
    t.add_argument("--no-progress", action="store_true", help="no progress bar (it is redrawn at most twice a second)")
    t.add_argument("--no-plot", action="store_true", help="do not write the loss/accuracy PNG")
    t.add_argument("--loader-timeout", type=float, default=600.0, metavar="SECONDS",
                   help="stop the run when no batch comes from the DataLoader workers for this long (a read stalled "
                   "on a hung network file system); 0 waits forever")
    t.add_argument("--config", help="YAML or JSON file of option values (flags given on the command line win)")
    return p


def default_workers(devices_here: int) -> int:
    """DataLoader workers per device for a run on GPUs: the CPUs this process may use, shared by the devices on this
    machine, one of each share left to its training process; at least 2, at most 16. A SLURM task bound to its own
    CPUs (srun --cpus-per-task, one task per device: its affinity is no more than SLURM_CPUS_PER_TASK) has them to
    itself."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        cpus = os.cpu_count() or 1
    per_task = os.environ.get("SLURM_CPUS_PER_TASK", "")
    share = cpus if per_task.isdigit() and cpus <= int(per_task) else cpus // max(devices_here, 1)
    return max(2, min(16, share - 1))


def _load_config(parser: argparse.ArgumentParser, path: str) -> dict:
    if not os.path.isfile(path):
        parser.error(f"argument --config: {path} not found")
    text = Path(path).read_text()
    yaml_file = path.endswith((".yaml", ".yml"))
    if yaml_file:
        import yaml
    try:
        data = (yaml.safe_load(text) or {}) if yaml_file else json.loads(text)
    except (ValueError, yaml.YAMLError if yaml_file else ValueError) as e:  # a one-line message, not a traceback
        parser.error(f"argument --config: {path} could not be parsed: {' '.join(str(e).split())}")
    if not isinstance(data, dict):
        parser.error(f"argument --config: {path} must hold a mapping of option names to values, got {type(data).__name__}")
    return {k.replace("-", "_"): v for k, v in data.items()}


# Allowed values of the numeric options (None is always allowed: "not given"), checked after the config
# file and the defaults are applied, so values from --config are checked too.
_INT_AT_LEAST = dict(num_classes=1, frames=1, crop_size=1, min_short_side=1, max_short_side=1, val_short_side=1,
                     val_clips_per_video=1, batch_size=1, val_batch_size=1, workers=0, epochs=1, num_nodes=1, val_every=1, log_every=1)
_FLOAT_RANGES = dict(  # name: (low, low included, high, high included, in words)
    clip_duration=(0.0, False, math.inf, False, "a number of seconds > 0"),
    loader_timeout=(0.0, True, math.inf, False, "a number of seconds >= 0 (0: wait forever)"),
    hflip=(0.0, True, 1.0, True, "a probability in [0, 1]"),
    lr=(0.0, False, math.inf, False, "a number > 0"),
    momentum=(0.0, True, 1.0, False, "a number in [0, 1)"),
    weight_decay=(0.0, True, math.inf, False, "a number >= 0"),
    warmup_epochs=(0.0, True, math.inf, False, "a number >= 0"),
    label_smoothing=(0.0, True, 1.0, False, "a number in [0, 1)"),
    dropout=(0.0, True, 1.0, False, "a probability in [0, 1)"),
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """parser.error (one line, exit status 2) for a value out of its range, naming the option."""
    from fastvid.models import list_models

    def bad(name, expected):
        parser.error(f"argument {_flag(name)}: expected {expected}, got {getattr(args, name)!r}")

    for name, low in _INT_AT_LEAST.items():
        v = getattr(args, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < low):
            bad(name, f"an integer >= {low}")
    for name, (low, low_in, high, high_in, words) in _FLOAT_RANGES.items():
        v = getattr(args, name)
        if v is None:
            continue
        number = not isinstance(v, bool) and isinstance(v, (int, float)) and not math.isnan(v)
        if not (number and (low <= v if low_in else low < v) and (v <= high if high_in else v < high)):
            bad(name, words)
    if isinstance(args.max_steps, bool) or not isinstance(args.max_steps, int) or not (args.max_steps == -1 or args.max_steps >= 1):
        bad("max_steps", "-1 (the epochs decide) or an integer >= 1")
    for name in ("limit_train_batches", "limit_val_batches"):
        v = getattr(args, name)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            bad(name, "a count (an integer) or a fraction (a number with a decimal point)")
        if isinstance(v, int) and v < 0:
            bad(name, "a count >= 0")
        if isinstance(v, float) and not 0.0 < v <= 1.0:
            bad(name, "a fraction of the epoch in (0, 1] (a number with a decimal point; write an integer for a count)")
    if args.val_crops not in (1, 3):
        bad("val_crops", "1 (center crop) or 3 (UniformCropVideo)")
    if args.model not in list_models():
        bad("model", f"one of {', '.join(list_models())}")
    if args.min_short_side > args.max_short_side:
        parser.error(f"argument --min-short-side: {args.min_short_side} is larger than --max-short-side {args.max_short_side}")
    for name in ("min_short_side", "val_short_side"):
        if args.crop_size > getattr(args, name):
            parser.error(f"argument --crop-size: {args.crop_size} is larger than {_flag(name)} {getattr(args, name)}: "
                         "the crop must fit in the scaled frame")


def parse_args(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The options, with the run or demo defaults filled in. Values out of range and options that do not go
    together end in ``parser.error`` (one ``fastvid-train: error: ...`` line, exit status 2); the files are
    checked by :func:`main` (see :func:`check_inputs`)."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    if args.config:
        config = _load_config(parser, args.config)
        known = {a.dest for a in parser._actions}
        unknown = sorted(set(config) - known)
        if unknown:
            parser.error(f"--config {args.config}: unknown option(s) {', '.join(unknown)}")
        parser.set_defaults(**config)
        args = parser.parse_args(argv)
    given = [_flag(k) for k in ("data", "train", "val") if getattr(args, k)]
    if args.demo and given:
        parser.error(f"argument --demo: the demo trains on its generated set; it takes no {' / '.join(given)}")
    if args.data and args.train:
        parser.error("argument --train: give either --data ROOT (train.csv / train/ inside) or --train, not both")
    if args.val and not (args.data or args.train or args.eval_only):
        parser.error("argument --val: a validation split needs a training split: give --train (or --data) too "
                     "(or --eval-only to validate a checkpoint)")
    args.demo = bool(args.demo or not (args.data or args.train or args.val))
    if args.eval_only:
        _take_checkpoint_settings(parser, args)
    defaults = DEMO_DEFAULTS if args.demo else RUN_DEFAULTS
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.val_short_side is None:
        args.val_short_side = args.min_short_side
    _check_values(parser, args)
    return args


# fastvid-train's options that a checkpoint's module records (option: hyperparameter)
_CHECKPOINT_SETTINGS = {"model": "model", "frames": "num_frames", "crop_size": "crop_size"}


def _take_checkpoint_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--eval-only of a fastvid-train checkpoint: the model, frames and crop size it was trained with, where the
    command gives none (a value given that differs is an error: the weights would not fit, or the clips would not be
    those it learned on). Other files (PyTorchVideo's, plain state dicts, URLs) are left to --weights' loading."""
    if not args.weights or not os.path.isfile(args.weights):
        return
    import torch

    try:
        # weights_only=True, as --weights files are read (a pickle's code is not run; such a file is refused later)
        checkpoint = torch.load(args.weights, map_location="cpu", mmap=True, weights_only=True)
        hparams = dict(checkpoint.get("hyper_parameters") or {})
    except Exception:  # (not a Lightning checkpoint, unreadable or unsafe: --weights' own loading says what is wrong)
        return
    if not isinstance(hparams.get("model"), str):
        return  # (a module built on an nn.Module, not a model name)
    args.checkpoint_settings = []
    for option, key in _CHECKPOINT_SETTINGS.items():
        if key not in hparams:
            continue
        given = getattr(args, option)
        if given is None:
            setattr(args, option, hparams[key])
            args.checkpoint_settings.append(f"{_flag(option)} {hparams[key]}")
        elif given != hparams[key]:
            parser.error(f"argument {_flag(option)}: the checkpoint {args.weights} was trained with {_flag(option)} "
                         f"{hparams[key]}, not {given} (--eval-only takes its model, frames and crop size when they are "
                         "not given)")


def _limit_arg(text: str) -> int | float:
    """A batch limit as written: "2" is a count of batches (an int), "0.25" or "1.0" a fraction of them (a
    float; its range is checked with the other values)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (an integer) or a fraction (a number with a decimal point), got {text!r}"
        ) from None


def _check_first_video(csv_path: str, prefix: str, option: str) -> str | None:
    """An error message when none of the first videos of ``csv_path`` (:data:`CSV_CHECK_VIDEOS`) is where the dataset
    will look for it (``os.path.join(prefix, path)``), naming the prefix to pass when they sit relative to the CSV's
    folder."""
    from fastvid.data.labeled_video_paths import read_path_label_lines

    try:
        lines = read_path_label_lines(csv_path)
    except (OSError, ValueError) as e:
        return f"argument {option}: {e}"
    if not lines:
        return f"argument {option}: {csv_path} holds no videos"
    from fastvid.data.labeled_video_paths import CSV_CHECK_VIDEOS, csv_prefix_problem

    lineno, video, _ = lines[0]
    first = [v for _, v, _ in lines[:CSV_CHECK_VIDEOS]]
    if any(os.path.exists(os.path.join(prefix, v)) for v in first):
        return None  # (a missing video among them is the dataset's to skip and report)
    problem = csv_prefix_problem(csv_path, first, prefix, command_line=True)
    if problem is not None:
        return f"argument {option}: {problem}"
    return (f"argument {option}: none of the first {len(first)} videos of {csv_path} was found (line {lineno}: "
            f"{os.path.join(prefix, video)})")


def _first_video(split: str, prefix: str) -> str | None:
    """The first video of a split (a CSV: the first of its first :data:`CSV_CHECK_VIDEOS` that exists; a class-folder
    tree: the first video the dataset lists), or None."""
    from fastvid.data.labeled_video_paths import CSV_CHECK_VIDEOS, first_class_folder_video, read_path_label_lines

    try:
        if os.path.isdir(split):
            return first_class_folder_video(split)
        for _, video, _ in read_path_label_lines(split)[:CSV_CHECK_VIDEOS]:
            if os.path.isfile(os.path.join(prefix, video)):
                return os.path.join(prefix, video)
    except (OSError, ValueError):
        pass
    return None


def clip_frames_warning(split: str, prefix: str, frames: int, clip_duration: float) -> str | None:
    """A warning when ``frames`` is more than a ``clip_duration`` clip of the split's first video holds at its frame
    rate: UniformTemporalSubsample then repeats frames (as in PyTorchVideo), which a run does not otherwise show."""
    video = _first_video(split, prefix)
    if video is None:
        return None
    try:
        import av

        from fastvid.data.encoded_video import video_stream

        with av.open(video, metadata_errors="ignore") as c:
            stream = video_stream(c)
            rate = stream.average_rate or stream.guessed_rate if stream is not None else None
    except Exception:  # (an unreadable first video is the dataset's to skip and report)
        return None
    if not rate or float(rate) <= 0:
        return None
    fps = float(rate)
    held = clip_duration * fps  # a clip holds floor(held) or ceil(held) frames, as its window falls
    if frames <= math.ceil(held - 1e-6):
        return None  # (at most some clips, by one frame: 64 frames of 2.1333 s at 29.97 fps)
    return (f"--frames {frames} is more than the {math.ceil(held - 1e-6)} frames a {clip_duration:g} s clip "
            f"(--clip-duration) holds at {fps:g} fps (the frame rate of {video}, the split's first video): its clips "
            f"repeat frames, as in PyTorchVideo; a --clip-duration of {math.ceil(frames / fps * 100) / 100:g} s or "
            "more, or fewer --frames, gives each kept frame its own")


def check_inputs(args: argparse.Namespace) -> str | None:
    """The first problem with the files a (non-demo) run reads, as an error message, or None: a missing
    --data / --train / --val / --resume path."""
    if not args.demo:
        for name in ("data", "train", "val"):
            path = getattr(args, name)
            if path and not os.path.exists(path):
                return f"argument {_flag(name)}: {path} not found"
    if args.resume and args.resume != "last" and not os.path.isfile(args.resume):
        return f"argument --resume: no checkpoint at {args.resume}"
    if args.eval_only and not args.weights:
        return ("argument --eval-only: give the checkpoint to evaluate with --weights (a fastvid-train .ckpt, a "
                "PyTorchVideo .pyth, a state dict, or 'pytorchvideo')")
    if args.eval_only and args.limit_val_batches == 0:
        return "argument --limit-val-batches: 0 skips validation, which is all --eval-only does"
    if args.weights:
        from fastvid.models.weights import PYTORCHVIDEO_CHECKPOINTS

        if args.resume:
            return ("argument --weights: not with --resume (--resume restores a whole run, weights included; "
                    "--weights starts a new one from a checkpoint's weights)")
        if args.weights == "pytorchvideo":
            if args.model not in PYTORCHVIDEO_CHECKPOINTS:
                return (f"argument --weights: PyTorchVideo publishes no checkpoint for --model {args.model}; it does "
                        f"for {', '.join(PYTORCHVIDEO_CHECKPOINTS)}")
        elif not args.weights.startswith(("http://", "https://", "file://")) and not os.path.isfile(args.weights):
            return f"argument --weights: no checkpoint file at {args.weights}"
    return None


def check_model(args: argparse.Namespace) -> str | None:
    """The model's own objection to the clip size (e.g. mvit_v2_s takes 16x224x224 only, c2d_r50 at least 2
    frames), as an error message, or None: the model is built and run on the meta device (no memory, no
    weights, no arithmetic) before any data is read."""
    import torch

    from fastvid.models import create_model

    clip = (1, 3, args.frames, args.crop_size, args.crop_size)
    try:
        with torch.device("meta"):
            model = create_model(args.model, num_classes=2, num_frames=args.frames, crop_size=args.crop_size)
            # (eval mode: in training mode a batch of one with a 1x1x1 feature map trips BatchNorm's check for
            # more than one value per channel, which real batches pass)
            model.eval()(torch.empty(clip))
    except ValueError as e:
        return f"argument --model: {' '.join(str(e).split())}"
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return (f"argument --model: {args.model} cannot take {args.frames}x{args.crop_size}x{args.crop_size} clips "
                f"(--frames, --crop-size): {first}")
    return None


def check_split_csvs(args: argparse.Namespace, train_path: str | None, val_path: str | None) -> str | None:
    """One of the first videos of each split CSV must exist where the dataset will look for it (see
    :func:`_check_first_video`); class-folder splits need no check."""
    for path, option in ((train_path, "--train" if args.train else "--data"), (val_path, "--val" if args.val else "--data")):
        if path is not None and os.path.isfile(path):
            problem = _check_first_video(path, args.video_path_prefix or "", option)
            if problem:
                return problem
    return None


def _checkpoint_classes(args: argparse.Namespace, state: dict, parser: argparse.ArgumentParser) -> int:
    """The number of classes of the checkpoint's output layer (the layer fastvid.models.weights.output_layer
    finds in the model built on the meta device)."""
    import torch

    from fastvid.models import create_model
    from fastvid.models.weights import fit_prefixes, output_layer

    with torch.device("meta"):
        model = create_model(args.model, num_classes=2, num_frames=args.frames, crop_size=args.crop_size)
    state = fit_prefixes(state, model.state_dict())
    key = f"{output_layer(model)}.weight"
    if key not in state:
        parser.error(f"argument --weights: the checkpoint has no {key} ({args.model}'s output layer): is it a "
                     f"checkpoint of --model {args.model}?")
    return int(state[key].shape[0])


def _evaluate(args, trainer, module, datamodule, run_dir: Path, weights: str, num_classes: int, chance: float,
              started: float, csv_logger, say) -> int:
    """--eval-only: one validation pass (clip and video level) of the loaded model, printed and written to
    RUN_DIR/eval_summary.json (a training run's summary.json is never overwritten)."""
    try:
        trainer.validate(module, datamodule=datamodule, verbose=False)
    except (SystemExit, Exception) as e:
        signal_name, status = _interruption(trainer, e)
        if trainer.global_rank == 0:
            print(f"fastvid-train: the evaluation was stopped by {signal_name}; nothing was written", file=sys.stderr)
        return status
    failed = _failed_videos(datamodule, trainer)  # (every rank)
    if trainer.global_rank != 0:
        return 0
    metrics = _scalar_metrics(trainer)
    elapsed = time.perf_counter() - started
    summary = {
        "run_dir": str(run_dir),
        "wall_s": round(elapsed, 1),
        "model": args.model,
        "weights": weights,
        "num_classes": num_classes,
        "val_path": os.path.abspath(datamodule.val_path),
        "val_videos": int(metrics["val_videos"]) if "val_videos" in metrics else None,
        "views_per_video": datamodule.views_per_video(),
        "val_acc_clip": metrics.get("val_acc"),
        "val_acc5_clip": metrics.get("val_acc5"),
        "val_acc_video": metrics.get("val_video_acc"),
        "val_acc5_video": metrics.get("val_video_acc5"),
        "chance": chance,
        "metrics_csv": str(Path(csv_logger.log_dir) / "metrics.csv"),
        # the videos left out of the evaluation (they could not be read), as [index, path, reason]
        "failed_videos": failed,
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_summary(run_dir / "eval_summary.json", summary)

    print()
    print(f"fastvid-train: evaluated {args.model} ({weights}) in {_format_seconds(elapsed)} on {summary['val_videos']} "
          f"videos x {summary['views_per_video']} views")
    print(f"  val accuracy   video top-1 {_pct(summary['val_acc_video'])} (top-5 {_pct(summary['val_acc5_video'])}), "
          f"clip top-1 {_pct(summary['val_acc_clip'])} (top-5 {_pct(summary['val_acc5_clip'])}); chance {_pct(chance)}")
    _say_failed(summary["failed_videos"], run_dir / "eval_summary.json")
    print(f"  summary        {run_dir / 'eval_summary.json'}")
    return 0


# What a training run writes into RUN_DIR besides its logs (which Lightning versions: logs/version_N) and
# its checkpoints/*.ckpt.
_RUN_FILES = ("summary.json", "curves.png")


def _earlier_run(run_dir: Path) -> list[str]:
    """The outputs of an earlier training run in ``run_dir``: its checkpoint files, summary and plot."""
    found = [name for name in _RUN_FILES if (run_dir / name).is_file()]
    ckpts = sorted((run_dir / "checkpoints").glob("*.ckpt")) if (run_dir / "checkpoints").is_dir() else []
    return ([f"checkpoints/{ckpts[0].name}" + (f" and {len(ckpts) - 1} more" if len(ckpts) > 1 else "")] if ckpts
            else []) + found


def _remove_earlier_run(run_dir: Path) -> None:
    """Deletes what :func:`_earlier_run` lists (the checkpoint files only, not other files in checkpoints/)."""
    ckpt_dir = run_dir / "checkpoints"
    if ckpt_dir.is_dir():
        for f in ckpt_dir.glob("*.ckpt"):
            f.unlink()
    for name in _RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)


def _failed_videos(datamodule, trainer) -> dict[str, list]:
    """The videos (and clips) each split's dataset skipped, as ``[index, path, reason]`` rows, over every rank
    (each rank's datasets record their own: gathered here, a collective every rank calls)."""
    out = {}
    for split, dataset in (("train", datamodule.train_dataset), ("val", datamodule.val_dataset)):
        failures = getattr(dataset, "failures", None) if dataset is not None else None
        if failures:
            out[split] = [list(f) for f in failures]
    if trainer.world_size > 1:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            parts = [None] * dist.get_world_size()
            dist.all_gather_object(parts, out)
            out = {}
            for part in parts:
                for split, rows in (part or {}).items():
                    known = out.setdefault(split, [])
                    known.extend(row for row in rows if row not in known)
    return out


def _say_failed(failed: dict[str, list], path: Path) -> None:
    """One line: how many videos each split skipped (a video may be listed once per failed clip window)."""
    if failed:
        videos = {split: len({row[0] for row in rows}) for split, rows in failed.items()}
        counts = ", ".join(f"{split} {n}" for split, n in videos.items())
        print(f"  failed videos  {sum(videos.values())} skipped ({counts}): listed in {path}")


def _pct(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _scalar_metrics(trainer) -> dict[str, float]:
    """The trainer's logged scalars (the last value of each), as floats."""
    return {k: float(v) for k, v in trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1}


def _format_seconds(s: float) -> str:
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def _json_safe(value):
    """``value`` with every non-finite float as None (JSON has no NaN: ``json.dumps`` would write a bare NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


# The module's hyperparameters a resumed run must keep (the checkpoint's weights or optimizer state would not fit,
# or would fit another model), and those the restored optimizer state overrides (the checkpoint's values are used).
_RESUME_FIXED = ("model", "num_classes", "num_frames", "crop_size", "optimizer")
_RESUME_RESTORED = ("lr", "momentum", "weight_decay")


def _checkpoint_progress(path: str) -> dict:
    """What a Lightning checkpoint says about its run: finished epochs, global step, the module's hyperparameters.
    Reads the file memory-mapped (the tensors are not read); raises OSError / RuntimeError for an unreadable file."""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", mmap=True, weights_only=False)
    except RuntimeError:  # (not the zip format mmap needs: read it whole)
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict) or "global_step" not in ckpt:
        raise RuntimeError("not a Lightning training checkpoint (it has no global_step)")
    try:
        epochs = int(ckpt["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])
    except (KeyError, TypeError):
        epochs = int(ckpt.get("epoch", -1)) + 1
    return {"epochs": epochs, "global_step": int(ckpt["global_step"]), "hparams": dict(ckpt.get("hyper_parameters") or {})}


def _epochs(n: int) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{n} epoch" + ("" if n == 1 else "s")


def _write_summary(path: Path, summary: dict) -> None:
    """Writes a run's summary whole (then renamed over the old one), non-finite values as null."""
    from fastvid.train.prepare import _write_atomic

    _write_atomic(str(path), json.dumps(_json_safe(summary), indent=1, allow_nan=False))


def _interruption(trainer, exc: BaseException) -> tuple[str, int]:
    """(what stopped the run, its exit status) for Lightning's exit on Ctrl-C (status 1 after its shutdown) or on
    SIGTERM (a job scheduler's stop; a SystemExit without a code, or the error of a DataLoader worker that the same
    SIGTERM, sent to the whole process group, killed first), and for a DataLoader that timed out (--loader-timeout:
    status 1); re-raises anything else."""
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    if isinstance(exc, SystemExit) and trainer.interrupted:
        stop = ("SIGTERM", 143) if isinstance(exc, SIGTERMException) else ("Ctrl-C", 130)
    elif isinstance(exc, RuntimeError) and (getattr(trainer, "received_sigterm", False) or _sigterm_noted(trainer)):
        stop = ("SIGTERM", 143)
    elif _loader_timed_out(exc):
        stop = (f"the DataLoader: no batch came from its workers within --loader-timeout ({exc})", 1)
    else:
        raise exc
    _quiet_dead_workers()
    return stop


def _where_stopped(trainer) -> str:
    """"in epoch N" for a run stopped inside an epoch, "after epoch N" for one stopped once epoch N was done (a
    stop at the end of a validation under DDP; Lightning has counted the epoch by then)."""
    progress = trainer.fit_loop.epoch_progress.current
    if progress.completed > 0 and progress.started == progress.completed:
        return f"after epoch {progress.completed - 1}"
    return f"in epoch {trainer.current_epoch}"


def _sigterm_noted(trainer) -> bool:
    """Whether a :class:`~fastvid.train.callbacks.SynchronizedSigterm` of the trainer's (under DDP: it takes over
    Lightning's SIGTERM handler) noted a SIGTERM that has not stopped the run yet."""
    from fastvid.train.callbacks import SynchronizedSigterm

    return any(isinstance(cb, SynchronizedSigterm) and cb.pending for cb in trainer.callbacks)


def _loader_timed_out(exc: BaseException) -> bool:
    """True for the error a DataLoader raises when no batch came from its workers within its timeout."""
    return isinstance(exc, RuntimeError) and str(exc).startswith("DataLoader timed out after")


def _quiet_dead_workers() -> None:
    """After a stop by a signal that the DataLoader workers got too: the DataLoader's SIGCHLD handler would report
    each one's death ("DataLoader worker ... is killed by signal: Terminated", a traceback as the process exits)."""
    import signal

    if hasattr(signal, "SIGCHLD"):
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def _resume_command(argv: list[str]) -> str:
    """The command line that continues this run: its own arguments with ``--resume last`` (less ``--overwrite``, which
    has nothing to do in a resumed run)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--resume":
            skip = True
        elif not (arg.startswith("--resume=") or arg == "--overwrite"):
            kept.append(arg)
    command = shlex.join(["fastvid-train", *kept, "--resume", "last"])
    launcher = _launcher(os.environ)
    return command + (f" (started the way this run was: under {launcher})" if launcher else "")


def _launcher(environ) -> str | None:
    """The launcher that started this process for DDP, as its environment tells (torchrun, SLURM's srun), or None:
    the continue command is given without it, so the message says to use it."""
    if environ.get("TORCHELASTIC_RUN_ID"):
        return "torchrun, with its own arguments"
    tasks = environ.get("SLURM_STEP_NUM_TASKS") or environ.get("SLURM_NTASKS") or "1"
    if environ.get("SLURM_STEP_ID") is not None and tasks.isdigit() and int(tasks) > 1:
        return "srun, with its own arguments"
    return None


def _leave_process_group(status: int) -> int:
    """Ends a DDP process group once every rank is done, and returns ``status``. Left to the interpreter's exit,
    gloo's threads could still run when the C++ runtime stopped: "terminate called without an active exception",
    an abort (seen with tasks started by SLURM's srun)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return status


def _lock_run_dir(run_dir: Path, parser: argparse.ArgumentParser):
    """An exclusive lock on RUN_DIR/.lock for the run (the system drops it when the process dies): two runs in one
    folder would share last.ckpt and summary.json. Returns the open lock file (close it to release), or None where
    the file system has no locks (a warning)."""
    try:
        import fcntl
    except ImportError:  # (not POSIX)
        return None
    run_dir.mkdir(parents=True, exist_ok=True)
    f = open(run_dir / ".lock", "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip()
        f.close()
        parser.error(f"another fastvid-train run is using {run_dir}" + (f" (process {holder})" if holder else "")
                     + "; wait for it to end, or give this run another --run-name")
    except OSError as e:  # (ENOLCK, EOPNOTSUPP: some NFS, Lustre, FUSE)
        f.close()
        print(f"fastvid-train: warning: cannot lock {run_dir} ({e.strerror or e}); start no second run in this folder "
              "until this one ends", file=sys.stderr)
        return None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()} on {os.uname().nodename}\n")
    f.flush()
    return f


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(argv, parser)
    args.command_line = list(sys.argv[1:] if argv is None else argv)  # (for the resume command an interruption prints)
    problem = check_inputs(args) or check_model(args)
    if problem:
        parser.error(problem)
    started = time.perf_counter()
    # By design the module's batch-transfer hooks run with the data module (which has none of its own): not news.
    warnings.filterwarnings("ignore", message=r"You have overridden `on_(before|after)_batch_transfer` in `LightningModule`")

    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    from fastvid.train.callbacks import SynchronizedSigterm, ThroughputMonitor, TimedProgressBar
    from fastvid.train.checkpoint_io import AtomicCheckpointIO, remove_partial_checkpoints
    from fastvid.train.data import KineticsDataModule
    from fastvid.train.module import VideoClassificationModule

    rank = int(os.environ.get("LOCAL_RANK", os.environ.get("RANK", "0")))
    say = print if rank == 0 else (lambda *a, **k: None)
    if getattr(args, "checkpoint_settings", None):
        say(f"fastvid-train: evaluating with the checkpoint's {', '.join(args.checkpoint_settings)}")

    # Absolute paths everywhere (Lightning makes the checkpoint paths absolute; the summary's other paths
    # follow, so none of them depends on the directory the summary is read from).
    # (an evaluation goes beside the training run it evaluates, never over it: <name>-eval, eval_summary.json)
    run_name = args.run_name or (("demo" if args.demo else args.model) + ("-eval" if args.eval_only else ""))
    run_dir = Path(os.path.realpath(os.path.expanduser(args.output_dir))) / run_name
    ckpt_dir = run_dir / "checkpoints"
    ckpt_path = progress = None
    if args.resume:
        ckpt_path = str(ckpt_dir / "last.ckpt") if args.resume == "last" else args.resume
        if not os.path.isfile(ckpt_path):
            parser.error(f"argument --resume: no checkpoint at {ckpt_path}")
        try:
            progress = _checkpoint_progress(ckpt_path)
        except (OSError, RuntimeError, EOFError, ValueError) as e:
            parser.error(f"argument --resume: cannot read {ckpt_path} ({' '.join(str(e).split())[:200]}); "
                         "an epoch checkpoint beside it may be intact (--resume PATH)")
    # Resuming this run's own checkpoint continues it; a checkpoint from elsewhere starts this folder afresh.
    resuming_here = ckpt_path is not None and os.path.dirname(os.path.realpath(ckpt_path)) == os.path.realpath(ckpt_dir)
    if progress is not None and (progress["epochs"] >= args.epochs or 0 < args.max_steps <= progress["global_step"]):
        say(f"fastvid-train: {ckpt_path} has finished " + ("this run" if resuming_here else "its run") + " already ("
            f"{_epochs(progress['epochs'])}, {progress['global_step']} steps; --epochs {args.epochs}"
            + (f", --max-steps {args.max_steps}" if args.max_steps > 0 else "")
            + "): nothing to train" + (", its outputs are left as they are" if resuming_here else
                                       " (raise --epochs to train it further)"))
        return 0
    earlier = [] if args.eval_only or resuming_here else _earlier_run(run_dir)
    if earlier and not (args.overwrite or args.demo and args.run_name is None):  # (the demo replaces runs/demo)
        parser.error(f"{run_dir} holds an earlier run ({', '.join(earlier)}); continue it with --resume last, start "
                     "another with --run-name NAME, or replace it with --overwrite")

    chance = None
    if args.demo:
        from fastvid.train.synthetic import CLASSES, make_motion_dataset

        root = make_motion_dataset(args.cache_dir, verbose=rank == 0)
        train_path, val_path = root / "train.csv", root / "val.csv"
        chance = 1.0 / len(CLASSES)
        say(f"fastvid demo: {len(CLASSES)} classes told apart only by motion ({', '.join(CLASSES)}); "
            f"chance is {chance:.0%}. Data: {root}")
    else:
        # With --data ROOT the data module finds train.csv / train/ and val.csv / val/ inside it.
        train_path = args.train or args.data
        val_path = args.val
    if args.eval_only:  # validation only: nothing is read from a training split
        if not args.demo and not args.val:
            from fastvid.train.data import _resolve_split

            # a --data root's val.csv / val/ (the data module's rule); --data itself is no validation split
            val_path = _resolve_split(args.data, "val") if args.data else None
            if val_path is None or val_path == os.fspath(args.data):
                parser.error("argument --eval-only: no validation split to evaluate on: give --val, or a --data root "
                             "holding val.csv or val/")
        train_path = None
    accelerator = args.accelerator or "auto"
    on_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    if args.gpu_augment and not on_gpu:
        say("fastvid-train: --gpu-augment without a GPU: the batched augmentation runs on the CPU after collation")
    precision = args.precision or ("bf16-mixed" if on_gpu else "32-true")
    log_every = args.log_every if args.log_every is not None else (20 if on_gpu else 1)
    devices = args.devices if args.devices is not None else "auto"
    if isinstance(devices, str) and devices.isdigit():
        devices = int(devices)
    listed = [d for d in devices.split(",") if d.strip()] if isinstance(devices, str) and "," in devices else None
    if listed is not None:  # device ids ("0,1"): that many devices, not all of the machine's
        n_devices = len(listed)
    else:
        n_devices = devices if isinstance(devices, int) else (torch.cuda.device_count() if on_gpu else 1)
    world = max(n_devices, 1) * args.num_nodes
    if args.workers is None:
        args.workers = default_workers(n_devices) if on_gpu else 4
    pl.seed_everything(args.seed, workers=True, verbose=False)

    try:
        datamodule = KineticsDataModule(
            train_path, val_path, video_path_prefix=args.video_path_prefix, clip_duration=args.clip_duration,
            num_frames=args.frames, batch_size=args.batch_size, val_batch_size=args.val_batch_size, num_workers=args.workers, crop_size=args.crop_size,
            min_short_side=args.min_short_side, max_short_side=args.max_short_side,
            val_short_side=args.val_short_side, hflip_p=args.hflip, val_clips_per_video=args.val_clips_per_video,
            val_crops=args.val_crops, gpu_augment=args.gpu_augment, loader_timeout=args.loader_timeout,
        )
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    if not args.demo:
        problem = check_split_csvs(args, datamodule.train_path, datamodule.val_path)
        if problem:
            parser.error(problem)
        splits = [p for p in (datamodule.train_path, datamodule.val_path) if p is not None]
        if args.video_path_prefix and not any(os.path.isfile(p) for p in splits):
            print(f"fastvid-train: warning: --video-path-prefix {args.video_path_prefix} is not used: every split is a "
                  "class-folder tree, whose videos are read where they were found (the prefix goes before CSV paths)",
                  file=sys.stderr)

    weights_source = weights = None
    if args.weights:
        from fastvid.models.weights import PYTORCHVIDEO_CHECKPOINTS, read_state_dict

        weights_source = PYTORCHVIDEO_CHECKPOINTS[args.model] if args.weights == "pytorchvideo" else args.weights
        try:
            # PyTorchVideo's hub reads its own files with weights_only=False; any other file is read with
            # weights_only=True (tensors and plain containers only).
            weights = read_state_dict(weights_source, weights_only=args.weights != "pytorchvideo", strip_prefixes=False)
        except (ValueError, OSError) as e:
            parser.error(f"argument --weights: {' '.join(str(e).split())}")
    try:
        if args.eval_only:  # the checkpoint's classes; the labels must fall among them
            num_classes = args.num_classes or _checkpoint_classes(args, weights, parser)
            if os.path.isdir(datamodule.val_path):
                from fastvid.data.labeled_video_paths import class_folder_names

                folders = class_folder_names(datamodule.val_path)
                if len(folders) != num_classes:
                    parser.error(f"argument --val: {datamodule.val_path} is labelled by its {len(folders)} sorted class "
                                 f"folders, but the model has {num_classes} classes; evaluate on a CSV with the "
                                 "checkpoint's labels")
            label_max = datamodule.max_label(datamodule.val_path)
            if label_max >= num_classes:
                parser.error(f"argument --eval-only: the validation labels go up to {label_max}, but the model has "
                             f"{num_classes} classes")
        else:
            labels_num_classes = datamodule.num_classes
            if args.num_classes is not None and args.num_classes < labels_num_classes:
                what = (f"the training split has {labels_num_classes} class folders" if os.path.isdir(datamodule.train_path)
                        else f"the training labels go up to {labels_num_classes - 1}")
                parser.error(f"argument --num-classes: {args.num_classes} is too few: {what}")
            num_classes = args.num_classes or labels_num_classes
            if os.path.isfile(datamodule.train_path):
                low = datamodule.label_range(datamodule.train_path)[0]  # (read with the class count)
                if low > 0:
                    say(f"fastvid-train: warning: the labels of {datamodule.train_path} start at {low}, not 0: "
                        + ("label 0 is a class" if low == 1 else f"labels 0-{low - 1} are classes")
                        + f" without a training video ({num_classes} classes in all, chance "
                        f"{1 / num_classes:.1%}); if the labels count from 1, subtract 1 from each")
            if datamodule.val_path is not None:
                label_max = datamodule.max_label(datamodule.val_path)
                if label_max >= num_classes:
                    parser.error(f"the labels of {datamodule.val_path} (validation) go up to {label_max}, but the training data "
                                 f"has {num_classes} classes" + ("" if args.num_classes else
                                                                " (--num-classes sets more)"))
    except (ValueError, FileNotFoundError) as e:  # a CSV line without an integer label, an empty split, ...
        parser.error(str(e))
    note = clip_frames_warning(datamodule.val_path if args.eval_only else datamodule.train_path,
                               args.video_path_prefix or "", args.frames, args.clip_duration)
    if note:
        say(f"fastvid-train: warning: {note}")
    if chance is None:
        chance = 1.0 / num_classes

    lr = args.lr if args.lr is not None else 0.1 * args.batch_size * world / 64

    has_val = datamodule.val_path is not None
    if not has_val:
        say(f"fastvid-train: no validation split (give --val, or a --data root holding val.csv or val/ beside "
            f"train.csv or train/): training {datamodule.train_path} without validation, so no accuracy is measured")
    monitor = "val_video_acc" if has_val else None
    checkpoint = ModelCheckpoint(dirpath=ckpt_dir, filename="epoch{epoch:03d}", auto_insert_metric_name=False,
                                 monitor=monitor, mode="max", save_top_k=1)
    # last.ckpt after every epoch (Lightning's save_last only writes it when the top-k checkpoint changes, which
    # left an older epoch there for --resume last)
    # (save_on_train_epoch_end: with --val-every N, Lightning would otherwise save only after a validation)
    last = ModelCheckpoint(dirpath=ckpt_dir, filename="last", monitor=None, mode="min", save_top_k=1,
                           enable_version_counter=False, save_on_train_epoch_end=True)
    throughput = ThroughputMonitor()
    callbacks = [checkpoint, last, LearningRateMonitor(logging_interval="step"), throughput, SynchronizedSigterm()]
    if not args.no_progress:
        callbacks.append(TimedProgressBar(interval=0.5))
    csv_logger = CSVLogger(save_dir=str(run_dir), name="logs")
    loggers = [csv_logger]
    try:
        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="logs", version=csv_logger.version,
                                         default_hp_metric=False))
    except ModuleNotFoundError:
        say("fastvid-train: tensorboard is not installed; writing CSV logs only")

    trainer_kwargs = dict(
        accelerator=accelerator, devices=devices, num_nodes=args.num_nodes, strategy=args.strategy,
        precision=precision, max_epochs=args.epochs, max_steps=args.max_steps, callbacks=callbacks, logger=loggers,
        check_val_every_n_epoch=args.val_every, enable_progress_bar=not args.no_progress, log_every_n_steps=log_every,
        num_sanity_val_steps=0, use_distributed_sampler=False, plugins=[AtomicCheckpointIO()],
    )
    if args.limit_train_batches is not None:
        trainer_kwargs["limit_train_batches"] = args.limit_train_batches
    if args.limit_val_batches is not None:
        trainer_kwargs["limit_val_batches"] = args.limit_val_batches
    from pytorch_lightning.utilities.exceptions import MisconfigurationException

    try:  # before the model is built: a bad --accelerator / --devices / --strategy / --precision ends here
        trainer = pl.Trainer(**trainer_kwargs)
    except (ValueError, TypeError, MisconfigurationException) as e:  # (e.g. --accelerator gpu without one)
        parser.error("Lightning rejected --accelerator / --devices / --strategy / --precision: "
                     + " ".join(str(e).split()))

    mix = None
    if args.mixup:
        from fastvid.transforms import MixVideo

        mix = MixVideo(num_classes=num_classes, label_smoothing=args.label_smoothing)
    module = VideoClassificationModule(
        args.model, num_classes=num_classes, num_frames=args.frames, crop_size=args.crop_size, lr=lr,
        optimizer=args.optimizer, momentum=args.momentum, weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs, label_smoothing=args.label_smoothing, mix=mix,
        train_gpu_transform=datamodule.train_gpu_transform, val_gpu_transform=datamodule.val_gpu_transform,
        dropout_rate=args.dropout,
    )

    if weights is not None:
        import dataclasses

        from fastvid.models.weights import load_pretrained

        try:
            loaded = dataclasses.replace(load_pretrained(module.model, weights), source=weights_source)
        except ValueError as e:
            parser.error(f"argument --weights: {' '.join(str(e).replace('the given mapping', weights_source).split())}")
        if args.eval_only and loaded.kept_at_init:
            parser.error(f"argument --num-classes: the checkpoint's output layer has {loaded.checkpoint_classes} "
                         f"classes, not {num_classes}: --eval-only evaluates it as it is")
        say(f"fastvid-train: initialized {args.model} with {loaded}")
    if args.eval_only:
        return _leave_process_group(_evaluate(args, trainer, module, datamodule, run_dir, weights_source, num_classes,
                                              chance, started, csv_logger, say))
    if ckpt_path:
        stored = progress["hparams"]
        changed = [k for k in _RESUME_FIXED if k in stored and k in module.hparams and stored[k] != module.hparams[k]]
        if changed:
            parser.error("argument --resume: the checkpoint's run has " + ", ".join(
                f"{k} {stored[k]!r}" for k in changed) + " where this command has " + ", ".join(
                f"{module.hparams[k]!r}" for k in changed) + "; resume with the run's own settings, or start a new run "
                "(--weights PATH fine-tunes from a checkpoint)")
        restored = [k for k in _RESUME_RESTORED if k in stored and stored[k] != module.hparams.get(k)]
        if restored:
            say("fastvid-train: warning: the checkpoint's optimizer state is restored with its own " + ", ".join(
                f"{k} {stored[k]:g}" for k in restored) + " (this command's " + ", ".join(
                f"{module.hparams[k]:g}" for k in restored) + " is not used)")
        say(f"fastvid-train: resuming from {ckpt_path} (after {_epochs(progress['epochs'])}, "
            f"{progress['global_step']} steps)")
    say(f"fastvid-train: {args.model} ({sum(p.numel() for p in module.parameters()) / 1e6:.2f} M parameters), "
        f"{num_classes} classes, {args.frames}x{args.crop_size}x{args.crop_size} clips of {args.clip_duration:g} s, "
        f"batch {args.batch_size} x {world} device(s)"
        + (f" (validation {args.val_batch_size})" if args.val_batch_size not in (None, args.batch_size) else "")
        + f", {args.workers} workers per device, lr {lr:g}, {precision}, {_epochs(args.epochs)} -> {run_dir}")
    # The trainer's global rank, not the environment's LOCAL_RANK / RANK: SLURM's srun sets neither (every task read
    # rank 0 and all but one were refused by the lock).
    rank = trainer.global_rank
    say = print if rank == 0 else (lambda *a, **k: None)
    run_lock = _lock_run_dir(run_dir, parser) if rank == 0 else None
    try:
        return _leave_process_group(_fit_and_report(
            args, pl, trainer, module, datamodule, ckpt_path, progress, run_dir, run_name, earlier, rank, say, checkpoint,
            throughput, csv_logger, loggers, chance, has_val, started, remove_partial_checkpoints))
    finally:
        if run_lock is not None:
            run_lock.close()


def _fit_and_report(args, pl, trainer, module, datamodule, ckpt_path, progress, run_dir: Path, run_name: str, earlier,
                    rank: int, say, checkpoint, throughput, csv_logger, loggers, chance, has_val, started,
                    remove_partial_checkpoints) -> int:
    from fastvid.train.module import TrainingDiverged

    ckpt_dir = run_dir / "checkpoints"
    if rank == 0:
        partial = remove_partial_checkpoints(ckpt_dir)
        if partial:
            say(f"fastvid-train: removed {len(partial)} partial checkpoint file(s) an interrupted save left in {ckpt_dir}")
    if earlier and rank == 0:
        say(f"fastvid-train: replacing the earlier run in {run_dir} ({', '.join(earlier)})")
        _remove_earlier_run(run_dir)
    if progress is not None:
        # A resumed run draws from the seed and the step it resumes at: re-seeded with --seed alone, each resume
        # replayed the first segment's sample order and augmentations.
        pl.seed_everything((args.seed * 1_000_003 + progress["global_step"]) % 2**32, workers=True, verbose=False)
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    except TrainingDiverged as e:
        if rank == 0:
            last_ckpt = ckpt_dir / "last.ckpt"
            print(f"fastvid-train: {e}" + (f" The last epoch saved is in {last_ckpt}." if last_ckpt.is_file() else ""),
                  file=sys.stderr)
        return 1
    except (SystemExit, Exception) as e:
        signal_name, status = _interruption(trainer, e)
        if rank == 0:
            last_ckpt = ckpt_dir / "last.ckpt"
            print(f"fastvid-train: stopped by {signal_name} {_where_stopped(trainer)}; "
                  + (f"{last_ckpt} holds the last epoch saved; continue with: "
                     f"{_resume_command(args.command_line)}" if last_ckpt.is_file()
                     else "no epoch was saved"), file=sys.stderr)
        return status

    failed = _failed_videos(datamodule, trainer)  # (every rank)
    if trainer.global_rank != 0:
        return 0
    metrics = _scalar_metrics(trainer)
    plot_path = None
    metrics_csv = Path(csv_logger.log_dir) / "metrics.csv"
    if not args.no_plot and metrics_csv.is_file():
        try:  # (the run is done: a missing matplotlib or a plotting error must not lose its summary)
            from fastvid.train.plot import plot_curves

            plot_curves(metrics_csv, run_dir / "curves.png", chance=chance,
                        title=f"fastvid-train {'demo' if args.demo else run_name}: {args.model}")
            plot_path = run_dir / "curves.png"
        except Exception as e:  # noqa: BLE001
            say(f"fastvid-train: the curves were not drawn ({type(e).__name__}: {e}); the metrics are in {metrics_csv}")
    elapsed = time.perf_counter() - started
    best = os.path.abspath(checkpoint.best_model_path) if checkpoint.best_model_path else None
    clips_per_s, wait_frac = throughput.clips_per_s, throughput.data_wait_frac
    summary = {
        "run_dir": str(run_dir),
        "wall_s": round(elapsed, 1),
        "epochs": trainer.current_epoch,
        "steps": trainer.global_step,
        "val_acc_clip": metrics.get("val_acc"),
        "val_acc5_clip": metrics.get("val_acc5"),
        "val_acc_video": metrics.get("val_video_acc"),
        "val_acc5_video": metrics.get("val_video_acc5"),
        # (the accuracies above are those of the last validation: after this many epochs; --val-every N may end
        # the run on an epoch without one)
        "val_after_epochs": None if module.last_validated_epoch is None else module.last_validated_epoch + 1,
        "best_val_acc_video": float(checkpoint.best_model_score) if checkpoint.best_model_score is not None else None,
        "chance": chance,
        "train_loss": metrics.get("train_loss_epoch"),
        # None when too few batches ran to time (the first ThroughputMonitor.skip_batches are not counted).
        "train_clips_per_s": None if clips_per_s is None else round(clips_per_s, 2),
        "train_data_wait_frac": None if wait_frac is None else round(wait_frac, 3),
        "best_checkpoint": best,
        "last_checkpoint": str(ckpt_dir / "last.ckpt"),
        "metrics_csv": str(metrics_csv),
        "tensorboard": str(Path(loggers[-1].log_dir)) if len(loggers) > 1 else None,
        "plot": str(plot_path) if plot_path else None,
        # every video (or clip window) a split's dataset skipped on any rank, as [index, path, reason]
        "failed_videos": failed,
    }
    _write_summary(run_dir / "summary.json", summary)

    print()
    print(f"fastvid-train: finished in {_format_seconds(elapsed)} ({_epochs(summary['epochs'])}, {summary['steps']} steps)")
    if has_val:
        when = summary["val_after_epochs"]
        note = f" (after epoch {when}: the last validation)" if when is not None and when != summary["epochs"] else ""
        print(f"  val accuracy   video top-1 {_pct(summary['val_acc_video'])} (top-5 {_pct(summary['val_acc5_video'])}), "
              f"clip top-1 {_pct(summary['val_acc_clip'])}; chance {_pct(chance)}{note}")
    if clips_per_s is None:
        print(f"  throughput     n/a (too few training batches to time: the first {throughput.skip_batches} "
              "are not counted)")
    else:
        print(f"  throughput     {clips_per_s:.1f} training clips/s, {wait_frac:.0%} of step time waiting for data")
    print(f"  checkpoints    {best or '(best: none)'}, last: {summary['last_checkpoint']}")
    print(f"  logs           {summary['metrics_csv']}" + (f", tensorboard: {summary['tensorboard']}" if summary["tensorboard"] else ""))
    if plot_path:
        print(f"  curves         {plot_path}")
    _say_failed(summary["failed_videos"], run_dir / "summary.json")
    print(f"  summary        {run_dir / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
