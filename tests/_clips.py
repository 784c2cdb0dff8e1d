"""Random test clips in the memory layouts fastvid reads in place (shared by the batch and CUDA tests)."""

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
