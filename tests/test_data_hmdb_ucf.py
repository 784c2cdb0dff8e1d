"""Ucf101 and Hmdb51 (pytorchvideo.data's): paths, labels, splits and errors, on tiny synthetic videos."""

from __future__ import annotations

import pytest
import torch

from fastvid.data import Hmdb51, Hmdb51LabeledVideoPaths, Kinetics, Ucf101, make_clip_sampler
from fastvid.data.synthetic import write_video


def _hmdb(tmp_path):
    videos, splits = tmp_path / "hmdb51", tmp_path / "splits"
    splits.mkdir()
    names = {
        "brush_hair": ["April_09_brush_hair_u_nm_np1_ba_goo_0.avi", "Brushing_my_hair_brush_hair_h_cm_np1_le_med_1.avi"],
        "ride_bike": ["Bike_ride_ride_bike_f_cm_np1_fr_med_0.avi"],
    }
    for i, (action, files) in enumerate(names.items()):
        (videos / action).mkdir(parents=True)
        for j, f in enumerate(files):
            write_video(videos / action / f, num_frames=12, height=32, width=48, codec="mpeg4", format="avi", seed=i + j)
        # fold 1: the first video trains, the others test; fold 2: the reverse
        (splits / f"{action}_test_split1.txt").write_text("".join(f"{f} {1 if j == 0 else 2} \n" for j, f in enumerate(files)))
        (splits / f"{action}_test_split2.txt").write_text("".join(f"{f} {2 if j == 0 else 1}\n" for j, f in enumerate(files)))
    (splits / "README.txt").write_text("not a split file")
    return videos, splits


def test_hmdb51_paths_labels_and_meta_tags_as_pytorchvideo(tmp_path):
    videos, splits = _hmdb(tmp_path)
    train = Hmdb51LabeledVideoPaths.from_dir(splits, split_id=1, split_type="train")
    assert [train[i] for i in range(len(train))] == [
        ("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi", {"label": "brush_hair", "meta_tags": ["u", "nm", "np1", "ba", "goo"]}),
        ("ride_bike/Bike_ride_ride_bike_f_cm_np1_fr_med_0.avi", {"label": "ride_bike", "meta_tags": ["f", "cm", "np1", "fr", "med"]}),
    ]
    test2 = Hmdb51LabeledVideoPaths.from_dir(splits, split_id=2, split_type="test")
    assert len(test2) == 2 and test2[1][0].startswith("ride_bike/")
    assert len(Hmdb51LabeledVideoPaths.from_dir(splits, split_id=1, split_type="test")) == 1
    ds = Hmdb51(splits, make_clip_sampler("uniform", 0.2), video_sampler=torch.utils.data.SequentialSampler,
                video_path_prefix=str(videos), split_id=1, split_type="test")
    samples = list(ds)
    assert {s["video_name"] for s in samples} == {"Brushing_my_hair_brush_hair_h_cm_np1_le_med_1.avi"}
    assert samples[0]["label"] == "brush_hair" and samples[0]["meta_tags"] == ["h", "cm", "np1", "le", "med"]
    v = samples[0]["video"]
    assert v.shape[0] == 3 and v.shape[2:] == (32, 48) and v.dtype == torch.float32 and ds.num_failures == 0
    mds = Hmdb51(splits, make_clip_sampler("random", 0.2), video_path_prefix=str(videos), map_style=True)
    assert len(mds) == 2 and mds[0]["label"] == "brush_hair" and mds.num_failures == 0


def test_hmdb51_errors_name_what_is_wrong(tmp_path):
    videos, splits = _hmdb(tmp_path)
    with pytest.raises(ValueError, match="split_id must be 1, 2 or 3, got 4"):
        Hmdb51LabeledVideoPaths.from_dir(splits, split_id=4)
    with pytest.raises(ValueError, match='split_type must be "train", "test" or "unused", got \'val\''):
        Hmdb51(splits, make_clip_sampler("random", 1.0), split_type="val")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        Hmdb51LabeledVideoPaths.from_dir(tmp_path / "nope")
    with pytest.raises(ValueError, match="no '<class>_test_split3.txt' files"):
        Hmdb51LabeledVideoPaths.from_dir(splits, split_id=3)
    with pytest.raises(ValueError, match="no 'unused' videos"):
        Hmdb51LabeledVideoPaths.from_dir(splits, split_type="unused")
    with pytest.raises(ValueError, match="is not a '<class>_test_split<k>.txt' file"):
        Hmdb51LabeledVideoPaths.from_csvs([splits / "README.txt"])
    (splits / "bad_test_split1.txt").write_text("a.avi 1\nb.avi train\n")
    with pytest.raises(ValueError, match=r"bad_test_split1.txt, line 2: expected '<video file> <0\|1\|2>'"):
        Hmdb51LabeledVideoPaths.from_dir(splits)


def test_ucf101_is_kinetics_over_class_folders(tmp_path):
    root = tmp_path / "UCF-101"
    for label, action in enumerate(["ApplyEyeMakeup", "Archery"]):
        (root / action).mkdir(parents=True)
        write_video(root / action / f"v_{action}_g01_c01.avi", num_frames=9, height=32, width=48, codec="mpeg4",
                    seed=label)
    kwargs = dict(video_sampler=torch.utils.data.SequentialSampler)
    got = list(Ucf101(str(root), make_clip_sampler("uniform", 0.3), **kwargs))
    want = list(Kinetics(str(root), make_clip_sampler("uniform", 0.3), **kwargs))
    assert [(s["video_name"], s["label"]) for s in got] == [(s["video_name"], s["label"]) for s in want]
    assert [s["label"] for s in got] == [0, 1] and all(torch.equal(a["video"], b["video"]) for a, b in zip(got, want))


