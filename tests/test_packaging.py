"""The source distribution holds every tracked file the build, the tests and the README need.

An sdist without csrc/'s headers builds nowhere but in a git checkout; this builds the sdist with the
project's setup.py and MANIFEST.in from a copy of the tracked files (the tree itself untouched: setuptools
writes beside setup.py while it works) and compares its files with git's.
"""

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Tracked but for development only (CI's script, git's own file).
DEV_ONLY = {".ci/run", ".gitignore"}
# Written by setuptools into every sdist.
GENERATED = {"PKG-INFO", "setup.cfg"}


def _git_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout of fastvid")
    run = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True)
    if run.returncode != 0:  # e.g. git refusing a checkout owned by another user
        pytest.skip(f"git ls-files failed here: {run.stderr.decode(errors='replace').strip()}")
    return [p for p in run.stdout.decode().split("\0") if p]


def test_sdist_holds_exactly_the_tracked_files(tmp_path):
    files_in_git = _git_files()
    src = tmp_path / "src"
    for rel in files_in_git:
        if (ROOT / rel).is_file():  # (a tracked file deleted in the working tree is not copied)
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    tracked = {rel for rel in files_in_git if (src / rel).is_file()} - DEV_ONLY
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")],
        cwd=src,
        capture_output=True,
        env={"FASTVID_CUDA": "0", "PATH": "/usr/bin:/bin"},
    )
    assert build.returncode == 0, build.stderr.decode(errors="replace")[-3000:]
    (archive,) = (tmp_path / "dist").glob("fastvid-*.tar.gz")
    with tarfile.open(archive) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    files = {m for m in members if ".egg-info/" not in m} - GENERATED
    # Every C++/CUDA header and source, test, benchmark and doc that git tracks; nothing else
    # (no caches, no built extension, no benchmark videos).
    assert sorted(tracked - files) == []
    assert sorted(files - tracked) == []
    assert any(f.startswith("csrc/") and f.endswith(".h") for f in files)
