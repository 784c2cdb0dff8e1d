"""The source distribution holds every tracked file the build, the tests and the README need.

An sdist without csrc/'s headers builds nowhere but in a git checkout; this builds the sdist with the
project's setup.py (egg-info and archive in a temporary folder, the tree untouched) and compares its
files with git's.
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


def _git_files() -> set[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout of fastvid")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return {p for p in out.decode().split("\0") if p} - DEV_ONLY


def test_sdist_holds_exactly_the_tracked_files(tmp_path):
    tracked = _git_files()
    subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(tmp_path), "sdist", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={"FASTVID_CUDA": "0", "PATH": "/usr/bin:/bin"},
    )
    (archive,) = tmp_path.glob("fastvid-*.tar.gz")
    with tarfile.open(archive) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    files = {m for m in members if ".egg-info/" not in m} - GENERATED
    # Every C++/CUDA header and source, test, benchmark and doc that git tracks; nothing else
    # (no caches, no built extension, no benchmark videos).
    assert sorted(tracked - files) == []
    assert sorted(files - tracked) == []
    assert any(f.startswith("csrc/") and f.endswith(".h") for f in files)