# -- the official splits as path-label CSVs ------------------------------------------------------------


def test_hmdb51_split_csvs(tmp_path):
    from fastvid.data import LabeledVideoPaths, hmdb51_split_csvs

    videos, splits = _hmdb(tmp_path)
    train, val = hmdb51_split_csvs(splits, tmp_path / "csv", split_id=1)
    assert train.read_text().splitlines() == [
        "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi 0",
        "ride_bike/Bike_ride_ride_bike_f_cm_np1_fr_med_0.avi 1",
    ]
    assert val.read_text().splitlines() == ["brush_hair/Brushing_my_hair_brush_hair_h_cm_np1_le_med_1.avi 0"]
    # fold 2 swaps them; the class indices stay (sorted class names)
    train2, val2 = hmdb51_split_csvs(splits, tmp_path / "csv2", split_id=2)
    assert train2.read_text().splitlines() == ["brush_hair/Brushing_my_hair_brush_hair_h_cm_np1_le_med_1.avi 0"]
    assert len(val2.read_text().splitlines()) == 2
    # what the datasets and fastvid-train read, with the videos' folder as the prefix
    paths = LabeledVideoPaths.from_path(train)
    assert [paths[i][1]["label"] for i in range(len(paths))] == [0, 1]
    ds = Kinetics(str(val), make_clip_sampler("uniform", 0.2), video_sampler=torch.utils.data.SequentialSampler,
                  video_path_prefix=str(videos))
    sample = next(iter(ds))
    assert sample["label"] == 0 and sample["video"].shape[0] == 3
    with pytest.raises(ValueError, match="split_id must be 1, 2 or 3"):
        hmdb51_split_csvs(splits, tmp_path / "x", split_id=4)


def _ucf_lists(root, *, crlf=True):
    root.mkdir(parents=True, exist_ok=True)
    nl = "\r\n" if crlf else "\n"
    (root / "classInd.txt").write_text(nl.join(["1 ApplyEyeMakeup", "2 Archery", "3 YoYo"]) + nl)
    (root / "trainlist01.txt").write_text(nl.join([
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1", "YoYo/v_YoYo_g08_c02.avi 3", "Archery/v_Archery_g09_c01.avi 2",
    ]) + nl)
    (root / "testlist01.txt").write_text(nl.join(["Archery/v_Archery_g01_c01.avi", "YoYo/v_YoYo_g01_c01.avi"]) + nl)


def test_ucf101_split_csvs(tmp_path):
    from fastvid.data import ucf101_split_csvs

    lists = tmp_path / "ucfTrainTestlist"
    _ucf_lists(lists)
    train, val = ucf101_split_csvs(lists, tmp_path / "csv")
    assert train.read_text().splitlines() == [
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0", "YoYo/v_YoYo_g08_c02.avi 2", "Archery/v_Archery_g09_c01.avi 1",
    ]
    assert val.read_text().splitlines() == ["Archery/v_Archery_g01_c01.avi 1", "YoYo/v_YoYo_g01_c01.avi 2"]
    # a video written where the CSV says, read through Ucf101 with the videos' folder as the prefix
    videos = tmp_path / "UCF-101"
    (videos / "Archery").mkdir(parents=True)
    write_video(videos / "Archery" / "v_Archery_g01_c01.avi", num_frames=12, height=32, width=48, codec="mpeg4",
                format="avi", seed=3)
    val.write_text(val.read_text().splitlines()[0] + "\n")
    sample = next(iter(Ucf101(str(val), make_clip_sampler("uniform", 0.2), video_path_prefix=str(videos))))
    assert sample["label"] == 1


@pytest.mark.parametrize("edit, match", [
    (("trainlist01.txt", "YoYo/v_YoYo_g08_c02.avi 3", "YoYo/v_YoYo_g08_c02.avi 2"), "index 2 disagrees .* 3 for 'YoYo'"),
    (("testlist01.txt", "Archery/", "Bowling/"), "class 'Bowling' is not in"),
    (("testlist01.txt", "YoYo/v_YoYo_g01_c01.avi", "v_YoYo_g01_c01.avi"), r"testlist01.txt, line 2: expected"),
    (("classInd.txt", "2 Archery", "Archery"), r"classInd.txt, line 2: expected '<index> <class>'"),
])
def test_ucf101_split_csvs_errors_name_the_file_and_line(tmp_path, edit, match):
    from fastvid.data import ucf101_split_csvs

    lists = tmp_path / "lists"
    _ucf_lists(lists, crlf=False)
    name, old, new = edit
    (lists / name).write_text((lists / name).read_text().replace(old, new))
    with pytest.raises(ValueError, match=match):
        ucf101_split_csvs(lists, tmp_path / "csv")


def test_ucf101_split_csvs_missing_files_and_bad_fold(tmp_path):
    from fastvid.data import ucf101_split_csvs

    lists = tmp_path / "lists"
    _ucf_lists(lists)
    with pytest.raises(FileNotFoundError, match="trainlist02.txt"):
        ucf101_split_csvs(lists, tmp_path / "csv", split_id=2)
    for bad in (True, 1.0, "1", 0):
        with pytest.raises(ValueError, match="split_id must be 1, 2 or 3"):
            ucf101_split_csvs(lists, tmp_path / "csv", split_id=bad)
