"""Clip samplers against DESIGN.md point 7 (PyTorchVideo's semantics), CSV parsing and worker sharding."""

import gc
import os
import pathlib
import random
from fractions import Fraction

import numpy as np
import pytest
import torch

from fastvid.data import (
    ClipInfo,
    ConstantClipsPerVideoSampler,
    LabeledVideoPaths,
    MultiProcessSampler,
    RandomClipSampler,
    RandomMultiClipSampler,
    UniformClipSampler,
    make_clip_sampler,
)


def _all_clips(sampler, duration):
    clips, last = [], None
    while True:
        info = sampler(last, duration, {})
        clips.append(info)
        last = info.clip_end_sec
        if info.is_last_clip:
            return clips


@pytest.mark.parametrize("duration", [Fraction(10), Fraction(1, 3), Fraction(7, 2), Fraction(4), Fraction(41, 10), 9.999999])
@pytest.mark.parametrize("d,stride", [(2, None), (2, 1), (Fraction(32, 30), Fraction(16, 30)), (1.5, 0.5)])
def test_uniform_sampler(duration, d, stride):
    s = UniformClipSampler(d, stride)
    clips = _all_clips(s, duration)
    step = Fraction(stride if stride is not None else d)
    d = Fraction(d)
    expect = [Fraction(0)]
    while expect[-1] + step + d - duration <= 1e-6:
        expect.append(expect[-1] + step)
    assert [c.clip_start_sec for c in clips] == expect
    assert [c.clip_end_sec for c in clips] == [x + d for x in expect]
    assert [c.clip_index for c in clips] == list(range(len(expect)))
    assert all(c.aug_index == 0 for c in clips)
    assert [c.is_last_clip for c in clips] == [False] * (len(expect) - 1) + [True]
    assert _all_clips(s, duration) == clips  # state was reset after the last clip


def test_uniform_sampler_clips_that_fit_exactly_with_no_tolerance():
    # (next end - duration) > eps ends the video, as PyTorchVideo: with eps=0 a clip ending exactly at the
    # video's end is still taken
    got = [(c.clip_start_sec, c.clip_end_sec) for c in UniformClipSampler(1, eps=0).clips_for_duration(2)]
    assert got == [(0, 1), (1, 2)]
    got = [(c.clip_start_sec, c.clip_end_sec) for c in UniformClipSampler(1, eps=0).clips_for_duration(Fraction(5, 2))]
    assert got == [(0, 1), (1, 2)]


def test_uniform_backpad_last():
    # PyTorchVideo's doc example: 39 frames at 30 fps, stride 16 frames, clip 32 frames.
    s = UniformClipSampler(Fraction(32, 30), Fraction(16, 30), backpad_last=True)
    clips = _all_clips(s, Fraction(39, 30))
    assert [(c.clip_start_sec * 30, c.clip_end_sec * 30) for c in clips] == [(0, 32), (7, 39)]
    s = UniformClipSampler(Fraction(32, 30), Fraction(16, 30), backpad_last=False)
    assert len(_all_clips(s, Fraction(39, 30))) == 1


@pytest.mark.parametrize("n,a", [(1, 1), (3, 1), (5, 2), (4, 3)])
@pytest.mark.parametrize("duration", [Fraction(10), Fraction(1), Fraction(3, 2)])
def test_constant_clips_per_video(n, a, duration):
    d = Fraction(2)
    s = make_clip_sampler("constant_clips_per_video", d, n, a)
    clips = _all_clips(s, duration)
    step = max(duration - d, 0) / max(n - 1, 1)
    expect = [(k * step, k, j) for k in range(n) for j in range(a)]
    assert [(c.clip_start_sec, c.clip_index, c.aug_index) for c in clips] == expect
    assert all(c.clip_end_sec == c.clip_start_sec + d for c in clips)
    assert clips[-1].is_last_clip and not any(c.is_last_clip for c in clips[:-1])


def test_random_sampler_draws_like_pytorchvideo():
    s = make_clip_sampler("random", 2)
    random.seed(5)
    got = [s(None, Fraction(73, 7), {}) for _ in range(20)]
    random.seed(5)
    expect = [Fraction(random.uniform(0, Fraction(73, 7) - 2)) for _ in range(20)]
    assert [g.clip_start_sec for g in got] == expect
    assert all(g == ClipInfo(e, e + 2, 0, 0, True) for g, e in zip(got, expect))
    # shorter than the clip: start 0
    assert s(None, Fraction(1), {}).clip_start_sec == 0


