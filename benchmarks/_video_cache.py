"""Benchmark videos, generated once into benchmarks/.cache (git-ignored) and reused."""

from __future__ import annotations

import os

from fastvid.data.synthetic import write_video

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache", "videos")


def bench_video(gop: int, seed: int = 0, *, seconds: int = 10, width: int = 340, height: int = 256) -> str:
    """A 30 fps H.264 (libx264, yuv420p, default B frames) video of ``seconds`` s, keyframe every ``gop`` frames."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, f"h264_{width}x{height}_{seconds}s_gop{gop}_seed{seed}.mp4")
    if not os.path.exists(path):
        tmp = path + f".tmp{os.getpid()}.mp4"
        write_video(tmp, num_frames=30 * seconds, fps=30, height=height, width=width, gop=gop, seed=seed)
        os.replace(tmp, path)
    return path


def bench_csv(name: str, num_videos: int, num_classes: int, *, gop: int = 250) -> str:
    """A Kinetics CSV (``<path> <label>``) of ``num_videos`` 10 s benchmark videos (seeds 0..n-1, a keyframe every
    ``gop`` frames), labels cycling over ``num_classes``, written to the cache as ``<name>_<num_videos>.csv``
    (``<name>_gop<gop>_<num_videos>.csv`` for another GOP)."""
    paths = [bench_video(gop, seed=i) for i in range(num_videos)]
    tag = name if gop == 250 else f"{name}_gop{gop}"
    path = os.path.join(CACHE, f"{tag}_{num_videos}.csv")
    with open(path, "w") as f:
        for i, p in enumerate(paths):
            f.write(f"{p} {i % num_classes}\n")
    return path
