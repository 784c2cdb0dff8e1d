"""The README's demo command: ``fastvid-train --demo`` on this machine's CPU.

It takes minutes, so it runs only when asked: ``FASTVID_RUN_DEMO=1 pytest tests/test_demo.py``.
The bar: it finishes in under 10 minutes and its validation accuracy is at least twice chance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("FASTVID_RUN_DEMO") != "1", reason="takes minutes; set FASTVID_RUN_DEMO=1 to run it")
def test_demo_learns_motion_on_cpu_within_ten_minutes(tmp_path):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "fastvid.train.cli", "--demo", "--cache-dir", str(tmp_path / "cache"),
         "--output-dir", str(tmp_path / "runs"), "--no-progress"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,  # the installed fastvid, not a source tree's
    )
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((tmp_path / "runs" / "demo" / "summary.json").read_text())
    assert wall < 600, f"the demo took {wall:.0f} s"
    assert summary["val_acc_video"] >= 2 * summary["chance"], summary
    assert os.path.isfile(summary["plot"]) and os.path.isfile(summary["best_checkpoint"])
