"""Datasets: sharding over workers and ranks, failures, reproducibility, the frame-plan path, map-style."""

import functools
import gc
import os
import pathlib
import random
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler, SequentialSampler

import fastvid.transforms as T
from fastvid.data import (
    EncodedVideo,
    EncodedVideoPyAV,
    Kinetics,
    LabeledVideoDataset,
    LabeledVideoMapDataset,
    LabeledVideoPaths,
    RandomClipSampler,
    make_clip_sampler,
)
from fastvid.data.labeled_video_dataset import _ClipDecoder
from fastvid.data.synthetic import write_video

NUM_GOOD = 8


@pytest.fixture(scope="module")
def good_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("good")
    paths = []
    for i in range(NUM_GOOD):
        # durations 1.0 .. 2.4 s, two sizes
        paths.append(write_video(root / f"v{i}.mp4", num_frames=30 + 6 * i, seed=i, width=64 if i % 2 else 48,
                                 height=48 if i % 2 else 64, gop=12))
    return paths


@pytest.fixture(scope="module")
def bad_videos(tmp_path_factory, good_videos):
    root = tmp_path_factory.mktemp("bad")
    (root / "zero.mp4").write_bytes(b"")
    (root / "text.mp4").write_text("not a video\n" * 50)
    data = open(good_videos[0], "rb").read()
    (root / "trunc.mp4").write_bytes(data[: len(data) // 4])
    with av.open(str(root / "audio_only.m4a"), "w") as out:
        st = out.add_stream("aac", rate=8000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate, fr.pts = 8000, 0
        for p in list(st.encode(fr)) + list(st.encode(None)):
            out.mux(p)
    return [str(root / n) for n in ("zero.mp4", "text.mp4", "trunc.mp4", "audio_only.m4a")] + [str(root / "missing.mp4")]


def _paths(videos, labels=None):
    return LabeledVideoPaths([(p, i if labels is None else labels[i]) for i, p in enumerate(videos)])


def tutorial_transform(n=4, crop=32):
    return T.ApplyTransformToKey(
        "video",
        T.Compose([
            T.UniformTemporalSubsample(n),
            T.Div255(),
            T.Normalize((0.45, 0.45, 0.45), (0.225, 0.225, 0.225)),
            T.RandomShortSideScale(min_size=40, max_size=48),
            T.RandomCropVideo(crop),
            T.RandomHorizontalFlipVideo(p=0.5),
        ]),
    )


def _seed(s):
    torch.manual_seed(s)
    random.seed(s)


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker")
def test_workers_see_every_good_video_once_and_report_every_bad_one(good_videos, bad_videos):
    videos = good_videos[:4] + bad_videos[:2] + good_videos[4:] + bad_videos[2:]
    ds = LabeledVideoDataset(_paths(videos), make_clip_sampler("random", 0.5), transform=tutorial_transform(),
                             max_consecutive_failures=10)
    assert ds.uses_frame_plan
    good_idx = [i for i, p in enumerate(videos) if p in good_videos]
    bad_idx = [i for i, p in enumerate(videos) if p in bad_videos]
    for epoch in range(2):
        ds.clear_failures()
        loader = DataLoader(ds, batch_size=None, num_workers=3)
        seen = [int(s["video_index"]) for s in loader]
        assert sorted(seen) == good_idx
        failures = ds.failures
        assert sorted(f.video_index for f in failures) == bad_idx
        for f in failures:
            assert f.path == videos[f.video_index] and f.reason
        reasons = {os.path.basename(f.path): f.reason for f in failures}
        assert "not found" in reasons["missing.mp4"]
        assert "Video stream not found" in reasons["audio_only.m4a"]


def _drop_odd_labels(sample):
    return None if sample["label"] % 2 else sample


@pytest.mark.parametrize("num_workers", [0, 2])
def test_samples_the_transform_drops_are_counted_not_failed(good_videos, num_workers):
    ds = LabeledVideoDataset(_paths(good_videos), make_clip_sampler("uniform", 0.5), transform=_drop_odd_labels)
    seen = [int(s["video_index"]) for s in DataLoader(ds, batch_size=None, num_workers=num_workers)]
    assert seen and all(i % 2 == 0 for i in seen)
    assert ds.num_failures == 0
    filtered = ds.filtered
    # every clip of every odd video, as the same dataset without the filter yields them
    everything = LabeledVideoDataset(_paths(good_videos), make_clip_sampler("uniform", 0.5))
    want = sorted(int(s["video_index"]) for s in everything if s["label"] % 2)
    assert ds.num_filtered == len(filtered) == len(want) > 0
    assert sorted(f.video_index for f in filtered) == want
    assert all(f.path == good_videos[f.video_index] and f.reason == "the transform returned None" for f in filtered)
    ds.clear_filtered()
    assert ds.num_filtered == 0


def test_consecutive_failures_raise_a_clear_error(bad_videos):
    ds = LabeledVideoDataset(_paths(bad_videos), make_clip_sampler("random", 1), video_sampler=SequentialSampler,
                             max_consecutive_failures=3)
    with pytest.raises(RuntimeError, match=r"Failed to load 3 videos in a row.*text.mp4"):
        next(iter(ds))
    assert [os.path.basename(f.path) for f in ds.failures] == ["zero.mp4", "text.mp4", "trunc.mp4"]  # 3, not 4
    with pytest.raises(ValueError, match="max_consecutive_failures"):
        LabeledVideoDataset(_paths(bad_videos), make_clip_sampler("random", 1), max_consecutive_failures=0)


def test_empty_window_is_a_reported_failure(good_videos):
    # the uniform sampler's clips past the end hold no frame only with a bad duration; simulate one
    ds = LabeledVideoDataset(_paths(good_videos[:2]), make_clip_sampler("uniform", 0.5), video_sampler=SequentialSampler)
    real = ds._decoder.clip
    ds._decoder.clip = lambda video, s, e: None if s >= 0.5 else real(video, s, e)
    items = list(ds)
    assert [(s["video_index"], s["clip_index"]) for s in items] == [(0, 0), (1, 0)]
    assert len(ds.failures) == 2 and all("no frames in clip window" in f.reason for f in ds.failures)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_distributed_sampler_ranks_partition_videos(good_videos, num_workers):
    for epoch in (0, 1):
        per_rank = []
        for rank in range(2):
            sampler = functools.partial(DistributedSampler, num_replicas=2, rank=rank, shuffle=True, seed=7)
            ds = LabeledVideoDataset(_paths(good_videos), make_clip_sampler("random", 0.5), video_sampler=sampler,
                                     transform=tutorial_transform())
            ds.video_sampler.set_epoch(epoch)
            per_rank.append([int(s["video_index"]) for s in DataLoader(ds, batch_size=None, num_workers=num_workers)])
        assert sorted(per_rank[0] + per_rank[1]) == list(range(NUM_GOOD))
        assert len(per_rank[0]) == len(per_rank[1]) == NUM_GOOD // 2
        if epoch == 0:
            first = per_rank
    assert first != per_rank  # set_epoch reshuffles


@pytest.mark.parametrize("num_workers", [0, 2])
def test_seeded_runs_are_reproducible(good_videos, num_workers):
    def run(seed):
        _seed(seed)
        ds = Kinetics(_write_csv(good_videos), make_clip_sampler("random", 0.5), transform=tutorial_transform())
        return [(int(s["video_index"]), s["video"]) for s in DataLoader(ds, batch_size=None, num_workers=num_workers)]

    a, b, c = run(0), run(0), run(1)
    assert [i for i, _ in a] == [i for i, _ in b]
    assert all(torch.equal(x, y) for (_, x), (_, y) in zip(a, b))
    assert [i for i, _ in a] != [i for i, _ in c] or not all(torch.equal(x, y) for (_, x), (_, y) in zip(a, c))



def test_persistent_workers_shuffle_videos_anew_every_epoch(good_videos):
    """A persistent worker keeps its seed from epoch to epoch; the video order must still change (and each
    epoch still sees every video once over the workers)."""
    _seed(0)
    ds = LabeledVideoDataset(_paths(good_videos), make_clip_sampler("random", 0.5), frame_plan=1)
    loader = DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True, timeout=60)
    orders = [[int(s["video_index"]) for s in loader] for _ in range(3)]
    for order in orders:
        assert sorted(order) == list(range(NUM_GOOD))
    assert len({tuple(o) for o in orders}) > 1, orders


_CSV_DIR = None


def _write_csv(videos):
    import tempfile

    global _CSV_DIR
    if _CSV_DIR is None:
        _CSV_DIR = tempfile.mkdtemp(prefix="fastvid-test-csv-")
    path = os.path.join(_CSV_DIR, f"list{len(videos)}.csv")
    with open(path, "w") as f:
        for i, p in enumerate(videos):
            f.write(f"{p} {i % 3}\n")
    return path


@pytest.mark.parametrize("sampler", [("random", 0.7), ("uniform", 0.4), ("constant_clips_per_video", 0.5, 3, 2)])
def test_frame_plan_path_equals_pytorchvideo_path(good_videos, sampler):
    # Decoding only the planned uint8 frames and decoding every frame as float32 give the same samples
    # under the same seeds.
    def run(use_plan):
        _seed(3)
        ds = LabeledVideoDataset(_paths(good_videos[:4]), make_clip_sampler(*sampler), video_sampler=SequentialSampler,
                                 transform=tutorial_transform(), use_frame_plan=use_plan)
        assert ds.uses_frame_plan == use_plan
        return list(ds)

    fast, slow = run(True), run(False)
    assert len(fast) == len(slow) > 0
    for a, b in zip(fast, slow):
        assert {k: a[k] for k in a if k != "video"} == {k: b[k] for k in b if k != "video"}
        assert a["video"].shape == b["video"].shape
        torch.testing.assert_close(a["video"], b["video"], atol=1e-4, rtol=0)


def test_foreign_transform_gets_pytorchvideo_clip(good_videos):
    got = []

    def user_transform(sample):
        got.append(sample["video"])
        return sample

    ds = LabeledVideoDataset(_paths(good_videos[:2]), make_clip_sampler("uniform", 0.5), video_sampler=SequentialSampler,
                             transform=user_transform)
    assert not ds.uses_frame_plan
    items = list(ds)
    assert all(v.dtype == torch.float32 and v.shape[0] == 3 and v.shape[1] == 15 for v in got)  # 0.5 s at 30 fps
    assert [(s["video_index"], s["clip_index"]) for s in items] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert set(items[0]) == {"video", "video_name", "video_index", "clip_index", "aug_index", "label"}
    assert items[0]["video_name"] == "v0.mp4"


def test_window_decoded_once_for_all_augs(good_videos, monkeypatch):
    calls = []
    real, real_many = _ClipDecoder.clip, _ClipDecoder.clips

    def counting(self, video, s, e):
        calls.append((video.name, s))
        return real(self, video, s, e)

    def counting_many(self, video, windows):  # (a video's windows read together)
        calls.extend((video.name, s) for s, _ in windows)
        return real_many(self, video, windows)

    monkeypatch.setattr(_ClipDecoder, "clip", counting)
    monkeypatch.setattr(_ClipDecoder, "clips", counting_many)
    ds = LabeledVideoDataset(_paths(good_videos[:2]), make_clip_sampler("constant_clips_per_video", 0.5, 2, 3),
                             video_sampler=SequentialSampler, transform=tutorial_transform())
    items = list(ds)
    assert [(s["video_index"], s["clip_index"], s["aug_index"]) for s in items] == [
        (v, c, a) for v in range(2) for c in range(2) for a in range(3)
    ]
    assert len(calls) == 4 and len(set(calls)) == 4  # 2 videos x 2 windows, each decoded once
    # random sampler with augs_per_clip: one window, three views
    calls.clear()
    ds = LabeledVideoDataset(_paths(good_videos[:3]), make_clip_sampler("random", 0.5, 3), video_sampler=SequentialSampler,
                             transform=tutorial_transform())
    items = list(ds)
    assert [s["aug_index"] for s in items] == [0, 1, 2] * 3 and len(calls) == 3
    assert not torch.equal(items[0]["video"], items[1]["video"]) or not torch.equal(items[1]["video"], items[2]["video"])


def test_random_multi_and_audio(good_videos, tmp_path):
    ds = LabeledVideoDataset(_paths(good_videos[:2]), make_clip_sampler("random_multi", 0.5, 3),
                             video_sampler=SequentialSampler)
    items = list(ds)
    assert len(items) == 2 and isinstance(items[0]["video"], list) and len(items[0]["video"]) == 3
    assert items[0]["clip_index"] == [0, 0, 0]
    p = write_video(tmp_path / "a.mp4", num_frames=30, audio=True)
    for decode_audio in (False, True):
        ds = LabeledVideoDataset(_paths([p]), make_clip_sampler("random", 0.5), decode_audio=decode_audio,
                                 transform=tutorial_transform())
        s = next(iter(ds))
        assert ("audio" in s) == decode_audio
        if decode_audio:
            assert s["audio"].dtype == torch.float32 and s["audio"].ndim == 1


def test_containers_are_closed(good_videos, bad_videos, monkeypatch):
    import fastvid.data.encoded_video as ev

    containers = []
    real_open = ev.av.open

    def recording_open(*a, **k):
        c = real_open(*a, **k)
        containers.append(c)
        return c

    monkeypatch.setattr(ev.av, "open", recording_open)
    videos = good_videos[:3] + bad_videos
    for sampler in (("uniform", 0.5), ("random", 0.5), ("constant_clips_per_video", 0.3, 2)):
        ds = LabeledVideoDataset(_paths(videos), make_clip_sampler(*sampler), transform=tutorial_transform())
        list(ds)
        # a partly consumed epoch closes its video when the next epoch starts
        it = iter(ds)
        next(it)
        iter(ds)
    ds = LabeledVideoMapDataset(_paths(videos[:3]), make_clip_sampler("uniform", 0.5), transform=tutorial_transform())
    [ds[i] for i in range(len(ds))]
    assert len(containers) > 10
    assert sum(len(c.streams) > 0 for c in containers) == 1  # the map dataset keeps its last video open
    ds.close()
    assert all(len(c.streams) == 0 for c in containers)  # a closed container has no streams left


def test_map_style_lengths_and_items(good_videos, bad_videos):
    paths = _paths(good_videos)
    ds = LabeledVideoMapDataset(paths, make_clip_sampler("constant_clips_per_video", 0.5, 3, 2), transform=tutorial_transform())
    assert len(ds) == NUM_GOOD * 6
    s = ds[7]
    assert (s["video_index"], s["clip_index"], s["aug_index"]) == (1, 0, 1)
    assert s["video"].shape == (3, 4, 32, 32)
    ds = LabeledVideoMapDataset(paths, make_clip_sampler("random", 0.5), transform=tutorial_transform())
    assert len(ds) == NUM_GOOD
    ds = LabeledVideoMapDataset(paths, make_clip_sampler("uniform", 0.5))
    durations = [(30 + 6 * i) / 30 for i in range(NUM_GOOD)]
    per_video = [int((d + 1e-6) // 0.5) for d in durations]
    assert len(ds) == sum(per_video)
    it = [(ds[i]["video_index"], ds[i]["clip_index"]) for i in range(len(ds))]
    assert it == [(v, c) for v in range(NUM_GOOD) for c in range(per_video[v])]
    with pytest.raises(IndexError):
        ds[len(ds)]


@pytest.mark.parametrize("sampler", [("random", 0.5), ("constant_clips_per_video", 0.5, 10, 3)])
def test_map_style_holds_no_python_object_per_video(sampler):
    """What a forked worker reads per item (paths, labels, item offsets) is in arrays, not one Python object per
    video: reading those would write their reference counts and copy the pages into every worker."""
    n = 50_000
    ds = LabeledVideoMapDataset(LabeledVideoPaths([(f"c{i % 400}/v{i}.mp4", i % 400) for i in range(n)]),
                                make_clip_sampler(*sampler))
    per_video = 1 if sampler[0] == "random" else 30
    assert len(ds) == n * per_video and ds._locate(n * per_video - 1) == (n - 1, per_video - 1)
    objects = [o for v in vars(ds).values() for o in gc.get_referents(v)]
    objects += [o for v in vars(ds._labeled_videos).values() for o in gc.get_referents(v)]
    assert len(objects) < 200, f"{len(objects)} objects referenced by the dataset's attributes"


def test_map_style_uniform_clips_hold_no_python_object_per_video():
    """UniformClipSampler's clips are listed from each video's duration, kept as an exact fraction in arrays (a
    list of ClipInfo per video was copied into every forked worker as it was read)."""
    n = 20_000
    durations = [Fraction(3, 2) + Fraction(i % 7, 10) for i in range(n)]  # 1.5 .. 2.1 s: 3 or 4 clips of 0.5 s
    sampler = make_clip_sampler("uniform", 0.5)
    ds = LabeledVideoMapDataset(LabeledVideoPaths([(f"c{i % 400}/v{i}.mp4", i % 400) for i in range(n)]), sampler,
                                durations=durations)
    assert len(ds) == sum(len(sampler.clips_for_duration(d)) for d in durations[:7]) * (n // 7) + sum(
        len(sampler.clips_for_duration(d)) for d in durations[:n % 7])
    objects = [o for v in vars(ds).values() for o in gc.get_referents(v)]
    assert len(objects) < 200, f"{len(objects)} objects referenced by the dataset's attributes"


def test_map_style_uniform_clips_from_given_durations(monkeypatch):
    """Each item's clip is the slot-th of clips_for_duration(its video's duration): exact fractions, floats,
    an unknown duration (None: no items) and one too large for int64 all give the clips listed directly."""
    durations = [Fraction(7, 3), 1.3, None, Fraction(10**30 + 1, 10**30), 0.25, Fraction(1, 2)]
    sampler = make_clip_sampler("uniform", Fraction(1, 2))
    paths = LabeledVideoPaths([(f"v{i}.mp4", i) for i in range(len(durations))])
    ds = LabeledVideoMapDataset(paths, sampler, durations=durations)
    want = [(v, c) for v, d in enumerate(durations) if d is not None for c in sampler.clips_for_duration(Fraction(d))]
    assert len(ds) == len(want)
    seen = []
    monkeypatch.setattr(ds, "_load", lambda video_index, slot, path, info: seen.append(
        (video_index, ds._clip_info(video_index, slot, None))) or {"video_index": video_index})
    for i in [*range(len(ds)), 3, 0, len(ds) - 1]:  # in order, then back to earlier videos
        ds[i]
    assert seen[:len(want)] == want
    assert seen[len(want):] == [want[3], want[0], want[-1]]
    assert [len(c) for c in [sampler.clips_for_duration(Fraction(d)) for d in (Fraction(7, 3), 1.3)]] == [4, 2]


def test_map_style_with_distributed_sampler_gives_full_batches(good_videos, bad_videos):
    videos = good_videos + bad_videos[:2]
    ds = LabeledVideoMapDataset(_paths(videos), make_clip_sampler("constant_clips_per_video", 0.5, 2),
                                transform=tutorial_transform())
    assert len(ds) == len(videos) * 2
    shapes, indices = [], []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=1)
        for batch in DataLoader(ds, batch_size=4, sampler=sampler, num_workers=2, drop_last=True):
            shapes.append(tuple(batch["video"].shape))
            indices += batch["video_index"].tolist()
    assert shapes and all(s == (4, 3, 4, 32, 32) for s in shapes)  # every batch full
    bad_set = {len(good_videos), len(good_videos) + 1}
    assert not bad_set & set(indices)  # failed items were replaced by good ones
    assert {f.video_index for f in ds.failures} == bad_set


def _cluster(good_videos, tmp_path, n_bad):
    """good videos around a run of n_bad zero-byte files (an interrupted download)."""
    bad = []
    for i in range(n_bad):
        (tmp_path / f"broken_{i:02d}.mp4").write_bytes(b"")
        bad.append(str(tmp_path / f"broken_{i:02d}.mp4"))
    videos = good_videos[:3] + bad + good_videos[3:]
    return videos, set(range(3, 3 + n_bad))


def test_map_style_replaces_a_failed_item_by_a_random_readable_video_and_survives_a_cluster(good_videos, tmp_path):
    # 12 broken files in a row: every index is visited each epoch, so replacing a failed item by the next
    # video used to fail 10 times in a row on the first of them (and weighted the video after the cluster)
    videos, bad = _cluster(good_videos, tmp_path, 12)
    ds = LabeledVideoMapDataset(_paths(videos), make_clip_sampler("random", 0.5), transform=tutorial_transform(),
                                max_consecutive_failures=10)
    torch.manual_seed(0)
    got = [ds[i]["video_index"] for i in range(len(ds))]
    assert not bad & set(got)
    assert set(got[:3]) | set(got[15:]) == set(range(3)) | set(range(15, 20))  # good items give themselves
    replacements = got[3:15]
    assert len(set(replacements)) > 2  # drawn at random, not all the video after the cluster
    assert sorted(f.video_index for f in ds.failures) == sorted(bad)  # each bad file listed once
    # a second pass neither opens nor logs the known failures again
    assert [ds[i]["video_index"] for i in range(3)] == [0, 1, 2]
    for i in range(3, 15):
        ds[i]
    assert sorted(f.video_index for f in ds.failures) == sorted(bad)
    # the same seed, the same replacements
    ds2 = LabeledVideoMapDataset(_paths(videos), make_clip_sampler("random", 0.5), transform=tutorial_transform())
    torch.manual_seed(0)
    assert [ds2[i]["video_index"] for i in range(len(ds2))] == got


def test_map_style_replacement_keeps_the_items_clip_slot_and_aug_index(good_videos, bad_videos):
    # constant clips: item 2 is clip 2 of the broken first video; its replacement is clip 2 of another video
    ds = LabeledVideoMapDataset(_paths(bad_videos[:1] + good_videos[:2]), make_clip_sampler("constant_clips_per_video", 0.5, 3),
                                transform=tutorial_transform())
    torch.manual_seed(0)
    s = ds[2]
    assert s["video_index"] in (1, 2) and (s["clip_index"], s["aug_index"]) == (2, 0)
    # random clips with 3 augmentations: the items of a video are its augmentations, in order
    ds = LabeledVideoMapDataset(_paths(good_videos[:2]), RandomClipSampler(0.5, augs_per_clip=3),
                                transform=tutorial_transform())
    assert len(ds) == 6
    assert [(ds[i]["video_index"], ds[i]["aug_index"]) for i in range(6)] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_map_style_still_stops_when_no_video_can_be_read(bad_videos, tmp_path):
    ds = LabeledVideoMapDataset(_paths(bad_videos * 3), make_clip_sampler("random", 0.5), max_consecutive_failures=4)
    with pytest.raises(RuntimeError, match=r"Failed to load 4 videos in a row|none of the 15 videos could be opened"):
        ds[0]
    ds = LabeledVideoMapDataset(_paths(bad_videos), make_clip_sampler("constant_clips_per_video", 0.5, 2),
                                max_consecutive_failures=3, on_failure="skip")
    with pytest.raises(RuntimeError, match="Failed to load 3 videos in a row"):
        [ds[i] for i in range(len(ds))]


def _faststart_mp4(path, num_frames, rate, shade, gop=None) -> bytes:
    """Writes a 64x48 H.264 MP4 with its header (moov) first, frame k of shade ``shade(k)``; returns its bytes and
    where its frame data (mdat) starts."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        st = out.add_stream("libx264", rate=rate)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        if gop is not None:
            st.codec_context.gop_size = gop
        for k in range(num_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), shade(k) % 255, np.uint8), format="rgb24")
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode(None):
            out.mux(p)
    data = open(path, "rb").read()
    mdat = data.index(b"mdat") - 4
    assert data.index(b"moov") < mdat
    return data, mdat


def _headers_only(tmp_path, n):
    """MP4s cut right after their header (moov first): they open, and no clip window decodes."""
    paths = []
    for i in range(n):
        path = str(tmp_path / f"cut{i}.mp4")
        data, mdat = _faststart_mp4(path, 30, 15, lambda k, i=i: 8 * k + i)
        open(path, "wb").write(data[: mdat + 16])
        paths.append(path)
    return paths


@pytest.mark.parametrize("on_failure", ["replace", "skip"])
def test_map_style_stops_when_videos_open_but_no_clip_decodes(tmp_path, on_failure):
    # Opening them works, so a look at other videos must read a clip, not only open them: this used to
    # loop for ever (replace) or give None for ever (skip).
    videos = _headers_only(tmp_path, 4)
    with EncodedVideo.from_path(videos[0], decode_audio=False) as v:
        assert v.duration > 0.5
    ds = LabeledVideoMapDataset(_paths(videos), make_clip_sampler("random", 0.5), on_failure=on_failure,
                                max_consecutive_failures=3)
    with pytest.raises(RuntimeError, match="Failed to load 3 videos in a row|none of the 4 videos"):
        for _ in range(20):
            for i in range(len(ds)):
                ds[i]


def test_map_style_gives_up_on_a_video_after_three_failed_windows(good_videos, tmp_path):
    cut = _headers_only(tmp_path, 1)
    ds = LabeledVideoMapDataset(_paths(good_videos[:3] + cut), make_clip_sampler("random", 0.5), on_failure="skip")
    for _ in range(10):
        assert ds[3] is None
    rows = ds.failures
    assert len(rows) == 3 and {r.video_index for r in rows} == {3}
    assert "3 clip windows of this video failed: it is not read again" in rows[-1].reason


def test_map_style_skip_leaves_failed_videos_out_once_each(good_videos, tmp_path):
    from fastvid.data import skip_none

    videos, bad = _cluster(good_videos, tmp_path, 12)
    ds = LabeledVideoMapDataset(_paths(videos), make_clip_sampler("constant_clips_per_video", 0.5, 2, 3),
                                transform=tutorial_transform(), on_failure="skip", max_consecutive_failures=10)
    items = [ds[i] for i in range(len(ds))]
    assert [i for i, x in enumerate(items) if x is None] == [i for v in sorted(bad) for i in range(6 * v, 6 * v + 6)]
    kept = [x["video_index"] for x in items if x is not None]
    assert kept == [v for v in range(len(videos)) if v not in bad for _ in range(6)]  # no video counted twice
    assert sorted(f.video_index for f in ds.failures) == sorted(bad)
    with pytest.raises(ValueError, match="on_failure"):
        LabeledVideoMapDataset(_paths(videos), make_clip_sampler("random", 0.5), on_failure="retry")
    # the collate function leaves the None items out, and a batch of failures is None
    loader = DataLoader(ds, batch_size=6, num_workers=2, collate_fn=skip_none())
    batches = list(loader)
    assert sum(b is None for b in batches) == len(bad)
    assert [b["video_index"].tolist() for b in batches if b is not None] == [[v] * 6 for v in range(len(videos)) if v not in bad]
    assert repr(skip_none()).startswith("skip_none(")


def test_rss_stays_flat_over_thousands_of_clips(good_videos):
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    ds = LabeledVideoDataset(_paths(good_videos), make_clip_sampler("uniform", 0.2), transform=tutorial_transform())

    def run(n):
        count = 0
        while count < n:
            for _ in ds:
                count += 1
        return count

    run(400)
    gc.collect()
    before = proc.memory_info().rss
    run(2000)
    gc.collect()
    grown = (proc.memory_info().rss - before) / 2**20
    assert grown < 25, f"RSS grew by {grown:.1f} MiB over 2000 clips"


def test_decoder_threads_default_to_one_in_workers(good_videos, monkeypatch):
    import fastvid.data.encoded_video as ev
    from fastvid.data import default_decoder_threads

    seen = []
    real = ev.EncodedVideoPyAV._planned_frames

    def spy(self, *a):
        seen.append(self._vstream.codec_context.thread_count)
        return real(self, *a)

    monkeypatch.setattr(ev.EncodedVideoPyAV, "_planned_frames", spy)

    def add_threads(sample):
        sample = tutorial_transform()(sample)
        sample["threads"] = seen[-1]
        sample["default"] = default_decoder_threads()
        return sample

    # keep the frame plan of the tutorial transform (resolved when the dataset is built), add a probe
    ds = LabeledVideoDataset(_paths(good_videos[:4]), make_clip_sampler("random", 0.5), transform=tutorial_transform())
    ds._transform = add_threads
    items = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert [s["threads"] for s in items] == [1] * 4 and [s["default"] for s in items] == [1] * 4
    assert default_decoder_threads() is None  # main process: FFmpeg's default
    ds = LabeledVideoDataset(_paths(good_videos[:2]), make_clip_sampler("random", 0.5), transform=tutorial_transform(),
                             decoder_threads=3)
    ds._transform = add_threads
    assert [s["threads"] for s in DataLoader(ds, batch_size=None, num_workers=2)] == [3, 3]


def test_explicit_frame_plan_gives_uint8_without_transform(good_videos):
    from fastvid.data.reference_decode import reference_clip

    ds = LabeledVideoDataset(_paths(good_videos[:3]), make_clip_sampler("uniform", 0.5), video_sampler=SequentialSampler,
                             frame_plan=6)
    assert ds.uses_frame_plan
    for s in ds:
        assert s["video"].dtype == torch.uint8 and s["video"].shape[:2] == (3, 6)
        start = Fraction(s["clip_index"], 2)
        ref = reference_clip(good_videos[s["video_index"]], start, start + Fraction(1, 2), 6)
        assert torch.equal(s["video"], ref)
    batch = next(iter(DataLoader(LabeledVideoMapDataset(_paths(good_videos[1::2]), make_clip_sampler("random", 0.5),
                                                        frame_plan=T.TemporalPlan(4)), batch_size=4)))
    assert batch["video"].dtype == torch.uint8 and batch["video"].shape == (4, 3, 4, 48, 64)
    with pytest.raises(ValueError, match="frame_plan"):
        LabeledVideoDataset(_paths(good_videos), make_clip_sampler("random", 1), frame_plan=0)
    with pytest.raises(TypeError, match="frame_plan"):
        LabeledVideoDataset(_paths(good_videos), make_clip_sampler("random", 1), frame_plan="8")


def test_map_style_workers_do_not_share_the_parents_open_video(good_videos):
    ds = LabeledVideoMapDataset(_paths(good_videos[1:4:2]), make_clip_sampler("constant_clips_per_video", 0.3, 4),
                                frame_plan=4)
    first = ds[0]["video"]  # the main process now holds video 0 open
    loader = DataLoader(ds, batch_size=2, num_workers=2, timeout=60)  # forked workers inherit that object
    videos = torch.cat([b["video"] for b in loader])
    assert torch.equal(videos[0], first)
    expect = torch.stack([ds[i]["video"] for i in range(len(ds))])
    assert torch.equal(videos, expect)
    ds.close()


def test_iterable_workers_forked_while_a_video_is_loaded(good_videos):
    ds = LabeledVideoDataset(_paths(good_videos[:4]), make_clip_sampler("uniform", 0.3), video_sampler=SequentialSampler,
                             transform=tutorial_transform(), decoder_threads=2)
    it = iter(ds)
    next(it)  # the main process now holds video 0 open, with decoder threads
    items = list(DataLoader(ds, batch_size=None, num_workers=2, timeout=60))
    per_video = [int((30 + 6 * i) / 30 / 0.3 + 1e-9) for i in range(4)]
    assert sorted((s["video_index"], s["clip_index"]) for s in items) == [
        (v, c) for v in range(4) for c in range(per_video[v])
    ]


def test_the_crops_of_one_failed_window_count_as_one_failed_window(good_videos, monkeypatch):
    # the 3 crops of a validation window share its decode: one bad window is not 3 strikes against the video
    ds = LabeledVideoMapDataset(_paths(good_videos[:1]), make_clip_sampler("constant_clips_per_video", 0.5, 4, 3),
                                transform=tutorial_transform(), on_failure="skip")
    real = ds._decoder.clip

    def first_window_empty(video, start, end):
        return None if start == 0 else real(video, start, end)

    monkeypatch.setattr(ds._decoder, "clip", first_window_empty)
    items = [ds[i] for i in range(len(ds))]
    assert [x is None for x in items] == [True] * 3 + [False] * 9
    assert len({f.reason for f in ds.failures}) == 1


def test_the_failure_log_file_is_removed_at_exit_and_only_by_its_creator(tmp_path):
    # A dataset still referenced when the interpreter exits (a script's global) never had __del__ called: one
    # fastvid-failures-*.tsv was left in the temporary folder per run. A forked child that exits normally must not
    # remove its parent's file; a pickled copy (a spawned worker) appends to the same file.
    script = f"""
import os, pickle, sys
from fastvid.data import LabeledVideoDataset, make_clip_sampler
DATASET = LabeledVideoDataset([("{tmp_path}/missing.mp4", {{"label": 0}})], make_clip_sampler("random", 1.0))
log = DATASET._failure_log
copy = pickle.loads(pickle.dumps(log))
assert copy.path == log.path
pid = os.fork()
if pid == 0:
    del copy
    sys.exit(0)  # (atexit runs in the child)
os.waitpid(pid, 0)
assert os.path.exists(log.path), "the forked child removed its parent's failure log"
print(log.path)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip().splitlines()[-1]
    assert "fastvid-failures-" in path and not os.path.exists(path)



def _same_items(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x is None) == (y is None)
        if x is None:
            continue
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], torch.Tensor):
                assert torch.equal(x[k], y[k]), k
            else:
                assert x[k] == y[k], k


def _view_transform(crops):
    from fastvid.train.data import val_transform

    return val_transform(num_frames=4, crop_size=32, short_side=40, crops=crops, mean=(0.45,) * 3, std=(0.225,) * 3)


@pytest.mark.parametrize("sampler, crops", [(("constant_clips_per_video", 0.7, 5, 3), 3), (("uniform", 0.4, 0.25), 1)])
@pytest.mark.parametrize("batch", [2, 7, 16, 64])
def test_map_style_batches_read_a_videos_windows_together_and_give_each_item(good_videos, sampler, crops, batch,
                                                                                 monkeypatch):
    # DataLoader asks for whole batches (__getitems__): the windows of a video in a batch are decoded in shared
    # passes, and every item is what dataset[i] gives alone
    def make():
        return LabeledVideoMapDataset(_paths(good_videos), make_clip_sampler(*sampler), transform=_view_transform(crops),
                                      on_failure="skip")

    alone = [make()[i] for i in range(len(make()))]
    calls = {"clip": 0, "clips": []}
    real_clip, real_clips = _ClipDecoder.clip, _ClipDecoder.clips
    monkeypatch.setattr(_ClipDecoder, "clip", lambda self, *a: calls.__setitem__("clip", calls["clip"] + 1) or real_clip(self, *a))
    monkeypatch.setattr(_ClipDecoder, "clips", lambda self, v, w: calls["clips"].append(len(w)) or real_clips(self, v, w))
    ds = make()
    n = len(ds)
    batches = [list(range(k, min(k + batch, n))) for k in range(0, n, batch)]
    got = [x for b in batches for x in ds.__getitems__(b)]
    _same_items(got, alone)
    # a video's windows in a batch are decoded together, a window alone in its batch through clip() (unless the
    # item before it was of the same window: the crops of a window share its decode)
    expected_clips, expected_clip, last = [], 0, None
    for b in batches:
        groups = {}
        for i in b:
            groups.setdefault(alone[i]["video_index"], []).append(alone[i]["clip_index"])
        for v, clip_indices in groups.items():
            if len(set(clip_indices)) > 1:
                expected_clips.append(len(set(clip_indices)))
            elif (v, clip_indices[0]) != last:
                expected_clip += 1
            last = (v, clip_indices[-1])
    assert calls["clips"] == expected_clips
    assert calls["clip"] == expected_clip
    assert len(expected_clips) > 0
    # through a DataLoader with workers, the same batches
    loader = DataLoader(make(), batch_size=batch, num_workers=2, collate_fn=lambda b: b)
    _same_items([x for b in loader for x in b], alone)


def _shared_read_sizes(monkeypatch) -> list:
    """The number of windows of each shared read (_ClipDecoder.clips call) from now on."""
    sizes = []
    real = _ClipDecoder.clips
    monkeypatch.setattr(_ClipDecoder, "clips", lambda self, v, w: sizes.append(len(w)) or real(self, v, w))
    return sizes


def _seven_views_dataset(videos):
    return LabeledVideoMapDataset(_paths(videos), make_clip_sampler("constant_clips_per_video", 0.5, 7, 3),
                                  transform=_view_transform(3), on_failure="skip")


def test_map_style_batch_reads_are_bounded_by_prefetch_bytes(good_videos, monkeypatch):
    sizes = _shared_read_sizes(monkeypatch)
    ds = _seven_views_dataset(good_videos[:2])
    ds.prefetch_bytes = 2 * 4 * 64 * 48 * 3  # two windows of 4 frames of 64x48
    alone = [ds[i] for i in range(len(ds))]
    got = ds.__getitems__(list(range(len(ds))))
    _same_items(got, alone)
    assert sizes == [2, 2, 2] * 2  # 7 windows per video: 3 passes of 2, the last window alone
    assert ds._prefetched == {}  # no decoded frames held after the batch


def test_map_style_batch_reads_meet_failures_as_item_reads_do(good_videos, bad_videos, tmp_path):
    cut = _headers_only(tmp_path, 1)
    videos = [good_videos[0], *bad_videos[:3], good_videos[1], *cut, good_videos[2]]
    make = functools.partial(LabeledVideoMapDataset, _paths(videos), make_clip_sampler("constant_clips_per_video", 0.5, 3, 3),
                             transform=_view_transform(3), on_failure="skip", max_consecutive_failures=100)
    one = make()
    alone = [one[i] for i in range(len(one))]
    ds = make()
    got = [x for k in range(0, len(ds), 8) for x in ds.__getitems__(list(range(k, min(k + 8, len(ds)))))]
    _same_items(got, alone)
    assert [(f.video_index, f.reason) for f in ds.failures] == [(f.video_index, f.reason) for f in one.failures]
    assert sum(x is None for x in got) == 9 * 4  # 3 videos that do not open, 1 whose windows do not decode
    with pytest.raises(IndexError):
        ds.__getitems__([0, len(ds)])


@pytest.mark.parametrize("sampler, crops", [(("constant_clips_per_video", 0.7, 5, 3), 3), (("uniform", 0.4, 0.25), 1),
                                            (("uniform", 0.5), 1)])
@pytest.mark.parametrize("budget_windows", [None, 2])
def test_iterable_reads_a_videos_next_windows_together_and_gives_the_same_clips(good_videos, sampler, crops,
                                                                                budget_windows, monkeypatch):
    def items(prefetch_bytes):
        ds = LabeledVideoDataset(_paths(good_videos), make_clip_sampler(*sampler), video_sampler=SequentialSampler,
                                 transform=_view_transform(crops))
        if prefetch_bytes is not None:
            ds.prefetch_bytes = prefetch_bytes
        return list(ds)

    alone = items(0)  # a budget below one window: every window decoded alone
    sizes = []
    real = _ClipDecoder.clips
    monkeypatch.setattr(_ClipDecoder, "clips", lambda self, v, w: sizes.append(len(w)) or real(self, v, w))
    got = items(None if budget_windows is None else budget_windows * 4 * 64 * 64 * 3)
    _same_items(got, alone)
    assert [(x["video_index"], x["clip_index"], x["aug_index"]) for x in got] == [
        (x["video_index"], x["clip_index"], x["aug_index"]) for x in alone]
    per_video = {}
    for x in alone:
        per_video.setdefault(x["video_index"], set()).add(x["clip_index"])
    if budget_windows is None:  # each video's windows in one call
        assert sorted(sizes) == sorted(len(c) for c in per_video.values() if len(c) > 1)
    else:
        assert sizes and max(sizes) <= 2 and sum(sizes) >= sum(len(c) for c in per_video.values()) - len(per_video) * 1


def _cut_in_the_middle(tmp_path):
    """A faststart MP4 (header first) cut halfway through its frames: it opens, and its later windows fail."""
    path = str(tmp_path / "half.mp4")
    data, mdat = _faststart_mp4(path, 60, 30, lambda k: 4 * k, gop=10)
    open(path, "wb").write(data[: mdat + (len(data) - mdat) // 2])
    return path


def test_a_videos_failed_shared_read_is_not_tried_again(good_videos, tmp_path, monkeypatch):
    # windows after the cut fail: the shared read that reaches them fails once, then the video's windows are read
    # alone (trying the shared read again at every window decoded the good windows over and over)
    half = _cut_in_the_middle(tmp_path)
    # (the map dataset gives up on a video after 3 failed windows: here it goes on reading the cut one's windows)
    monkeypatch.setattr(sys.modules[LabeledVideoMapDataset.__module__], "_WINDOW_FAILURES_PER_VIDEO", 1000)
    calls = []
    real = _ClipDecoder.clips

    def clips(self, video, windows):
        calls.append((video.name, None))
        calls[-1] = (video.name, "failed")
        out = real(self, video, windows)
        calls[-1] = (video.name, "ok")
        return out

    monkeypatch.setattr(_ClipDecoder, "clips", clips)

    def run(iterable, prefetch_bytes=None):
        paths = _paths([good_videos[0], half])
        sampler = make_clip_sampler("uniform", Fraction(1, 10))
        if iterable:
            ds = LabeledVideoDataset(paths, sampler, video_sampler=SequentialSampler, frame_plan=4)
        else:
            ds = LabeledVideoMapDataset(paths, sampler, frame_plan=4, on_failure="skip")
        if prefetch_bytes is not None:
            ds.prefetch_bytes = prefetch_bytes
        items = list(ds) if iterable else [x for k in range(0, len(ds), 4) for x in ds.__getitems__(list(range(k, min(k + 4, len(ds)))))]
        return items, [(f.video_index, f.reason) for f in ds.failures]

    for iterable in (True, False):
        alone = run(iterable, prefetch_bytes=0)
        calls.clear()
        got = run(iterable)
        _same_items(got[0], alone[0])
        assert got[1] == alone[1] and len(got[1]) >= 1 and all(i == 1 for i, _ in got[1])
        cut = [state for name, state in calls if name == "half.mp4"]
        assert "failed" in cut and cut[-1] == "failed", calls  # after the one that failed, no shared read of it
        assert iterable or cut.count("ok") >= 1  # (the map's first batch of it, before the cut, read together)


def test_map_style_batch_reads_do_not_hold_a_parts_buffer_after_the_batch(good_videos):
    ds = LabeledVideoMapDataset(_paths(good_videos[:1]), make_clip_sampler("constant_clips_per_video", 0.5, 4, 3),
                                transform=_view_transform(3), on_failure="skip")
    import tracemalloc

    ds[0]  # (the dataset's own caches, before measuring)
    tracemalloc.start()  # (NumPy reports its buffers to tracemalloc: the parts' buffers are NumPy arrays)
    try:
        items = ds.__getitems__(list(range(len(ds))))
        del items
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # the last window is kept for crops that the next batch may hold: as a copy, not through the part's buffer of 4
    # windows (4 frames of 64x48 each)
    assert ds._cache_clip is not None
    assert held < 4 * 4 * 64 * 48 * 3 / 2, held


def test_iterable_look_ahead_only_for_fastvids_own_samplers(good_videos, monkeypatch):
    # a sampler subclass may draw random numbers: calling it ahead would move the global random stream
    class Jittered(type(make_clip_sampler("uniform", 0.5))):
        def __call__(self, last_clip_end_time, video_duration, annotation):
            random.random()
            return super().__call__(last_clip_end_time, video_duration, annotation)

    calls = []
    real = _ClipDecoder.clips
    monkeypatch.setattr(_ClipDecoder, "clips", lambda self, v, w: calls.append(len(w)) or real(self, v, w))
    random.seed(0)
    ds = LabeledVideoDataset(_paths(good_videos[:2]), Jittered(0.5), video_sampler=SequentialSampler,
                             transform=_view_transform(1))
    items = list(ds)
    assert len(items) == 4 and calls == []
    draws_after = random.random()
    random.seed(0)
    for _ in range(len(items)):
        random.random()
    assert draws_after == random.random()  # one draw per clip, none more


def test_a_csv_of_paths_relative_to_its_folder_asks_for_the_prefix(good_videos, tmp_path, monkeypatch):
    # PyTorchVideo's Kinetics opens the CSV's paths as written; a CSV of folder-relative paths (fastvid-prepare's)
    # read from elsewhere failed video after video and ended in "Failed to load 10 videos in a row"
    import shutil

    (tmp_path / "data" / "train").mkdir(parents=True)
    shutil.copy(good_videos[0], tmp_path / "data" / "train" / "a.mp4")
    (tmp_path / "data" / "train.csv").write_text("train/gone.mp4 0\ntrain/a.mp4 0\n")  # (the first one missing)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"pass video_path_prefix='.*data'"):
        Kinetics(str(tmp_path / "data" / "train.csv"), make_clip_sampler("random", 0.5))
    with pytest.raises(FileNotFoundError, match=r"under video_path_prefix '/nowhere'"):  # (a pathlib.Path shown as a path)
        Kinetics(str(tmp_path / "data" / "train.csv"), make_clip_sampler("random", 0.5),
                 video_path_prefix=pathlib.Path("/nowhere"))
    ds = Kinetics(str(tmp_path / "data" / "train.csv"), make_clip_sampler("random", 0.5),
                  video_path_prefix=str(tmp_path / "data"), transform=tutorial_transform(), map_style=True)
    assert ds[1]["video"].shape == (3, 4, 32, 32)
    monkeypatch.chdir(tmp_path / "data")  # from the CSV's folder, the paths are right as they are
    Kinetics(str(tmp_path / "data" / "train.csv"), make_clip_sampler("random", 0.5))


# -- shared reads in batches: budgets, random samplers, failures (from a mutation-testing review)


def test_prefetch_counts_a_video_without_a_frame_size_as_1080p(good_videos, monkeypatch):
    monkeypatch.setattr(EncodedVideoPyAV, "frame_size", property(lambda self: (0, 0)))
    sizes = _shared_read_sizes(monkeypatch)
    ds = _seven_views_dataset(good_videos[:1])
    ds.prefetch_bytes = 2 * 4 * 1920 * 1080 * 3
    ds.__getitems__(list(range(len(ds))))
    assert sizes == [2, 2, 2]


def test_prefetch_budget_below_one_window_reads_each_window_alone(good_videos, monkeypatch):
    sizes = _shared_read_sizes(monkeypatch)
    ds = _seven_views_dataset(good_videos[:2])
    ds.prefetch_bytes = 1
    ds.__getitems__(list(range(len(ds))))
    assert sizes == []


def test_getitems_out_of_range_is_an_index_error(good_videos):
    ds = LabeledVideoMapDataset(_paths(good_videos[:2]), make_clip_sampler("constant_clips_per_video", 0.5, 3, 3),
                                transform=_view_transform(3), on_failure="skip")
    with pytest.raises(IndexError):
        ds.__getitems__([len(ds), len(ds) + 1])


def test_getitems_with_a_random_sampler_equals_item_reads_and_draws_once(good_videos, monkeypatch):
    def make():
        return LabeledVideoMapDataset(_paths(good_videos[:3]), make_clip_sampler("random", 0.5),
                                      transform=_view_transform(1), on_failure="skip")
    random.seed(0)
    one = make()
    alone = [one[i] for i in [0, 0, 1, 1, 2]]
    calls = []
    real = _ClipDecoder.clips
    monkeypatch.setattr(_ClipDecoder, "clips", lambda self, v, w: calls.append(len(w)) or real(self, v, w))
    random.seed(0)
    got = make().__getitems__([0, 0, 1, 1, 2])
    _same_items(got, alone)
    assert calls == []


@pytest.mark.parametrize("iterable", [True, False])
def test_a_failed_shared_read_is_tried_once_and_only_for_that_video(good_videos, tmp_path, monkeypatch, iterable):
    half = _cut_in_the_middle(tmp_path)
    monkeypatch.setattr(sys.modules[LabeledVideoMapDataset.__module__], "_WINDOW_FAILURES_PER_VIDEO", 1000)
    calls = []
    real = _ClipDecoder.clips

    def clips(self, video, windows):
        calls.append([video.name, "failed"])
        out = real(self, video, windows)
        calls[-1][1] = "ok"
        return out

    monkeypatch.setattr(_ClipDecoder, "clips", clips)
    paths = _paths([half, good_videos[0]])
    sampler = make_clip_sampler("uniform", Fraction(1, 10))
    if iterable:
        ds = LabeledVideoDataset(paths, sampler, video_sampler=SequentialSampler, frame_plan=4)
        list(ds)
    else:
        ds = LabeledVideoMapDataset(paths, sampler, frame_plan=4, on_failure="skip")
        [x for k in range(0, len(ds), 4) for x in ds.__getitems__(list(range(k, min(k + 4, len(ds)))))]
    cut = [s for n, s in calls if n == "half.mp4"]
    assert cut.count("failed") == 1, calls
    assert any(n != "half.mp4" and s == "ok" for n, s in calls), calls


def test_csv_prefix_hint_quotes_a_folder_with_a_space_and_names_the_current_directory(tmp_path, monkeypatch):
    d = tmp_path / "my data"
    (d / "v").mkdir(parents=True)
    (d / "v" / "a.mp4").write_bytes(b"")
    (d / "t.csv").write_text("v/a.mp4 0\n")
    monkeypatch.chdir(tmp_path)
    from fastvid.data.labeled_video_paths import csv_prefix_problem

    msg = csv_prefix_problem(str(d / "t.csv"), ["v/a.mp4"], "", command_line=True)
    assert msg.endswith(f"pass --video-path-prefix '{d}'"), msg
    assert "relative to the current directory" in msg
