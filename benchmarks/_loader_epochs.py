"""Times whole passes over a DataLoader for the loader benchmarks."""

from __future__ import annotations

import torch


def time_loader_epochs(benchmark, loader, clips_per_epoch: int) -> None:
    """Times passes over ``loader`` (3 rounds after a warm-up one; 1 in a smoke run). Every batch must hold float32
    (3, 8, 224, 224) clips and every pass ``clips_per_epoch`` of them."""
    seen = []

    def epoch():
        n = 0
        for batch in loader:
            n += batch["video"].shape[0]
            assert batch["video"].shape[1:] == (3, 8, 224, 224) and batch["video"].dtype == torch.float32
        seen.append(n)
        return n

    benchmark.pedantic(epoch, rounds=3 if not benchmark.disabled else 1, iterations=1, warmup_rounds=1)
    assert seen and all(n == clips_per_epoch for n in seen), seen
