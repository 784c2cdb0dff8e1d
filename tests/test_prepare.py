"""fastvid-prepare: re-encoded copies (size, GOP, frames, timestamps), CSVs, failures, resuming, input safety."""

import hashlib
import json
import os
import shutil

import av
import numpy as np
import pytest

from fastvid.train.prepare import (
    FAILURES_FILE,
    EncodeSettings,
    PrepareError,
    is_complete,
    main,
    make_plan,
    output_size,
    prepare,
)

FPS = 15


def _frame(i, w, h):
    # a smooth picture that moves with i, so frames differ and compress well
    yy, xx = np.mgrid[0:h, 0:w]
    r = 128 + 100 * np.sin((xx + 2 * i) / 6.0)
    g = 128 + 100 * np.cos((yy - i) / 5.0)
    b = np.full_like(r, (40 + 9 * i) % 256)
    return np.stack([r, g, b], -1).astype(np.uint8)


def make_video(path, w, h, n, *, fps=FPS, gop=250, audio=False, codec="libx264", first_pts=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with av.open(path, "w") as c:
        opts = {"preset": "ultrafast"}
        if codec == "libx264":
            opts["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
        s = c.add_stream(codec, rate=fps, options=opts)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if codec != "libx264":
            s.codec_context.gop_size = gop
        a = c.add_stream("aac", rate=16000, layout="mono") if audio else None
        for i in range(n):
            f = av.VideoFrame.from_ndarray(_frame(i, w, h), format="rgb24")
            f.pts = first_pts + i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
        if a is not None:
            t = np.arange(16000 * n // fps, dtype=np.float32) / 16000
            fr = av.AudioFrame.from_ndarray((0.1 * np.sin(2 * np.pi * 440 * t))[None], format="flt", layout="mono")
            fr.sample_rate = 16000
            for p in a.encode(fr):
                c.mux(p)
            c.mux(a.encode(None))


def probe(path):
    """(width, height, frame times in s, keyframe indices in decode order, has audio)."""
    with av.open(path) as c:
        v = c.streams.video[0]
        keys, times = [], []
        for i, p in enumerate(q for q in c.demux(v) if q.size):
            if p.is_keyframe:
                keys.append(i)
        c.seek(0)
        for f in c.decode(video=0):
            times.append(float(f.time))
        return v.codec_context.width, v.codec_context.height, times, keys, bool(c.streams.audio)


def decode_rgb(path):
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _digest(folder):
    h = {}
    for dp, _, fns in os.walk(folder):
        for fn in fns:
            p = os.path.join(dp, fn)
            with open(p, "rb") as f:
                h[os.path.relpath(p, folder)] = hashlib.sha256(f.read()).hexdigest()
    return h


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A class-folder tree and a CSV over (mostly) the same videos, plus one corrupt and one missing entry."""
    root = tmp_path_factory.mktemp("kinetics")
    make_video(str(root / "train/archery/a1.mp4"), 96, 64, 40)  # landscape, long GOP
    make_video(str(root / "train/archery/a2.mp4"), 100, 60, 25, first_pts=22)  # odd aspect; starts at 22/15 s
    make_video(str(root / "train/bowling/b1.avi"), 64, 96, 30, audio=True)  # portrait, with audio
    make_video(str(root / "train/bowling/b2.mkv"), 80, 80, 20, codec="mpeg4", gop=100)
    with open(root / "train/bowling/broken.mp4", "wb") as f:
        f.write(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    (root / "val").mkdir()
    lines = [
        "train/archery/a1.mp4 0",
        f"{root / 'train/bowling/b1.avi'} 1",  # absolute
        "train/bowling/missing.mp4 1",
        "train/bowling/broken.mp4 1",
        "train/bowling/b2.mkv 1",
    ]
    (root / "val.csv").write_text("\n".join(lines) + "\n\n")
    return root


SMALL = dict(short_side=32, gop=8, crf=18, preset="ultrafast")


@pytest.fixture(scope="module")
def prepared(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "prepared"
    before = _digest(dataset)
    summary = prepare(
        [str(dataset / "train"), str(dataset / "val.csv")],
        str(out),
        settings=EncodeSettings(**SMALL),
        video_path_prefix=str(dataset),
        workers=1,
        progress=False,
    )
    assert _digest(dataset) == before, "an input was modified"
    return out, summary


def test_output_size_follows_short_side_rule():
    # DESIGN.md point 2, then rounded down to even for yuv420p
    assert output_size(340, 256, 256) == (340, 256)
    assert output_size(1920, 1080, 256) == (454, 256)  # floor(1920/1080*256) = 455 -> 454
    assert output_size(1080, 1920, 320) == (320, 568)
    assert output_size(100, 60, 32) == (52, 32)
    assert output_size(67, 40, 32) == (52, 32)  # floor(53.6) = 53 -> 52, not round(53.6) = 54
    assert output_size(64, 64, 256) == (256, 256)
    assert output_size(64, 48, 256, upscale=False) == (64, 48)
    assert output_size(65, 47, 256, upscale=False) == (64, 46)
    for w, h in [(171, 128), (320, 240), (640, 360), (37, 1000), (1000, 37)]:
        ow, oh = output_size(w, h, 128)
        assert min(ow, oh) == 128 and ow % 2 == 0 and oh % 2 == 0
        assert abs(ow / oh - w / h) <= 2 / min(ow, oh) * max(w / h, h / w) + 1e-9


def test_outputs_exist_with_right_size_gop_frames_and_times(dataset, prepared):
    out, summary = prepared
    expect = {
        "train/archery/a1.mp4": ((96, 64), (48, 32), 40),
        "train/archery/a2.mp4": ((100, 60), (52, 32), 25),
        "train/bowling/b1.mp4": ((64, 96), (32, 48), 30),
        "train/bowling/b2.mp4": ((80, 80), (32, 32), 20),
    }
    src_of = {
        "train/archery/a1.mp4": "train/archery/a1.mp4",
        "train/archery/a2.mp4": "train/archery/a2.mp4",
        "train/bowling/b1.mp4": "train/bowling/b1.avi",
        "train/bowling/b2.mp4": "train/bowling/b2.mkv",
    }
    for rel, (_, (w, h), n) in expect.items():
        path = out / rel
        assert path.is_file(), rel
        ow, oh, times, keys, has_audio = probe(str(path))
        assert (ow, oh) == (w, h), rel
        assert min(ow, oh) == 32
        assert len(times) == n, rel
        # a keyframe exactly every 8 frames (the source had one every 250 / 100)
        assert keys == list(range(0, n, 8)), (rel, keys)
        _, _, src_times, src_keys, _ = probe(str(dataset / src_of[rel]))
        assert src_keys == [0]
        assert times[0] == 0
        # the same presentation times (first frame at 0)
        np.testing.assert_allclose(times, np.array(src_times) - src_times[0], atol=1e-3)
        assert not has_audio  # dropped by default
    assert summary.done == 4 and summary.skipped == 0


def test_content_is_the_same_video_scaled(dataset, prepared):
    out, _ = prepared
    import torch

    src = decode_rgb(str(dataset / "train/archery/a1.mp4"))
    dst = decode_rgb(str(out / "train/archery/a1.mp4"))
    assert len(src) == len(dst)
    x = torch.from_numpy(np.stack(src)).permute(0, 3, 1, 2).float()
    ref = torch.nn.functional.interpolate(x, size=(32, 48), mode="bilinear", antialias=True, align_corners=False)
    got = torch.from_numpy(np.stack(dst)).permute(0, 3, 1, 2).float()
    err = (ref - got).abs().mean(dim=(1, 2, 3))
    assert err.max() < 12, err  # lossy re-encode of a smooth picture: small per-frame error
    # and frame order is kept: frame i is much closer to source frame i than to source frame i + 5
    wrong = (ref[5:] - got[:-5]).abs().mean(dim=(1, 2, 3))
    assert (wrong > 2 * err[:-5]).all()


def test_csvs_rewritten(dataset, prepared):
    out, _ = prepared
    train = (out / "train.csv").read_text().splitlines()
    assert train == [
        "train/archery/a1.mp4 0",
        "train/archery/a2.mp4 0",
        "train/bowling/b1.mp4 1",
        "train/bowling/b2.mp4 1",
    ]  # broken.mp4 left out
    assert (out / "train_classes.txt").read_text().split() == ["archery", "bowling"]
    val = (out / "val.csv").read_text().splitlines()
    assert val == ["train/archery/a1.mp4 0", "train/bowling/b1.mp4 1", "train/bowling/b2.mp4 1"]
    for line in train + val:
        assert (out / line.rsplit(None, 1)[0]).is_file()
    settings = json.loads((out / "prepare_settings.json").read_text())
    assert settings["gop"] == 8 and settings["short_side"] == 32 and settings["audio"] is False
    assert settings["tune"] == "fastdecode"


def test_bad_files_reported(dataset, prepared):
    out, summary = prepared
    failures = dict(line.split("\t", 1) for line in (out / FAILURES_FILE).read_text().splitlines())
    assert set(failures) == {str(dataset / "train/bowling/broken.mp4"), str(dataset / "train/bowling/missing.mp4")}
    assert "not found" in failures[str(dataset / "train/bowling/missing.mp4")]
    assert len(summary.failed) == 2
    text = summary.text()
    assert "2 failed" in text and "broken.mp4" in text and "missing.mp4" in text
    assert not any(p.name.endswith(".partial") for p in out.rglob("*"))


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_skips_finished_and_redoes_the_rest(dataset, prepared, tmp_path, monkeypatch, workers):
    import fastvid.train.prepare as prepare_module

    tasks = []

    class Pool(prepare_module.ProcessPoolExecutor):  # (records what each pool task runs)
        def submit(self, fn, *args, **kwargs):
            tasks.append((fn.__name__, args[0]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(prepare_module, "ProcessPoolExecutor", Pool)
    out = tmp_path / "copy"
    shutil.copytree(prepared[0], out)
    keep = out / "train/archery/a1.mp4"
    mtime = keep.stat().st_mtime_ns
    (out / "train/archery/a2.mp4").unlink()  # never finished
    (out / "train/archery/a2.mp4.partial").write_bytes(b"half a video")  # a killed run's leftover
    (out / "train/bowling/b2.mp4").write_bytes(b"")  # an empty file is not a finished output
    (out / "train/bowling/b1.mp4").write_bytes(b"\x00" * 4096)  # nor one that is not a video (damaged)
    s = prepare(
        [str(dataset / "train"), str(dataset / "val.csv")],
        str(out),
        settings=EncodeSettings(**SMALL),
        video_path_prefix=str(dataset),
        workers=workers,
        progress=False,
    )
    assert (s.done, s.skipped, len(s.failed)) == (3, 1, 2)
    assert keep.stat().st_mtime_ns == mtime
    assert probe(str(out / "train/archery/a2.mp4"))[:2] == (52, 32)
    assert probe(str(out / "train/bowling/b2.mp4"))[3] == [0, 8, 16]
    assert probe(str(out / "train/bowling/b1.mp4"))[:2] == (32, 48)
    assert not (out / "train/archery/a2.mp4.partial").exists()
    if workers > 1:
        # The outputs there are checked in bulk (one task for the 3 here), and only the others are made in a task
        # of their own: one task per finished video cost more than its check in a rerun over a large dataset.
        checks = [args for name, args in tasks if name == "_skipped_if_complete"]
        assert len(checks) == 1 and len(checks[0]) == 3
        made = sorted(os.path.basename(src) for name, src in tasks if name == "prepare_video")
        assert made == ["a2.mp4", "b1.avi", "b2.mkv", "broken.mp4", "missing.mp4"]
    # other settings into the same folder are refused
    with pytest.raises(PrepareError, match="other settings"):
        prepare([str(dataset / "train")], str(out), settings=EncodeSettings(**{**SMALL, "gop": 4}), workers=1,
                progress=False)


def test_ctrl_c_during_the_rerun_check_does_not_wait_for_every_check(monkeypatch):
    import multiprocessing as mp
    import signal
    import threading
    import time

    import fastvid.train.prepare as prepare_module

    monkeypatch.setattr(prepare_module, "is_complete", lambda path: (time.sleep(0.01), False)[1])  # (forked workers too)
    jobs = [(f"/nowhere/{i}.avi", f"/nowhere/{i}.mp4") for i in range(4096)]  # ~20 s of checks on 2 workers
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        prepare_module._complete_outputs(jobs, 2, mp.get_context("fork"))
    assert time.monotonic() - t0 < 4  # (the tasks not started are dropped; was the whole ~20 s)


def test_progress_lines_count_the_videos_done_already_apart(capsys):
    from fastvid.train.prepare import _LineProgress

    bar = _LineProgress(100, every=3600)
    bar.skip(90)
    for i in range(10):
        bar.update(failed=i == 0)
    bar.close()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "fastvid-prepare: 100 videos to do (a progress line every 3600 s)"
    assert lines[1].startswith("fastvid-prepare: 90/100 videos (90%), 90 done already, 0 failed, 0.00 videos/s, ")
    assert lines[2].startswith("fastvid-prepare: 100/100 videos (100%), 90 done already, 1 failed, ")
    assert lines[2].endswith("ETA 0:00:00") and len(lines) == 3


def test_folder_cached_realpath_equals_os_realpath(tmp_path, monkeypatch):
    from fastvid.train.prepare import _RealPaths

    (tmp_path / "data/a").mkdir(parents=True)
    (tmp_path / "data/a/v.mp4").write_bytes(b"")
    (tmp_path / "data/b").symlink_to("a")  # a linked folder
    (tmp_path / "data/a/link.mp4").symlink_to(tmp_path / "data/a/v.mp4")  # a linked file
    (tmp_path / "data/a/chain.mp4").symlink_to("link.mp4")
    (tmp_path / "data/a/dangling.mp4").symlink_to(tmp_path / "nowhere/x.mp4")
    (tmp_path / "out").symlink_to(tmp_path / "data/b")
    (tmp_path / "data/real/sub").mkdir(parents=True)
    (tmp_path / "data/other").mkdir()
    (tmp_path / "data/other/lnk").symlink_to(tmp_path / "data/real/sub")  # ".." after it is real/, not other/
    monkeypatch.chdir(tmp_path / "data")
    paths = ["a/v.mp4", "b/v.mp4", "b/link.mp4", "a/chain.mp4", "b/dangling.mp4", "b/missing.mp4", "./b/../a/v.mp4",
             str(tmp_path / "out/v.mp4"), str(tmp_path / "out/new/x.mp4.partial"), "b", "b/", ".", "..", "/",
             "a//v.mp4", "other/lnk/../x.mp4", str(tmp_path / "data/other/lnk/../../a/v.mp4"), "other/lnk/.."]
    real = _RealPaths()
    for p in paths + paths:  # (the second time from the folder cache)
        assert real(p) == os.path.realpath(p), p


def test_refuses_to_write_over_or_into_inputs(dataset, tmp_path):
    before = _digest(dataset)
    train = dataset / "train"
    cases = [
        ([str(train)], str(train), "contain one another"),  # the input folder itself
        ([str(train)], str(train / "prepared"), "contain one another"),  # inside the input
        ([str(train)], str(dataset), "contain one another|folder the input videos are in"),  # containing it
        ([str(train)], str(dataset.parent), "contain one another"),  # further up
        # a CSV over train/<class>/ videos: their common folder is train
        ([str(dataset / "val.csv")], str(train), "folder the input videos are in"),
        # the CSV's own folder: writing val.csv there would overwrite the input CSV
        ([str(dataset / "val.csv")], str(dataset), "folder the input videos are in|overwrite"),
    ]
    for inputs, out, msg in cases:
        with pytest.raises(PrepareError, match=msg):
            make_plan(inputs, out, video_path_prefix=str(dataset))
        with pytest.raises(PrepareError):
            prepare(inputs, out, settings=EncodeSettings(**SMALL), video_path_prefix=str(dataset), workers=1,
                    progress=False)
    # a CSV whose name collides with the CSV the run writes, videos elsewhere
    other = tmp_path / "lists"
    other.mkdir()
    (other / "train.csv").write_text(f"{dataset / 'train/archery/a1.mp4'} 0\n")
    (other / "sub").mkdir()
    with pytest.raises(PrepareError, match="overwrite"):
        # the videos' folder is dataset/train/archery, so the output root may be `other`: writes other/train.csv
        make_plan([str(other / "train.csv")], str(other))
    # relative CSV paths are mirrored under the output folder: the prefix itself as output folder would put
    # train/bowling/b2.mp4 beside train/bowling/b2.mkv
    (other / "mkv.csv").write_text("train/bowling/b2.mkv 1\n")
    with pytest.raises(PrepareError, match="a folder of input videos"):
        make_plan([str(other / "mkv.csv")], str(dataset), video_path_prefix=str(dataset))
    assert _digest(dataset) == before
    assert (other / "train.csv").read_text() == f"{dataset / 'train/archery/a1.mp4'} 0\n"


def test_command_line_parallel_audio_absolute_and_strict(dataset, tmp_path, capsys):
    out = tmp_path / "cli"
    args = [str(dataset / "train"), "-o", str(out), "--short-side", "48", "--gop", "4", "--preset", "ultrafast",
            "--audio", "--absolute-paths", "--workers", "2", "--quiet", "--tune", "none"]
    assert main(args) == 0  # failures do not fail the run without --strict
    text = capsys.readouterr().out
    assert "4 encoded" in text and "1 failed" in text
    lines = (out / "train.csv").read_text().splitlines()
    assert len(lines) == 4 and all(os.path.isabs(line.rsplit(None, 1)[0]) for line in lines)
    recorded = json.loads((out / "prepare_settings.json").read_text())
    assert recorded["tune"] is None and recorded["audio"] is True and recorded["gop"] == 4
    w, h, times, keys, has_audio = probe(str(out / "train/bowling/b1.mp4"))
    assert (w, h) == (48, 72) and keys == list(range(0, 30, 4)) and has_audio
    assert not probe(str(out / "train/archery/a1.mp4"))[4]  # no audio in the source, none in the copy
    # second run: everything skipped; --strict turns the failure into exit status 1
    assert main(args + ["--strict"]) == 1
    assert "0 encoded, 4 already done, 1 failed" in capsys.readouterr().out


def test_command_line_errors(dataset, tmp_path, capsys):
    assert main([str(dataset / "train"), "-o", str(dataset / "train"), "--quiet"]) == 2
    assert "contain one another" in capsys.readouterr().err
    assert main([str(dataset / "nope.csv"), "-o", str(tmp_path / "x")]) == 2
    assert main([str(dataset / "train"), "-o", str(tmp_path / "x"), "--short-side", "255"]) == 2
    assert "short_side" in capsys.readouterr().err
    assert main([str(dataset / "train"), "-o", str(tmp_path / "x"), "--gop", "0"]) == 2
    assert main([str(dataset / "train"), "-o", str(tmp_path / "x"), "--preset", "warp"]) == 2
    (tmp_path / "afile").write_text("x")
    assert main([str(dataset / "train"), "-o", str(tmp_path / "afile"), "--quiet"]) == 2  # output is a file
    kin = tmp_path / "kinetics_official.csv"
    kin.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,0,10,train\n")
    assert main([str(kin), "-o", str(tmp_path / "y")]) == 2
    assert "official Kinetics" in capsys.readouterr().err
    bad = tmp_path / "bad_label.csv"
    bad.write_text(f"{dataset / 'train/archery/a1.mp4'} 0\nmy video.mp4\n")  # a path with a space, no label
    assert main([str(bad), "-o", str(tmp_path / "z")]) == 2
    assert "bad_label.csv, line 2: label 'video.mp4' is not an integer" in capsys.readouterr().err


def _crash_on_b1(src, dst, settings):
    # a stand-in for a decoder that takes the whole worker process down on one file
    if src.endswith("b1.avi"):
        os._exit(3)
    from fastvid.train.prepare import prepare_video

    return prepare_video(src, dst, settings)


def test_worker_crash_is_reported_and_the_rest_done(dataset, tmp_path):
    from fastvid.train.prepare import _run_jobs

    srcs = ["train/archery/a1.mp4", "train/archery/a2.mp4", "train/bowling/b1.avi", "train/bowling/b2.mkv"]
    jobs = [(str(dataset / s), str(tmp_path / (os.path.splitext(s)[0] + ".mp4"))) for s in srcs]
    results = {r.src: r for r in _run_jobs(jobs, EncodeSettings(**SMALL), 2, False, fn=_crash_on_b1)}
    assert set(results) == {j[0] for j in jobs}
    assert results[jobs[2][0]].status == "failed" and "crashed" in results[jobs[2][0]].error
    for src, dst in jobs[:2] + jobs[3:]:
        # "skipped": the video was made by a worker of the pool that broke before its result came back, and the
        # lone rerun of the jobs that were in flight found it complete (a race with the crash)
        assert results[src].status in ("done", "skipped"), results[src]
        assert os.path.isfile(dst) and is_complete(dst)


# --------------------------------------------------------------------------------------------------------------
# outputs never collide, and an output is reused only for its own source


def _frames_of(path):
    return len(probe(str(path))[2])


def _split_dataset(root):
    """src/train/dog/v1.mp4 (30 frames) and src/val/dog/v1.mp4 (45 frames): the same name in two splits."""
    make_video(str(root / "src/train/dog/v1.mp4"), 48, 32, 30)
    make_video(str(root / "src/val/dog/v1.mp4"), 48, 32, 45)
    (root / "train.csv").write_text("train/dog/v1.mp4 0\n")
    (root / "val.csv").write_text("val/dog/v1.mp4 0\n")


CLI_SMALL = ["--short-side", "32", "--gop", "8", "--preset", "ultrafast", "--workers", "1", "--quiet"]


def test_splits_prepared_in_separate_runs_keep_their_own_videos(tmp_path, capsys):
    _split_dataset(tmp_path)
    out = tmp_path / "out"
    common = ["--video-path-prefix", str(tmp_path / "src"), "-o", str(out)] + CLI_SMALL
    assert main([str(tmp_path / "train.csv")] + common) == 0
    assert "1 videos: 1 encoded, 0 already done" in capsys.readouterr().out
    assert main([str(tmp_path / "val.csv")] + common) == 0
    assert "1 videos: 1 encoded, 0 already done" in capsys.readouterr().out
    # the relative CSV paths are mirrored under the output folder: the splits keep their folders
    assert (out / "train.csv").read_text() == "train/dog/v1.mp4 0\n"
    assert (out / "val.csv").read_text() == "val/dog/v1.mp4 0\n"
    assert _frames_of(out / "train/dog/v1.mp4") == 30
    assert _frames_of(out / "val/dog/v1.mp4") == 45
    # the manifest says which source made which output
    records = [json.loads(line) for line in (out / "prepare_manifest.jsonl").read_text().splitlines()]
    assert {r["output"]: r["source"] for r in records} == {
        "train/dog/v1.mp4": os.path.realpath(tmp_path / "src/train/dog/v1.mp4"),
        "val/dog/v1.mp4": os.path.realpath(tmp_path / "src/val/dog/v1.mp4"),
    }
    # both again: nothing to do (a torn last manifest line, as a killed run leaves, is ignored)
    with open(out / "prepare_manifest.jsonl", "a") as f:
        f.write('{"output": "val/dog/v1.m')
    assert main([str(tmp_path / "train.csv"), str(tmp_path / "val.csv")] + common) == 0
    assert "2 videos: 0 encoded, 2 already done" in capsys.readouterr().out


def test_an_output_made_from_another_source_is_refused_never_reused(tmp_path, capsys):
    _split_dataset(tmp_path)
    # absolute paths: each run mirrors its videos below their common folder, so both runs want out/v1.mp4
    (tmp_path / "train.csv").write_text(f"{tmp_path / 'src/train/dog/v1.mp4'} 0\n")
    (tmp_path / "val.csv").write_text(f"{tmp_path / 'src/val/dog/v1.mp4'} 0\n")
    out = tmp_path / "out"
    assert main([str(tmp_path / "train.csv"), "-o", str(out)] + CLI_SMALL) == 0
    assert (out / "train.csv").read_text() == "v1.mp4 0\n"
    capsys.readouterr()
    before = _digest(out)
    assert main([str(tmp_path / "val.csv"), "-o", str(out)] + CLI_SMALL) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "src/train/dog/v1.mp4") in err and str(tmp_path / "src/val/dog/v1.mp4") in err
    assert "never reuses" in err and "one run" in err
    assert _digest(out) == before  # refused before anything was written
    assert not (out / "val.csv").exists()
    # in one run, the two get distinct outputs
    both = tmp_path / "both"
    assert main([str(tmp_path / "train.csv"), str(tmp_path / "val.csv"), "-o", str(both)] + CLI_SMALL) == 0
    assert (both / "train.csv").read_text() == "train/dog/v1.mp4 0\n"
    assert (both / "val.csv").read_text() == "val/dog/v1.mp4 0\n"
    assert _frames_of(both / "val/dog/v1.mp4") == 45


def test_a_changed_source_is_made_again_and_an_unrecorded_output_refused(tmp_path, capsys):
    _split_dataset(tmp_path)
    out = tmp_path / "out"
    args = [str(tmp_path / "train.csv"), "--video-path-prefix", str(tmp_path / "src"), "-o", str(out)] + CLI_SMALL
    assert main(args) == 0
    assert _frames_of(out / "train/dog/v1.mp4") == 30
    src = tmp_path / "src/train/dog/v1.mp4"
    make_video(str(src), 48, 32, 20)  # the source is replaced by another video at the same path
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    capsys.readouterr()
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "1 encoded, 0 already done" in text and "1 made again" in text
    assert _frames_of(out / "train/dog/v1.mp4") == 20
    # the same size, a newer time (copied again, or re-encoded to the same length): made again too
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    assert main(args) == 0
    assert "1 made again" in capsys.readouterr().out
    # an output with no record of its source is not reused
    (out / "prepare_manifest.jsonl").write_text("")
    assert main(args) == 2
    assert "does not say which video" in capsys.readouterr().err
    assert _frames_of(out / "train/dog/v1.mp4") == 20
    # a folder with settings and no manifest is an older fastvid-prepare's (its layout differed: refused even
    # where no name coincides, instead of making second copies beside the old ones)
    (out / "prepare_manifest.jsonl").unlink()
    other = [str(tmp_path / "train.csv"), "--video-path-prefix", str(tmp_path / "src"), "-o", str(out)] + CLI_SMALL
    assert main(other) == 2
    assert "written by an older fastvid-prepare" in capsys.readouterr().err


def test_a_torn_manifest_line_does_not_swallow_the_next_record(tmp_path, capsys):
    from fastvid.train.prepare import main

    make_video(str(tmp_path / "src/train/dog/v1.mp4"), 48, 32, 30)
    make_video(str(tmp_path / "src/train/cat/v2.mp4"), 48, 32, 30)
    (tmp_path / "train.csv").write_text("train/dog/v1.mp4 0\n")
    out = tmp_path / "out"
    args = [str(tmp_path / "train.csv"), "--video-path-prefix", str(tmp_path / "src"), "-o", str(out)] + CLI_SMALL
    assert main(args) == 0
    with open(out / "prepare_manifest.jsonl", "a") as f:
        f.write('{"mtime_ns": 1, "output": "train/x')  # a run killed while appending
    (tmp_path / "train.csv").write_text("train/dog/v1.mp4 0\ntrain/cat/v2.mp4 1\n")
    assert main(args) == 0  # appends v2's record after the torn line, on a line of its own
    capsys.readouterr()
    assert main(args) == 0 and "0 encoded, 2 already done" in capsys.readouterr().out


def test_a_file_system_without_locks_runs_with_a_warning(tmp_path, capsys, monkeypatch):
    import errno
    import fcntl

    from fastvid.train.prepare import main

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    make_video(str(tmp_path / "src/train/dog/v1.mp4"), 48, 32, 30)
    (tmp_path / "train.csv").write_text("train/dog/v1.mp4 0\n")
    args = [str(tmp_path / "train.csv"), "--video-path-prefix", str(tmp_path / "src"), "-o", str(tmp_path / "out")]
    assert main(args + CLI_SMALL) == 0
    captured = capsys.readouterr()
    assert "cannot lock" in captured.err and "No locks available" in captured.err and "1 encoded" in captured.out


def _killing_run(out, csv, prefix, kill_after):
    # fastvid-prepare (one worker: the videos are made in its own process) SIGKILLed right after it has made the
    # video `kill_after`, before it has taken note of it
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import os, signal, sys
        import fastvid.train.prepare as P
        real = P.prepare_video
        def fn(src, dst, settings):
            result = real(src, dst, settings)
            if src.endswith({kill_after!r}):
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        P.prepare_video = fn
        sys.exit(P.main([{csv!r}, "--video-path-prefix", {prefix!r}, "-o", {out!r}] + {CLI_SMALL!r}))
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode


def test_resumes_after_sigkill(tmp_path, capsys):
    for name, n in [("a", 20), ("b", 25), ("c", 30)]:
        make_video(str(tmp_path / f"src/k/{name}.mp4"), 48, 32, n)
    (tmp_path / "l.csv").write_text("k/a.mp4 0\nk/b.mp4 0\nk/c.mp4 1\n")
    out = tmp_path / "out"
    rc = _killing_run(str(out), str(tmp_path / "l.csv"), str(tmp_path / "src"), "a.mp4")
    assert rc == -9
    assert (out / "k/a.mp4").is_file() and not (out / "k/b.mp4").exists()
    a_mtime = (out / "k/a.mp4").stat().st_mtime_ns
    assert main([str(tmp_path / "l.csv"), "--video-path-prefix", str(tmp_path / "src"), "-o", str(out)] + CLI_SMALL) == 0
    assert "3 videos: 2 encoded, 1 already done" in capsys.readouterr().out
    assert (out / "k/a.mp4").stat().st_mtime_ns == a_mtime
    assert [_frames_of(out / f"k/{x}.mp4") for x in "abc"] == [20, 25, 30]
    assert (out / "l.csv").read_text() == "k/a.mp4 0\nk/b.mp4 0\nk/c.mp4 1\n"


def test_resumes_after_interrupt(tmp_path, monkeypatch):
    import fastvid.train.prepare as P

    for name, n in [("a", 20), ("b", 25)]:
        make_video(str(tmp_path / f"src/k/{name}.mp4"), 48, 32, n)
    (tmp_path / "l.csv").write_text("k/a.mp4 0\nk/b.mp4 0\n")
    real = P.prepare_video

    def interrupted(src, dst, settings):
        if src.endswith("b.mp4"):
            raise KeyboardInterrupt
        return real(src, dst, settings)

    run = dict(settings=EncodeSettings(**SMALL), video_path_prefix=str(tmp_path / "src"), workers=1, progress=False)
    monkeypatch.setattr(P, "prepare_video", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare([str(tmp_path / "l.csv")], str(tmp_path / "out"), **run)
    monkeypatch.setattr(P, "prepare_video", real)
    s = prepare([str(tmp_path / "l.csv")], str(tmp_path / "out"), **run)
    assert (s.done, s.skipped, s.failed) == (1, 1, [])


def test_one_run_at_a_time_per_output_folder(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    _split_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".prepare.lock", "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        with pytest.raises(PrepareError, match="another fastvid-prepare is writing"):
            prepare([str(tmp_path / "train.csv")], str(out), settings=EncodeSettings(**SMALL),
                    video_path_prefix=str(tmp_path / "src"), workers=1, progress=False)


def test_name_collisions_give_every_input_its_own_output(tmp_path, capsys):
    k0 = tmp_path / "col/train/k0"
    make_video(str(k0 / "x.mp4"), 48, 32, 30)
    make_video(str(k0 / "x.avi"), 48, 32, 15, codec="mpeg4")
    make_video(str(k0 / "x_avi.mp4"), 48, 32, 45)
    make_video(str(k0 / "x.mkv"), 48, 32, 10, codec="mpeg4")
    make_video(str(k0 / "x_avi_2.mp4"), 48, 32, 5)
    out = tmp_path / "colout"
    assert main([str(tmp_path / "col/train"), "-o", str(out)] + CLI_SMALL) == 0
    assert "5 videos: 5 encoded, 0 already done" in capsys.readouterr().out
    lines = (out / "train.csv").read_text().splitlines()
    paths = [line.rsplit(None, 1)[0] for line in lines]
    assert len(set(paths)) == 5
    names = {
        "x.avi": "train/k0/x_avi_3.mp4",  # x_avi.mp4 and x_avi_2.mp4 are the names of other inputs
        "x.mkv": "train/k0/x_mkv.mp4",
        "x.mp4": "train/k0/x.mp4",
        "x_avi.mp4": "train/k0/x_avi.mp4",
        "x_avi_2.mp4": "train/k0/x_avi_2.mp4",
    }
    assert sorted(paths) == sorted(names.values())
    for src, rel in names.items():
        assert _frames_of(out / rel) == _frames_of(k0 / src), (src, rel)
    # the same names on a second run, nothing redone
    assert main([str(tmp_path / "col/train"), "-o", str(out)] + CLI_SMALL) == 0
    assert "0 encoded, 5 already done" in capsys.readouterr().out
    assert (out / "train.csv").read_text().splitlines() == lines


# --------------------------------------------------------------------------------------------------------------
# progress in logs, the failures report, special files


def test_progress_lines_when_stderr_is_not_a_terminal(dataset, tmp_path, capsys, monkeypatch):
    import fastvid.train.prepare as P

    monkeypatch.setattr(P, "PROGRESS_EVERY_S", 0.0, raising=False)  # a line after every video
    args = [str(dataset / "train"), "-o", str(tmp_path / "p"), "--short-side", "32", "--gop", "8", "--preset",
            "ultrafast", "--workers", "1"]
    assert main(args) == 0
    err = capsys.readouterr().err  # (capsys's stderr is not a terminal)
    assert "\r" not in err
    lines = err.splitlines()
    assert lines[0] == "fastvid-prepare: 5 videos to do (a progress line every 0 s)"
    counts = [line.split()[1] for line in lines[1:]]
    assert counts == ["1/5", "2/5", "3/5", "4/5", "5/5"], lines
    assert all("failed," in line and "videos/s" in line and "ETA" in line for line in lines[1:])
    assert "1 failed" in lines[-1] and "(100%)" in lines[-1]
    assert main(args + ["--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_failures_of_other_runs_are_kept(tmp_path):
    make_video(str(tmp_path / "d/train/c/ok.mp4"), 48, 32, 10)
    (tmp_path / "d/train/c/bad.mp4").write_bytes(b"not a video")
    (tmp_path / "val.csv").write_text("val/c/gone.mp4 0\nval/c/ok2.mp4 0\n")
    make_video(str(tmp_path / "d/val/c/ok2.mp4"), 48, 32, 10)
    out = tmp_path / "out"
    run = dict(settings=EncodeSettings(**SMALL), video_path_prefix=str(tmp_path / "d"), workers=1, progress=False)

    def failures():
        return {line.split("\t")[0]: line.split("\t")[1] for line in (out / FAILURES_FILE).read_text().splitlines()}

    bad, gone = str(tmp_path / "d/train/c/bad.mp4"), str(tmp_path / "d/val/c/gone.mp4")
    prepare([str(tmp_path / "d/train")], str(out), **run)
    assert set(failures()) == {bad}
    prepare([str(tmp_path / "val.csv")], str(out), **run)
    assert set(failures()) == {bad, gone}  # the train split's failure is still listed
    assert "not found" in failures()[gone]
    make_video(str(tmp_path / "d/val/c/gone.mp4"), 48, 32, 10)
    prepare([str(tmp_path / "val.csv")], str(out), **run)
    assert set(failures()) == {bad}  # gone.mp4 is there now


def test_a_fifo_is_reported_as_not_a_regular_file(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    make_video(str(tmp_path / "d/train/c/ok.mp4"), 48, 32, 10)
    os.mkfifo(tmp_path / "d/train/c/pipe.mp4")
    os.mkdir(tmp_path / "d/train/c/dir.mp4")
    (tmp_path / "l.csv").write_text("train/c/pipe.mp4 0\ntrain/c/dir.mp4 0\ntrain/c/ok.mp4 0\n")
    out = tmp_path / "out"
    s = prepare([str(tmp_path / "l.csv")], str(out), settings=EncodeSettings(**SMALL),
                video_path_prefix=str(tmp_path / "d"), workers=1, progress=False)
    errors = dict(s.failed)
    assert errors[str(tmp_path / "d/train/c/pipe.mp4")] == "not a regular file: a FIFO (named pipe)"
    assert errors[str(tmp_path / "d/train/c/dir.mp4")] == "not a regular file: a folder"
    assert s.done == 1
    assert (out / "l.csv").read_text() == "train/c/ok.mp4 0\n"


def test_csv_paths_relative_to_the_csvs_folder_need_the_prefix_and_a_run_where_all_fail_is_an_error(
        tmp_path, capsys, monkeypatch):
    # the CSV's paths are relative to its own folder (the usual layout): without --video-path-prefix every video was
    # "file not found", an empty CSV was written and the exit status was 0
    make_video(str(tmp_path / "data/train/dog/v1.mp4"), 48, 32, 30)
    (tmp_path / "data/train.csv").write_text("train/dog/v1.mp4 0\n")
    monkeypatch.chdir(tmp_path)
    assert main([str(tmp_path / "data/train.csv"), "-o", str(tmp_path / "out")] + CLI_SMALL) == 2
    err = capsys.readouterr().err
    assert "are relative to its folder" in err and f"pass --video-path-prefix {tmp_path / 'data'}" in err
    assert not (tmp_path / "out" / "train.csv").exists()
    # videos that are missing wherever one looks: the run fails as a whole, exit status 1 without --strict
    (tmp_path / "gone.csv").write_text("nowhere/a.mp4 0\nnowhere/b.mp4 1\n")
    assert main([str(tmp_path / "gone.csv"), "-o", str(tmp_path / "out2")] + CLI_SMALL) == 1
    assert "none of the 2 videos could be read" in capsys.readouterr().err
    # with the prefix it goes through, and the closing line names the option to pass on
    assert main([str(tmp_path / "data/train.csv"), "--video-path-prefix", str(tmp_path / "data"), "-o",
                 str(tmp_path / "out")] + CLI_SMALL[:-1]) == 0
    assert "pass it as --video-path-prefix (fastvid-train)" in capsys.readouterr().out


def _decoded_for_clips(path, windows, keep):
    from fastvid.data import EncodedVideoPyAV

    v = EncodedVideoPyAV(path, decode_audio=False)
    try:
        total = 0
        for s, e in windows:
            v.get_clip_frames(s, e, num_samples=keep)
            total += v.last_decode_stats["frames_decoded"]
        return total
    finally:
        v.close()


def test_b_frames_are_not_references_by_default_so_reads_skip_them(tmp_path, capsys):
    from fastvid.data.synthetic import write_video

    src = tmp_path / "src" / "train" / "v.mp4"
    os.makedirs(src.parent)
    write_video(str(src), num_frames=90, fps=15, height=64, width=96)  # 6 s of moving noise: x264 writes B frames
    (tmp_path / "train.csv").write_text("train/v.mp4 0\n")
    run = dict(video_path_prefix=str(tmp_path / "src"), workers=1, progress=False)
    fast = dict(short_side=32, gop=16, crf=23, preset="veryfast")  # (ultrafast writes no B frames)
    prepare([str(tmp_path / "train.csv")], str(tmp_path / "new"), settings=EncodeSettings(**fast), **run)
    prepare([str(tmp_path / "train.csv")], str(tmp_path / "old"), settings=EncodeSettings(**fast, b_pyramid=True), **run)
    new, old = str(tmp_path / "new/train/v.mp4"), str(tmp_path / "old/train/v.mp4")
    # what x264 wrote in its settings record (SEI) of each copy
    assert b"b_pyramid=0" in open(new, "rb").read() and b"b_pyramid=2" in open(old, "rb").read()
    assert json.loads((tmp_path / "new/prepare_settings.json").read_text())["b_pyramid"] is False
    windows = [(0.4, 1.4), (1.9, 2.9), (3.3, 4.3), (4.5, 5.5)]
    n_new, n_old = _decoded_for_clips(new, windows, 4), _decoded_for_clips(old, windows, 4)
    assert n_new < 0.85 * n_old, (n_new, n_old)
    np.testing.assert_allclose(probe(new)[2], probe(old)[2])  # the same frames and times

    # a folder prepared before the setting existed (its record has no b_pyramid; x264's default pyramid) goes on
    # with b_pyramid=True, reusing its videos; the new default is refused with the way to go on
    old_dir = tmp_path / "old"
    recorded = json.loads((old_dir / "prepare_settings.json").read_text())
    assert "b_pyramid" not in recorded  # exactly what an older fastvid-prepare wrote
    mtime = os.stat(old).st_mtime_ns
    s = prepare([str(tmp_path / "train.csv")], str(old_dir), settings=EncodeSettings(**fast, b_pyramid=True), **run)
    assert (s.done, s.skipped) == (0, 1) and os.stat(old).st_mtime_ns == mtime
    with pytest.raises(PrepareError, match=r"b_pyramid: True then, False now.*--b-pyramid"):
        prepare([str(tmp_path / "train.csv")], str(old_dir), settings=EncodeSettings(**fast), **run)
    args = [str(tmp_path / "train.csv"), "-o", str(old_dir), "--video-path-prefix", str(tmp_path / "src"),
            "--short-side", "32", "--quiet"]
    assert main(args) == 2 and "--b-pyramid" in capsys.readouterr().err
    assert main(args + ["--b-pyramid"]) == 0 and "1 already done" in capsys.readouterr().out
    with pytest.raises(ValueError, match="b_pyramid must be a bool"):
        EncodeSettings(b_pyramid="no")


def test_a_reruns_check_of_the_outputs_already_there_shows_progress(dataset, tmp_path, capsys, monkeypatch):
    import fastvid.train.prepare as P

    args = [str(dataset / "train"), "-o", str(tmp_path / "p"), "--short-side", "32", "--gop", "8", "--preset",
            "ultrafast", "--workers", "2"]
    assert main(args + ["--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(P, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(P, "COMPLETE_CHECKS_PER_TASK", 1)  # (a task per output: a line after each)
    assert main(args) == 0
    lines = capsys.readouterr().err.splitlines()
    checks = [line for line in lines if "checking the outputs already there" in line]
    assert [line.split(": ")[2].split(",")[:2] for line in checks] == [
        ["1/4 checked", " 1 complete"], ["2/4 checked", " 2 complete"], ["3/4 checked", " 3 complete"]], lines
    i = lines.index(checks[-1])
    assert lines[i + 1].startswith("fastvid-prepare: 4/5 videos (80%), 4 done already, ")  # then the broken one


def test_a_folder_of_the_new_default_rerun_with_b_pyramid_is_refused_without_the_old_folder_hint(tmp_path):
    make_video(str(tmp_path / "src/train/v.mp4"), 48, 32, 30)
    (tmp_path / "train.csv").write_text("train/v.mp4 0\n")
    run = dict(video_path_prefix=str(tmp_path / "src"), workers=1, progress=False)
    small = dict(short_side=32, gop=8, preset="ultrafast")
    prepare([str(tmp_path / "train.csv")], str(tmp_path / "out"), settings=EncodeSettings(**small), **run)
    with pytest.raises(PrepareError, match=r"b_pyramid: False then, True now") as e:
        prepare([str(tmp_path / "train.csv")], str(tmp_path / "out"), settings=EncodeSettings(**small, b_pyramid=True), **run)
    assert "--b-pyramid" not in str(e.value)
    # a record that names the old value (b_pyramid: true) is the same settings as one without it
    record = tmp_path / "out" / "prepare_settings.json"
    record.write_text(json.dumps({**EncodeSettings(**small, b_pyramid=True).identity(), "b_pyramid": True}))
    s = prepare([str(tmp_path / "train.csv")], str(tmp_path / "out"), settings=EncodeSettings(**small, b_pyramid=True),
                **run)
    assert len(s.failed) == 0


def test_a_run_whose_only_video_is_missing_exits_1_and_a_folder_without_classes_is_misuse(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("nowhere/a.mp4 0\n")
    assert main([str(tmp_path / "one.csv"), "-o", str(tmp_path / "o1")] + CLI_SMALL) == 1
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "-o", str(tmp_path / "o2")] + CLI_SMALL) == 2
    assert "has no class folders" in capsys.readouterr().err
