"""The plain, slow reference decoder that fastvid's frame-index decoding is tested against.

It decodes every frame of the video from the start (no seeking, no skipping), converts each to RGB,
keeps the frames whose pts lies in the window and subsamples them with torch.linspace. Never use it
for training; it exists so that tests compare against something with no cleverness in it.
"""

from __future__ import annotations

import os

import av
import numpy as np
import torch

from fastvid.data.encoded_video import video_stream
from fastvid.data.utils import secs_to_pts

__all__ = ["decode_all_frames", "reference_clip"]


def decode_all_frames(path: str | os.PathLike) -> tuple[list[int], np.ndarray]:
    """Every frame of the video stream (:func:`fastvid.data.encoded_video.video_stream`): (pts in presentation order, uint8 (F, H, W, 3)).

    Each frame keeps its pts (the last frame wins on a repeated pts), except in an AVI file whose
    packet pts increase in decode order while the decoder reorders frames (H.264 with B-frames: AVI
    stores no presentation times, the pts FFmpeg gives are decode times): there the decoder's output
    order is the display order, and the k-th frame output is given the k-th smallest pts."""
    with av.open(os.fspath(path)) as container:
        stream = video_stream(container)
        decode_times = False
        if container.format.name == "avi":
            packet_pts = [p.pts for p in container.demux(stream) if p.size]
            decode_times = None not in packet_pts and all(a < b for a, b in zip(packet_pts, packet_pts[1:]))
            container.seek(0)
        decoded = [(frame.pts, frame.to_ndarray(format="rgb24")) for frame in container.decode(stream)]
    if not decoded:
        return [], np.zeros((0, 0, 0, 3), np.uint8)
    out_pts = [p for p, _ in decoded]
    if decode_times and out_pts != sorted(out_pts):
        return sorted(out_pts), np.stack([f for _, f in decoded])
    frames = dict(decoded)
    pts = sorted(frames)
    return pts, np.stack([frames[p] for p in pts])


def reference_clip(
    path: str | os.PathLike, start_sec, end_sec, num_samples: int | None = None, *, decoded=None
) -> torch.Tensor | None:
    """uint8 (C, T', H, W): the frames with pts in [start_sec, end_sec) (PyTorchVideo's ceil rule for
    seconds -> pts), subsampled with clamp(torch.linspace(0, T-1, n), 0, T-1).long(); None if empty.
    ``decoded``: the result of :func:`decode_all_frames` for ``path``, to decode it only once."""
    with av.open(os.fspath(path)) as container:
        stream = video_stream(container)
        tb = stream.time_base
        start_pts = stream.start_time if stream.start_time is not None else 0.0
    pts, frames = decoded if decoded is not None else decode_all_frames(path)
    lo = secs_to_pts(start_sec, tb, start_pts, round_mode="ceil")
    hi = secs_to_pts(end_sec, tb, start_pts, round_mode="ceil")
    keep = [i for i, p in enumerate(pts) if lo <= p < hi]
    if not keep:
        return None
    window = torch.from_numpy(frames[keep])
    if num_samples is not None:
        t = window.shape[0]
        idx = torch.clamp(torch.linspace(0, t - 1, num_samples), 0, t - 1).long()
        window = window[idx]
    return window.permute(3, 0, 1, 2)
