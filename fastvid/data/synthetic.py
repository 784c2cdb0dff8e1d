"""Small synthetic videos written with PyAV, for tests, benchmarks and demos.

The content moves (a drifting gradient, bouncing blocks and a little noise) so that encoders produce
real P and B frames, and every frame differs from its neighbours.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

__all__ = ["write_video", "encoder_available"]


def encoder_available(codec: str) -> bool:
    """True when PyAV's FFmpeg has an encoder named ``codec`` (e.g. "libx264", "libvpx-vp9")."""
    try:
        av.codec.Codec(codec, "w")
    except Exception:  # av.codec.codec.UnknownCodecError and friends
        return False
    return True


def _frame_rgb(i: int, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    img = np.empty((height, width, 3), dtype=np.float32)
    img[..., 0] = (x * 255.0 / max(width - 1, 1) + 3 * i) % 256
    img[..., 1] = (y * 255.0 / max(height - 1, 1) + 5 * i) % 256
    img[..., 2] = ((x + y) * 2 + 7 * i) % 256
    for k in range(3):
        bw, bh = max(width // 6, 2), max(height // 6, 2)
        cx = int((width - bw) * (0.5 + 0.5 * np.sin(0.11 * i * (k + 1) + k)))
        cy = int((height - bh) * (0.5 + 0.5 * np.cos(0.07 * i * (k + 2) + k)))
        img[cy : cy + bh, cx : cx + bw, k] = 255 - img[cy : cy + bh, cx : cx + bw, k]
    img += rng.normal(0.0, 6.0, size=img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_video(
    path: str | os.PathLike,
    *,
    num_frames: int = 30,
    fps: int | Fraction = 30,
    height: int = 48,
    width: int = 64,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    bframes: int | None = None,
    frame_times: list[float] | None = None,
    audio: bool = False,
    audio_rate: int = 16000,
    options: dict | None = None,
    rotation: int = 0,
    seed: int = 0,
    frames: np.ndarray | None = None,
    format: str | None = None,
) -> str:
    """Encodes a synthetic video and returns its path.

    Args:
        path: output file; the container comes from the extension (.mp4, .mkv, .webm, .avi).
        num_frames, fps, height, width: the video's size and (nominal) rate.
        codec, pix_fmt: the encoder and its pixel format (e.g. "libx264" + "yuv444p", "libvpx-vp9",
            "mpeg4", "libx264" + "yuv420p10le").
        gop: keyframe interval in frames (None: the encoder's default).
        bframes: B frames between references (None: the encoder's default).
        frame_times: presentation times in seconds, one per frame, for variable frame rate videos
            (the stream's time base is then 1/90000).
        audio: also write a mono AAC sine tone.
        options: extra encoder options.
        rotation: display rotation (degrees, counter-clockwise) stored as metadata; pixels are not rotated.
        seed: seed of the noise.
        frames: the frames to encode, uint8 (T, H, W, 3) RGB, instead of the moving pattern (num_frames,
            height and width are then taken from it).
        format: the container format (e.g. "mp4"); None: from the file's extension.
    """
    path = os.fspath(path)
    rng = np.random.default_rng(seed)
    fps = Fraction(fps)
    if frames is not None:
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            got = f"{frames.dtype} {frames.shape}" if isinstance(frames, np.ndarray) else type(frames).__name__
            raise ValueError(f"write_video: frames must be a uint8 (T, H, W, 3) array, got {got}")
        num_frames, height, width = frames.shape[:3]
    with av.open(path, mode="w", format=format) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = pix_fmt
        opts = dict(options or {})
        if gop is not None:
            stream.codec_context.gop_size = gop
            if codec == "libx264":
                opts.setdefault("x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0")
        if bframes is not None:
            stream.codec_context.max_b_frames = bframes
        if codec == "libvpx-vp9":
            opts.setdefault("deadline", "realtime")
            opts.setdefault("cpu-used", "8")
        if codec == "libx264":
            opts.setdefault("preset", "veryfast")
        stream.options = opts
        if rotation:
            stream.set_display_rotation(rotation)
        if frame_times is not None:
            if len(frame_times) != num_frames:
                raise ValueError(
                    f"write_video: frame_times must have num_frames={num_frames} values, got {len(frame_times)}"
                )
            stream.codec_context.time_base = Fraction(1, 90000)
            stream.time_base = Fraction(1, 90000)
        astream = None
        if audio:
            astream = out.add_stream("aac", rate=audio_rate)
            astream.layout = "mono"
        for i in range(num_frames):
            rgb = frames[i] if frames is not None else _frame_rgb(i, height, width, rng)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame = frame.reformat(format=pix_fmt)
            if frame_times is not None:
                frame.pts = int(round(frame_times[i] * 90000))
                frame.time_base = Fraction(1, 90000)
            else:
                frame.pts = i
                frame.time_base = 1 / fps
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if astream is not None:
            duration = float(num_frames / fps) if frame_times is None else float(frame_times[-1]) + 0.05
            total = int(duration * audio_rate)
            t = np.arange(total, dtype=np.float32) / audio_rate
            samples = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
            chunk = 1024
            for start in range(0, total, chunk):
                part = samples[start : start + chunk][None, :]
                aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format="fltp", layout="mono")
                aframe.sample_rate = audio_rate
                aframe.pts = start
                aframe.time_base = Fraction(1, audio_rate)
                for packet in astream.encode(aframe):
                    out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    return path
