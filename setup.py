"""Build fastvid's C++/CUDA extension (fastvid._C).

Environment:
  FASTVID_CUDA=auto|0|1   auto (default): build the CUDA kernels when torch has CUDA and nvcc is found;
                          0: CPU only; 1: CUDA required (the build fails loudly if it cannot be done).
  TORCH_CUDA_ARCH_LIST    CUDA architectures, e.g. "9.0" or "8.0;9.0"; default: the visible GPUs' archs, or
                          "8.0;9.0+PTX" (A100, H100, PTX for newer cards) when no GPU is visible.
  MAX_JOBS                parallel compile jobs (ninja).
  FASTVID_DEBUG=1         -O0 -g, no NDEBUG.
  CUDA_HOME               the CUDA toolkit; defaults to /usr/local/cuda when that holds nvcc.
  FASTVID_SANITIZE        e.g. "address,undefined": the C++ (CPU) code built with those sanitizers; run
                          Python with the runtime preloaded (see the comment in _extension).

Build against the torch you already have: `pip install --no-build-isolation .`
"""

import glob
import os
import shutil
import sys

from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))
# CUDA architectures built when TORCH_CUDA_ARCH_LIST is unset and no GPU is visible: A100, H100 (+PTX).
DEFAULT_CUDA_ARCHS = "8.0;9.0+PTX"


def _set_cuda_home() -> None:
    # torch.utils.cpp_extension guesses CUDA_HOME from `which nvcc` and may land on /usr/local; prefer the
    # toolkit folder itself. This must run before torch.utils.cpp_extension is imported.
    if os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH"):
        return
    for candidate in ("/usr/local/cuda",):
        if os.path.exists(os.path.join(candidate, "bin", "nvcc")):
            os.environ["CUDA_HOME"] = candidate
            return
    nvcc = shutil.which("nvcc")
    if nvcc:
        os.environ["CUDA_HOME"] = os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))


_set_cuda_home()

import torch  # noqa: E402
from torch.utils import cpp_extension  # noqa: E402


def _want_cuda() -> bool:
    mode = os.environ.get("FASTVID_CUDA", "auto").strip().lower()
    if mode not in ("auto", "0", "1"):
        sys.exit(f"setup.py: FASTVID_CUDA must be auto, 0 or 1, got {mode!r}")
    if mode == "0":
        return False
    has_torch_cuda = torch.version.cuda is not None
    cuda_home = cpp_extension.CUDA_HOME
    has_nvcc = cuda_home is not None and os.path.exists(os.path.join(cuda_home, "bin", "nvcc"))
    if mode == "1":
        if not has_torch_cuda:
            sys.exit("setup.py: FASTVID_CUDA=1 but this torch has no CUDA (torch.version.cuda is None)")
        if not has_nvcc:
            sys.exit(f"setup.py: FASTVID_CUDA=1 but nvcc was not found (CUDA_HOME={cuda_home!r})")
        return True
    return has_torch_cuda and has_nvcc


def _sources(pattern: str) -> list[str]:
    # Sorted for reproducible builds; relative to the project root, as setuptools requires for wheels.
    found = glob.glob(os.path.join(ROOT, pattern), recursive=True)
    return sorted(os.path.relpath(p, ROOT) for p in found)


def _extension():
    debug = os.environ.get("FASTVID_DEBUG", "0") == "1"
    with_cuda = _want_cuda()

    sources = _sources("csrc/**/*.cpp")
    define_macros = [("Py_LIMITED_API", "0x030A0000")]
    cxx = ["-std=c++20", "-fopenmp", "-fvisibility=hidden"]
    cxx += ["-O0", "-g"] if debug else ["-O3", "-DNDEBUG"]
    extra_link = ["-fopenmp"]
    sanitize = os.environ.get("FASTVID_SANITIZE", "")
    if sanitize:
        # CPU code only; run Python with the runtime preloaded, e.g.
        # LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 python -m pytest
        cxx += [f"-fsanitize={sanitize}", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all", "-g"]
        extra_link += [f"-fsanitize={sanitize}"]
    extra_compile = {"cxx": cxx}

    summary = ["CPU (baseline + AVX2/FMA runtime dispatch)", "OpenMP on"]
    if with_cuda:
        sources += _sources("csrc/**/*.cu")
        if not os.environ.get("TORCH_CUDA_ARCH_LIST") and not torch.cuda.is_available():
            # torch derives the archs from the visible GPUs; with none (a build machine), build for the
            # data-center cards this project targets, plus PTX that newer GPUs compile at load time.
            os.environ["TORCH_CUDA_ARCH_LIST"] = DEFAULT_CUDA_ARCHS
        arch_flags = cpp_extension._get_cuda_arch_flags()
        archs = sorted({f.split("sm_")[-1].rstrip("]") for f in arch_flags if "sm_" in f})
        define_macros += [("FASTVID_WITH_CUDA", "1"), ("FASTVID_CUDA_ARCHS", f'"{",".join(archs)}"')]
        nvcc = ["-std=c++20", "--expt-relaxed-constexpr", "-lineinfo"]
        nvcc += ["-O0", "-g", "-G"] if debug else ["-O3", "-DNDEBUG"]
        extra_compile["nvcc"] = nvcc
        summary.append(f"CUDA {torch.version.cuda} archs {','.join(archs)}")
        ext_cls = cpp_extension.CUDAExtension
    else:
        summary.append("no CUDA")
        ext_cls = cpp_extension.CppExtension

    if sanitize:
        summary.append(f"-fsanitize={sanitize}")
    print("fastvid build: " + "; ".join(summary) + (" [debug]" if debug else ""), flush=True)
    return ext_cls(
        name="fastvid._C",
        sources=sources,
        include_dirs=[os.path.join(ROOT, "csrc")],
        define_macros=define_macros,
        extra_compile_args=extra_compile,
        extra_link_args=extra_link,
        py_limited_api=True,
    )


setup(
    ext_modules=[_extension()],
    cmdclass={"build_ext": cpp_extension.BuildExtension.with_options(use_ninja=True)},
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
