"""``fastvid-prepare``: re-encode a Kinetics-style dataset into a copy that is cheap to decode for training.

Raw Kinetics videos are often large (up to 1080p) with long GOPs (a keyframe every 250 frames or more), so reading
a random 2 s clip means decoding seconds of frames before the clip and scaling down every one of them. The copy
this tool writes has a short side of 256 (or ``--short-side``), a keyframe every ``--gop`` frames, H.264 in
yuv420p (libx264, tuned for fast decoding: no CABAC, no deblocking, and B frames that no other frame refers to, so
a read can skip the ones a clip does not keep) in MP4 with the index at the front, and no audio unless ``--audio``.

Inputs (one or more, mixed):
* a CSV file of ``path label`` lines, as PyTorchVideo's ``LabeledVideoPaths`` reads it (the label is the last
  space-separated token; paths are absolute or relative to ``--video-path-prefix``, default the current
  directory, as PyTorchVideo's ``video_path_prefix=""``);
* a folder of class folders (``train/abseiling/x.mp4``), labelled by the index of the class in sorted order, as
  PyTorchVideo does.

Outputs, under the output folder (``-o``):

* the videos, always with the ``.mp4`` extension, at the path each input gives them: a relative CSV path as
  written (``train/abseiling/x.mp4``; an absolute one below ``--video-path-prefix``: its path below the prefix),
  a folder input's videos below the folder's parent (``train/abseiling/x.mp4`` for the folder ``train``), and the
  other videos (absolute paths elsewhere, relative ones that climb out with ``..``) below the common folder of
  all such videos of the run. So splits listed with relative paths keep their own folders, whether prepared in
  one run or in several. Names that would collide (``x.mp4`` and ``x.avi``) are told apart deterministically:
  the one already named so (``x.mp4``) keeps the name, the others take their extension and then a number into
  it (``x_avi.mp4``, ``x_avi_2.mp4``), never a name another input wants;
* one CSV per input, with the input's name (``train.csv`` for ``train.csv`` or for a folder ``train``), paths
  relative to the output folder (pass it as ``video_path_prefix``) or absolute with ``--absolute-paths``;
  ``<name>_classes.txt`` for folder inputs;
* ``prepare_failures.txt`` (``path<TAB>error`` per line): the videos that could not be read, in the latest run
  that had them (the lines of videos not part of a run are kept, so preparing ``val.csv`` after ``train.csv``
  keeps the training split's failures; a video that succeeds later leaves the file);
* ``prepare_settings.json`` (the settings) and ``prepare_manifest.jsonl`` (per output: the real path, size and
  modification time of the video it was made from, and the settings).

Safety and resuming: inputs are never written. The tool refuses an output folder that is the inputs' folder,
lies inside a folder input or contains one, and any plan where a file it writes is an input or a video it
writes goes into a folder of input videos. Each video is written under a temporary name and renamed when
complete, and the manifest names its source before it is made, so a video that exists is finished and known: a
second run (after Ctrl-C or a kill) skips it (and checks it still opens) and only does what is left. An output
is reused only when the manifest says it was made from the same source (same real path, size and modification
time) with the same settings: one made from an earlier version of the source is made again; one made from
another source (two runs whose inputs give the same name, e.g. CSVs of absolute paths prepared in separate runs)
or with no record of its source (a folder made by an older fastvid-prepare) is refused with an error before
anything is written, never reused nor overwritten. Rerunning into a folder prepared with other settings is
refused, and so is a second run into a folder while one is writing to it. Unreadable videos (and paths that are
missing or not regular files) are listed in the failures file and left out of the CSVs; the exit code is 0
unless ``--strict`` is given and some failed, or none could be read (1). A CSV whose first video is not found under
``--video-path-prefix`` but is relative to the CSV's folder is refused before any work, naming the prefix to pass.

Progress goes to stderr: a bar on a terminal; otherwise (nohup, SLURM, ``2> log``) a plain line at the start,
every 30 s (:data:`PROGRESS_EVERY_S`) and at the end, with done/total, failures, rate and ETA (and, while a rerun
checks the outputs already there before making any, how many it has checked); none with ``--quiet``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import stat
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from fractions import Fraction
from typing import Iterable, Optional, Sequence

from fastvid.data import labeled_video_paths
from fastvid.data.encoded_video import video_stream
from fastvid.data.labeled_video_paths import csv_prefix_problem, read_path_label_lines
from fastvid.reference import short_side_scale_size

FAILURES_FILE = "prepare_failures.txt"
SETTINGS_FILE = "prepare_settings.json"
MANIFEST_FILE = "prepare_manifest.jsonl"
LOCK_FILE = ".prepare.lock"
TMP_SUFFIX = ".partial"


class PrepareError(ValueError):
    """A dataset or output folder that fastvid-prepare refuses to work on (the message says why)."""


# --------------------------------------------------------------------------------------------------------------
# settings


@dataclasses.dataclass(frozen=True)
class EncodeSettings:
    """How each video is re-encoded. ``threads`` is per worker and not part of what the output depends on.

    ``b_pyramid=False`` (x264's ``b-pyramid=none``) keeps every B frame out of the reference lists, so the decoder
    skips the B frames a clip does not keep instead of decoding them for the frames that refer to them (a random 2 s
    clip with 8 frames kept: about a quarter less decoding time, for files about 7 % larger). Folders prepared before the
    setting existed were made with x264's default, ``b_pyramid=True``.
    """

    short_side: int = 256
    gop: int = 16
    crf: int = 23
    preset: str = "veryfast"
    tune: Optional[str] = "fastdecode"
    b_pyramid: bool = False
    audio: bool = False
    upscale: bool = True
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    threads: int = 1

    def __post_init__(self):
        if not isinstance(self.short_side, int) or self.short_side < 2 or self.short_side % 2:
            raise ValueError(f"short_side must be an even int >= 2 (yuv420p needs even sizes), got {self.short_side!r}.")
        if not isinstance(self.gop, int) or self.gop < 1:
            raise ValueError(f"gop must be an int >= 1 (frames between keyframes), got {self.gop!r}.")
        if not isinstance(self.crf, int) or not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be an int in [0, 51] (libx264 quality, lower is better), got {self.crf!r}.")
        presets = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
        if self.preset not in presets:
            raise ValueError(f"preset must be one of {', '.join(presets)}, got {self.preset!r}.")
        tunes = (None, "film", "animation", "grain", "stillimage", "fastdecode", "zerolatency")
        if self.tune not in tunes:
            raise ValueError(f"tune must be one of {', '.join(t for t in tunes if t)} or None, got {self.tune!r}.")
        if not isinstance(self.b_pyramid, bool):
            raise ValueError(f"b_pyramid must be a bool, got {self.b_pyramid!r}.")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ValueError(f"threads must be an int >= 0 (0: let the codec choose), got {self.threads!r}.")

    def identity(self) -> dict:
        """The settings the output depends on (what ``prepare_settings.json`` records).

        A setting added after folders were prepared without it is left out while it holds the value those folders
        were made with (:data:`_SETTINGS_BEFORE`), so such a folder's record (and manifest digests) still match.
        """
        d = dataclasses.asdict(self)
        d.pop("threads")
        for k, v in _SETTINGS_BEFORE.items():
            if d[k] == v:
                del d[k]
        return d


# Settings added later, with the value that folders prepared before each existed were made with.
_SETTINGS_BEFORE = {"b_pyramid": True}


def output_size(width: int, height: int, short_side: int, upscale: bool = True) -> tuple[int, int]:
    """(new_width, new_height) with the short side ``short_side`` (DESIGN.md point 2), both rounded down to even.

    Without ``upscale`` a video whose short side is already at most ``short_side`` keeps its size (made even).
    """
    if width < 2 or height < 2:
        raise ValueError(f"video size must be at least 2x2, got {width}x{height}.")
    if not upscale and min(width, height) <= short_side:
        new_w, new_h = width, height
    else:
        new_h, new_w = short_side_scale_size(height, width, short_side)
    return max(2, new_w - new_w % 2), max(2, new_h - new_h % 2)


# --------------------------------------------------------------------------------------------------------------
# reading the inputs


@dataclasses.dataclass
class _Entry:
    src: str  # absolute, normalized path of the input video
    label: Optional[str]  # label token as written to the CSV (None: the line had no label)
    key: Optional[str] = None  # its path below the output folder (before the .mp4 rename); None: no stable one


@dataclasses.dataclass
class _Input:
    path: str  # absolute path of the CSV file or the class folder
    kind: str  # "csv" or "folder"
    name: str  # output CSV stem
    entries: list
    classes: Optional[list] = None


def read_csv_list(csv_path: str, video_path_prefix: str = "") -> list[tuple[str, Optional[str]]]:
    """``[(absolute video path, label token or None), ...]`` from a ``path label`` CSV (PyTorchVideo's format,
    read as the dataset reads it: :func:`fastvid.data.labeled_video_paths.read_path_label_lines`)."""
    try:
        lines = read_path_label_lines(csv_path)
    except ValueError as e:
        raise PrepareError(str(e)) from None
    return [(e.src, e.label) for e in _csv_entries(lines, video_path_prefix)]


def _csv_entries(lines, video_path_prefix: str) -> list[_Entry]:
    """The entries of parsed CSV lines, each with its output key: a relative path as written (normalized), an
    absolute one below ``video_path_prefix`` relative to it; None for the others (absolute paths elsewhere, and
    relative ones that climb out with ``..``)."""
    prefix = os.path.abspath(video_path_prefix) if video_path_prefix else None
    out = []
    for _, path, label in lines:
        full = os.path.abspath(path if os.path.isabs(path) else os.path.join(video_path_prefix, path))
        key = None
        if not os.path.isabs(path):
            key = os.path.normpath(path)
        elif prefix is not None and full.startswith(prefix.rstrip(os.sep) + os.sep):
            key = os.path.relpath(full, prefix)
        if key is not None and (key == os.curdir or key == os.pardir or key.startswith(os.pardir + os.sep)):
            key = None
        out.append(_Entry(full, None if label is None else str(label), key))
    return out


def scan_class_folders(root: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Videos of a class-folder tree, labelled by the index of their class folder in sorted order, found as
    the dataset finds them (:func:`fastvid.data.labeled_video_paths.scan_class_folders`)."""
    items, classes = labeled_video_paths.scan_class_folders(root)
    if not classes:
        raise PrepareError(f"{root} has no class folders (expected {root}/<class>/<video>).")
    return [(os.path.abspath(path), str(label)) for path, label in items], classes


def _load_inputs(inputs: Sequence[str], video_path_prefix: str) -> list[_Input]:
    loaded = []
    for p in inputs:
        ap = os.path.abspath(p)
        if os.path.isdir(ap):
            entries, classes = scan_class_folders(ap)
            name = os.path.basename(os.path.normpath(ap))
            parent = os.path.dirname(ap)
            loaded.append(
                _Input(ap, "folder", name, [_Entry(s, l, os.path.relpath(s, parent)) for s, l in entries], classes)
            )
        elif os.path.isfile(ap):
            try:
                lines = read_path_label_lines(ap)
            except ValueError as e:
                raise PrepareError(str(e)) from None
            problem = csv_prefix_problem(p, (v for _, v, _ in lines), video_path_prefix, command_line=True)
            if problem is not None:
                raise PrepareError(problem)
            name = os.path.splitext(os.path.basename(ap))[0]
            loaded.append(_Input(ap, "csv", name, _csv_entries(lines, video_path_prefix)))
        else:
            raise PrepareError(f"input {p!r} is neither a CSV file nor a folder of class folders.")
    names = [i.name for i in loaded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise PrepareError(f"two inputs would both write {dup[0]}.csv; give inputs with different names.")
    return loaded


def _real(p: str) -> str:
    return os.path.realpath(p)


class _RealPaths:
    """``os.path.realpath`` of many paths that share folders: each folder is resolved once (a realpath costs an
    lstat per path component: four per video made a rerun over Kinetics-700 spend about a minute here), and a
    path is resolved in full only when it is itself a link."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, p: str) -> str:
        path = p if os.path.isabs(p) else os.path.join(os.getcwd(), p)  # (no lexical "..": a link comes first)
        folder, name = os.path.split(path)
        if name in ("", ".", "..") or os.path.islink(path):
            return os.path.realpath(path)
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder)
        return os.path.join(real, name)


def _inside(child: str, parent: str) -> bool:
    child, parent = _real(child), _real(parent)
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


@dataclasses.dataclass
class Plan:
    """What one run does: ``jobs`` maps each input video to the file it becomes (relative to ``out_dir``)."""

    out_dir: str
    inputs: list
    jobs: dict  # src -> relative destination
    root: str
    real_sources: dict  # src -> os.path.realpath(src)


def _output_names(loaded: Sequence[_Input]) -> dict:
    """``{source: output path relative to the output folder}``, one distinct name per source, decided by the set of
    (source, key) pairs alone (so the same inputs always get the same names).

    A source's key is its path below the folder an input is relative to (see :func:`_csv_entries`; a folder
    input's videos: below the folder's parent, ``train/<class>/<video>``); sources without one (absolute paths
    outside ``--video-path-prefix``) are keyed by their path below the common folder of all such sources of this
    run. A source listed by several inputs takes the smallest of its keys. The name is the key with ``.mp4`` for
    its extension; when several sources want the same name, the one whose key already is that name keeps it and
    the others put their extension into it and then a number until the name is free of every name any source
    wants: ``x.mp4``, ``x.avi`` and ``x_avi.mp4`` become ``x.mp4``, ``x_avi_2.mp4`` and ``x_avi.mp4``."""
    keys: dict = {}
    for inp in loaded:
        for e in inp.entries:
            keys.setdefault(e.src, set())
            if e.key is not None:
                keys[e.src].add(e.key)
    loose = sorted(s for s, k in keys.items() if not k)
    if loose:
        base = os.path.commonpath([os.path.dirname(s) for s in loose])
        for s in loose:
            keys[s] = {os.path.relpath(s, base)}
    key = {s: min(k) for s, k in keys.items()}
    want: dict = {}
    for s in sorted(key):
        want.setdefault(os.path.splitext(key[s])[0] + ".mp4", []).append(s)
    taken = set(want)
    names = {}
    for name, srcs in sorted(want.items()):
        keeper = srcs[0] if len(srcs) == 1 else next((s for s in srcs if key[s] == name), None)
        for s in srcs:
            if s == keeper:
                names[s] = name
                continue
            base, ext = os.path.splitext(key[s])
            stem = base + ext.replace(".", "_")
            candidate, n = stem + ".mp4", 2
            while candidate in taken:
                candidate, n = f"{stem}_{n}.mp4", n + 1
            taken.add(candidate)
            names[s] = candidate
    return names


def make_plan(inputs: Sequence[str], out_dir: str, *, video_path_prefix: str = "") -> Plan:
    """Read the inputs and decide every output path; raises :class:`PrepareError` for an unsafe output folder."""
    if not inputs:
        raise PrepareError("give at least one input (a CSV file or a folder of class folders).")
    out_dir = os.path.abspath(out_dir)
    loaded = _load_inputs(inputs, video_path_prefix)
    sources = sorted({e.src for i in loaded for e in i.entries})
    if not sources:
        raise PrepareError("the inputs list no videos.")

    # the common folder of all videos and of every folder input's parent: the output folder may not be it
    anchors = [os.path.dirname(s) for s in sources]
    anchors += [os.path.dirname(i.path) for i in loaded if i.kind == "folder"]
    root = os.path.commonpath(anchors)

    # where the output folder may not be
    if _real(out_dir) == _real(root):
        raise PrepareError(
            f"the output folder {out_dir} is the folder the input videos are in; choose a new folder "
            "(fastvid-prepare never writes next to or over its inputs)."
        )
    for i in loaded:
        if i.kind == "folder" and (_inside(out_dir, i.path) or _inside(i.path, out_dir)):
            raise PrepareError(
                f"the output folder {out_dir} and the input folder {i.path} contain one another; choose an output "
                "folder outside the inputs."
            )

    rel = _output_names(loaded)

    # nothing written may be an input
    real = _RealPaths()
    real_sources = {s: real(s) for s in sources}
    input_files = set(real_sources.values()) | {real(i.path) for i in loaded if i.kind == "csv"}
    written = [os.path.join(out_dir, r) for r in rel.values()]
    written += [os.path.join(out_dir, r) + TMP_SUFFIX for r in rel.values()]
    written += [os.path.join(out_dir, i.name + ".csv") for i in loaded]
    written += [os.path.join(out_dir, i.name + "_classes.txt") for i in loaded if i.kind == "folder"]
    written += [os.path.join(out_dir, f) for f in (FAILURES_FILE, SETTINGS_FILE, MANIFEST_FILE)]
    written += [w + TMP_SUFFIX for w in written[2 * len(rel):]]  # (the other files are written atomically too)
    written.append(os.path.join(out_dir, LOCK_FILE))
    for w in written:
        if real(w) in input_files:
            raise PrepareError(f"writing {w} would overwrite an input; choose another output folder.")

    # no output video goes next to an input video
    input_dirs = {real(os.path.dirname(s)) for s in sources}
    for d in sorted({os.path.dirname(os.path.join(out_dir, r)) for r in rel.values()}):
        if real(d) in input_dirs:
            raise PrepareError(
                f"the output folder {out_dir} would put videos in {d}, a folder of input videos; choose an output "
                "folder outside the inputs (fastvid-prepare never writes next to or over its inputs)."
            )
    return Plan(out_dir, loaded, rel, root, real_sources)


# --------------------------------------------------------------------------------------------------------------
# one video (runs in the worker processes)


@dataclasses.dataclass
class VideoResult:
    src: str
    status: str  # "done", "skipped" (already complete) or "failed"
    error: str = ""
    frames: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    seconds: float = 0.0


def is_complete(path: str) -> bool:
    """True when ``path`` is a finished output: it exists (outputs appear only by rename) and opens with a video
    stream that has frames."""
    import av

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return False
    try:
        with av.open(path) as c:
            v = video_stream(c)
            return v is not None and (v.frames > 0 or (c.duration or 0) > 0)
    except Exception:
        return False


def encode_video(src: str, dst: str, settings: EncodeSettings) -> int:
    """Re-encode ``src`` into ``dst`` (an .mp4 path, written directly); returns the number of video frames.

    Timestamps are kept (shifted so the first frame is at 0), so clip times mean the same in the copy.
    """
    import av

    with av.open(src, metadata_errors="ignore") as inp:
        vin = video_stream(inp)  # the stream the dataset reads (a cover picture is passed over)
        if vin is None:
            raise ValueError("no video stream")
        vin.thread_type = "AUTO"
        if settings.threads:
            vin.codec_context.thread_count = settings.threads
        ain = inp.streams.audio[0] if settings.audio and inp.streams.audio else None
        width, height = vin.codec_context.width, vin.codec_context.height
        out_w, out_h = output_size(width, height, settings.short_side, settings.upscale)
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        time_base = vin.time_base or (1 / Fraction(rate))

        with av.open(dst, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            x264_params = f"keyint={settings.gop}:min-keyint={settings.gop}:scenecut=0"
            if not settings.b_pyramid:
                x264_params += ":b-pyramid=none"
            options = {"crf": str(settings.crf), "preset": settings.preset, "x264-params": x264_params}
            if settings.tune:
                options["tune"] = settings.tune
            if settings.threads:
                options["threads"] = str(settings.threads)
            vout = out.add_stream(settings.codec, rate=rate, options=options)
            vout.width, vout.height, vout.pix_fmt = out_w, out_h, settings.pix_fmt
            vout.codec_context.time_base = time_base
            vout.codec_context.gop_size = settings.gop
            aout = resampler = None
            if ain is not None:
                rate_a = ain.codec_context.sample_rate or 44100
                layout = "mono" if ain.codec_context.channels == 1 else "stereo"
                aout = out.add_stream("aac", rate=rate_a, layout=layout)
                resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate_a)

            first_pts = None
            last_pts = -1
            frames = 0
            streams = (vin, ain) if ain is not None else (vin,)
            for packet in inp.demux(*streams):
                if packet.stream.type == "video":
                    for frame in packet.decode():
                        # timestamps: keep them (in the input's time base), starting at 0, strictly increasing
                        if frame.pts is not None:
                            if first_pts is None:
                                first_pts = frame.pts
                            pts = frame.pts - first_pts
                        else:
                            pts = last_pts + max(1, round(1 / (Fraction(rate) * time_base)))
                        pts = max(pts, last_pts + 1)
                        last_pts = pts
                        small = frame.reformat(width=out_w, height=out_h, format=settings.pix_fmt, interpolation="BICUBIC")
                        small.pts, small.time_base = pts, time_base
                        out.mux(vout.encode(small))
                        frames += 1
                elif aout is not None:
                    for aframe in packet.decode():
                        aframe.pts = None
                        for rs in resampler.resample(aframe):
                            out.mux(aout.encode(rs))
            if frames == 0:
                raise ValueError("no video frames could be decoded")
            out.mux(vout.encode(None))
            if aout is not None:
                for rs in resampler.resample(None):
                    out.mux(aout.encode(rs))
                out.mux(aout.encode(None))
    return frames


def _not_a_file(path: str) -> str:
    """Why ``path``, which is not a regular file, cannot be read as a video (it is never opened: a FIFO would
    block)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found" if not os.path.islink(path) else "file not found (a broken symbolic link)"
    except OSError as e:
        return f"cannot be read: {e.strerror or e}"
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ]
    kind = next((k for test, k in kinds if test(mode)), "a special file")
    return f"not a regular file: {kind}"


