#!/usr/bin/env bash
# Runs fastvid's CUDA checks on the lent GPU machine (see ../shared/device/README.md). Not for CI.
#
# Here, once, from the project's root (the GPU machine has no network):
#     ../shared/device/fetch-wheels.sh hypothesis sortedcontainers   # av + what tests/ imports (cp312 wheels)
# Then ONE device `run` with carry [".device"] and timeout_s 600 (device time is short: the machine's start
# counts too), the phases in order of what they prove:
#     benchmarks/run_gpu.sh preflight build test bench bench-compile sanitize
# and, if a second call fits, `benchmarks/run_gpu.sh build train` (the build is kept while the machine is warm).
# The phases share a deadline of DEADLINE seconds (default 550; keep it ~50 s under the call's timeout_s) from the
# script's start: a phase gets at most what is left, and one with under 30 s left is recorded as skipped. A
# pytest-benchmark JSON is written only when its pytest ends, hence the two bench phases (the torch.compile
# baseline, slow to warm up, last). To skip a rebuild on a fresh machine, copy the $OUT/gpu/_C.abi3.so of an
# earlier call into fastvid/ here and carry it too (carry [".device", "fastvid/_C.abi3.so"]; restore the CPU
# build here afterwards).
# Phases (in the order given; a failing phase is recorded and the next one still runs):
#     preflight  print what the machine has (GPU, torch, the Python modules the tests import, gcc, Python.h,
#                compute-sanitizer); never fails
#     build      install the carried wheels (a failure is reported; the build still runs); build the extension in
#                place with CUDA for sm_90 (FASTVID_CUDA=1, TORCH_CUDA_ARCH_LIST=9.0; skipped when the in-place
#                build already has CUDA)
#     test       pytest -m cuda on the test files that hold CUDA tests (every CUDA test of the project)
#     suite      pytest -m "not cuda" tests (the CPU suite, on a machine where CUDA is available)
#     bench      the clip_transform-cuda benchmarks but the torch.compile baseline (--benchmark-only), JSON
#     bench-compile  the torch.compile'd torchvision v2 baseline of the same group, its own JSON
#     sanitize   compute-sanitizer memcheck on tests/test_cuda.py, -k "$SANITIZE_K" (default: without the multi-GB
#                and compile tests; the stream test skips itself: without the caching allocator every free waits
#                for the device)
#     train      train-cuda: ResNet-50 bf16 training clips/s and data-wait share, fastvid (CPU / GPU
#                augmentation) vs the PyTorchVideo-style pipeline (benchmarks/test_bench_train_cuda.py)
# Logs, JSON and summary.txt (one line per phase with its exit status and time) go to $OUT/gpu.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT_DIR="${OUT:-/tmp/fastvid-gpu-out}/gpu"
mkdir -p "$OUT_DIR"
PY="${PYTHON:-python3}"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
export MAX_JOBS="${MAX_JOBS:-16}"
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
export PATH="$CUDA_HOME/bin:$PATH"
SUMMARY="$OUT_DIR/summary.txt"
STATUS=0
DEADLINE="${DEADLINE:-550}"
SANITIZE_K="${SANITIZE_K:-not huge and not compile}"

phase() {  # phase NAME TIMEOUT_S COMMAND...
  local name="$1" limit="$2"
  shift 2
  local t0=$SECONDS rc left=$((DEADLINE - SECONDS))
  if [ "$left" -lt 30 ]; then
    echo "$name skipped: ${left}s left of the ${DEADLINE}s deadline" | tee -a "$SUMMARY"
    STATUS=1
    return 0
  fi
  [ "$limit" -le "$left" ] || limit="$left"
  echo "=== $name: $*" | tee -a "$OUT_DIR/$name.log"
  # (through bash -c so that the exported functions below can be timed out too)
  timeout "$limit" bash -c '"$@"' "$name" "$@" >>"$OUT_DIR/$name.log" 2>&1
  rc=$?
  echo "$name rc=$rc ${SECONDS}s-total $((SECONDS - t0))s" | tee -a "$SUMMARY"
  tail -n 25 "$OUT_DIR/$name.log"
  [ "$rc" -eq 0 ] || STATUS=1
  return 0
}

has_cuda_build() {
  "$PY" -c "import fastvid, sys; sys.exit(0 if fastvid.has_ops() and fastvid.build_info()['cuda'] else 1)" 2>/dev/null
}

