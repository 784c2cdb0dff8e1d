"""Checkpoint files written whole or not at all, in their own folder.

Lightning's ``TorchCheckpointIO`` serializes the checkpoint into memory and writes it through an fsspec
transaction, whose temporary file is made by ``tempfile`` in ``$TMPDIR`` and then moved over the target. When the
run's folder and ``$TMPDIR`` are on different file systems (the usual cluster setup: a network or scratch file
system for runs, a small local /tmp), that move is a copy straight into ``last.ckpt``: a Ctrl-C, a kill or a full
disk during it leaves a truncated ``last.ckpt`` (the previous one already gone), and every save needs a whole
checkpoint of free space in ``$TMPDIR``. :class:`AtomicCheckpointIO` writes ``.<name>.<pid>.<random>.tmp`` beside the
target, flushes it to disk and renames it over the target: a reader sees the old checkpoint or the new one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins.io import TorchCheckpointIO

__all__ = ["AtomicCheckpointIO", "remove_partial_checkpoints"]

_TMP_SUFFIX = ".tmp"


def _is_local(path) -> bool:
    return "://" not in os.fspath(path) or os.fspath(path).startswith("file://")


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` that writes a local checkpoint into a temporary file in the same folder, fsyncs it and
    renames it over the target (remote URLs are left to Lightning's own writer). Give it to the trainer:
    ``pl.Trainer(plugins=[AtomicCheckpointIO()])``."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None or not _is_local(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        path = os.fspath(path).removeprefix("file://")
        folder = os.path.dirname(path) or "."
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}")
        # (os.open with 0o666: the file gets the permissions of any file the user writes, umask applied)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # (the rename itself on disk; not every file system lets a folder sync)
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def remove_partial_checkpoints(folder) -> list[Path]:
    """Deletes the temporary files an interrupted :class:`AtomicCheckpointIO` save left in ``folder`` (a kill -9
    during a save); returns them. Call it only while no other run writes there."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(".*.ckpt.*" + _TMP_SUFFIX) if p.is_file()]
    for p in found:
        with contextlib.suppress(OSError):
            p.unlink()
    return found
