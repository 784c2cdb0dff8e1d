"""(video path, label) lists from a CSV/text file or from class folders (as pytorchvideo.data)."""

from __future__ import annotations

import os
import pathlib

__all__ = ["LabeledVideoPaths", "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


class LabeledVideoPaths:
    """Pairs of video path and integer label; ``paths[i]`` is ``(prefix + path, {"label": label})``.

    Build it with :meth:`from_path` (a file: :meth:`from_csv`; a folder: :meth:`from_directory`) or from
    a list of ``(path, label)``.
    """

    @classmethod
    def from_path(cls, data_path: str | os.PathLike) -> LabeledVideoPaths:
        path = os.fspath(data_path)
        if os.path.isfile(path):
            return cls.from_csv(path)
        if os.path.isdir(path):
            return cls.from_directory(path)
        raise FileNotFoundError(f"LabeledVideoPaths: data_path {path} not found")

    @classmethod
    def from_csv(cls, file_path: str | os.PathLike) -> LabeledVideoPaths:
        """Reads lines ``<path> <integer label>`` (whitespace-separated, the path may hold spaces) or
        ``<path>`` alone (label -1, e.g. a test split).

        Raises:
            FileNotFoundError if the file is missing; ValueError naming the file and line for a blank
            line, a label that is not an integer, or a file with no lines.
        """
        file_path = os.fspath(file_path)
        if not os.path.isfile(file_path):
            raise FileNotFoundError(f"LabeledVideoPaths.from_csv: {file_path} not found")
        items = []
        with open(file_path) as f:
            lines = f.read().splitlines()
        # A trailing newline at the very end is fine; blank lines elsewhere are an error.
        while lines and not lines[-1].strip():
            lines.pop()
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                raise ValueError(f"{file_path}, line {lineno}: blank line (expected '<path> <integer label>')")
            parts = line.rsplit(None, 1)
            if len(parts) == 1:
                items.append((parts[0], -1))
                continue
            video, label = parts
            try:
                items.append((video, int(label)))
            except ValueError:
                raise ValueError(
                    f"{file_path}, line {lineno}: label {label!r} is not an integer (expected '<path> <integer label>')"
                ) from None
        if not items:
            raise ValueError(f"LabeledVideoPaths.from_csv: {file_path} holds no videos")
        return cls(items)

    @classmethod
    def from_directory(cls, dir_path: str | os.PathLike, extensions=VIDEO_EXTENSIONS) -> LabeledVideoPaths:
        """``dir_path/<class_name>/<video>.<ext>``: classes are the sorted sub-folder names, labelled 0..K-1;
        videos are found recursively inside each class folder, in sorted order."""
        root = pathlib.Path(dir_path)
        if not root.is_dir():
            raise FileNotFoundError(f"LabeledVideoPaths.from_directory: {root} not found")
        classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        items = []
        exts = tuple(e.lower() for e in extensions)
        for label, name in enumerate(classes):
            for dirpath, _, files in sorted(os.walk(root / name, followlinks=True)):
                for fname in sorted(files):
                    if fname.lower().endswith(exts):
                        items.append((os.path.join(dirpath, fname), label))
        if not items:
            raise ValueError(f"LabeledVideoPaths.from_directory: no videos ({', '.join(exts)}) under {root}")
        return cls(items)

    def __init__(self, paths_and_labels, path_prefix: str = "") -> None:
        self._paths_and_labels = list(paths_and_labels)
        self._path_prefix = path_prefix

    @property
    def path_prefix(self) -> str:
        return self._path_prefix

    @path_prefix.setter
    def path_prefix(self, prefix: str) -> None:
        self._path_prefix = prefix

    def __getitem__(self, index: int) -> tuple[str, dict]:
        path, label = self._paths_and_labels[index]
        return os.path.join(self._path_prefix, path), {"label": label}

    def __len__(self) -> int:
        return len(self._paths_and_labels)
