"""The C++ frame-index planner (torch.ops.fastvid.plan_clip_frames) against brute force and torch.linspace."""

import os
import subprocess
import sys

import pytest
import torch

from fastvid.data.frame_plan import plan_clip_frames, uniform_subsample_indices


def _torch_subsample(t, n):
    return torch.clamp(torch.linspace(0, t - 1, n), 0, t - 1).long()


def test_uniform_indices_match_torch_linspace_exhaustively():
    bad = [(t, n) for t in range(1, 400) for n in range(1, 66) if not torch.equal(uniform_subsample_indices(t, n), _torch_subsample(t, n))]
    assert bad == []


def test_uniform_indices_match_torch_linspace_large_random():
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        t = int(torch.randint(1, 20000, (1,), generator=g))
        n = int(torch.randint(1, 400, (1,), generator=g))
        assert torch.equal(uniform_subsample_indices(t, n), _torch_subsample(t, n)), (t, n)


@pytest.mark.parametrize("capability", ["default", "avx2"])
def test_matches_torch_under_other_cpu_kernels(capability, tmp_path):
    # torch's portable linspace rounds the multiply-add twice, its AVX2/AVX512 kernels fuse it: the planner
    # finds out which one runs and matches it.
    code = (
        "import torch\n"
        "from fastvid.data.frame_plan import uniform_subsample_indices\n"
        "bad = [(t, n) for t in range(1, 200) for n in range(1, 130) if not torch.equal(uniform_subsample_indices(t, n),"
        " torch.clamp(torch.linspace(0, t - 1, n), 0, t - 1).long())]\n"
        "print(torch.backends.cpu.get_cpu_capability(), len(bad))\n"
        "assert not bad, bad[:5]\n"
    )
    env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
    # (run outside the source tree: `python -c` imports from its working directory first, and a source tree
    # holds fastvid/ without the built extension when fastvid was installed from it non-editable)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def _brute(pts, keys, windows, n):
    out = []
    for lo, hi in windows:
        inside = [i for i, p in enumerate(pts) if lo <= p < hi]
        if not inside:
            out.append((inside[0] if inside else None, 0, [-1] * n, -1))
            continue
        t = len(inside)
        kept = [inside[0] + int(i) for i in _torch_subsample(t, n)] if n > 0 else []
        first_needed = kept[0] if kept else inside[0]
        ks = [k for k in keys if k <= first_needed]
        out.append((inside[0], t, kept, ks[-1] if ks else -1))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", [torch.long, torch.double])