def test_random_sampler_augs_per_clip_repeats_the_window():
    s = RandomClipSampler(2, augs_per_clip=3)
    random.seed(1)
    a = [s(None, 10, {}) for _ in range(6)]
    assert [x.aug_index for x in a] == [0, 1, 2, 0, 1, 2]
    assert [x.is_last_clip for x in a] == [False, False, True] * 2
    assert a[0].clip_start_sec == a[1].clip_start_sec == a[2].clip_start_sec != a[3].clip_start_sec


def test_random_multi():
    s = make_clip_sampler("random_multi", 2, 4)
    random.seed(2)
    info = s(None, Fraction(9), {})
    random.seed(2)
    expect = [Fraction(random.uniform(0, 7)) for _ in range(4)]
    assert info.clip_start_sec == expect and info.clip_end_sec == [e + 2 for e in expect]
    assert info.is_last_clip == [True] * 4 and info.aug_index == [0] * 4


def test_sampler_argument_errors():
    with pytest.raises(NotImplementedError, match="sampling_type"):
        make_clip_sampler("nope", 2)
    with pytest.raises(ValueError, match="clip_duration"):
        RandomClipSampler(0)
    with pytest.raises(TypeError, match="clip_duration"):
        RandomClipSampler("2")
    with pytest.raises(ValueError, match="stride"):
        UniformClipSampler(2, -1)
    with pytest.raises(ValueError, match="clips_per_video"):
        ConstantClipsPerVideoSampler(2, 0)
    with pytest.raises(ValueError, match="augs_per_clip"):
        RandomClipSampler(2, augs_per_clip=0)
    with pytest.raises(TypeError, match="num_clips"):
        RandomMultiClipSampler(2, 1.5)


