"""A small labeled video set whose classes can only be told apart by motion, written with PyAV.

Each video shows a few bright shapes (random kinds, colours, sizes and places) on a random, darker,
lightly textured background. Their appearance and positions are drawn the same way for every class; only how they move
across frames (all together) tells the class:

    moving_up, moving_down, moving_sideways (left or right, at random), standing_still

The shapes wrap around the frame edges (leave on one side, come back on the other), so that
where they are in any single frame says nothing about the class: a model that looks at one frame is at
chance (25 %). The classes are also unchanged by a horizontal flip, so the standard training
augmentation (random flip included) applies as is.

The set is written once into a cache folder (``$FASTVID_CACHE``, else ``$XDG_CACHE_HOME/fastvid``, else
``~/.cache/fastvid``) with the Kinetics layout: ``train/<class>/*.mp4``, ``val/<class>/*.mp4`` and ``train.csv`` /
``val.csv`` ("path label" lines).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["CLASSES", "SyntheticMotionConfig", "default_cache_dir", "make_motion_dataset", "render_video"]

CLASSES = ("moving_up", "moving_down", "moving_sideways", "standing_still")
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SyntheticMotionConfig:
    """What :func:`make_motion_dataset` writes. Changing any field writes a new set beside the old one."""

    train_per_class: int = 64
    val_per_class: int = 16
    height: int = 80
    width: int = 96
    fps: int = 15
    seconds: float = 2.0
    min_speed: float = 1.5  # pixels per frame
    max_speed: float = 3.0
    min_shape: int = 10  # pixels
    max_shape: int = 18
    min_shapes: int = 2  # shapes per video
    max_shapes: int = 4
    seed: int = 0
    codec: str = "libx264"

    @property
    def num_frames(self) -> int:
        return int(round(self.fps * self.seconds))

    def key(self) -> str:
        """The folder name of this config's set: format version and a hash of the fields."""
        return _stable_key(self)


def _stable_key(cfg: SyntheticMotionConfig) -> str:
    import hashlib

    digest = hashlib.sha1(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()[:10]
    return f"motion-v{_FORMAT_VERSION}-{digest}"


def default_cache_dir() -> Path:
    """``$FASTVID_CACHE``, else ``$XDG_CACHE_HOME/fastvid``, else ``~/.cache/fastvid``."""
    if os.environ.get("FASTVID_CACHE"):
        return Path(os.environ["FASTVID_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastvid"


def _shape_mask(kind: int, size: int) -> np.ndarray:
    """A boolean (size, size) mask: 0 square, 1 disc, 2 diamond, 3 ring."""
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size]
    r = np.hypot(yy - c, xx - c)
    if kind == 0:
        return np.ones((size, size), dtype=bool)
    if kind == 1:
        return r <= size / 2.0
    if kind == 2:
        return (np.abs(yy - c) + np.abs(xx - c)) <= size / 2.0
    return (r <= size / 2.0) & (r >= size / 4.0)


def render_video(label: int, rng: np.random.Generator, cfg: SyntheticMotionConfig) -> np.ndarray:
    """The frames (T, H, W, 3) uint8 of one video of class ``label`` (an index into :data:`CLASSES`)."""
    if not 0 <= label < len(CLASSES):
        raise ValueError(f"render_video: label must be in [0, {len(CLASSES)}), got {label}")
    h, w, t = cfg.height, cfg.width, cfg.num_frames
    # Background: a random colour with smooth, static texture (the same in every frame).
    base = rng.uniform(20, 110, size=3)
    coarse = rng.normal(0, 12, size=(h // 8 + 2, w // 8 + 2, 3))
    texture = np.kron(coarse, np.ones((8, 8, 1)))[:h, :w]
    background = np.clip(base + texture, 0, 255)
    # Motion: only this depends on the class. Every shape of the video moves the same way.
    speed = rng.uniform(cfg.min_speed, cfg.max_speed)
    name = CLASSES[label]
    if name == "moving_up":
        vy, vx = -speed, 0.0
    elif name == "moving_down":
        vy, vx = speed, 0.0
    elif name == "moving_sideways":
        vy, vx = 0.0, speed * rng.choice([-1.0, 1.0])
    else:
        vy, vx = 0.0, 0.0
    # The shapes: kind, size, a bright colour (the background is darker) and start position.
    shapes = []
    for _ in range(int(rng.integers(cfg.min_shapes, cfg.max_shapes + 1))):
        size = int(rng.integers(cfg.min_shape, cfg.max_shape + 1))
        ys, xs = np.nonzero(_shape_mask(int(rng.integers(0, 4)), size))
        colour = rng.uniform(150, 255, size=3)
        shapes.append((ys, xs, colour, rng.uniform(0, h), rng.uniform(0, w)))
    frames = np.empty((t, h, w, 3), dtype=np.uint8)
    for i in range(t):
        frame = background.copy()
        for ys, xs, colour, y0, x0 in shapes:
            top = int(round(y0 + vy * i))
            left = int(round(x0 + vx * i))
            frame[(ys + top) % h, (xs + left) % w] = colour  # wraps around the edges
        frames[i] = frame.astype(np.uint8)
    return frames


def _write_video(path: Path, frames: np.ndarray, fps: int, codec: str) -> None:
    from fastvid.data.synthetic import write_video

    tmp = path.with_name(path.name + ".part")
    options = {"crf": "18", "g": "15"} if codec == "libx264" else None
    write_video(tmp, frames=frames, fps=fps, codec=codec, format="mp4", options=options)
    os.replace(tmp, path)


def make_motion_dataset(
    root: str | os.PathLike | None = None, config: SyntheticMotionConfig | None = None, *, verbose: bool = False
) -> Path:
    """Writes the set (once) and returns its folder, which holds train.csv, val.csv, train/ and val/.

    Args:
        root: cache folder; None: :func:`default_cache_dir`. The set goes into ``root/<key>`` where the
            key names the config, so different configs never mix.
        config: sizes, counts and seed; None: :class:`SyntheticMotionConfig` defaults
            (4 classes x (64 train + 16 val) videos, 2 s of 96x80 at 15 fps).
        verbose: print a line while writing.
    """
    cfg = config or SyntheticMotionConfig()
    if cfg.train_per_class < 1 or cfg.val_per_class < 1:
        raise ValueError(
            f"make_motion_dataset: train_per_class and val_per_class must be >= 1, got "
            f"{cfg.train_per_class} and {cfg.val_per_class}"
        )
    if cfg.height % 2 or cfg.width % 2:
        raise ValueError(f"make_motion_dataset: height and width must be even (yuv420p), got {cfg.height}x{cfg.width}")
    out = Path(root) if root is not None else default_cache_dir()
    out = out / cfg.key()
    marker = out / "done.json"
    if marker.is_file():
        return out
    if verbose:
        n = len(CLASSES) * (cfg.train_per_class + cfg.val_per_class)
        print(f"fastvid: writing {n} synthetic motion videos to {out} (once) ...", flush=True)
    rng = np.random.default_rng(cfg.seed)
    for split, per_class in (("train", cfg.train_per_class), ("val", cfg.val_per_class)):
        lines = []
        for label, name in enumerate(CLASSES):
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                path = folder / f"{name}_{i:04d}.mp4"
                frames = render_video(label, rng, cfg)
                if not path.is_file():
                    _write_video(path, frames, cfg.fps, cfg.codec)
                lines.append(f"{path} {label}\n")
        (out / f"{split}.csv").write_text("".join(lines))
    (out / "classes.txt").write_text("".join(f"{c}\n" for c in CLASSES))
    marker.write_text(json.dumps(asdict(cfg), indent=1))
    return out
