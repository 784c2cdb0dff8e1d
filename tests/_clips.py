"""Random test clips in the memory layouts fastvid reads in place, random batches, edge-case shapes and the
tolerance check (shared by the batch, CUDA and CUDA-on-host tests)."""

import torch


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def clip(c, t, h, w, *, dtype=torch.uint8, view="thwc", seed=0):
    """A (C, T, H, W) clip with fresh random values, stored as `view` says:
    "cthw" contiguous, "thwc" a permuted view of a THWC buffer, "sliced" a strided slice of a bigger
    THWC buffer, "expanded" one frame repeated with stride 0."""
    g = gen(seed)

    def rand(shape):
        if dtype == torch.uint8:
            return torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)
        return torch.rand(shape, generator=g) * 255.0

    if view == "cthw":
        return rand((c, t, h, w))
    if view == "thwc":
        return rand((t, h, w, c)).permute(3, 0, 1, 2)
    if view == "sliced":
        return rand((t + 1, h + 3, 2 * w + 1, c + 1))[1:, 2 : h + 2, 1::2, :c].permute(3, 0, 1, 2)
    if view == "expanded":
        return rand((c, 1, h, w)).expand(c, t, h, w)
    raise AssertionError(view)


# (C, T, H, W, size, crop, frame_indices)
EDGE_SHAPES = [
    (3, 8, 256, 340, (256, 340), (16, 58, 224, 224), None),  # crop only
    (3, 8, 256, 340, (288, 382), (20, 50, 224, 224), [0, 1, 3, 5, 7, 7, 2, 0]),  # upscale
    (3, 4, 720, 1280, (256, 455), (16, 115, 224, 224), [0, 3]),  # 720p downscale
    (3, 5, 37, 23, (61, 38), None, None),  # odd, portrait
    (3, 1, 19, 31, (7, 11), None, None),  # one frame
    (1, 4, 21, 33, (21, 33), (3, 4, 11, 17), None),  # gray, no resize
    (4, 2, 30, 40, (45, 20), (5, 0, 40, 20), None),  # RGBA
    (3, 3, 1, 1, (5, 9), None, [0, 2]),  # 1x1 source
    (2, 2, 9, 1, (4, 3), (1, 1, 3, 2), None),  # one column
    (3, 2, 120, 160, (17, 23), (2, 3, 13, 17), None),  # strong downscale
    (3, 2, 16, 300, (16, 64), (0, 8, 16, 48), None),  # W only
    (3, 2, 33, 1000, (33, 1000), (0, 0, 33, 1000), None),  # wide rows (many blocks in x)
]


def random_batch(seed, *, channels=3, dtype=torch.uint8, out_t=4, crop=(24, 20), max_hw=90):
    """1 to 8 clips of random sizes (1..max_hw) and memory views, with per-clip frame rows, resize sizes,
    crops of the common `crop` size and flips: (videos, frame_rows, sizes, crops, flips)."""
    g = gen(1000 + seed)
    batch = int(torch.randint(1, 9, (1,), generator=g))
    views = ("thwc", "cthw", "sliced", "expanded")
    videos, frame_rows, sizes, crops, flips = [], [], [], [], []
    for b in range(batch):
        t = int(torch.randint(1, 9, (1,), generator=g))
        h = int(torch.randint(1, max_hw, (1,), generator=g))
        w = int(torch.randint(1, max_hw, (1,), generator=g))
        view = views[int(torch.randint(0, len(views), (1,), generator=g))]
        videos.append(clip(channels, t, h, w, dtype=dtype, view=view, seed=seed * 31 + b))
        frame_rows.append(torch.randint(0, t, (out_t,), generator=g).tolist())
        sh = int(torch.randint(crop[0], crop[0] + 60, (1,), generator=g))
        sw = int(torch.randint(crop[1], crop[1] + 60, (1,), generator=g))
        sizes.append((sh, sw))
        crops.append((int(torch.randint(0, sh - crop[0] + 1, (1,), generator=g)), int(torch.randint(0, sw - crop[1] + 1, (1,), generator=g)), *crop))
        flips.append(bool(torch.randint(0, 2, (1,), generator=g)))
    return videos, frame_rows, sizes, crops, flips


def assert_close_out(got, want, out_dtype):
    """The kernels' agreement: uint8 within 1 level, float32 within 1e-4 (relative above 1), bf16 / fp16
    within their rounding."""
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    got, want = got.cpu(), want.cpu()
    if out_dtype == torch.uint8:
        diff = (got.int() - want.int()).abs().max().item()
        assert diff <= 1, f"uint8 results differ by {diff} levels"
    elif out_dtype == torch.float32:
        err = ((got - want).abs() / want.abs().clamp_min(1.0)).max().item()
        assert err <= 1e-4, f"max error {err:.3g}"
    else:
        torch.testing.assert_close(got.float(), want.float(), atol=1e-4, rtol=1e-2)
