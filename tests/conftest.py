"""Shared test setup: the compiled extension is required, and `cuda` tests skip cleanly without a GPU."""

import pytest
import torch

import fastvid


def pytest_configure(config):
    # The tests exercise the compiled kernels; a missing extension is an error, never a silent skip.
    fastvid.assert_has_ops()


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (run with -m cuda on a GPU machine)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _denormals_kept():
    # torch < 2.6: loading a CPU kernel that inductor built (torch.compile) links crtfastmath (-ffast-math), which
    # turns on flush-to-zero process-wide (pytorch/pytorch#126848); hypothesis then refuses to draw floats.
    yield
    torch.set_flush_denormal(False)
