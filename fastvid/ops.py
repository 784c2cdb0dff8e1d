"""Typed Python wrappers over fastvid's compiled ops (``torch.ops.fastvid.*``).

Every op has a pure-PyTorch twin in :mod:`fastvid.reference` with the same arguments, and a fake
(meta) implementation registered here so that the ops work under ``torch.compile``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from fastvid._ext import assert_has_ops, has_ops

__all__ = ["clip_transform"]

_LAYOUTS = ("CTHW", "THWC")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int_tuple(name: str, value, length: int) -> list[int] | None:
    if value is None:
        return None
    if type(value) in (tuple, list) and len(value) == length:  # fast path: plain ints
        items = list(value)
        if all(type(v) is int and _INT64_MIN <= v <= _INT64_MAX for v in items):
            return items
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, (str, bytes)):
        raise TypeError(f"clip_transform: {name} must be a sequence of {length} ints, got {value!r}")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"clip_transform: {name} must be a sequence of {length} ints, got {value!r}") from None
    if len(items) != length:
        raise ValueError(f"clip_transform: {name} must have {length} values, got {len(items)}: {items!r}")
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int) and not (hasattr(v, "__index__")):
            raise TypeError(f"clip_transform: {name} must hold ints, got {items!r}")
        v = int(v.__index__())
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError(f"clip_transform: {name} values must fit in int64, got {items!r}")
        out.append(v)
    return out


def _float_list(name: str, value) -> list[float] | None:
    if value is None:
        return None
    if type(value) in (tuple, list) and all(type(v) is float for v in value):  # fast path
        return list(value)
    if isinstance(value, torch.Tensor):
        value = value.flatten().tolist()
    if isinstance(value, (int, float, str, bytes)):
        raise TypeError(f"clip_transform: {name} must be a sequence with one value per channel, got {value!r}")
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        raise TypeError(f"clip_transform: {name} must be a sequence of numbers, got {value!r}") from None


def _frame_tensor(frame_indices) -> torch.Tensor | None:
    if frame_indices is None or isinstance(frame_indices, torch.Tensor):
        return frame_indices
    try:
        items = list(frame_indices)
    except TypeError:
        items = None
    if items is None or isinstance(frame_indices, (str, bytes)) or any(
        isinstance(v, bool) or not hasattr(v, "__index__") for v in items
    ):
        raise TypeError(
            f"clip_transform: frame_indices must be a 1-D tensor or a sequence of ints, got {frame_indices!r}"
        )
    values = [int(v.__index__()) for v in items]
    if any(not _INT64_MIN <= v <= _INT64_MAX for v in values):
        raise ValueError(f"clip_transform: frame_indices values must fit in int64, got {values!r}")
    return torch.tensor(values, dtype=torch.long)


def _scale_value(scale, op: str = "clip_transform") -> float | None:
    if scale is None:
        return None
    if isinstance(scale, (bool, str, bytes)) or not isinstance(scale, (int, float)) and not hasattr(scale, "__float__"):
        raise TypeError(f"{op}: scale must be a number or None, got {scale!r}")
    try:
        return float(scale)
    except OverflowError:
        raise ValueError(f"{op}: scale must be a finite number, got {scale!r}") from None
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{op}: scale must be a number or None, got {scale!r}") from None


_FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def _check_normalization(op: str, scale: float | None, mean: list[float] | None, std: list[float] | None) -> None:
    """The kernels compute ``v * (scale / std) - mean / std`` in float32: both factors must be finite there
    (a std near 0, e.g. 1e-40, would make them infinite and every output -inf or NaN)."""
    if std is None:
        return
    s = 1.0 if scale is None else scale
    for c, sd in enumerate(std):
        m = mean[c] if mean and c < len(mean) else 0.0
        if sd == 0 or not all(math.isfinite(v) for v in (s, m, sd)):
            continue  # (the op's own checks name a zero or non-finite value, and a wrong count)
        for value in (s / sd, m / sd):
            if not abs(value) <= _FLOAT32_MAX:
                raise ValueError(f"{op}: std[{c}] = {sd!r} is too close to 0: scale / std or mean / std is not finite "
                                 f"in float32 ({value!r})")


def _flag(op: str, name: str, value) -> bool:
    """A bool argument: bools, ints, NumPy bools, one-element tensors, None (False); not strings (``"no"``
    would be True)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def _check_video(op: str, name: str, video: torch.Tensor) -> torch.Tensor:
    if video.layout != torch.strided or video.is_quantized:
        raise TypeError(f"{op}: {name} must be a dense (strided) tensor, got a {video.layout} "
                        f"{'quantized ' if video.is_quantized else ''}{video.dtype} tensor")
    # (a view at an odd byte offset of a buffer: the kernels read whole floats; under torch.compile's tracing no
    # data pointer can be read, and a traced clip is one torch made)
    if video.dtype == torch.float32 and video.device.type == "cpu" and not torch.compiler.is_compiling() \
            and video.data_ptr() % 4:
        video = video.clone()
    return video


