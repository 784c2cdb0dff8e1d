"""Benchmark setup: record what ran (machine, versions, fastvid build) in every JSON result."""

import os
import platform

import torch

import fastvid


def pytest_configure(config):
    fastvid.assert_has_ops()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pytest_benchmark_update_machine_info(config, machine_info):
    import av
    import torchvision

    machine_info["cpu_model"] = _cpu_model()
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["torch"] = torch.__version__
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["torchvision"] = torchvision.__version__
    machine_info["av"] = av.__version__
    machine_info["fastvid"] = fastvid.__version__
    machine_info["fastvid_build"] = fastvid.build_info()
    machine_info["cuda_device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