def _skipped(src: str, dst: str) -> Optional[VideoResult]:
    """The "skipped" result when ``dst`` is already complete, else None."""
    if not is_complete(dst):
        return None
    return VideoResult(src, "skipped", in_bytes=os.path.getsize(src) if os.path.isfile(src) else 0,
                       out_bytes=os.path.getsize(dst))


def prepare_video(src: str, dst: str, settings: EncodeSettings) -> VideoResult:
    """Make ``dst`` from ``src`` unless it is already complete; never raises (errors come back in the result)."""
    t0 = time.perf_counter()
    try:
        skipped = _skipped(src, dst)
        if skipped is not None:
            return skipped
        if not os.path.isfile(src):
            why = _not_a_file(src)
            return VideoResult(src, "failed", why, seconds=time.perf_counter() - t0)
        in_bytes = os.path.getsize(src)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = dst + TMP_SUFFIX
        try:
            frames = encode_video(src, tmp, settings)
            os.replace(tmp, dst)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return VideoResult(src, "done", "", frames, in_bytes, os.path.getsize(dst), time.perf_counter() - t0)
    except Exception as e:  # an unreadable video is reported, never fatal
        msg = " ".join(f"{type(e).__name__}: {e}".split())
        return VideoResult(src, "failed", msg, seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------------------------
# the whole run


@dataclasses.dataclass
class Summary:
    out_dir: str
    done: int = 0
    skipped: int = 0
    failed: list = dataclasses.field(default_factory=list)  # [(src, error)]
    frames: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    seconds: float = 0.0
    csv_files: list = dataclasses.field(default_factory=list)
    redone: int = 0  # outputs made again because their source video changed since they were made

    @property
    def total(self) -> int:
        return self.done + self.skipped + len(self.failed)

    def text(self) -> str:
        lines = [
            f"fastvid-prepare: {self.total} videos: {self.done} encoded, {self.skipped} already done, "
            f"{len(self.failed)} failed, in {self.seconds:.1f} s",
        ]
        if self.redone:
            lines.append(f"  {self.redone} made again: their source video (or the settings) changed since they were made")
        if self.in_bytes:
            lines.append(
                f"  size: {self.in_bytes / 1e6:.1f} MB in -> {self.out_bytes / 1e6:.1f} MB out "
                f"({self.out_bytes / max(self.in_bytes, 1):.2f}x)"
            )
        for c in self.csv_files:
            lines.append(f"  wrote {c}")
        if self.failed:
            lines.append(f"  {len(self.failed)} could not be read, listed in {os.path.join(self.out_dir, FAILURES_FILE)}:")
            for src, err in self.failed[:10]:
                lines.append(f"    {src}: {err}")
            if len(self.failed) > 10:
                lines.append(f"    ... and {len(self.failed) - 10} more")
        return "\n".join(lines)


def _check_settings_file(out_dir: str, settings: EncodeSettings) -> None:
    path = os.path.join(out_dir, SETTINGS_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            before = json.load(f)
        now = {**_SETTINGS_BEFORE, **settings.identity()}
        before = {**_SETTINGS_BEFORE, **before}  # (a record without a later setting: the value before it existed)
        if before != now:
            diff = {k: (before.get(k), now.get(k)) for k in {**now, **before} if before.get(k) != now.get(k)}
            hint = ""
            if "b_pyramid" in diff and before.get("b_pyramid"):
                hint = " (a folder prepared before fastvid-prepare turned the B-frame pyramid off: pass --b-pyramid, or b_pyramid=True, to go on)"
            raise PrepareError(
                f"{out_dir} was prepared with other settings ({', '.join(f'{k}: {a!r} then, {b!r} now' for k, (a, b) in diff.items())}); "
                f"use a new output folder or the same settings{hint}."
            )


# The manifest, MANIFEST_FILE: one JSON object per line, {"output": path relative to the output folder, "source":
# the real path of the video it is made from, "size" and "mtime_ns" of that video (null when it could not be
# read), "settings": a digest of the settings}; the last line for an output wins. A run appends the lines of the
# videos it is about to make before making any (so every output on disk has its line, whenever the run is killed),
# and rewrites the file at the end with one line per output that exists (atomically: temporary file, then rename).
# A torn last line (a run killed while appending) is ignored.


def _settings_digest(settings: EncodeSettings) -> str:
    return hashlib.sha256(json.dumps(settings.identity(), sort_keys=True).encode()).hexdigest()[:16]


def _source_record(src: str, real_src: str, rel: str, digest: str) -> dict:
    try:
        st = os.stat(src)
        size, mtime = (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else (None, None)
    except OSError:
        size = mtime = None
    return {"output": rel, "source": real_src, "size": size, "mtime_ns": mtime, "settings": digest}


def _read_manifest(out_dir: str) -> dict:
    records: dict = {}
    path = os.path.join(out_dir, MANIFEST_FILE)
    if not os.path.exists(path):
        return records
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
                records[rec["output"]] = rec
            except (ValueError, KeyError, TypeError):
                continue
    return records


def _append_manifest(out_dir: str, records: list) -> None:
    if not records:
        return
    path = os.path.join(out_dir, MANIFEST_FILE)
    torn = False
    if os.path.exists(path) and os.path.getsize(path):
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"  # (a run killed while appending: end that line so ours stay whole)
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if torn else "") + "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())


def _check_outputs(plan: "Plan", settings: EncodeSettings) -> tuple[list, list]:
    """Compare the outputs already in the output folder with the manifest: returns (outputs to remove because they
    were made from an earlier version of the same source or with other settings, manifest lines to append for the
    outputs this run makes). Raises :class:`PrepareError`, before anything is written, for an output made from
    another source (or with no record of its source): it is never reused nor overwritten."""
    digest = _settings_digest(settings)
    if os.path.exists(os.path.join(plan.out_dir, SETTINGS_FILE)) and not os.path.exists(
            os.path.join(plan.out_dir, MANIFEST_FILE)):
        raise PrepareError(
            f"{plan.out_dir} was written by an older fastvid-prepare (it has {SETTINGS_FILE} but no {MANIFEST_FILE}, "
            "and its videos are laid out differently: this run would not find them and would make a second copy); "
            "use a new output folder, or delete that one."
        )
    manifest = _read_manifest(plan.out_dir)
    stale, append, other, unknown = [], [], [], []
    for src, rel in sorted(plan.jobs.items()):
        dst = os.path.join(plan.out_dir, rel)
        now = _source_record(src, plan.real_sources[src], rel, digest)
        before = manifest.get(rel)
        if not os.path.lexists(dst):
            if before != now and now["size"] is not None:
                append.append(now)
        elif before is None:
            unknown.append(dst)
        elif before.get("source") != now["source"]:
            other.append((dst, before.get("source"), src))
        elif before.get("settings") != digest or (
            now["size"] is not None and (before.get("size"), before.get("mtime_ns")) != (now["size"], now["mtime_ns"])
        ):
            stale.append(dst)  # the same path, but the video (or the settings) changed since: made again
            append.append(now)
    if other:
        dst, was, new = other[0]
        more = f" (and {len(other) - 1} more)" if len(other) > 1 else ""
        raise PrepareError(
            f"{dst} was made from {was}, but this run would make it from {new}{more}; fastvid-prepare never reuses "
            "or overwrites a video made from another source. Prepare all inputs in one run (fastvid-prepare "
            "train.csv val.csv ...), give CSV paths relative to --video-path-prefix so that each keeps its own "
            "folder, or use another output folder."
        )
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise PrepareError(
            f"{unknown[0]} exists{more} but {os.path.join(plan.out_dir, MANIFEST_FILE)} does not say which video it "
            "was made from (it was made by an older fastvid-prepare, or not by fastvid-prepare); use a new output "
            "folder, or remove those files."
        )
    return stale, append


@contextlib.contextmanager
def _locked(out_dir: str):
    """Hold a lock on ``out_dir`` for the run (released by the system when the process dies): two runs writing one
    output folder at once would each rewrite its manifest."""
    try:
        import fcntl
    except ImportError:  # (not POSIX: no lock)
        yield
        return
    with open(os.path.join(out_dir, LOCK_FILE), "a") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # (EWOULDBLOCK: held by another process)
            raise PrepareError(
                f"another fastvid-prepare is writing to {out_dir}; wait for it to end (one run at a time per output "
                "folder)."
            ) from None
        except OSError as e:  # a file system without locks (ENOLCK, ENOSYS, EOPNOTSUPP: some NFS, Lustre, FUSE)
            print(f"fastvid-prepare: warning: cannot lock {out_dir} ({e.strerror or e}); running without the lock: "
                  "start no second run into this folder until this one ends", file=sys.stderr)
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _write_failures(out_dir: str, sources, failed: list) -> None:
    """The failures file lists this run's failures and keeps the lines of videos that were not part of this run
    (another split prepared before, say); a video of this run that now succeeds leaves it."""
    path = os.path.join(out_dir, FAILURES_FILE)
    keep = []
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                src = line.rstrip("\n").split("\t", 1)[0]
                if line.strip() and src not in sources:
                    keep.append(line.rstrip("\n") + "\n")
    lines = keep + [f"{src}\t{err}\n" for src, err in failed]
    _write_atomic(path, "".join(sorted(lines)))


def _write_atomic(path: str, text: str) -> None:
    tmp = path + TMP_SUFFIX
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _pool_results(jobs, fn, settings, workers, ctx, on_crash):
    """Run ``fn(src, dst, settings)`` over ``jobs`` in a pool with at most ``4 * workers`` jobs in flight (so a
    dataset of any size costs little memory). Yields results as they come. If a worker process dies, the jobs that
    were in flight go to ``on_crash`` (a list) and a new pool takes the rest."""
    pending = list(reversed(jobs))
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        in_flight: dict = {}
        broken = False
        try:
            while (pending or in_flight) and not broken:
                while pending and len(in_flight) < 4 * workers:
                    job = pending.pop()
                    in_flight[pool.submit(fn, job[0], job[1], settings)] = job
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = in_flight.pop(fut)
                    try:
                        r = fut.result()
                    except BrokenProcessPool:
                        on_crash.append(job)
                        broken = True
                        continue
                    yield r
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        if broken:
            on_crash.extend(in_flight.values())
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            pool.shutdown(wait=True)


PROGRESS_EVERY_S = 30.0  # seconds between two progress lines when stderr is not a terminal


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _LineProgress:
    """Progress for logs (stderr not a terminal: nohup, SLURM, ``2> log``): a plain line at the start, then every
    :data:`PROGRESS_EVERY_S` seconds, and at the end: done/total, failures so far, rate, elapsed time, ETA."""

    def __init__(self, total: int, every: Optional[float] = None):
        self.total, self.n, self.failed, self.already = total, 0, 0, 0
        self.every = PROGRESS_EVERY_S if every is None else every
        self.t0 = self.last = time.monotonic()
        print(f"fastvid-prepare: {total} videos to do (a progress line every {self.every:g} s)", file=sys.stderr,
              flush=True)

    def checking(self, checked: int, total: int, found: int) -> None:
        """A rerun's check of the outputs already there (before any video is made): ``checked`` of ``total``
        looked at so far, ``found`` of them complete; a line every :data:`PROGRESS_EVERY_S` seconds."""
        now = time.monotonic()
        if now - self.last >= self.every and checked < total:
            self.last = now
            print(
                f"fastvid-prepare: checking the outputs already there: {checked}/{total} checked, {found} complete, "
                f"elapsed {_hms(now - self.t0)}",
                file=sys.stderr,
                flush=True,
            )

    def skip(self, count: int) -> None:
        """``count`` videos found done already, at once (they do not count in the rate)."""
        if count:
            self.n += count
            self.already += count
            self._line(time.monotonic())

    def update(self, failed: bool) -> None:
        self.n += 1
        self.failed += failed
        now = time.monotonic()
        if now - self.last >= self.every and self.n < self.total:
            self._line(now)

    def close(self) -> None:
        self._line(time.monotonic())

    def _line(self, now: float) -> None:
        self.last = now
        elapsed = now - self.t0
        rate = (self.n - self.already) / elapsed if elapsed > 0 else 0.0
        eta = _hms((self.total - self.n) / rate) if rate > 0 else ("0:00:00" if self.n == self.total else "?")
        pct = 100 * self.n / max(self.total, 1)
        already = f", {self.already} done already" if self.already else ""
        print(
            f"fastvid-prepare: {self.n}/{self.total} videos ({pct:.0f}%){already}, {self.failed} failed, "
            f"{rate:.2f} videos/s, elapsed {_hms(elapsed)}, ETA {eta}",
            file=sys.stderr,
            flush=True,
        )


class _BarProgress:
    def __init__(self, total: int):
        from tqdm import tqdm

        self.failed = 0
        self.bar = tqdm(total=total, unit="video", dynamic_ncols=True, desc="fastvid-prepare")

    def checking(self, checked: int, total: int, found: int) -> None:
        self.bar.set_postfix_str(f"checking the outputs already there: {checked}/{total}")

    def skip(self, count: int) -> None:
        self.bar.set_postfix_str("")
        self.bar.update(count)

    def update(self, failed: bool) -> None:
        self.failed += failed
        self.bar.update(1)
        self.bar.set_postfix(failed=self.failed, refresh=False)

    def close(self) -> None:
        self.bar.close()


class _NoProgress:
    def checking(self, checked: int, total: int, found: int) -> None:
        pass

    def skip(self, count: int) -> None:
        pass

    def update(self, failed: bool) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(kind, total: int):
    """``kind``: False/None (none), "bar" (tqdm), "lines" (:class:`_LineProgress`), True (a bar when stderr is a
    terminal, else lines)."""
    if kind is True:
        kind = "bar" if sys.stderr.isatty() else "lines"
    if not kind:
        return _NoProgress()
    if kind == "bar":
        return _BarProgress(total)
    if kind == "lines":
        return _LineProgress(total)
    raise ValueError(f"progress must be True, False, 'bar' or 'lines', got {kind!r}.")


COMPLETE_CHECKS_PER_TASK = 256  # outputs a worker checks per task in a rerun's skip pass


def _skipped_if_complete(jobs: list) -> list:
    """For each ``(src, dst)``: the "skipped" result when ``dst`` is complete, else None (the job then runs and
    looks again)."""
    out = []
    for src, dst in jobs:
        try:
            out.append(_skipped(src, dst))
        except OSError:  # (removed meanwhile)
            out.append(None)
    return out


def _complete_outputs(jobs: list, workers: int, ctx, bar=None) -> dict:
    """``{dst: skipped result}`` for the jobs whose output is complete (:func:`is_complete`), checked by ``workers``
    processes in tasks of :data:`COMPLETE_CHECKS_PER_TASK`: a rerun over a large dataset finds most outputs there,
    and one pool task per video cost more than the check (about 0.5 ms of the main process each: minutes at
    Kinetics scale). ``bar`` (a progress object) is told how far the check is as its tasks finish."""
    if not jobs:
        return {}
    n = COMPLETE_CHECKS_PER_TASK
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        parts = [pool.submit(_skipped_if_complete, jobs[i:i + n]) for i in range(0, len(jobs), n)]
        results: list = []
        found = 0
        for part in parts:
            got = part.result()
            results += got
            found += sum(r is not None for r in got)
            if bar is not None:
                bar.checking(len(results), len(jobs), found)
    except BrokenProcessPool:  # (a worker died reading an output: the jobs check their outputs one by one instead)
        pool.shutdown(wait=False, cancel_futures=True)
        return {}
    except BaseException:  # (Ctrl-C: the tasks not started are dropped, not waited for)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return {dst: r for (_, dst), r in zip(jobs, results) if r is not None}


def _run_jobs(jobs: list, settings: EncodeSettings, workers: int, progress, fn=None) -> Iterable[VideoResult]:
    fn = fn or prepare_video
    bar = _progress(progress, len(jobs))

    def tick(r):
        bar.update(r.status == "failed")
        return r

    try:
        if workers <= 1:
            for src, dst in jobs:
                yield tick(fn(src, dst, settings))
            return
        import multiprocessing as mp

        ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload([__name__])
        complete = _complete_outputs([(src, dst) for src, dst in jobs if os.path.isfile(dst)], workers, ctx, bar)
        bar.skip(len(complete))
        yield from complete.values()
        rest = [(src, dst) for src, dst in jobs if dst not in complete]
        while rest:
            crashed: list = []
            for r in _pool_results(rest, fn, settings, workers, ctx, crashed):
                yield tick(r)
            # a worker died (a crash inside a decoder): run the jobs that were in flight one at a time, so the
            # one that crashes is known and reported, and the others are done
            rest = []
            for job in crashed:
                lone: list = []
                results = list(_pool_results([job], fn, settings, 1, ctx, lone))
                if lone:
                    yield tick(VideoResult(job[0], "failed", "the worker process crashed while reading this video"))
                else:
                    for r in results:
                        yield tick(r)
    finally:
        bar.close()


def prepare(
    inputs: Sequence[str],
    out_dir: str,
    *,
    settings: Optional[EncodeSettings] = None,
    video_path_prefix: str = "",
    absolute_paths: bool = False,
    workers: Optional[int] = None,
    progress=True,
) -> Summary:
    """Re-encode the videos of ``inputs`` into ``out_dir`` and write the new CSVs; see the module docstring.

    ``progress``: True (a bar when stderr is a terminal, else a line every :data:`PROGRESS_EVERY_S` seconds),
    "bar", "lines", or False.
    """
    if progress not in (True, False, None, "bar", "lines"):
        raise ValueError(f"progress must be True, False, 'bar' or 'lines', got {progress!r}.")
    settings = settings or EncodeSettings()
    if workers is None:
        workers = os.cpu_count() or 1
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}.")
    import av

    if settings.codec not in av.codecs_available:
        raise PrepareError(f"this PyAV/FFmpeg build has no {settings.codec} encoder; install a PyAV wheel with libx264.")

    plan = make_plan(inputs, out_dir, video_path_prefix=video_path_prefix)
    os.makedirs(plan.out_dir, exist_ok=True)
    with _locked(plan.out_dir):
        return _prepare_locked(plan, settings, absolute_paths, workers, progress)


def _prepare_locked(plan: Plan, settings: EncodeSettings, absolute_paths: bool, workers: int, progress) -> Summary:
    _check_settings_file(plan.out_dir, settings)
    stale, records = _check_outputs(plan, settings)  # (refuses before anything is written)
    # the manifest exists before the settings file does (a folder with settings and no manifest is an old one's)
    open(os.path.join(plan.out_dir, MANIFEST_FILE), "a").close()
    _write_atomic(os.path.join(plan.out_dir, SETTINGS_FILE), json.dumps(settings.identity(), indent=2) + "\n")
    for dst in stale:  # removed before their new lines are appended: a kill in between leaves no stale output
        os.remove(dst)
    _append_manifest(plan.out_dir, records)
    if settings.threads == 0:
        settings = dataclasses.replace(settings, threads=max(1, (os.cpu_count() or 1) // workers))

    t0 = time.perf_counter()
    summary = Summary(plan.out_dir, redone=len(stale))
    jobs = [(s, os.path.join(plan.out_dir, r)) for s, r in sorted(plan.jobs.items())]
    ok = set()
    for r in _run_jobs(jobs, settings, min(workers, len(jobs)), progress):
        if r.status == "failed":
            summary.failed.append((r.src, r.error))
            continue
        ok.add(r.src)
        summary.done += r.status == "done"
        summary.skipped += r.status == "skipped"
        summary.frames += r.frames
        summary.in_bytes += r.in_bytes
        summary.out_bytes += r.out_bytes
    summary.failed.sort()
    summary.seconds = time.perf_counter() - t0

    for inp in plan.inputs:
        lines = []
        for e in inp.entries:
            if e.src not in ok:
                continue
            rel = plan.jobs[e.src]
            path = os.path.join(plan.out_dir, rel) if absolute_paths else rel
            lines.append(path if e.label is None else f"{path} {e.label}")
        csv_path = os.path.join(plan.out_dir, inp.name + ".csv")
        _write_atomic(csv_path, "".join(line + "\n" for line in lines))
        summary.csv_files.append(csv_path)
        if inp.kind == "folder":
            _write_atomic(os.path.join(plan.out_dir, inp.name + "_classes.txt"), "".join(c + "\n" for c in inp.classes))
    _write_failures(plan.out_dir, set(plan.jobs), summary.failed)
    # the manifest, compacted: one line per output that exists
    manifest = _read_manifest(plan.out_dir)
    kept = [manifest[r] for r in sorted(manifest) if os.path.lexists(os.path.join(plan.out_dir, r))]
    _write_atomic(os.path.join(plan.out_dir, MANIFEST_FILE), "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
    return summary


# --------------------------------------------------------------------------------------------------------------
# command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fastvid-prepare",
        usage="%(prog)s INPUT [INPUT ...] -o OUTPUT [options]   (every option: fastvid-prepare --help)",
        description="Re-encode a Kinetics-style dataset (CSV of 'path label' lines or class folders) into a copy "
        "that is fast to decode for training: short side 256 (--short-side), a keyframe every few frames, H.264 yuv420p. "
        "Rerunning resumes; an existing output is reused only if it was made from the same video with the same "
        "settings (prepare_manifest.jsonl), and one made from another video is refused, never reused.",
    )
    p.add_argument("inputs", nargs="+", help="CSV files ('path label' per line) and/or folders of class folders")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output folder (must not be or contain the inputs); relative CSV paths are mirrored under it "
        "(train/dog/v1.avi -> OUTPUT/train/dog/v1.mp4), a folder input's videos go to OUTPUT/<folder name>/",
    )
    p.add_argument(
        "--video-path-prefix",
        default="",
        help="folder that relative CSV paths are relative to (default: .); absolute paths below it are mirrored "
        "under OUTPUT as relative ones",
    )
    p.add_argument("--short-side", type=int, default=256, help="short side of the output in pixels (default 256)")
    p.add_argument("--no-upscale", action="store_true", help="keep the size of videos whose short side is at most --short-side (they are still re-encoded)")
    p.add_argument("--gop", type=int, default=16, help="frames between keyframes (default 16)")
    p.add_argument("--crf", type=int, default=23, help="libx264 constant rate factor, lower is better (default 23)")
    p.add_argument("--preset", default="veryfast", help="libx264 preset (default veryfast)")
    p.add_argument(
        "--tune",
        default="fastdecode",
        help="libx264 tune; 'none' for none (default fastdecode: no CABAC and no deblocking, about 1.6x cheaper to "
        "decode for about 15-25%% larger files)",
    )
    p.add_argument(
        "--b-pyramid",
        action="store_true",
        help="let B frames be references (x264's default; off by default: a read then skips the B frames a clip does "
        "not keep, about a quarter less decoding time for about 7%% larger files)",
    )
    p.add_argument("--audio", action=argparse.BooleanOptionalAction, default=False, help="keep audio as AAC (default: drop it)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel processes (default: all cores)")
    p.add_argument("--threads", type=int, default=0, help="codec threads per worker (default: cores / workers)")
    p.add_argument("--absolute-paths", action="store_true", help="write absolute paths into the new CSVs")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when any video could not be read")
    p.add_argument("--quiet", action="store_true", help="no progress (otherwise a bar on a terminal, else a line every 30 s on stderr)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``fastvid-prepare``; returns the exit status (0, 1 with --strict and failures, 2 on misuse)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = EncodeSettings(
            short_side=args.short_side,
            gop=args.gop,
            crf=args.crf,
            preset=args.preset,
            tune=None if args.tune in ("", "none", "None") else args.tune,
            b_pyramid=args.b_pyramid,
            audio=args.audio,
            upscale=not args.no_upscale,
            threads=args.threads,
        )
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}.")
        summary = prepare(
            args.inputs,
            args.output,
            settings=settings,
            video_path_prefix=args.video_path_prefix,
            absolute_paths=args.absolute_paths,
            workers=args.workers,
            progress=not args.quiet,
        )
    except (PrepareError, ValueError, OSError) as e:
        print(f"fastvid-prepare: error: {e}", file=sys.stderr)
        return 2
    print(summary.text())
    if summary.total and len(summary.failed) == summary.total:
        print(f"fastvid-prepare: error: none of the {summary.total} videos could be read (see the reasons above); "
              "check the paths (--video-path-prefix) and the files", file=sys.stderr)
        return 1
    if not args.absolute_paths:
        print(f"  CSV paths are relative to {summary.out_dir}: pass it as --video-path-prefix (fastvid-train) or "
              "video_path_prefix (the datasets).")
    return 1 if args.strict and summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
