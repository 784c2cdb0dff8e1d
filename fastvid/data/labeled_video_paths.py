"""(video path, label) lists from a CSV/text file or from class folders (as pytorchvideo.data)."""

from __future__ import annotations

import itertools
import numbers
import operator
import os
import pathlib
import shlex

import numpy as np

__all__ = ["CSV_CHECK_VIDEOS", "LabeledVideoPaths", "VIDEO_EXTENSIONS", "check_csv_prefix", "class_folder_names",
           "csv_prefix_problem", "read_path_label_lines", "scan_class_folders"]

#: What a class-folder tree's video files end with (any case).
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".ts")


def read_path_label_lines(file_path: str | os.PathLike) -> list[tuple[int, str, int | None]]:
    """The lines of a ``<path> <integer label>`` file (PyTorchVideo's Kinetics CSV) as ``(line number, path,
    label or None)``: each line splits at its last run of white space (a path may hold spaces); a line of
    one token is a path without a label (a test split). Blank lines at the end are ignored. The file is
    read as UTF-8 (a leading byte-order mark is dropped).

    Raises:
        ValueError naming the file and line for text that is not UTF-8, a blank line before the end, a
        label that is not an integer, a ``path,label`` line (comma-separated, where the label must follow white space), and for
        Kinetics' official annotation CSV (``label,youtube_id,time_start,time_end,split``), which names
        YouTube videos to download, not video files.
    """
    file_path = os.fspath(file_path)
    with open(file_path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8-sig")  # (a byte-order mark, as Excel writes, is not part of the first path)
    except UnicodeDecodeError as e:
        lineno = data.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"{file_path}, line {lineno}: not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start}); save the "
            "file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and "youtube_id" in lines[0] and "," in lines[0]:
        raise ValueError(
            f"{file_path} looks like the official Kinetics annotation CSV (youtube_id, time_start, ...), which "
            "lists videos to download; expected one '<path> <integer label>' line per downloaded video file, "
            "as PyTorchVideo's Kinetics dataset reads."
        )
    out = []
    for lineno, line in enumerate(lines, start=1):
        parts = line.rsplit(None, 1)
        if not parts:
            raise ValueError(f"{file_path}, line {lineno}: blank line (expected '<path> <integer label>')")
        if len(parts) == 1:
            head, comma, tail = parts[0].rpartition(",")
            if comma and head and _is_int(tail):
                raise ValueError(
                    f"{file_path}, line {lineno}: {line.strip()!r} separates path and label with a comma; "
                    "expected '<path> <integer label>' with white space between them"
                )
            out.append((lineno, parts[0].strip(), None))
            continue
        if parts[0].rstrip().endswith(",") and _is_int(parts[1]):
            raise ValueError(
                f"{file_path}, line {lineno}: {line.strip()!r} separates path and label with a comma; "
                "expected '<path> <integer label>' with white space between them"
            )
        if not _is_int(parts[1]):
            header = " (a header line? these CSVs have none: remove it)" if not out else ""
            raise ValueError(
                f"{file_path}, line {lineno}: label {parts[1]!r} is not an integer (expected '<path> <integer label>')"
                + header
            )
        out.append((lineno, parts[0].strip(), int(parts[1])))
    return out


def _is_int(token: str) -> bool:
    try:
        int(token)
    except ValueError:
        return False
    return True


def class_folder_names(root: str | os.PathLike) -> list[str]:
    """The class names of a class-folder tree: its sub-folders, sorted (label k is the k-th); hidden folders
    (``.name``, e.g. ``.ipynb_checkpoints``) are not classes."""
    return sorted(p.name for p in pathlib.Path(root).iterdir() if p.is_dir() and not _hidden(p.name))


def scan_class_folders(
    root: str | os.PathLike, extensions=VIDEO_EXTENSIONS
) -> tuple[list[tuple[str, int]], list[str]]:
    """``([(video path, label), ...], class names)`` of ``root/<class_name>/<video>.<ext>``: the classes are
    the sorted sub-folder names, labelled 0..K-1; each class folder is walked recursively (links followed),
    its folders in the sorted order of their paths and the files of each sorted (PyTorchVideo's order, from
    torchvision's ``make_dataset``); extensions match without regard to case. Unlike ``make_dataset``,
    hidden files and folders (names starting with ``.``) are left out and no real folder is walked twice
    (links that loop back up are not entered)."""
    root = pathlib.Path(root)
    classes = class_folder_names(root)
    items = [(path, label) for label, name in enumerate(classes) for path in _class_videos(root / name, extensions)]
    return items, classes


def first_class_folder_video(root: str | os.PathLike, extensions=VIDEO_EXTENSIONS) -> str | None:
    """The first video :func:`scan_class_folders` lists for ``root`` (None when it lists none), found without walking
    the class folders after the first one that holds a video."""
    root = pathlib.Path(root)
    for name in class_folder_names(root):
        for path in _class_videos(root / name, extensions):
            return path
    return None


def _class_videos(folder: pathlib.Path, extensions):
    """The videos of one class folder, in :func:`scan_class_folders`' order."""
    exts = tuple(e.lower() for e in extensions)
    for dirpath, files in _walk_class_folder(folder):
        for fname in sorted(files):
            if fname.lower().endswith(exts):
                yield os.path.join(dirpath, fname)


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _walk_class_folder(top: pathlib.Path) -> list[tuple[str, list[str]]]:
    """``(folder, file names)`` of every folder below ``top`` (``top`` included), in the sorted order of
    their paths, links followed; hidden entries (``.name``: ``.ipynb_checkpoints``, macOS ``._x.mp4``) left
    out, and each real folder walked once: a link back to a folder above (``loop -> ..``) or to one already
    walked is not entered (os.walk, which torchvision's make_dataset uses, loops through such links, listing
    the same videos again, other classes' included)."""
    start = os.path.realpath(top)
    seen: set[str] = set()
    out = []
    for dirpath, dirnames, files in os.walk(top, followlinks=True):
        real = os.path.realpath(dirpath)
        above = real != start and start.startswith(real.rstrip(os.sep) + os.sep)
        if real in seen or above:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        out.append((dirpath, [f for f in files if not _hidden(f)]))
    return sorted(out)


#: How many of a CSV's first videos the path checks (:func:`csv_prefix_problem`) look at.
CSV_CHECK_VIDEOS = 5


def csv_prefix_problem(csv_path: str, videos, prefix, *, command_line: bool = False) -> str | None:
    """A message naming the prefix to pass when the first :data:`CSV_CHECK_VIDEOS` of ``videos`` (the paths of
    ``csv_path`` as written) are none of them found under ``prefix`` (``os.path.join(prefix, video)``) but are relative
    to the CSV's folder (as fastvid-prepare writes its CSVs); None otherwise. Written for the command line
    (``--video-path-prefix DIR``) or for Python (``video_path_prefix='DIR'``)."""
    first = list(itertools.islice(videos, CSV_CHECK_VIDEOS))
    prefix = os.fspath(prefix)
    if not first or any(os.path.exists(os.path.join(prefix, v)) for v in first):
        return None
    folder = os.path.dirname(os.path.abspath(csv_path))
    if not any(os.path.exists(os.path.join(folder, v)) for v in first):
        return None
    if command_line:
        where, fix = f"under --video-path-prefix {prefix}", f"--video-path-prefix {shlex.quote(folder)}"
    else:
        where, fix = f"under video_path_prefix {prefix!r}", f"video_path_prefix={folder!r}"
    where = where if prefix else "relative to the current directory"
    return (f"the video paths of {csv_path} are relative to its folder: its first videos ({first[0]}, ...) are not "
            f"found {where} ({os.path.join(prefix, first[0])}, ...) but are below {folder}; pass {fix}")


def check_csv_prefix(csv_path: str, videos, prefix) -> None:
    """Raises FileNotFoundError with :func:`csv_prefix_problem`'s message (for Python) when there is one."""
    problem = csv_prefix_problem(csv_path, videos, prefix)
    if problem is not None:
        raise FileNotFoundError(problem)


class LabeledVideoPaths:
    """Pairs of video path and integer label; ``paths[i]`` is ``(prefix + path, {"label": label})``.

    Build it with :meth:`from_path` (a file: :meth:`from_csv`; a folder: :meth:`from_directory`) or from
    a list of ``(path, label)`` or ``(path, info dict)`` (the dict is the item's info as it is).

    With integer labels the pairs are held in three NumPy arrays (the paths' bytes, where each ends, the
    labels), not as one Python object per video: DataLoader workers forked from the process that built the
    dataset then share these pages for good. Reading a Python list there writes the reference count of every
    item it touches, so each worker would end up with its own copy of the list (about 50 MiB per worker for
    Kinetics-400's 240k videos, 140 MiB for Kinetics-700's).
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
            line, a label that is not an integer, a comma-separated ``path,label`` line, or a file with no
            lines, and for Kinetics' official annotation CSV (``label,youtube_id,time_start,...``), which
            lists videos to download, not files.
        """
        file_path = os.fspath(file_path)
        if not os.path.isfile(file_path):
            raise FileNotFoundError(f"LabeledVideoPaths.from_csv: {file_path} not found")
        items = [(video, -1 if label is None else label) for _, video, label in read_path_label_lines(file_path)]
        if not items:
            raise ValueError(f"LabeledVideoPaths.from_csv: {file_path} holds no videos")
        return cls(items)

    @classmethod
    def from_directory(cls, dir_path: str | os.PathLike, extensions=VIDEO_EXTENSIONS) -> LabeledVideoPaths:
        """``dir_path/<class_name>/<video>.<ext>``: classes are the sorted sub-folder names, labelled 0..K-1;
        videos are found recursively inside each class folder, in sorted order (:func:`scan_class_folders`)."""
        root = pathlib.Path(dir_path)
        if not root.is_dir():
            raise FileNotFoundError(f"LabeledVideoPaths.from_directory: {root} not found")
        items, _ = scan_class_folders(root, extensions)
        exts = tuple(e.lower() for e in extensions)
        if not items:
            raise ValueError(f"LabeledVideoPaths.from_directory: no videos ({', '.join(exts)}) under {root}")
        return cls(items)

    def __init__(self, paths_and_labels, path_prefix: str = "") -> None:
        items = list(paths_and_labels)
        self._path_prefix = path_prefix
        if all(isinstance(label, numbers.Integral) and not isinstance(label, bool) for _, label in items):
            # (os.fsencode / os.fsdecode round-trip any path, file names that are not UTF-8 included)
            encoded = [os.fsencode(path) for path, _ in items]
            self._path_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
            self._path_ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
            self._labels = np.array([int(label) for _, label in items], dtype=np.int64)
            self._items = None
        else:
            self._items = items

    @property
    def path_prefix(self) -> str:
        return self._path_prefix

    @path_prefix.setter
    def path_prefix(self, prefix: str) -> None:
        self._path_prefix = prefix

    def __getitem__(self, index: int) -> tuple[str, dict]:
        if self._items is not None:
            path, label = self._items[index]
            info = label if isinstance(label, dict) else {"label": label}  # (path, info dict) pairs pass as they are
        else:
            n = len(self._labels)
            i = operator.index(index)
            if not -n <= i < n:
                raise IndexError(f"LabeledVideoPaths: index {index} out of range for {n} videos")
            i %= n
            start = int(self._path_ends[i - 1]) if i else 0
            path = os.fsdecode(self._path_bytes[start:int(self._path_ends[i])].tobytes())
            info = {"label": int(self._labels[i])}
        return os.path.join(self._path_prefix, path), info

    def __len__(self) -> int:
        return len(self._items) if self._items is not None else len(self._labels)
