"""Plots the loss and accuracy curves of a run from its CSV log (Lightning's metrics.csv)."""

from __future__ import annotations

import csv
import os
from collections import defaultdict

__all__ = ["read_metrics", "plot_curves"]


def read_metrics(metrics_csv: str | os.PathLike) -> dict[str, list[tuple[float, float, float]]]:
    """{metric: [(epoch, step, value), ...]} from a CSVLogger file, empty cells skipped."""
    series: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    with open(metrics_csv, newline="") as f:
        for row in csv.DictReader(f):
            epoch = float(row["epoch"]) if row.get("epoch") not in (None, "") else float("nan")
            step = float(row["step"]) if row.get("step") not in (None, "") else float("nan")
            for key, value in row.items():
                if key in ("epoch", "step") or value in (None, ""):
                    continue
                series[key].append((epoch, step, float(value)))
    return dict(series)


def plot_curves(metrics_csv: str | os.PathLike, out_png: str | os.PathLike, *, chance: float | None = None,
                title: str | None = None) -> str:
    """Writes a two-panel PNG: losses (train per step, train and val per epoch) and accuracies per epoch
    (train, val clip-level, val video-level, with the chance level as a dashed line). Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = read_metrics(metrics_csv)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))

    def epochs_of(key):
        # Epoch-level values are logged at the epoch's last step; plot them at epoch + 1 (end of epoch).
        return [e + 1 for e, _, _ in m.get(key, [])], [v for _, _, v in m.get(key, [])]

    if "train_loss_step" in m and "train_loss_epoch" in m:
        steps = [s for _, s, _ in m["train_loss_step"]]
        epoch_steps = [(e, s) for e, s, _ in m["train_loss_epoch"]]
        # Convert steps to fractional epochs so both panels share the x axis.
        per_epoch = (epoch_steps[-1][1] + 1) / (epoch_steps[-1][0] + 1) if epoch_steps else 1.0
        ax_loss.plot([s / per_epoch for s in steps], [v for _, _, v in m["train_loss_step"]],
                     color="tab:blue", alpha=0.25, lw=1, label="train (step)")
    for key, label, color in (("train_loss_epoch", "train", "tab:blue"), ("val_loss", "val (clip)", "tab:orange")):
        x, y = epochs_of(key)
        if x:
            ax_loss.plot(x, y, marker="o", ms=3, color=color, label=label)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.set_title("loss")
    ax_loss.legend()
    for key, label, color in (
        ("train_acc", "train (clip)", "tab:blue"),
        ("val_acc", "val (clip, each view)", "tab:orange"),
        ("val_video_acc", "val (video, views averaged)", "tab:green"),
    ):
        x, y = epochs_of(key)
        if x:
            ax_acc.plot(x, y, marker="o", ms=3, color=color, label=label)
    if chance is not None:
        ax_acc.axhline(chance, color="gray", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("top-1 accuracy")
    ax_acc.set_title("accuracy")
    ax_acc.legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return str(out_png)