def test_windows_keyframes_against_brute_force(seed, dtype):
    g = torch.Generator().manual_seed(seed)
    f = int(torch.randint(1, 400, (1,), generator=g))
    # variable frame rate: random gaps, strictly increasing
    gaps = torch.randint(1, 40, (f,), generator=g)
    pts = torch.cumsum(gaps, 0) - gaps[0] + int(torch.randint(-50, 50, (1,), generator=g))
    keys = sorted(set([0] + torch.randint(0, f, (max(f // 30, 1),), generator=g).tolist()))
    if seed % 3 == 2:
        keys = keys[1:] or []  # the first frame is not a keyframe
    lo = torch.randint(int(pts[0]) - 100, int(pts[-1]) + 100, (64,), generator=g)
    length = torch.randint(0, 600, (64,), generator=g)
    windows = torch.stack([lo, lo + length], 1)
    if dtype == torch.double:
        pts_in, win_in = pts.double() / 1000.0, windows.double() / 1000.0
    else:
        pts_in, win_in = pts, windows
    for n in (0, 1, 8, 37):
        plan = plan_clip_frames(pts_in, torch.tensor(keys, dtype=torch.long), win_in, n)
        expect = _brute(pts.tolist(), keys, windows.tolist(), n)
        for c, (first, count, kept, seek) in enumerate(expect):
            assert int(plan.count[c]) == count
            if count:
                assert int(plan.first[c]) == first
                assert plan.indices[c].tolist() == kept
                assert int(plan.seek[c]) == seek
            else:
                assert plan.indices[c].tolist() == [-1] * n
                assert int(plan.seek[c]) == -1
        assert plan.indices.shape == (64, n)


def test_end_is_exclusive_and_ties():
    pts = torch.tensor([0, 10, 20, 20, 30], dtype=torch.long)  # a repeated pts is allowed (sorted)
    plan = plan_clip_frames(pts, torch.tensor([0, 3]), torch.tensor([[10, 30], [20, 21], [30, 30], [31, 99]]), 2)
    assert plan.first.tolist()[:3] == [1, 2, 4]
    assert plan.count.tolist() == [3, 2, 0, 0]
    assert plan.indices.tolist()[:2] == [[1, 3], [2, 3]]
    assert plan.seek.tolist()[:2] == [0, 0]


def test_many_clips_parallel_equals_one_by_one():
    pts = torch.arange(0, 3000 * 512, 512, dtype=torch.long)
    keys = torch.arange(0, 3000, 250)
    starts = torch.randint(0, 3000 * 512, (5000,), generator=torch.Generator().manual_seed(3))
    windows = torch.stack([starts, starts + 60 * 512], 1)
    batched = plan_clip_frames(pts, keys, windows, 8)
    for c in range(0, 5000, 97):
        one = plan_clip_frames(pts, keys, windows[c : c + 1], 8)
        for a, b in zip(batched, one):
            assert torch.equal(a[c : c + 1], b)


def test_errors():
    pts = torch.arange(10)
    keys = torch.tensor([0])
    win = torch.tensor([[0, 5]])
    with pytest.raises(ValueError, match="ascending"):
        plan_clip_frames(torch.tensor([3, 1, 2]), keys, win, 2)
    with pytest.raises(ValueError, match="keyframes"):
        plan_clip_frames(pts, torch.tensor([0, 10]), win, 2)
    with pytest.raises(ValueError, match="ascending"):
        plan_clip_frames(pts, torch.tensor([5, 2]), win, 2)
    with pytest.raises(TypeError, match="dtype of frame_pts"):
        plan_clip_frames(pts, keys, win.double(), 2)
    with pytest.raises(TypeError, match="int64"):
        plan_clip_frames(pts.float(), keys, win.float(), 2)
    with pytest.raises(ValueError, match="shape"):
        plan_clip_frames(pts, keys, torch.tensor([0, 5]), 2)
    with pytest.raises(ValueError, match="num_samples"):
        plan_clip_frames(pts, keys, win, -1)
    with pytest.raises(TypeError, match="frame_pts"):
        plan_clip_frames([0, 1], keys, win, 2)


def test_empty_inputs():
    plan = plan_clip_frames(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), torch.tensor([[0, 5]]), 3)
    assert plan.count.tolist() == [0] and plan.indices.tolist() == [[-1, -1, -1]] and plan.seek.tolist() == [-1]
    plan = plan_clip_frames(torch.arange(4), torch.tensor([0]), torch.zeros((0, 2), dtype=torch.long), 3)
    assert plan.indices.shape == (0, 3)


def test_opcheck_and_compile():
    pts = torch.arange(0, 100, dtype=torch.long) * 3
    keys = torch.tensor([0, 32, 64, 96])
    win = torch.tensor([[10, 200], [0, 3], [50, 40]])
    torch.library.opcheck(torch.ops.fastvid.plan_clip_frames.default, (pts, keys, win, 8, True))
    torch.library.opcheck(torch.ops.fastvid.plan_clip_frames.default, (pts.double(), keys, win.double(), 0, False))

    def f(p, k, w):
        first, count, idx, seek = torch.ops.fastvid.plan_clip_frames(p, k, w, 8, True)
        return idx + first[:, None], seek

    compiled = torch.compile(f, fullgraph=True)
    a = compiled(pts, keys, win)
    b = f(pts, keys, win)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_argument_types_and_nan_windows():
    import numpy as np

    pts, keys = torch.arange(10), torch.tensor([0])
    win = torch.tensor([[0, 5]])
    assert torch.equal(plan_clip_frames(pts, keys, win, np.int64(3)).indices, plan_clip_frames(pts, keys, win, 3).indices)
    with pytest.raises(TypeError, match="num_samples"):
        plan_clip_frames(pts, keys, win, 2.0)
    with pytest.raises(ValueError, match="num_samples"):
        plan_clip_frames(pts, keys, win, 2**62)
    with pytest.raises(ValueError, match="windows hold NaN"):  # (it gave an empty plan)
        plan_clip_frames(pts.double(), keys, torch.tensor([[float("nan"), 3.0]], dtype=torch.float64), 2)
    with pytest.raises(TypeError, match="num_frames"):
        uniform_subsample_indices(True, 3)
    with pytest.raises(TypeError, match="num_frames"):
        uniform_subsample_indices(3.5, 3)


def test_the_planners_fake_is_registered_by_import_fastvid_alone(tmp_path):
    import subprocess
    import sys

    code = ("import torch, fastvid\n"
            "torch.library.opcheck(torch.ops.fastvid.plan_clip_frames.default, (torch.arange(10), torch.tensor([0]), "
            "torch.tensor([[0, 5]]), 3, True))\n"
            "import sys; print('fastvid.data' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False"]  # (fastvid.data, which registered it before, was not imported)


def test_a_meta_argument_beside_a_real_clip_is_refused():
    with pytest.raises(ValueError, match="meta tensor"):
        plan_clip_frames(torch.arange(0, 100, 10), torch.tensor([0, 5], device="meta"), torch.tensor([[15, 55]]), 3)


def test_uniform_subsample_indices_take_integer_tensors():
    assert torch.equal(uniform_subsample_indices(torch.tensor(10), 4), uniform_subsample_indices(10, 4))