do_build() {
  local wheels=0
  if ls .device/wheels/*.whl >/dev/null 2>&1; then
    # (a system Python may be marked externally managed; a wheel that fails is reported, the build goes on)
    PIP_BREAK_SYSTEM_PACKAGES=1 "$PY" -m pip install -q --no-deps --no-index .device/wheels/*.whl || {
      echo "installing the carried wheels failed (tests that import them will fail)"
      wheels=1
    }
  fi
  if has_cuda_build; then
    echo "in-place build already has CUDA: $("$PY" -c 'import fastvid; print(fastvid.build_info())')"
    return "$wheels"
  fi
  FASTVID_CUDA=1 "$PY" setup.py build_ext --inplace || return 1
  "$PY" -c "import fastvid; info = fastvid.build_info(); print(info); assert info['cuda'] and '90' in info['cuda_archs']" || return 1
  cp fastvid/_C.abi3.so "$OUT_DIR/"  # (see the header: carried back, it spares later calls the build)
  return "$wheels"
}

do_preflight() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv
  "$PY" - <<'PYEOF'
import importlib, sys, sysconfig, os
print("python", sys.version.split()[0])
for name in ("torch", "torchvision", "pytorch_lightning", "torchmetrics", "av", "hypothesis", "sortedcontainers",
             "pytest", "pytest_benchmark", "matplotlib", "triton", "numpy", "yaml"):
    try:
        module = importlib.import_module(name)
        print(f"{name:18s} {getattr(module, '__version__', 'present')}")
    except Exception as e:  # noqa: BLE001
        print(f"{name:18s} MISSING ({type(e).__name__}: {e})")
include = sysconfig.get_paths()["include"]
print("Python.h", "present" if os.path.isfile(os.path.join(include, "Python.h")) else f"MISSING in {include}")
import torch
print("cuda available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PYEOF
  command -v gcc && gcc --version | head -n 1
  command -v nvcc && nvcc --version | tail -n 1
  command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1 || echo "compute-sanitizer MISSING"
  return 0
}

cuda_test_files() {  # the test files that hold CUDA tests (collecting all of tests/ needs every test dependency)
  grep -l "pytest.mark.cuda" tests/test_*.py
}

do_sanitize() {
  local cs
  cs="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1)"
  if [ -z "$cs" ]; then
    echo "compute-sanitizer not found on this machine"
    return 2
  fi
  # No caching allocator, so that an access past a tensor is outside any allocation and gets caught.
  PYTORCH_NO_CUDA_MEMORY_CACHING=1 "$cs" --tool memcheck --error-exitcode 3 --print-limit 50 \
    "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/test_cuda.py -k "$SANITIZE_K"
}

# Only on a machine with a GPU: the build below replaces the in-place extension.
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "run_gpu.sh: no CUDA device here (torch.cuda.is_available() is False); this script is for the GPU machine" >&2
  exit 2
fi

export PY OUT_DIR SANITIZE_K
export -f has_cuda_build do_build do_sanitize do_preflight

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv 2>&1
  "$PY" -c "import torch, torchvision; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'torchvision', torchvision.__version__)"
  nvcc --version | tail -n 2
} >"$OUT_DIR/machine.txt" 2>&1
cat "$OUT_DIR/machine.txt"

[ "$#" -gt 0 ] || set -- preflight build test bench bench-compile sanitize
for p in "$@"; do
  case "$p" in
    preflight) phase preflight 60 do_preflight ;;
    build) phase build 420 do_build ;;
    test)
      # shellcheck disable=SC2046
      phase test 420 "$PY" -m pytest -q -p no:cacheprovider -m cuda --durations=15 $(cuda_test_files)
      ;;
    suite) phase suite 420 "$PY" -m pytest -q -p no:cacheprovider -m "not cuda" tests ;;
    sanitize) phase sanitize 480 do_sanitize ;;
    bench)
      phase bench 300 "$PY" -m pytest -q -p no:cacheprovider benchmarks/test_bench_cuda.py -k "not compile" \
        --benchmark-only --benchmark-json="$OUT_DIR/bench-cuda.json" --benchmark-columns=median,ops
      "$PY" benchmarks/summarize.py "$OUT_DIR/bench-cuda.json" >"$OUT_DIR/bench-cuda.md" 2>&1 || true
      ;;
    bench-compile)
      phase bench-compile 300 "$PY" -m pytest -q -p no:cacheprovider benchmarks/test_bench_cuda.py -k "compile" \
        --benchmark-only --benchmark-json="$OUT_DIR/bench-cuda-compile.json" --benchmark-columns=median,ops
      "$PY" benchmarks/summarize.py "$OUT_DIR/bench-cuda.json" "$OUT_DIR/bench-cuda-compile.json" \
        >"$OUT_DIR/bench-cuda-all.md" 2>&1 || true
      ;;
    train)
      phase train 540 "$PY" -m pytest -q -p no:cacheprovider benchmarks/test_bench_train_cuda.py --benchmark-only \
        --benchmark-json="$OUT_DIR/train-cuda.json" --benchmark-columns=median,ops
      "$PY" benchmarks/summarize.py "$OUT_DIR/train-cuda.json" >"$OUT_DIR/train-cuda.md" 2>&1 || true
      ;;
    *) echo "run_gpu.sh: unknown phase $p (preflight, build, test, suite, bench, bench-compile, sanitize, train)" >&2; exit 2 ;;
  esac
done
exit "$STATUS"