def test_non_finite_durations_are_refused_not_looped_over():
    # A NaN or infinite duration (or eps) made the uniform sampler give clips for ever.
    for call, match in [
        (lambda: UniformClipSampler(2).clips_for_duration(float("nan")), "video_duration must be a finite"),
        (lambda: UniformClipSampler(2).clips_for_duration(float("inf")), "video_duration must be a finite"),
        (lambda: UniformClipSampler(2)(None, float("nan"), {}), "video_duration must be a finite"),
        (lambda: UniformClipSampler(2, eps=float("nan")), "eps must be a finite"),
        (lambda: UniformClipSampler(float("nan")), "clip_duration must be a finite"),
        (lambda: RandomClipSampler(float("inf")), "clip_duration must be a finite"),
        (lambda: UniformClipSampler(2, stride=float("inf")), "stride must be a finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    assert len(UniformClipSampler(2, stride=0.5).clips_for_duration(3)) == 3  # a float stride as before
    from fractions import Fraction

    with pytest.raises(ValueError, match="video_duration must be a finite"):
        UniformClipSampler(2).clips_for_duration(Fraction(10**400))  # (too large for a float)


# ------------------------------------------------------------------------------------------ CSV
def test_csv_paths_labels_and_prefix(tmp_path):
    f = tmp_path / "train.csv"
    f.write_text("a/x.mp4 3\nb with space/y.mp4 0\nno_label.mp4\n\n")
    paths = LabeledVideoPaths.from_path(f)
    paths.path_prefix = "/data"
    assert len(paths) == 3
    assert paths[0] == ("/data/a/x.mp4", {"label": 3})
    assert paths[1] == ("/data/b with space/y.mp4", {"label": 0})
    assert paths[2] == ("/data/no_label.mp4", {"label": -1})


def test_paths_and_labels_round_trip_in_any_form():
    odd = os.fsdecode(b"caf\xe9 (latin-1)/x.mp4")  # a file name that is not UTF-8 (surrogate escapes)
    items = [("a/x.mp4", 3), ("b with space/\u00e9t\u00e9 \u6f22.mp4", 0), (odd, -1), ("", 7),
             (pathlib.Path("p/q.avi"), np.int64(2))]
    paths = LabeledVideoPaths(items, path_prefix="/data")
    assert len(paths) == 5
    want = [(os.path.join("/data", os.fspath(p)), {"label": int(label)}) for p, label in items]
    assert [paths[i] for i in range(5)] == want
    assert [paths[i] for i in range(-5, 0)] == want
    assert paths[np.int64(1)] == want[1] and paths[torch.tensor(4)] == want[4]
    assert os.fsencode(paths[2][0]) == b"/data/caf\xe9 (latin-1)/x.mp4"
    assert all(type(paths[i][1]["label"]) is int for i in range(5))
    for bad in (5, -6):
        with pytest.raises(IndexError, match=f"index {bad} out of range for 5 videos"):
            paths[bad]
    with pytest.raises(TypeError):
        paths[1.0]
    paths.path_prefix = ""
    assert paths[0] == ("a/x.mp4", {"label": 3})
    # (path, info dict) pairs, or labels of other types, pass as they are
    info = {"label": 1, "video_label": "run"}
    other = LabeledVideoPaths([("x.mp4", info), ("y.mp4", 4), ("z.mp4", "walk")])
    assert [other[i] for i in range(3)] == [("x.mp4", info), ("y.mp4", {"label": 4}), ("z.mp4", {"label": "walk"})]
    assert other[-1] == ("z.mp4", {"label": "walk"})


def test_paths_hold_no_python_object_per_video():
    """Forked DataLoader workers share the parent's pages until they write them, and reading a Python object
    writes its reference count: a list of one tuple per video ends up copied into every worker."""
    n = 50_000
    paths = LabeledVideoPaths([(f"class_{i % 400}/video_{i:07d}.mp4", i % 400) for i in range(n)])
    objects = [o for v in vars(paths).values() for o in gc.get_referents(v)]
    assert len(objects) < 100, f"{len(objects)} objects referenced by the path list's attributes"
    assert paths[n - 1] == (f"class_{(n - 1) % 400}/video_{n - 1:07d}.mp4", {"label": (n - 1) % 400})


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="needs Linux's /proc/<pid>/smaps_rollup")
def test_forked_worker_reading_every_path_keeps_sharing_the_parents_pages():
    n = 240_000  # Kinetics-400's train split
    paths = LabeledVideoPaths([(f"/data/kinetics400/train/class_{i % 400:03d}/{i:011d}_000010_000020.mp4", i % 400)
                               for i in range(n)])
    gc.collect()
    ctx = torch.multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()

    def private_mib():
        with open("/proc/self/smaps_rollup") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty")) / 1024

    def worker(conn):
        gc.freeze()  # (as the collector would otherwise touch every tracked object of the parent too)
        before = private_mib()
        labels = 0
        for k in range(n):  # (every item once, in a scattered order, without a list of n ints beside)
            labels += paths[k * 7919 % n][1]["label"]
        conn.send((private_mib() - before, labels))

    proc = ctx.Process(target=worker, args=(child,))
    proc.start()
    grown, labels = parent.recv()
    proc.join()
    assert labels == sum(i % 400 for i in range(n))
    # A list of (str, int) tuples grows the worker by ~50 MiB here (every page of it copied).
    assert grown < 8, f"the worker's private memory grew by {grown:.1f} MiB reading the path list"


def test_csv_errors_name_file_and_line(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("a.mp4 1\nb.mp4 one\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: label 'one' is not an integer") as e:
        LabeledVideoPaths.from_csv(f)
    assert "header" not in str(e.value)
    f.write_text("path label\na.mp4 1\n")  # a header line: said so
    with pytest.raises(ValueError, match=r"line 1: label 'label' is not an integer .*a header line\? these CSVs have "
                                         r"none: remove it"):
        LabeledVideoPaths.from_csv(f)
    f.write_text("a.mp4 1\n\nb.mp4 2\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: blank line"):
        LabeledVideoPaths.from_csv(f)
    f.write_text("\n")
    with pytest.raises(ValueError, match="holds no videos"):
        LabeledVideoPaths.from_csv(f)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        LabeledVideoPaths.from_path(tmp_path / "missing.csv")
    f.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,0,10,train\n")
    with pytest.raises(ValueError, match="official Kinetics annotation CSV"):
        LabeledVideoPaths.from_csv(f)
    f.write_text("a.mp4 1\ntrain/b,c.mp4,0\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: 'train/b,c.mp4,0' separates path and label with a comma"):
        LabeledVideoPaths.from_csv(f)
    f.write_text("a.mp4, 1\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 1: 'a.mp4, 1' separates path and label with a comma"):
        LabeledVideoPaths.from_csv(f)
    f.write_text("a.mp4 1\ntrain/b,c.mp4\n")  # a comma in a path without a label is a path
    assert LabeledVideoPaths.from_csv(f)[1] == ("train/b,c.mp4", {"label": -1})


def test_class_folders_are_read_as_fastvid_prepare_reads_them(tmp_path):
    from fastvid.train.prepare import scan_class_folders

    for rel in ["b/x.MP4", "b/x-y/2.mkv", "b/x/1.avi", "b/x/sub/0.ts", "a/z.webm", "a/notes.txt", "c/readme.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    paths = LabeledVideoPaths.from_directory(tmp_path)
    got = [(os.path.relpath(p, tmp_path), info["label"]) for p, info in (paths[i] for i in range(len(paths)))]
    # classes a, b, c (c holds no video); within a class, folders in the sorted order of their paths
    # (torchvision's make_dataset, which PyTorchVideo uses: "b/x-y" sorts before "b/x/sub")
    assert got == [("a/z.webm", 0), ("b/x.MP4", 1), ("b/x/1.avi", 1), ("b/x-y/2.mkv", 1), ("b/x/sub/0.ts", 1)]
    entries, classes = scan_class_folders(str(tmp_path))
    assert classes == ["a", "b", "c"]
    assert [(os.path.relpath(p, tmp_path), int(label)) for p, label in entries] == got


def test_the_first_class_folder_video_is_the_first_the_scan_lists(tmp_path):
    # (fastvid-train's --frames warning reads it: it looked at each class folder's top level only, with a copy of
    # the scan's filters, and found no video in a tree of nested folders)
    from fastvid.data.labeled_video_paths import first_class_folder_video, scan_class_folders

    (tmp_path / "a").mkdir()  # a class without videos, then one whose videos are nested, behind hidden entries
    for rel in ["a/notes.txt", "b/.hidden.mp4", "b/.ipynb_checkpoints/0.mp4", "b/x/sub/2.MP4", "b/x/1.avi", "c/3.mp4"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    first = first_class_folder_video(tmp_path)
    assert first == scan_class_folders(tmp_path)[0][0][0] == str(tmp_path / "b" / "x" / "1.avi")
    assert first_class_folder_video(tmp_path / "a") is None  # (its one folder holds no video)


def test_class_folders(tmp_path):
    for cls, names in {"b_cls": ["2.mp4", "1.avi", "notes.txt"], "a_cls": ["z.mkv"], "empty": []}.items():
        (tmp_path / cls).mkdir()
        for n in names:
            (tmp_path / cls / n).write_bytes(b"")
    paths = LabeledVideoPaths.from_directory(tmp_path)
    got = [(p.replace(str(tmp_path) + "/", ""), info["label"]) for p, info in (paths[i] for i in range(len(paths)))]
    assert got == [("a_cls/z.mkv", 0), ("b_cls/1.avi", 1), ("b_cls/2.mp4", 1)]


def test_class_folders_leave_out_hidden_entries_and_do_not_loop(tmp_path):
    for rel in ["a/1.mp4", "a/.hidden.mp4", "a/._1.mp4", "a/.ipynb_checkpoints/1-checkpoint.mp4", "b/2.mp4",
                ".ipynb_checkpoints/a/3.mp4", "c/sub/4.mp4"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    (tmp_path / "a" / "loop").symlink_to("..")  # back up to the root: os.walk would list b's video as class a
    (tmp_path / "c" / "sub" / "again").symlink_to("..")  # a cycle inside the class
    (tmp_path / "c" / "link_b").symlink_to(tmp_path / "b")  # a link elsewhere is followed, once
    paths = LabeledVideoPaths.from_directory(tmp_path)
    got = [(os.path.relpath(p, tmp_path), info["label"]) for p, info in (paths[i] for i in range(len(paths)))]
    assert got == [("a/1.mp4", 0), ("b/2.mp4", 1), ("c/link_b/2.mp4", 2), ("c/sub/4.mp4", 2)]


def test_csv_with_a_byte_order_mark_or_not_utf8(tmp_path):
    f = tmp_path / "excel.csv"
    f.write_bytes("\ufeffa/x.mp4 3\nb/y.mp4 0\n".encode("utf-8"))  # Excel's "CSV UTF-8"
    assert LabeledVideoPaths.from_csv(f)[0] == ("a/x.mp4", {"label": 3})
    f.write_bytes("a/x.mp4 3\nb/caf\u00e9.mp4 0\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"excel.csv, line 2: not UTF-8 text \(byte 0xe9"):
        LabeledVideoPaths.from_csv(f)


# ------------------------------------------------------------------------------------- sharding
class _FakeWorker:
    def __init__(self, id, num_workers):
        self.id, self.num_workers = id, num_workers


@pytest.mark.parametrize("n,workers", [(10, 3), (3, 4), (32, 2), (1, 1), (7, 7)])
def test_multiprocess_sampler_splits_without_gaps(monkeypatch, n, workers):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0)).tolist()
    seen = []
    for w in range(workers):
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda w=w: _FakeWorker(w, workers))
        seen.append(list(MultiProcessSampler(order)))
    flat = [i for part in seen for i in part]
    assert flat == order  # contiguous parts, in order: nothing lost, nothing twice
    sizes = [len(p) for p in seen]
    assert max(sizes) - min(sizes) <= 1
