"""HMDB51 stored as encoded videos, read through its split files (as pytorchvideo.data.Hmdb51).

The split folder holds one file per class and fold, ``<class>_test_split<k>.txt`` (k = 1, 2, 3), each line
``<video file name> <tag>`` with tag 1 = train, 2 = test, 0 = unused. A video is ``<class>/<video file name>``
under ``video_path_prefix``. As in PyTorchVideo, a sample's "label" is the class name (a string) and
"meta_tags" the five tags of the file name (``<name>_<tag1>_..._<tag5>_<id>.avi``); map the names to indices
for training, e.g. ``sorted({paths[i][1]["label"] for i in range(len(paths))})``.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable

import torch.utils.data

from fastvid.data.clip_sampling import ClipSampler
from fastvid.data.labeled_video_dataset import LabeledVideoDataset, LabeledVideoMapDataset
from fastvid.data.labeled_video_paths import LabeledVideoPaths

__all__ = ["Hmdb51", "Hmdb51LabeledVideoPaths"]


class Hmdb51LabeledVideoPaths(LabeledVideoPaths):
    """``(prefix + class/video, {"label": class name, "meta_tags": [5 tags]})`` pairs of one fold and split type
    (PyTorchVideo's Hmdb51LabeledVideoPaths). Build it with :meth:`from_dir` or :meth:`from_csvs`; items are
    ``(path, info dict)``."""

    _allowed_splits = (1, 2, 3)
    _split_type_dict = {"train": 1, "test": 2, "unused": 0}

    @classmethod
    def from_dir(cls, data_path, split_id: int = 1, split_type: str = "train") -> Hmdb51LabeledVideoPaths:
        """The videos of fold ``split_id`` (1, 2 or 3) and ``split_type`` ("train", "test" or "unused") listed by
        the ``*_test_split<split_id>.txt`` files of the split folder ``data_path``.

        Raises:
            FileNotFoundError if ``data_path`` is not a folder; ValueError for a bad split_id / split_type or
            a folder without split files of that fold.
        """
        data_path = pathlib.Path(data_path)
        if not data_path.is_dir():
            raise FileNotFoundError(f"Hmdb51LabeledVideoPaths.from_dir: {data_path} is not a folder")
        split_id = cls._check_split_id(split_id)
        cls._check_split_type(split_type)
        marker = f"_test_split{split_id}"
        files = sorted(f for f in data_path.iterdir() if f.is_file() and f.suffix == ".txt" and marker in f.stem)
        if not files:
            raise ValueError(f"Hmdb51LabeledVideoPaths.from_dir: no '<class>{marker}.txt' files in {data_path}")
        return cls.from_csvs(files, split_type)

    @classmethod
    def from_csvs(cls, file_paths, split_type: str = "train") -> Hmdb51LabeledVideoPaths:
        """The videos of ``split_type`` listed by the given ``<class>_test_split<k>.txt`` files (the class is the
        file name up to ``_test_split``).

        Raises:
            FileNotFoundError for a missing file; ValueError for a file not named ``*_test_split<k>.txt``, a
            line that is not ``<video> <0|1|2>`` (naming the file and line), or no video of that split type.
        """
        wanted = cls._check_split_type(split_type)
        items = []
        for file_path in file_paths:
            file_path = pathlib.Path(file_path)
            if not file_path.is_file():
                raise FileNotFoundError(f"Hmdb51LabeledVideoPaths.from_csvs: {file_path} not found")
            if file_path.suffix != ".txt" or "_test_split" not in file_path.stem:
                raise ValueError(
                    f"Hmdb51LabeledVideoPaths.from_csvs: {file_path} is not a '<class>_test_split<k>.txt' file"
                )
            action = "_".join(file_path.stem.split("_")[:-2])
            lines = file_path.read_text(encoding="utf-8").splitlines()
            for lineno, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                parts = line.rsplit(None, 1)
                if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                    raise ValueError(
                        f"{file_path}, line {lineno}: expected '<video file> <0|1|2>' (0 unused, 1 train, "
                        f"2 test), got {line.strip()!r}"
                    )
                if int(parts[1]) != wanted:
                    continue
                name = parts[0].strip()
                items.append((os.path.join(action, name), {"label": action, "meta_tags": name.split("_")[-6:-1]}))
        if not items:
            raise ValueError(f"Hmdb51LabeledVideoPaths.from_csvs: no {split_type!r} videos in {list(map(str, file_paths))}")
        return cls(items)

    @classmethod
    def _check_split_id(cls, split_id) -> int:
        if isinstance(split_id, bool) or not isinstance(split_id, int) or split_id not in cls._allowed_splits:
            raise ValueError(f"Hmdb51: split_id must be 1, 2 or 3, got {split_id!r}")
        return split_id

    @classmethod
    def _check_split_type(cls, split_type) -> int:
        if split_type not in cls._split_type_dict:
            raise ValueError(f'Hmdb51: split_type must be "train", "test" or "unused", got {split_type!r}')
        return cls._split_type_dict[split_type]


def Hmdb51(  # noqa: N802 - PyTorchVideo's name
    data_path,
    clip_sampler: ClipSampler,
    video_sampler=torch.utils.data.RandomSampler,
    transform: Callable[[dict], Any] | None = None,
    video_path_prefix: str = "",
    split_id: int = 1,
    split_type: str = "train",
    decode_audio: bool = False,
    decoder: str = "pyav",
    *,
    map_style: bool = False,
    **kwargs,
):
    """The HMDB51 dataset of fold ``split_id`` and ``split_type`` (module doc): ``data_path`` is the split
    folder, ``video_path_prefix`` the folder of class folders. Same arguments as PyTorchVideo's Hmdb51, except
    that ``decode_audio`` is False by default; ``map_style=True`` gives a :class:`LabeledVideoMapDataset`
    (``video_sampler`` ignored); other keyword arguments go to the dataset."""
    paths = Hmdb51LabeledVideoPaths.from_dir(data_path, split_id=split_id, split_type=split_type)
    paths.path_prefix = video_path_prefix
    if map_style:
        return LabeledVideoMapDataset(paths, clip_sampler, transform, decode_audio=decode_audio, decoder=decoder,
                                      **kwargs)
    return LabeledVideoDataset(paths, clip_sampler, video_sampler, transform, decode_audio=decode_audio,
                               decoder=decoder, **kwargs)
