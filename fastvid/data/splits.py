"""The official UCF101 and HMDB51 splits as ``<path> <label>`` CSVs (fastvid-train, Kinetics, Ucf101 read those).

Both benchmarks ship their folds as annotation files rather than path-label lists: UCF101's
``ucfTrainTestlist/`` holds ``classInd.txt`` (``<1-based index> <class>``), ``trainlist0k.txt``
(``<class>/<video> <1-based index>``) and ``testlist0k.txt`` (``<class>/<video>``, no label); HMDB51's
``testTrainMulti_7030_splits/`` holds ``<class>_test_split<k>.txt`` files (``<video> <1 train | 2 test | 0
unused>``). The functions below write ``train.csv`` and ``val.csv`` (the fold's test videos) with 0-based
integer labels and paths relative to the folder of class folders, to pass as ``--video-path-prefix``::

    from fastvid.data.splits import ucf101_split_csvs
    ucf101_split_csvs("ucfTrainTestlist", "ucf101-split1", split_id=1)
    # fastvid-train --data ucf101-split1 --video-path-prefix /data/UCF-101 --model slow_r50 --weights pytorchvideo
"""

from __future__ import annotations

import os
import pathlib

from fastvid.data.hmdb51 import Hmdb51LabeledVideoPaths

__all__ = ["hmdb51_split_csvs", "ucf101_split_csvs"]

_FOLDS = (1, 2, 3)


def _check_fold(fn: str, split_id) -> int:
    if isinstance(split_id, bool) or not isinstance(split_id, int) or split_id not in _FOLDS:
        raise ValueError(f"{fn}: split_id must be 1, 2 or 3, got {split_id!r}")
    return split_id


def _lines(path: pathlib.Path, fn: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of the non-blank lines (CRLF or LF)."""
    if not path.is_file():
        raise FileNotFoundError(f"{fn}: {path} not found")
    return [(n, line.split()) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]


def _write(out_dir, rows: dict[str, list[tuple[str, int]]]) -> tuple[pathlib.Path, pathlib.Path]:
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split in ("train", "val"):
        path = out / f"{split}.csv"
        path.write_text("".join(f"{video} {label}\n" for video, label in rows[split]), encoding="utf-8")
        written.append(path)
    return written[0], written[1]


def ucf101_split_csvs(annotation_dir, out_dir, *, split_id: int = 1) -> tuple[pathlib.Path, pathlib.Path]:
    """Writes ``out_dir/train.csv`` and ``out_dir/val.csv`` for UCF101 fold ``split_id`` from its
    ``ucfTrainTestlist`` folder: ``<class>/<video>.avi <label>`` lines, label = classInd.txt's index - 1
    (0..100). Returns the two paths.

    Raises:
        FileNotFoundError: a list file is missing. ValueError: a bad ``split_id``, a malformed line (the file
        and line are named), a class not in classInd.txt, or a training label that disagrees with its folder.
    """
    fn = "ucf101_split_csvs"
    split_id = _check_fold(fn, split_id)
    root = pathlib.Path(annotation_dir)
    classes: dict[str, int] = {}
    class_file = root / "classInd.txt"
    for n, fields in _lines(class_file, fn):
        if len(fields) != 2 or not fields[0].isdigit():
            raise ValueError(f"{class_file}, line {n}: expected '<index> <class>', got {' '.join(fields)!r}")
        classes[fields[1]] = int(fields[0]) - 1
    rows: dict[str, list[tuple[str, int]]] = {}
    for split, name in (("train", f"trainlist0{split_id}.txt"), ("val", f"testlist0{split_id}.txt")):
        path = root / name
        rows[split] = []
        for n, fields in _lines(path, fn):
            if len(fields) not in (1, 2) or "/" not in fields[0]:
                raise ValueError(f"{path}, line {n}: expected '<class>/<video> [<index>]', got {' '.join(fields)!r}")
            video = fields[0]
            cls = video.split("/", 1)[0]
            if cls not in classes:
                raise ValueError(f"{path}, line {n}: class {cls!r} is not in {class_file}")
            label = classes[cls]
            if len(fields) == 2 and (not fields[1].isdigit() or int(fields[1]) - 1 != label):
                raise ValueError(f"{path}, line {n}: index {fields[1]} disagrees with {class_file}'s "
                                 f"{label + 1} for {cls!r}")
            rows[split].append((video, label))
        if not rows[split]:
            raise ValueError(f"{fn}: {path} lists no videos")
    return _write(out_dir, rows)


def hmdb51_split_csvs(split_dir, out_dir, *, split_id: int = 1) -> tuple[pathlib.Path, pathlib.Path]:
    """Writes ``out_dir/train.csv`` and ``out_dir/val.csv`` for HMDB51 fold ``split_id`` from its split folder
    (``<class>_test_split<k>.txt`` files, read by :class:`~fastvid.data.Hmdb51LabeledVideoPaths`):
    ``<class>/<video>.avi <label>`` lines, label = the class's position in the sorted class names (0..50).
    Returns the two paths.

    Raises:
        FileNotFoundError / ValueError: as :meth:`Hmdb51LabeledVideoPaths.from_dir`.
    """
    split_id = _check_fold("hmdb51_split_csvs", split_id)
    folds = {split: Hmdb51LabeledVideoPaths.from_dir(split_dir, split_id=split_id, split_type=kind)
             for split, kind in (("train", "train"), ("val", "test"))}
    names = sorted({folds[s][i][1]["label"] for s in folds for i in range(len(folds[s]))})
    index = {name: k for k, name in enumerate(names)}
    rows = {split: [(os.path.normpath(paths[i][0]).replace(os.sep, "/"), index[paths[i][1]["label"]])
                    for i in range(len(paths))] for split, paths in folds.items()}
    return _write(out_dir, rows)
