#!/usr/bin/env bash
# Runs fastvid's CUDA checks on the lent GPU machine (see ../shared/device/README.md). Not for CI.
#
# Here, once, from the project's root (the GPU machine has no network):
#     ../shared/device/fetch-wheels.sh hypothesis attrs sortedcontainers   # av + what tests/ imports
# Then a device `run` with carry [".device"], one phase group per call (each call stays under 10 min):
#     benchmarks/run_gpu.sh build test sanitize
#     benchmarks/run_gpu.sh build bench
#     benchmarks/run_gpu.sh build train
# Each call must end within the device's 600 s per command: the phases share a deadline of DEADLINE seconds
# (default 570) from the script's start; a phase gets at most what is left, and one with under 30 s left is
# recorded as skipped. The machine is handed back after a short idle time, so every call starts bare and
# rebuilds; to skip the rebuild, copy the $OUT/gpu/_C.abi3.so of the first call into fastvid/ here and carry
# it too (carry [".device", "fastvid/_C.abi3.so"]; restore the CPU build here afterwards).
# Phases (in the order given; a failing phase is recorded and the next one still runs):
#     build     install the carried wheels; build the extension in place with CUDA for sm_90
#               (FASTVID_CUDA=1, TORCH_CUDA_ARCH_LIST=9.0; skipped when the in-place build already has CUDA)
#     test      pytest -m cuda tests (every CUDA test of the project)
#     suite     pytest -m "not cuda" tests (the CPU suite, on a machine where CUDA is available)
#     sanitize  compute-sanitizer memcheck on tests/test_cuda.py (without the multi-GB and compile tests; the
#               stream test skips itself: without the caching allocator every free waits for the device)
#     bench     the clip_transform-cuda benchmarks (--benchmark-only), JSON into $OUT
#     train     train-cuda: ResNet-50 bf16 training clips/s and data-wait share, fastvid (CPU / GPU
#               augmentation) vs the PyTorchVideo-style pipeline (benchmarks/test_bench_train_cuda.py)
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
DEADLINE="${DEADLINE:-570}"

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
  if ls .device/wheels/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-deps --no-index .device/wheels/*.whl || return 1
  fi
  if has_cuda_build; then
    echo "in-place build already has CUDA: $("$PY" -c 'import fastvid; print(fastvid.build_info())')"
    return 0
  fi
  FASTVID_CUDA=1 "$PY" setup.py build_ext --inplace || return 1
  "$PY" -c "import fastvid; info = fastvid.build_info(); print(info); assert info['cuda'] and '90' in info['cuda_archs']" || return 1
  cp fastvid/_C.abi3.so "$OUT_DIR/"  # (see the header: carried back, it spares later calls the build)
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
    "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/test_cuda.py -k "not huge and not compile"
}

# Only on a machine with a GPU: the build below replaces the in-place extension.
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "run_gpu.sh: no CUDA device here (torch.cuda.is_available() is False); this script is for the GPU machine" >&2
  exit 2
fi

export PY OUT_DIR
export -f has_cuda_build do_build do_sanitize

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv 2>&1
  "$PY" -c "import torch, torchvision; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'torchvision', torchvision.__version__)"
  nvcc --version | tail -n 2
} >"$OUT_DIR/machine.txt" 2>&1
cat "$OUT_DIR/machine.txt"

[ "$#" -gt 0 ] || set -- build test sanitize bench
for p in "$@"; do
  case "$p" in
    build) phase build 420 do_build ;;
    test) phase test 420 "$PY" -m pytest -q -p no:cacheprovider -m cuda --continue-on-collection-errors tests ;;
    suite) phase suite 420 "$PY" -m pytest -q -p no:cacheprovider -m "not cuda" tests ;;
    sanitize) phase sanitize 480 do_sanitize ;;
    bench)
      phase bench 540 "$PY" -m pytest -q -p no:cacheprovider benchmarks -k "cuda and not train_cuda" --benchmark-only \
        --benchmark-json="$OUT_DIR/bench-cuda.json" --benchmark-columns=median,ops
      "$PY" benchmarks/summarize.py "$OUT_DIR/bench-cuda.json" >"$OUT_DIR/bench-cuda.md" 2>&1 || true
      ;;
    train)
      phase train 540 "$PY" -m pytest -q -p no:cacheprovider benchmarks/test_bench_train_cuda.py --benchmark-only \
        --benchmark-json="$OUT_DIR/train-cuda.json" --benchmark-columns=median,ops
      "$PY" benchmarks/summarize.py "$OUT_DIR/train-cuda.json" >"$OUT_DIR/train-cuda.md" 2>&1 || true
      ;;
    *) echo "run_gpu.sh: unknown phase $p (build, test, suite, sanitize, bench, train)" >&2; exit 2 ;;
  esac
done
exit "$STATUS"