def _no_stray_meta(op: str, primary: torch.Tensor, *others) -> None:
    """A fake kernel also runs when one argument is a meta tensor and the clip a real one (the dispatcher
    picks the meta kernel): refuse that instead of returning an uninitialized real tensor."""
    if primary.device.type == "meta":
        return
    flat = []
    for o in others:
        flat.extend(o if isinstance(o, (list, tuple)) else [o])
    for t in flat:
        if isinstance(t, torch.Tensor) and t.device.type == "meta":
            raise ValueError(f"{op}: an argument is a meta tensor (no data) while the clip is on {primary.device}: "
                             "give every tensor argument real values")


def clip_transform(
    video: torch.Tensor,
    *,
    layout: str = "CTHW",
    frame_indices: torch.Tensor | Sequence[int] | None = None,
    size: Sequence[int] | None = None,
    crop: Sequence[int] | None = None,
    flip: bool = False,
    scale: float | None = 1.0 / 255.0,
    mean: Sequence[float] | None = (0.45, 0.45, 0.45),
    std: Sequence[float] | None = (0.225, 0.225, 0.225),
    antialias: bool = False,
    out_dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Temporal subsample, resize, crop, flip and normalize a clip in one pass.

    Args:
        video: uint8 or float32 clip, (C, T, H, W) or (T, H, W, C) as ``layout`` says, any strides
            (read in place: a permuted or sliced view costs no copy). Float values should be finite:
            a NaN or infinity can spread to neighbouring outputs (taps of weight 0 still read it).
        layout: "CTHW" (PyTorchVideo's) or "THWC" (decoded frames).
        frame_indices: the frames to keep, in order (repeats allowed); None keeps all.
        size: (new_h, new_w) of the resized frame that the crop is taken from; None: no resize.
        crop: (top, left, height, width) in resized coordinates; None: the whole resized frame.
        flip: flip the crop horizontally.
        scale, mean, std: out = (v * scale - mean[c]) / std[c] (None: 1, 0, 1). With all three None
            and ``out_dtype=torch.uint8``, the resized values are rounded and clamped to 0..255.
        antialias: as ``F.interpolate(antialias=True)`` (torchvision v2's Resize default) when
            downscaling; plain bilinear (PyTorchVideo's) when False.
        out_dtype: float32, bfloat16, float16, or uint8 (see above).

    Returns:
        A contiguous (C, T', height, width) tensor on the video's device.

    Raises:
        ValueError / TypeError naming the argument for bad input; RuntimeError if the compiled
        extension is missing.
    """
    assert_has_ops()
    if not isinstance(video, torch.Tensor):
        raise TypeError(f"clip_transform: video must be a torch.Tensor, got {type(video).__name__}")
    if layout not in _LAYOUTS:
        raise ValueError(f'clip_transform: layout must be "CTHW" or "THWC", got {layout!r}')
    if not isinstance(out_dtype, torch.dtype):
        raise TypeError(f"clip_transform: out_dtype must be a torch.dtype, got {out_dtype!r}")
    _refuse_grad("clip_transform", (video,))
    video = _check_video("clip_transform", "video", video)
    scale, mean, std = _scale_value(scale), _float_list("mean", mean), _float_list("std", std)
    _check_normalization("clip_transform", scale, mean, std)
    return torch.ops.fastvid.clip_transform(
        video,
        layout,
        _frame_tensor(frame_indices),
        _int_tuple("size", size, 2),
        _int_tuple("crop", crop, 4),
        _flag("clip_transform", "flip", flip),
        scale,
        mean,
        std,
        _flag("clip_transform", "antialias", antialias),
        out_dtype,
    )


def _clip_transform_out_shape(video, layout, frame_indices, size, crop):
    if layout == "THWC":
        t, h, w, c = video.shape
    else:
        c, t, h, w = video.shape
    if frame_indices is not None:
        t = frame_indices.shape[0]
    if size is not None:
        h, w = size
    if crop is not None:
        h, w = crop[2], crop[3]
    return (c, t, h, w)


if has_ops():

    @torch.library.register_fake("fastvid::clip_transform")
    def _clip_transform_fake(video, layout, frame_indices, size, crop, flip, scale, mean, std, antialias, out_dtype):
        _no_stray_meta("clip_transform", video, frame_indices)
        shape = _clip_transform_out_shape(video, layout, frame_indices, size, crop)
        return video.new_empty(shape, dtype=out_dtype)


# --- clip_transform_batch: B clips of different source sizes in one call (one launch on CUDA) -------

__all__ += ["PackedClips", "clip_transform_batch"]


class PackedClips:
    """B clips in one 1-D buffer, with per-clip descriptors: what :func:`fastvid.gpu.collate_clips` makes.

    Clip ``b`` is ``buffer.as_strided(shapes[b], strides[b], offsets[b])``, its dims in ``layout``
    order. The descriptors are int64 CPU tensors and stay on the CPU when the batch moves (``.to``
    moves the buffer only): the batched op reads them on the host, with no device synchronization.

    Args:
        buffer: 1-D contiguous tensor (uint8 for decoded clips).
        offsets: (B,) element offsets of the clips in ``buffer``.
        shapes: (B, 4) clip shapes.
        strides: (B, 4) clip strides, in elements.
        layout: "CTHW" or "THWC", the order of the shapes' and strides' dims.
    """

    __slots__ = ("buffer", "offsets", "shapes", "strides", "layout")

    def __init__(self, buffer: torch.Tensor, offsets: torch.Tensor, shapes: torch.Tensor, strides: torch.Tensor, layout: str = "CTHW"):
        if not isinstance(buffer, torch.Tensor) or buffer.dim() != 1:
            raise TypeError(f"PackedClips: buffer must be a 1-D tensor, got {_describe(buffer)}")
        if layout not in _LAYOUTS:
            raise ValueError(f'PackedClips: layout must be "CTHW" or "THWC", got {layout!r}')
        for name, value, shape_tail in (("offsets", offsets, ()), ("shapes", shapes, (4,)), ("strides", strides, (4,))):
            if not isinstance(value, torch.Tensor) or value.dtype != torch.long or tuple(value.shape[1:]) != shape_tail:
                raise TypeError(
                    f"PackedClips: {name} must be an int64 tensor of shape (B{', 4' if shape_tail else ''}), got {_describe(value)}"
                )
        if not (offsets.shape[0] == shapes.shape[0] == strides.shape[0]):
            raise ValueError(
                f"PackedClips: offsets, shapes and strides must describe the same number of clips, got "
                f"{offsets.shape[0]}, {shapes.shape[0]} and {strides.shape[0]}"
            )
        if shapes.device.type == "cpu" and shapes.numel() and bool((shapes < 0).any()):
            raise ValueError(f"PackedClips: shapes must not be negative, got {shapes.tolist()}"[:300])
        self.buffer = buffer
        self.offsets = offsets
        self.shapes = shapes
        self.strides = strides
        self.layout = layout

    @classmethod
    def pack(cls, videos: Sequence[torch.Tensor], *, layout: str = "CTHW", pin_memory: bool = False, align: int = 64) -> "PackedClips":
        """Copies clips (same dtype, any shapes and strides) into one buffer, each keeping its memory order.

        A clip that is a permuted view of a THWC buffer stays THWC in memory (its strides say so), so
        packing is a plain copy and the kernel reads it in place. ``pin_memory`` allocates the buffer
        in page-locked memory (needs CUDA); clip starts are aligned to ``align`` elements.
        """
        if layout not in _LAYOUTS:
            raise ValueError(f'PackedClips.pack: layout must be "CTHW" or "THWC", got {layout!r}')
        if isinstance(align, bool) or not isinstance(align, int) or align < 1:
            raise ValueError(f"PackedClips.pack: align must be a positive int (elements), got {align!r}")
        videos = list(videos)
        if not videos:
            raise ValueError("PackedClips.pack: videos must hold at least one clip, got none")
        for b, v in enumerate(videos):
            if not isinstance(v, torch.Tensor) or v.dim() != 4:
                raise TypeError(f"PackedClips.pack: videos[{b}] must be a 4-D tensor, got {_describe(v)}")
            if v.dtype != videos[0].dtype:
                raise TypeError(f"PackedClips.pack: every clip must have the same dtype, videos[0] is {videos[0].dtype} and videos[{b}] is {v.dtype}")
        offsets, shapes, strides = [], [], []
        total = 0
        for v in videos:
            # Dense strides in the clip's own memory order (empty_like keeps the order of dense tensors).
            dense = torch.empty_like(v, device="meta").stride()
            total = (total + align - 1) // align * align
            offsets.append(total)
            shapes.append(list(v.shape))
            strides.append(list(dense))
            total += v.numel()
        buffer = torch.empty(total, dtype=videos[0].dtype, pin_memory=pin_memory)
        for v, off, dense in zip(videos, offsets, strides):
            buffer.as_strided(v.shape, dense, off).copy_(v)
        return cls(buffer, torch.tensor(offsets, dtype=torch.long), torch.tensor(shapes, dtype=torch.long), torch.tensor(strides, dtype=torch.long), layout)

    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    @property
    def device(self) -> torch.device:
        return self.buffer.device

    def clip(self, b: int) -> torch.Tensor:
        """Clip ``b`` as a view of the buffer."""
        return self.buffer.as_strided(self.shapes[b].tolist(), self.strides[b].tolist(), int(self.offsets[b]))

    def clips(self) -> list[torch.Tensor]:
        """Every clip as a view of the buffer."""
        return [self.clip(b) for b in range(len(self))]

    def to(self, device, non_blocking: bool | None = None) -> "PackedClips":
        """The batch with its buffer on ``device`` (descriptors stay on the CPU).

        ``non_blocking`` defaults to True when the buffer is pinned (an asynchronous copy on the current
        stream, which later kernels on that stream wait for). Lightning's batch transfer calls this.
        """
        if non_blocking is None:
            non_blocking = self.buffer.device.type == "cpu" and self.buffer.is_pinned()
        return PackedClips(self.buffer.to(device, non_blocking=non_blocking), self.offsets, self.shapes, self.strides, self.layout)

    def pin_memory(self, device=None) -> "PackedClips":
        """The batch with its buffer in page-locked memory (DataLoader(pin_memory=True) calls this)."""
        if self.buffer.is_pinned():
            return self
        return PackedClips(self.buffer.pin_memory(), self.offsets, self.shapes, self.strides, self.layout)

    def is_pinned(self) -> bool:
        return self.buffer.device.type == "cpu" and self.buffer.is_pinned()

    def __repr__(self) -> str:
        return f"PackedClips({len(self)} clips, {self.buffer.numel()} {self.buffer.dtype} elements on {self.buffer.device}, layout={self.layout!r})"


def _refuse_grad(op: str, tensors) -> None:
    """The kernels have no backward: refuse a clip that needs a gradient instead of dropping it silently."""
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        raise ValueError(
            f"{op}: the clip requires grad, but the fused kernel has no backward; use fastvid.reference.{op} (the "
            f"same computation in differentiable PyTorch ops; fastvid.transforms does this itself), or call it under "
            f"torch.no_grad() / on a detached clip"
        )


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r}"[:200]


def _per_clip_rows(name: str, value, batch: int, width: int) -> torch.Tensor | None:
    """None, one row shared by every clip, or one row per clip -> int64 CPU tensor (B, width); width 0: (B,)."""
    op = "clip_transform_batch"
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        t = value
    else:
        try:
            if isinstance(value, (list, tuple)) and value and all(isinstance(x, torch.Tensor) for x in value):
                t = torch.stack([x.reshape(-1) if width else x.reshape(()) for x in value])
            else:
                t = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{op}: {name} must be a tensor or a (nested) sequence of ints, got {_describe(value)}") from None
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool and width:
        raise TypeError(f"{op}: {name} must hold ints, got {_describe(value)}")
    shared_dim, per_clip_dim = (0, 1) if width == 0 else (1, 2)
    if t.dim() == shared_dim and (width == 0 or t.shape[0] == width):
        t = t.expand((batch,) if width == 0 else (batch, width))
    expected = (batch,) if width == 0 else (batch, width)
    if t.dim() != per_clip_dim or tuple(t.shape) != expected:
        row = "one value" if width == 0 else f"{width} values"
        raise ValueError(
            f"{op}: {name} must give {row} for every clip (shape {expected}) or {row} shared by all, got shape {tuple(t.shape)}"
        )
    return t.to(torch.long).contiguous() if t.device.type == "cpu" else t.to(torch.long)


def _frame_rows(frame_indices, batch: int) -> torch.Tensor | None:
    """None, one index list shared by every clip (1-D) or one per clip (2-D, or a list of sequences)."""
    op = "clip_transform_batch"
    if frame_indices is None:
        return None
    if isinstance(frame_indices, torch.Tensor):
        t = frame_indices
    else:
        try:
            items = None if isinstance(frame_indices, (str, bytes)) else list(frame_indices)
        except TypeError:
            items = None
        if items is None or any(isinstance(x, (str, bytes)) for x in items):
            raise TypeError(f"{op}: frame_indices must be ints, per-clip sequences of ints or a tensor, got "
                            f"{_describe(frame_indices)}")
        if items and all(isinstance(x, Sequence) or isinstance(x, torch.Tensor) and x.dim() for x in items):
            lengths = {len(x) for x in items}
            if len(lengths) != 1:
                raise ValueError(f"{op}: frame_indices must keep the same number of frames from every clip, got lengths {sorted(lengths)}")
            rows = [torch.as_tensor(x) for x in items]
            bad = [r.dtype for r in rows if r.dtype not in (torch.long, torch.int)]
            if bad:
                raise TypeError(f"{op}: frame_indices must be int64 or int32, got per-clip values of dtype {bad[0]}")
            t = torch.stack([r.to(torch.long) for r in rows])
        else:
            try:
                t = torch.as_tensor(items)
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"{op}: frame_indices must be ints, per-clip sequences of ints or a tensor, got {_describe(frame_indices)}") from None
    if t.dtype not in (torch.long, torch.int):
        raise TypeError(f"{op}: frame_indices must be int64 or int32, got {_describe(t)}")
    if t.dim() == 1:
        t = t.expand(batch, t.shape[0])
    if t.dim() != 2 or t.shape[0] != batch:
        raise ValueError(f"{op}: frame_indices must be (T',) shared by all clips or ({batch}, T') per clip, got shape {tuple(t.shape)}")
    return t.to(torch.long).contiguous() if t.device.type == "cpu" else t


def _batch_args(videos, layout, frame_indices, sizes, crops, flips):
    """Checks and normalizes clip_transform_batch's per-clip arguments.

    Returns (clips or None, packed or None, frame rows (B, T') or None, sizes (B, 2) or None,
    crop offsets (B, 2) or None, crop_size [h, w], flips (B,) bool or None).
    """
    op = "clip_transform_batch"
    if layout not in _LAYOUTS:
        raise ValueError(f'{op}: layout must be "CTHW" or "THWC", got {layout!r}')
    hdim, wdim = (1, 2) if layout == "THWC" else (2, 3)
    if isinstance(videos, PackedClips):
        packed, clips = videos, None
        if packed.layout != layout:
            raise ValueError(f"{op}: the packed clips are {packed.layout!r} but layout is {layout!r}")
        batch = len(packed)
        src_hw = packed.shapes[:, [hdim, wdim]]
    elif isinstance(videos, (list, tuple)):
        packed, clips = None, list(videos)
        for b, v in enumerate(clips):
            if not isinstance(v, torch.Tensor):
                raise TypeError(f"{op}: videos[{b}] must be a torch.Tensor, got {type(v).__name__}")
            if v.dim() != 4:
                raise ValueError(f"{op}: videos[{b}] must have 4 dimensions ({layout}), got shape {tuple(v.shape)}")
        batch = len(clips)
        src_hw = torch.tensor([[v.shape[hdim], v.shape[wdim]] for v in clips], dtype=torch.long).reshape(-1, 2)
    else:
        raise TypeError(f"{op}: videos must be a list of clip tensors or a PackedClips, got {type(videos).__name__}")
    if batch == 0:
        raise ValueError(f"{op}: videos must hold at least one clip, got none")
    fi = _frame_rows(frame_indices, batch)
    size_rows = _per_clip_rows("sizes", sizes, batch, 2)
    crop_rows = _per_clip_rows("crops", crops, batch, 4)
    for name, rows, what in (("sizes", size_rows, "(height, width)"), ("crops", crop_rows, "(top, left, height, width)")):
        if rows is not None and rows.device.type == "cpu" and rows.numel():
            hw = rows[:, -2:]
            if bool((hw <= 0).any()):
                b = int((hw <= 0).any(dim=1).nonzero()[0])
                raise ValueError(f"{op}: clip {b}: {name[:-1]} must be positive in height and width {what}, got "
                                 f"{rows[b].tolist()} ({name})")
    if flips is None or isinstance(flips, (bool, str, bytes)):
        flip_rows = None if not _flag(op, "flips", flips) else torch.ones(batch, dtype=torch.bool)
    else:
        flip_rows = _per_clip_rows("flips", flips, batch, 0)
        flip_rows = flip_rows.to(torch.bool)
    if crop_rows is not None:
        hw = crop_rows[:, 2:].cpu()
        what = "crops"
        offsets = crop_rows[:, :2]
    else:
        hw = size_rows.cpu() if size_rows is not None else src_hw
        what = "sizes (without crops the output is the whole resized frame)" if size_rows is not None else "source frames (without sizes or crops)"
        offsets = None
    if not bool((hw == hw[0]).all()):
        raise ValueError(f"{op}: the {what} must all have the same height and width (the batch is one tensor), got {hw.tolist()}")
    crop_size = [int(hw[0, 0]), int(hw[0, 1])]
    return clips, packed, fi, size_rows, offsets, crop_size, flip_rows


def clip_transform_batch(
    videos: Sequence[torch.Tensor] | PackedClips,
    *,
    layout: str = "CTHW",
    frame_indices=None,
    sizes=None,
    crops=None,
    flips=None,
    scale: float | None = 1.0 / 255.0,
    mean: Sequence[float] | None = (0.45, 0.45, 0.45),
    std: Sequence[float] | None = (0.225, 0.225, 0.225),
    antialias: bool = False,
    out_dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """:func:`clip_transform` on B clips of different source sizes at once (one kernel launch on CUDA).

    Every per-clip argument is one value shared by all clips, or one per clip (a sequence or a tensor
    with one row per clip); keep tensors on the CPU (they are read on the host).

    Args:
        videos: a list of uint8 / float32 clips (same dtype, channels and device, any sizes and
            strides), or a :class:`PackedClips` buffer made by the collate function.
        layout: "CTHW" or "THWC", the clips' dims.
        frame_indices: None (every frame; clips of the same length), (T',) for all or (B, T').
        sizes: None (no resize), (h, w) for all or (B, 2) resized sizes.
        crops: None (the whole resized frame), (top, left, h, w) for all or (B, 4); every crop the
            same height and width.
        flips: None / bool for all, or (B,) bools.
        scale, mean, std, antialias, out_dtype: as :func:`clip_transform`, common to the batch.

    Returns:
        A contiguous (B, C, T', h, w) tensor on the clips' device; clip b equals
        ``clip_transform(videos[b], ...)`` with that clip's arguments.

    Raises:
        ValueError / TypeError naming the argument (and the clip) for bad input; RuntimeError if the
        compiled extension is missing.
    """
    assert_has_ops()
    if not isinstance(out_dtype, torch.dtype):
        raise TypeError(f"clip_transform_batch: out_dtype must be a torch.dtype, got {out_dtype!r}")
    clips, packed, fi, size_rows, offsets, crop_size, flip_rows = _batch_args(videos, layout, frame_indices, sizes, crops, flips)
    _refuse_grad("clip_transform_batch", clips if packed is None else (packed.buffer,))
    scale = _scale_value(scale, "clip_transform_batch")
    mean = _float_list("mean", mean)
    std = _float_list("std", std)
    _check_normalization("clip_transform_batch", scale, mean, std)
    antialias = _flag("clip_transform_batch", "antialias", antialias)
    if packed is None:
        clips = [_check_video("clip_transform_batch", f"videos[{b}]", v) for b, v in enumerate(clips)]
        return torch.ops.fastvid.clip_transform_batch(
            clips, layout, fi, size_rows, offsets, crop_size, flip_rows, scale, mean, std, antialias, out_dtype
        )
    cdim, tdim = (3, 0) if layout == "THWC" else (0, 1)
    if fi is None:
        lengths = packed.shapes[:, tdim]
        if not bool((lengths == lengths[0]).all()):
            raise ValueError(
                f"clip_transform_batch: without frame_indices every clip must have the same number of frames, got {lengths.tolist()}"
            )
        fi = torch.arange(int(lengths[0])).expand(len(packed), -1).contiguous()
    return torch.ops.fastvid.clip_transform_batch_packed(
        _check_video("clip_transform_batch", "the packed buffer", packed.buffer), packed.offsets, packed.shapes, packed.strides, layout, int(packed.shapes[0, cdim]),
        fi, size_rows, offsets, crop_size, flip_rows, scale, mean, std, antialias, out_dtype,
    )


if has_ops():

    @torch.library.register_fake("fastvid::clip_transform_batch")
    def _clip_transform_batch_fake(videos, layout, frame_indices, sizes, crop_offsets, crop_size, flips, scale, mean, std, antialias, out_dtype):
        v = videos[0]
        _no_stray_meta("clip_transform_batch", v, videos, frame_indices, sizes, crop_offsets, flips)
        c, t = (v.shape[3], v.shape[0]) if layout == "THWC" else (v.shape[0], v.shape[1])
        if frame_indices is not None:
            t = frame_indices.shape[1]
        return v.new_empty((len(videos), c, t, crop_size[0], crop_size[1]), dtype=out_dtype)

    @torch.library.register_fake("fastvid::clip_transform_batch_packed")
    def _clip_transform_batch_packed_fake(buffer, offsets, shapes, strides, layout, channels, frame_indices, sizes, crop_offsets, crop_size, flips, scale, mean, std, antialias, out_dtype):
        _no_stray_meta("clip_transform_batch", buffer, offsets, shapes, strides, frame_indices, sizes, crop_offsets, flips)
        return buffer.new_empty((offsets.shape[0], channels, frame_indices.shape[1], crop_size[0], crop_size[1]), dtype=out_dtype)

    @torch.library.register_fake("fastvid::plan_clip_frames")
    def _plan_clip_frames_fake(frame_pts, keyframes, windows, num_samples, linspace_fma):
        _no_stray_meta("plan_clip_frames", frame_pts, keyframes, windows)
        n = windows.shape[0]
        width = num_samples if num_samples > 0 else 0
        mk = lambda *shape: frame_pts.new_empty(shape, dtype=torch.long)  # noqa: E731
        return mk(n), mk(n), mk(n, width), mk(n)
