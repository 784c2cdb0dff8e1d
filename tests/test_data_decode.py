"""EncodedVideo: frame-index decoding is bit-identical to a plain decode of every frame, on many formats;
get_clip gives PyTorchVideo's float32 clip; bad files fail with clear errors."""

import math
import random
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from fastvid.data import EncodedVideo, EncodedVideoPyAV
from fastvid.data.encoded_video import VideoIndex
from fastvid.data.reference_decode import decode_all_frames, reference_clip
from fastvid.data.synthetic import encoder_available, write_video


def _vfr_times(n, seed=0):
    rng = random.Random(seed)
    t, out = 0.0, []
    for _ in range(n):
        out.append(t)
        t += rng.choice([1 / 30, 1 / 15, 1 / 60, 0.05])
    return out


FORMATS = {
    "h264_yuv420p_bframes.mp4": dict(codec="libx264", gop=12, bframes=3),
    "h264_yuvj420p.mp4": dict(codec="libx264", pix_fmt="yuvj420p", gop=10),
    "h264_yuv444p_odd_width.mp4": dict(codec="libx264", pix_fmt="yuv444p", width=65, height=49),
    "h264_10bit.mkv": dict(codec="libx264", pix_fmt="yuv420p10le", gop=20),
    "h264_gop250.mp4": dict(codec="libx264", gop=250),
    "vp9_odd.webm": dict(codec="libvpx-vp9", width=63, height=47, gop=30),
    "mpeg4_bframes.avi": dict(codec="mpeg4", bframes=2, gop=15),
    "mpeg4.mp4": dict(codec="mpeg4", bframes=2, gop=15),
    "h264_vfr.mkv": dict(codec="libx264", frame_times=_vfr_times(75), gop=16),
    "h264_vfr.mp4": dict(codec="libx264", frame_times=_vfr_times(75, 1), gop=16),
    "short.mp4": dict(codec="libx264", num_frames=12),
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    out = {}
    for name, kw in FORMATS.items():
        kw = dict(kw)
        kw.setdefault("num_frames", 75)
        if not encoder_available(kw["codec"]):
            continue
        try:
            out[name] = write_video(root / name, **kw)
        except av.error.FFmpegError as e:  # e.g. an x264 build without 10-bit
            print(f"cannot write {name}: {e}")
    return out


def _windows(duration, seed):
    rng = random.Random(seed)
    d = float(duration)
    ws = [(Fraction(0), Fraction(1)), (Fraction(0), Fraction(d) + 1), (Fraction(d) - Fraction(1, 10), Fraction(d) + 2)]
    ws += [(Fraction(k, 30), Fraction(k + 31, 30)) for k in (0, 7, 29)]  # on frame times
    for _ in range(6):
        s = Fraction(rng.uniform(-0.2, d))
        ws.append((s, s + Fraction(rng.choice([0.2, 1.0, 2.0]))))
    return ws


@pytest.mark.parametrize("index", ["full", "window"])
@pytest.mark.parametrize("name", list(FORMATS))
def test_frame_index_decode_is_bit_identical(videos, name, index, monkeypatch):
    # "window": every clip indexes only the packets around its window (what videos longer than
    # window_index_after_sec do), unless the header has no durations and the whole index is built on open.
    if name not in videos:
        pytest.skip(f"encoder for {name} not available in this FFmpeg")
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", 0.0 if index == "window" else 1e9)
    path = videos[name]
    pts, frames = decode_all_frames(path)
    assert len(pts) == FORMATS[name].get("num_frames", 75)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        whole_at_open = v._index is not None
        if index == "full":
            assert v.index.usable
            assert v.index.pts.tolist() == pts
        for i, (s, e) in enumerate(_windows(v.duration, seed=len(name))):
            for n in (None, 1, 8, 40):
                ref = reference_clip(path, s, e, n, decoded=(pts, frames))
                got = v.get_clip_frames(s, e, n)
                if ref is None:
                    assert got["video"] is None, (s, e, n)
                    continue
                assert got["video"].dtype == torch.uint8
                assert got["video"].shape == ref.shape, (s, e, n)
                assert torch.equal(got["video"], ref), (name, s, e, n)
                assert got["video"].permute(1, 2, 3, 0).is_contiguous()  # a view of the (T', H, W, 3) buffer
            if n is not None and ref is not None:
                assert v.last_decode_stats["frames_converted"] <= n
        assert v.fallbacks == 0
        if index == "window":
            assert v._index is None or whole_at_open  # the whole file was never indexed for a clip


@pytest.mark.parametrize("index", ["full", "window"])
@pytest.mark.parametrize("name", list(FORMATS))
def test_many_windows_in_shared_passes_are_each_windows_own_clip(videos, name, index, monkeypatch):
    # get_clips_frames reads overlapping, nearby, far, repeated, unsorted and empty windows in shared passes:
    # every clip must be the reference's and get_clip_frames' (frame indices too), in the order given
    if name not in videos:
        pytest.skip(f"encoder for {name} not available in this FFmpeg")
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", 0.0 if index == "window" else 1e9)
    path = videos[name]
    decoded = decode_all_frames(path)
    rng = random.Random(len(name))
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        d = v.duration
        ws = _windows(d, seed=len(name) + 1)
        views = [(Fraction(k, 10) * d, Fraction(k, 10) * d + Fraction(2, 3)) for k in range(10)]  # 10 views
        for windows in (ws, views, views[::-1] + views[:3], rng.sample(ws + views, 8), [views[0], ws[2]]):
            for n in (None, 1, 8):
                got = v.get_clips_frames(windows, n)
                assert len(got) == len(windows)
                for (s, e), g in zip(windows, got):
                    ref = reference_clip(path, s, e, n, decoded=decoded)
                    one = v.get_clip_frames(s, e, n)
                    if ref is None:
                        assert g["video"] is None and one["video"] is None, (s, e, n)
                        continue
                    assert g["video"].shape == ref.shape and torch.equal(g["video"], ref), (name, s, e, n)
                    assert torch.equal(g["frame_indices"], one["frame_indices"]), (s, e, n)
                    assert g["video"].permute(1, 2, 3, 0).is_contiguous()
        assert v.fallbacks == 0


def test_shared_passes_decode_each_frame_once(videos):
    # 10 overlapping views of the GOP-250 video: one pass from the only keyframe to the last kept frame,
    # where reading them one by one decodes from that keyframe ten times
    path = videos["h264_gop250.mp4"]  # 75 frames, one keyframe
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        views = [(Fraction(k, 6), Fraction(k, 6) + 1) for k in range(10)]
        v.get_clips_frames(views, 8)
        shared = v.last_decode_stats
        alone = 0
        for s, e in views:
            v.get_clip_frames(s, e, 8)
            alone += v.last_decode_stats["frames_decoded"]
    assert shared["passes"] == 1 and shared["frames_converted"] <= 80
    last = int(Fraction(9, 6) * 30 + 30)  # the last window ends at frame 75 (2.5 s)
    assert shared["frames_decoded"] <= last + 4, shared  # (+ the decoder's B-frame delay)
    assert alone > 3 * shared["frames_decoded"], (alone, shared)


def test_far_apart_windows_seek_instead_of_decoding_the_gap(videos):
    path = videos["h264_yuv420p_bframes.mp4"]  # a keyframe every 12 frames
    decoded = decode_all_frames(path)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        windows = [(Fraction(0), Fraction(1, 5)), (Fraction(2), Fraction(11, 5))]  # frames 0-5 and 60-65
        got = v.get_clips_frames(windows, 4)
        assert v.last_decode_stats["passes"] == 2
        assert v.last_decode_stats["frames_decoded"] < 40, v.last_decode_stats
        for (s, e), g in zip(windows, got):
            assert torch.equal(g["video"], reference_clip(path, s, e, 4, decoded=decoded))


@pytest.mark.parametrize("gap, clusters", [(0.5, 2), (10.0, 1)])
def test_a_long_videos_far_apart_windows_are_indexed_apart(videos, monkeypatch, gap, clusters):
    # a long video is indexed around its windows only: windows far apart each around their own cluster (not the
    # packets between them, which made shared reads slower than reading each window alone)
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", 1.0)  # "long": over 1 s (this one is 2.5 s)
    monkeypatch.setattr(EncodedVideoPyAV, "cluster_gap_sec", gap)
    path = videos["h264_yuv420p_bframes.mp4"]
    decoded = decode_all_frames(path)
    spans = []
    real = EncodedVideoPyAV._window_index
    monkeypatch.setattr(EncodedVideoPyAV, "_window_index", lambda self, s, e: spans.append((s, e)) or real(self, s, e))
    windows = [(Fraction(21, 10), Fraction(12, 5)), (Fraction(0), Fraction(3, 10)), (Fraction(2), Fraction(23, 10))]
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        got = v.get_clips_frames(windows, 4)
        assert v._index is None and len(spans) == clusters, spans
        for (s, e), g in zip(windows, got):
            assert torch.equal(g["video"], reference_clip(path, s, e, 4, decoded=decoded))


def test_a_shared_pass_that_disagrees_with_the_index_is_read_window_by_window(videos):
    from fastvid.data.encoded_video import VideoIndex

    path = videos["h264_yuv420p_bframes.mp4"]
    decoded = decode_all_frames(path)
    windows = [(Fraction(1, 3), Fraction(5, 3)), (Fraction(0), Fraction(3)), (Fraction(1, 2), Fraction(1))]
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        pts = v.index.pts
        v._index = VideoIndex(torch.cat([pts[:40], pts[41:]]), v.index.keyframes[v.index.keyframes < 40])
        got = v.get_clips_frames(windows, 8)
        for (s, e), g in zip(windows, got):
            assert torch.equal(g["video"], reference_clip(path, s, e, 8, decoded=decoded))
        assert v.fallbacks == 2  # the windows reaching frame 40; the third never passes it
    with pytest.raises(ValueError, match="num_samples"):
        EncodedVideo.from_path(path).get_clips_frames(windows, 0)


@pytest.mark.parametrize("name", list(FORMATS))
def test_the_first_clip_of_an_open_video_is_read_from_its_window_index(videos, name, monkeypatch):
    # A training loader opens a video for each clip: that clip is indexed around its window and decoded from the
    # packets the index read (no second seek), bit-identical to the reference; the next clip of the same video
    # uses the whole index. window_index_first_clip=False: the whole index at once (as before).
    if name not in videos:
        pytest.skip(f"encoder for {name} not available in this FFmpeg")
    path = videos[name]
    decoded = decode_all_frames(path)
    reused = 0
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        whole_at_open = v._index is not None  # (a header without durations: indexed on open)
        windows = _windows(v.duration, seed=len(name) + 2)
        seek_unreliable = v._seek_unreliable
    for i, (s, e) in enumerate(windows):
        for n in (None, 1, 8):
            with EncodedVideo.from_path(path, decode_audio=False) as v:
                got = v.get_clip_frames(s, e, n)
                stats = dict(v.last_decode_stats)
                again = v.get_clip_frames(s, e, n)
                ref = reference_clip(path, s, e, n, decoded=decoded)
                if ref is None:
                    assert got["video"] is None and again["video"] is None, (s, e, n)
                    continue
                assert torch.equal(got["video"], ref) and torch.equal(again["video"], ref), (name, s, e, n)
                assert torch.equal(got["frame_indices"], again["frame_indices"])
                assert v.fallbacks == 0
                if not whole_at_open and not seek_unreliable and stats.get("index"):
                    assert stats["index"] == "window", stats
                    assert v.last_decode_stats["index"] == "full"  # the second clip: the whole index
                    reused += bool(stats.get("reused_index_packets"))
    if not whole_at_open and not seek_unreliable and not v._pts_are_decode_times():
        assert reused > 0  # (a window before the first keyframe, or none at all, seeks as before)
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_first_clip", False)
    s, e = windows[3]
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        got = v.get_clip_frames(s, e, 8)
        assert v.last_decode_stats.get("index") in (None, "full") and "reused_index_packets" not in v.last_decode_stats
        ref = reference_clip(path, s, e, 8, decoded=decoded)
        assert (got["video"] is None and ref is None) or torch.equal(got["video"], ref)


def test_a_first_clip_keeps_at_most_keep_packet_bytes_of_packets(videos, monkeypatch):
    # a video with few keyframes kept most of the file's packets for its first clip: past the cap it seeks instead
    path = videos["h264_yuv420p_bframes.mp4"]
    decoded = decode_all_frames(path)
    for cap, reused in ((1 << 30, True), (2000, False)):
        monkeypatch.setattr(EncodedVideoPyAV, "keep_packet_bytes", cap)
        with EncodedVideo.from_path(path, decode_audio=False) as v:
            got = v.get_clip_frames(Fraction(1), Fraction(2), 8)
            assert v.last_decode_stats["index"] == "window"
            assert bool(v.last_decode_stats.get("reused_index_packets")) == reused, cap
            assert torch.equal(got["video"], reference_clip(path, Fraction(1), Fraction(2), 8, decoded=decoded))


def test_long_videos_index_only_around_the_clip(videos, monkeypatch):
    path = videos["h264_yuv420p_bframes.mp4"]  # 75 frames, a keyframe every 12
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        v.get_clip_frames(Fraction(1), Fraction(3, 2), 4)
        assert v.last_decode_stats["index"] == "window" and v.last_decode_stats["reused_index_packets"]
        v.get_clip_frames(Fraction(1), Fraction(3, 2), 4)  # a second clip of a short video: the whole index
        assert v.last_decode_stats["index"] == "full" and v.last_decode_stats["indexed_packets"] == 75
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", 1.0)  # "long": over 1 s
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        got = v.get_clip_frames(Fraction(1), Fraction(3, 2), 4)
        assert torch.equal(got["video"], reference_clip(path, Fraction(1), Fraction(3, 2), 4))
        stats = v.last_decode_stats
        # from the keyframe at or before frame 30 to the second keyframe at or after frame 45
        assert stats["index"] == "window" and 15 < stats["indexed_packets"] < 45, stats
        assert v._index is None and v.fallbacks == 0


@pytest.mark.parametrize("name", ["h264_yuv420p_bframes.mp4", "vp9_odd.webm", "mpeg4_bframes.avi", "h264_vfr.mkv"])
def test_get_clip_is_pytorchvideo_float_clip(videos, name):
    if name not in videos:
        pytest.skip(f"encoder for {name} not available")
    path = videos[name]
    decoded = decode_all_frames(path)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        for s, e in _windows(v.duration, seed=3):
            ref = reference_clip(path, s, e, None, decoded=decoded)
            clip = v.get_clip(s, e)
            if ref is None:
                assert clip["video"] is None
                continue
            assert clip["video"].dtype == torch.float32
            assert clip["video"].shape == ref.shape
            assert torch.equal(clip["video"], ref.float())
            assert clip["audio"] is None


def test_skips_nonref_frames_and_stops_early(videos):
    path = videos["h264_gop250.mp4"]
    with EncodedVideo.from_path(path, decode_audio=False, threads=1) as v:
        v.get_clip(Fraction(1), Fraction(2))
        full = v.last_decode_stats["frames_decoded"]
        out = v.get_clip_frames(Fraction(1), Fraction(2), 4)
        assert torch.equal(out["video"], reference_clip(path, Fraction(1), Fraction(2), 4))
        assert v.last_decode_stats["frames_converted"] == 4
        assert v.last_decode_stats["frames_decoded"] < full


class _DemuxSpy:
    """Stands for an open container and records the pts of every packet its demux gives."""

    def __init__(self, container):
        self._container, self.pts = container, []

    def __getattr__(self, name):
        return getattr(self._container, name)

    def demux(self, *args, **kwargs):
        for packet in self._container.demux(*args, **kwargs):
            self.pts.append(packet.pts)
            yield packet


@pytest.mark.parametrize("threads", [1, 0])
@pytest.mark.parametrize("name", ["h264_yuv420p_bframes.mp4", "h264_10bit.mkv", "vp9_odd.webm"])
def test_the_decoder_is_drained_once_the_kept_frames_packets_are_in(videos, name, threads):
    # Once the packets of every kept frame are in the decoder, it is drained: no packet after the last of them is
    # read (it used to be fed the next packets until it gave the last kept frame up: with B frames the next
    # reference frame, with frame threads a frame per thread). Clip after clip on one open video (a drained decoder
    # is reset for the next seek), frame-threaded (threads=0) or not, each clip is the reference's.
    if name not in videos:
        pytest.skip(f"encoder for {name} not available in this FFmpeg")
    path = videos[name]
    decoded = decode_all_frames(path)
    with EncodedVideo.from_path(path, decode_audio=False, threads=threads) as v:
        pts = v.index.pts_list  # (the whole index first: the clips below read only their own packets)
        v._container = spy = _DemuxSpy(v._container)
        for s, e in _windows(v.duration, seed=threads)[3:]:
            for n in (8, None):
                plan = v.plan_clips([(s, e)], n)
                spy.pts.clear()
                got = v.get_clip_frames(s, e, n)
                ref = reference_clip(path, s, e, n, decoded=decoded)
                assert torch.equal(got["video"], ref), (s, e, n)
                first, count = int(plan.first[0]), int(plan.count[0])
                kept = {pts[i] for i in (plan.indices[0].tolist() if n else range(first, first + count))}
                assert v.last_decode_stats["drained"] is True
                assert [p for p in spy.pts if p is not None][-1] in kept, (s, e, n, spy.pts[-3:])
        assert v.fallbacks == 0


@pytest.mark.parametrize("name, kw", [
    ("b.ts", dict(format="mpegts")),  # (MPEG-TS / PS can carry a frame's two fields in two packets)
    ("interlaced_mpeg4.mkv", dict(codec="mpeg4", options={"flags": "+ildct+ilme"})),
    # (an interlaced video: a field-coded picture can be two packets, one per field)
    ("interlaced_h264.mp4", dict(options={"flags": "+ildct+ilme", "x264-params": "interlaced=1:tff=1"})),
])
def test_the_decoder_is_not_drained_where_a_frame_can_span_packets_or_for_mpeg4(tmp_path, name, kw):
    # (FFmpeg's MPEG-4 part 2 decoder drops the B frames of an interlaced stream after a seek, how many depending on
    # what it read before: there a drained frame-threaded decoder lost more of a clip's frames)
    path = write_video(tmp_path / name, num_frames=60, gop=12, bframes=2, **kw)
    decoded = decode_all_frames(path)
    with EncodedVideo.from_path(path, decode_audio=False, threads=0) as v:
        for s, e in [(Fraction(1, 3), Fraction(4, 3)), (Fraction(1), Fraction(3, 2))]:
            got = v.get_clip_frames(s, e, 8)
            if "mpeg4" not in name:
                assert torch.equal(got["video"], reference_clip(path, s, e, 8, decoded=decoded))
            assert v.last_decode_stats["drained"] is False


@pytest.mark.parametrize("how", ["drain_after_last_kept=False", "perform_seek=False"])
def test_without_draining_the_clips_are_the_same(videos, monkeypatch, how):
    # (perform_seek=False: a plain read after a clip goes on from the decoder state and file position it leaves)
    if how == "drain_after_last_kept=False":
        monkeypatch.setattr(EncodedVideoPyAV, "drain_after_last_kept", False)
    path = videos["h264_yuv420p_bframes.mp4"]
    decoded = decode_all_frames(path)
    with EncodedVideoPyAV(path, decode_audio=False, perform_seek=how != "perform_seek=False") as v:
        for s, e in _windows(v.duration, seed=5)[3:]:
            got = v.get_clip_frames(s, e, 8)
            assert torch.equal(got["video"], reference_clip(path, s, e, 8, decoded=decoded)), (s, e)
            assert v.last_decode_stats["drained"] is False


def test_kept_frames_are_converted_through_one_single_threaded_context(videos):
    # frame.to_ndarray(format="rgb24") made a swscale context per frame, with one thread per CPU since PyAV 17:
    # every kept frame started and joined those threads (most of a DataLoader worker's conversion time).
    path = videos["h264_yuv420p_bframes.mp4"]
    with EncodedVideo.from_path(path, decode_audio=False, threads=1) as v:
        real = v._rgb24._reformatter
        calls = []

        class Spy:
            def reformat(self, frame, **kwargs):
                calls.append(kwargs)
                return real.reformat(frame, **kwargs)

        v._rgb24._reformatter = Spy()
        out = v.get_clip_frames(Fraction(1, 2), Fraction(2), 6)
        assert torch.equal(out["video"], reference_clip(path, Fraction(1, 2), Fraction(2), 6))
        expect_threads = int(av.__version__.split(".")[0]) >= 17
        assert calls == [dict(format="rgb24", **({"threads": 1} if expect_threads else {}))] * 6
        v.get_clip(Fraction(0), Fraction(1, 2))  # (the whole-window path converts through it too)
        assert len(calls) == 6 + v.last_decode_stats["frames_converted"] > 6


def test_duration_is_the_stream_length(videos):
    # A header's stream duration is a length: duration * time_base. (PyTorchVideo 0.1.5 subtracts the
    # start pts from it, wrong for streams that do not start at 0: see test_data_decode_robustness.py.)
    with EncodedVideo.from_path(videos["h264_yuv420p_bframes.mp4"], decode_audio=False) as v:
        s = v._vstream
        assert v.duration == s.duration * s.time_base == Fraction(5, 2)
    with EncodedVideo.from_path(videos["h264_vfr.mkv"], decode_audio=False) as v:
        # no stream duration in the header: the last frame's pts minus the start pts (a time, not a
        # length: PyTorchVideo's rule, as its full decode finds it)
        pts, _ = decode_all_frames(videos["h264_vfr.mkv"])
        assert v._vstream.duration is None
        assert v.duration == (pts[-1] - v._vstream.start_time) * v._vstream.time_base


def test_audio_only_when_asked(tmp_path):
    path = write_video(tmp_path / "a.mp4", num_frames=30, audio=True)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        assert v.get_clip(0, 1)["audio"] is None
        assert v.get_clip_frames(0, 1, 4)["audio"] is None
    with EncodedVideo.from_path(path, decode_audio=True) as v:
        a = v.get_clip(Fraction(0), Fraction(1, 2))["audio"]
        # PyTorchVideo's shape: channels averaged, whole audio frames whose pts lies in the window,
        # decoded after a seek (which resets the AAC decoder: its first frame differs from a decode from
        # the very start, in PyTorchVideo too)
        with av.open(path) as c:
            st = c.streams.audio[0]
            c.seek(0, stream=st, backward=True, any_frame=False)
            chunks = [np.mean(f.to_ndarray(), axis=0) for f in c.decode(st) if f.pts < 8000]
        assert a.dtype == torch.float32 and a.ndim == 1
        ref = torch.from_numpy(np.concatenate(chunks)).float()
        # FFmpeg's AAC decoder keeps overlap state across seeks, so the first audio frame after a seek
        # depends on what was decoded before (in PyTorchVideo as well); the rest is exact.
        assert a.shape == ref.shape and torch.equal(a[1024:], ref[1024:])
        b = v.get_clip_frames(Fraction(0), Fraction(1, 2), 4)
        assert b["audio"].shape == a.shape and torch.allclose(b["audio"][2048:], a[2048:])
        # a window that ends on an audio frame's pts leaves that frame out (the frames at 0, 1024, 2048, 3072)
        assert v.get_clip(Fraction(0), Fraction(4096, 16000))["audio"].shape == (4096,)


def test_duration_is_the_longer_of_the_video_and_the_audio(tmp_path):
    path = str(tmp_path / "long_audio.mp4")
    with av.open(path, "w") as c:
        video = c.add_stream("libx264", rate=15)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = c.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for i in range(15):  # 1 s of video
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = i
            c.mux(video.encode(frame))
        c.mux(video.encode(None))
        for start in range(0, 32768, 1024):  # 2.048 s of audio
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, start
            c.mux(audio.encode(frame))
        c.mux(audio.encode(None))
    with av.open(path) as c:
        secs = [s.duration * s.time_base for s in (c.streams.video[0], c.streams.audio[0])]
    assert secs[0] < 1.1 and secs[1] > 2  # (what was written)
    with EncodedVideo.from_path(path, decode_audio=True) as v:
        assert v.duration == max(secs)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        assert v.duration == secs[0]  # (PyTorchVideo: the audio stream counts only when it is decoded)


def test_threads_option(videos):
    path = videos["h264_yuv420p_bframes.mp4"]
    for threads in (1, 2, 0):
        with EncodedVideo.from_path(path, decode_audio=False, threads=threads) as v:
            assert v._vstream.codec_context.thread_count == threads
            got = v.get_clip_frames(Fraction(1, 2), Fraction(2), 8)["video"]
            assert torch.equal(got, reference_clip(path, Fraction(1, 2), Fraction(2), 8))
    with pytest.raises(ValueError, match="threads"):
        EncodedVideo.from_path(path, threads=-1)


def test_closed_and_context_manager(videos):
    v = EncodedVideo.from_path(videos["short.mp4"], decode_audio=False)
    v.close()
    v.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        v.get_clip(0, 1)


def test_bad_inputs(tmp_path, videos):
    (tmp_path / "zero.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 100)
    good = open(videos["h264_yuv420p_bframes.mp4"], "rb").read()
    (tmp_path / "trunc.mp4").write_bytes(good[: len(good) // 3])
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        EncodedVideo.from_path(tmp_path / "missing.mp4")
    for name, why in (("zero.mp4", "the file is empty \\(0 bytes\\)"), ("text.mp4", "InvalidDataError")):
        with pytest.raises(RuntimeError, match=f"{name}: {why}"):
            EncodedVideo.from_path(tmp_path / name)
    with pytest.raises(ValueError, match="decoder"):
        EncodedVideo.from_path(videos["short.mp4"], decoder="decord")
    # an audio-only file has no video stream
    with av.open(str(tmp_path / "audio.m4a"), "w") as out:
        st = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        frame.pts = 0
        for p in st.encode(frame):
            out.mux(p)
        for p in st.encode(None):
            out.mux(p)
    with pytest.raises(RuntimeError, match="Video stream not found"):
        EncodedVideo.from_path(tmp_path / "audio.m4a")
    # a truncated mp4 (moov at the end is lost) does not open; if it does, clips fail cleanly
    try:
        v = EncodedVideo.from_path(tmp_path / "trunc.mp4")
    except RuntimeError as e:
        assert "trunc.mp4" in str(e)
    else:
        with v:
            out = v.get_clip_frames(0, 1, 4)
            assert out["video"] is None or out["video"].shape[1] == 4
    with pytest.raises(ValueError, match="num_samples"):
        with EncodedVideo.from_path(videos["short.mp4"]) as v:
            v.get_clip_frames(0, 1, 0)


def test_file_like_input(videos):
    path = videos["h264_yuv420p_bframes.mp4"]
    with EncodedVideo.from_path(path, read_to_memory=True) as v:
        assert v.name == "h264_yuv420p_bframes.mp4"
        got = v.get_clip_frames(Fraction(1, 3), Fraction(5, 3), 8)["video"]
    assert torch.equal(got, reference_clip(path, Fraction(1, 3), Fraction(5, 3), 8))
    with open(path, "rb") as fh:
        with EncodedVideoPyAV(fh, "x", decode_audio=False) as v:
            assert v.get_clip(0, 1)["video"].shape[1] == 30


def test_rotation_metadata_is_reported_not_applied(tmp_path):
    path = write_video(tmp_path / "rot.mp4", num_frames=20, width=64, height=48, rotation=90)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        assert v.rotation == 90
        clip = v.get_clip_frames(0, Fraction(1, 2), 4)["video"]
        assert clip.shape == (3, 4, 48, 64)  # as stored
        assert torch.equal(clip, reference_clip(path, 0, Fraction(1, 2), 4))
    with EncodedVideo.from_path(write_video(tmp_path / "plain.mp4", num_frames=5)) as v:
        assert v.rotation == 0


def test_plan_all_uniform_clips_of_a_video_at_once(videos):
    from fastvid.data import make_clip_sampler

    path = videos["h264_vfr.mkv"]
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        clips = make_clip_sampler("uniform", Fraction(1, 3), Fraction(1, 6)).clips_for_duration(v.duration)
        windows = [(c.clip_start_sec, c.clip_end_sec) for c in clips]
        plan = v.plan_clips(windows, 5)
        assert plan.indices.shape == (len(clips), 5)
        for k, (s, e) in enumerate(windows):
            one = v.get_clip_frames(s, e, 5)
            assert plan.count[k] > 0
            assert torch.equal(plan.indices[k] - plan.first[k], one["frame_indices"])
            keys = v.index.keyframes.tolist()
            assert int(plan.seek[k]) == max(x for x in keys if x <= int(plan.indices[k, 0]))


def test_falls_back_to_plain_decoding_when_the_index_cannot_be_trusted(videos):
    from fastvid.data.encoded_video import VideoIndex

    path = videos["h264_yuv420p_bframes.mp4"]
    decoded = decode_all_frames(path)
    windows = [(Fraction(1, 3), Fraction(5, 3)), (Fraction(0), Fraction(3))]
    # 1) an index that says it is unusable (e.g. packets without pts)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        v._index = VideoIndex(v.index.pts, v.index.keyframes, usable=False, reason="test")
        for s, e in windows:
            assert torch.equal(v.get_clip_frames(s, e, 8)["video"], reference_clip(path, s, e, 8, decoded=decoded))
        assert v.fallbacks == len(windows)
    # 2) an index that disagrees with what the decoder outputs: a frame missing from it
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        pts = v.index.pts
        v._index = VideoIndex(torch.cat([pts[:40], pts[41:]]), v.index.keyframes[v.index.keyframes < 40])
        for s, e in windows:
            assert torch.equal(v.get_clip_frames(s, e, 8)["video"], reference_clip(path, s, e, 8, decoded=decoded))
        assert v.fallbacks == len(windows)
    # 3) a kept frame the decoder never outputs: the planned pts is not a real frame
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        pts = v.index.pts.clone()
        pts[30] += 1
        v._index = VideoIndex(pts, v.index.keyframes)
        s, e = Fraction(0), Fraction(3)
        assert torch.equal(v.get_clip_frames(s, e, 75)["video"], reference_clip(path, s, e, 75, decoded=decoded))
        assert v.fallbacks == 1


def test_write_video_encodes_given_frames(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(7, 32, 48, 3), dtype=np.uint8)
    frames[:, 8:24, 12:36] = [200, 30, 90]  # a flat block the encoder keeps near exact
    path = write_video(tmp_path / "given.part", frames=frames, fps=10, format="mp4", pix_fmt="yuv444p",
                       options={"qp": "0"})
    pts, decoded = decode_all_frames(path)
    assert len(decoded) == 7 and decoded[0].shape == (32, 48, 3)
    for want, got in zip(frames, decoded):
        # lossless H.264 of yuv444p: only the RGB <-> YUV rounding separates the frames
        assert np.abs(got[8:24, 12:36].astype(int) - want[8:24, 12:36]).max() <= 3
        assert np.abs(got.astype(int) - want).mean() < 3
    with pytest.raises(ValueError, match=r"frames must be a uint8 \(T, H, W, 3\) array, got float32"):
        write_video(tmp_path / "bad.mp4", frames=frames.astype(np.float32))


def test_pts_to_secs_counts_from_the_stream_start():
    import math

    from fastvid.data.utils import pts_to_secs, secs_to_pts

    assert pts_to_secs(1000, Fraction(1, 100), 100) == 9  # (used for the duration of a header without one)
    assert pts_to_secs(math.inf, Fraction(1, 100), 100) == math.inf
    assert secs_to_pts(9, Fraction(1, 100), 100) == 1000


def test_a_repeated_pts_keeps_the_last_frame_decoded():
    """As PyTorchVideo's decoder (a dict by pts): of two frames with one pts, the later one is in the clip."""
    from types import SimpleNamespace

    class Packet:
        def __init__(self, frames):
            self.frames = frames

        def decode(self):
            return self.frames

    frames = [SimpleNamespace(pts=pts, name=name) for pts, name in [(0, "a"), (1, "b"), (1, "c"), (2, "d"), (3, "e"), (4, "f")]]
    got, decoded, ok = EncodedVideoPyAV._collect_window([Packet(frames[:2]), Packet(frames[2:])], 0, 3, None)
    assert [f.name for f in got] == ["a", "c", "d"] and ok and decoded == 5  # (stops at the first frame past the end)
    got, _, ok = EncodedVideoPyAV._collect_window([Packet(frames)], 1, 3, {0, 1, 2})
    assert not ok and got == []  # a frame the index does not know: the caller decodes again from further back

# -- shared passes: pass grouping, clusters, guards (from a mutation-testing review: each of these failed on a
#    mutant of get_clips_frames that the tests above let through)


@pytest.fixture(scope="module")
def gop12_video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("m") / "g12.mp4", codec="libx264", gop=12, bframes=3, num_frames=75)


def _same_as_alone(v, windows, n):
    got = v.get_clips_frames(windows, n)
    stats = dict(v.last_decode_stats)
    for (s, e), g in zip(windows, got):
        one = v.get_clip_frames(s, e, n)
        assert torch.equal(g["video"], one["video"]) and torch.equal(g["frame_indices"], one["frame_indices"])
    return stats


def test_a_window_starting_at_the_last_frame_of_the_pass_before_joins_it(gop12_video):
    with EncodedVideo.from_path(gop12_video, decode_audio=False) as v:
        st = _same_as_alone(v, [(Fraction(0), Fraction(13, 30)), (Fraction(12, 30), Fraction(20, 30))], None)
        assert st["passes"] == 1, st


def test_a_nested_window_does_not_shorten_the_pass_it_joins(gop12_video):
    with EncodedVideo.from_path(gop12_video, decode_audio=False) as v:
        ws = [(Fraction(0), Fraction(40, 30)), (Fraction(2, 30), Fraction(6, 30)), (Fraction(25, 30), Fraction(31, 30))]
        st = _same_as_alone(v, ws, 4)
        assert st["passes"] == 1, st


def test_a_long_videos_cluster_is_indexed_to_its_longest_windows_end(gop12_video, monkeypatch):
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", 1.0)
    monkeypatch.setattr(EncodedVideoPyAV, "cluster_gap_sec", 0.5)
    spans = []
    real = EncodedVideoPyAV._window_index
    monkeypatch.setattr(EncodedVideoPyAV, "_window_index", lambda self, s, e: spans.append((s, e)) or real(self, s, e))
    decoded = decode_all_frames(gop12_video)
    ws = [(Fraction(0), Fraction(2)), (Fraction(1, 10), Fraction(3, 10)), (Fraction(9, 10), Fraction(1))]
    with EncodedVideo.from_path(gop12_video, decode_audio=False) as v:
        got = v.get_clips_frames(ws, 4)
        assert len(spans) == 1, spans
        assert v.fallbacks == 0
        for (s, e), g in zip(ws, got):
            assert torch.equal(g["video"], reference_clip(gop12_video, s, e, 4, decoded=decoded))


def test_a_shared_pass_sees_a_frame_missing_from_the_index_before_its_last_windows_start(gop12_video):
    decoded = decode_all_frames(gop12_video)
    ws = [(Fraction(0), Fraction(1)), (Fraction(1, 2), Fraction(1))]
    with EncodedVideo.from_path(gop12_video, decode_audio=False) as v:
        pts, keys = v.index.pts, v.index.keyframes
        v._index = VideoIndex(torch.cat([pts[:4], pts[5:]]), torch.cat([keys[keys < 4], keys[keys > 4] - 1]))
        got = v.get_clips_frames(ws, 8)
        for (s, e), g in zip(ws, got):
            assert torch.equal(g["video"], reference_clip(gop12_video, s, e, 8, decoded=decoded)), (s, e)


def test_an_open_ended_window_in_shared_passes(gop12_video):
    with EncodedVideo.from_path(gop12_video, decode_audio=False) as v:
        _same_as_alone(v, [(Fraction(1), math.inf), (Fraction(1, 2), Fraction(1))], 8)


def test_shared_passes_are_counted(gop12_video):
    with EncodedVideo.from_path(gop12_video, decode_audio=False) as v:
        v.get_clips_frames([(Fraction(1), Fraction(2))], 8)
        assert v.last_decode_stats["passes"] == 1
        v.get_clips_frames([(Fraction(10), Fraction(11)), (Fraction(12), Fraction(13))], 8)
        assert v.last_decode_stats["passes"] == 0


@pytest.mark.parametrize("bframes", [2, 3])
def test_h264_with_b_frames_in_avi_through_shared_passes(tmp_path, bframes):
    from test_data_decode_robustness import h264_bframes_in_ts_and_avi

    _, avi = h264_bframes_in_ts_and_avi(tmp_path, bframes)
    decoded = decode_all_frames(avi)
    ws = [(Fraction(1, 2), Fraction(3, 2)), (Fraction(7, 9), Fraction(23, 18)), (Fraction(1), Fraction(2)), (Fraction(3, 2), Fraction(5, 2))]
    with EncodedVideo.from_path(avi, decode_audio=False) as v:
        got = v.get_clips_frames(ws, 8)
        for (s, e), g in zip(ws, got):
            assert torch.equal(g["video"], reference_clip(avi, s, e, 8, decoded=decoded)), (s, e)
