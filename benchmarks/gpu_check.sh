#!/usr/bin/env bash
# The GPU check, built for one short lease of a machine with an NVIDIA GPU:
#
#   bash benchmarks/gpu_check.sh [core|minhash|mmd|all]      (default: all)
#
# 1. build with CUDA for sm_90 (nothing is downloaded: the machine's Python must have
#    numpy, cupy, pyarrow, pybind11, scikit-build-core, cmake, ninja and pytest);
# 2. a smoke step under CUDA_LAUNCH_BLOCKING=1: one small call of each kernel;
# 3. per section: its GPU test files in their own process (-x, a timeout each, third-
#    party deprecation warnings not turned into errors), compute-sanitizer memcheck
#    and racecheck over the smoke calls, and the benchmarks, sized to fit;
# 4. benchmarks/results/gpu-check.json (benchmarks/gpu_check.py) and logs under $OUT.
#
# Without a usable GPU (a dry run, as in CI's machines) it builds, says so, skips every
# CUDA step and writes the summary under $OUT only. PYTHON picks the interpreter
# (default python3); SKIP_BUILD=1 uses the driftcore already installed there.
set -uo pipefail
cd "$(dirname "$0")/.."
section="${1:-all}"
case "$section" in core | minhash | mmd | all) ;; *)
  echo "usage: $0 [core|minhash|mmd|all]" >&2
  exit 2
  ;;
esac
sections=(core minhash mmd)
[ "$section" != all ] && sections=("$section")
out="${OUT:-gpu-out}"
mkdir -p "$out"
PY="${PYTHON:-python3}"
start=$(date +%s)
status=0

# run NAME SECONDS CMD...: CMD with its output in $out/NAME.log, a timeout, and a line.
run() {
  local name=$1 limit=$2 t0 rc
  shift 2
  t0=$(date +%s)
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  echo "== $name: exit $rc in $(($(date +%s) - t0)) s (elapsed $(($(date +%s) - start)) s)"
  if [ "$rc" -ne 0 ]; then
    tail -15 "$out/$name.log"
    status=1
  fi
  return "$rc"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  >"$out/smi.csv" 2>/dev/null || echo "no nvidia-smi"
nvcc --version >"$out/nvcc.txt" 2>&1 || echo "no nvcc"
cat "$out/smi.csv" 2>/dev/null
grep release "$out/nvcc.txt" 2>/dev/null

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_CUDA_ARCHITECTURES=90-real"
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-16}"
  if ! DRIFTCORE_CUDA=ON run build 600 "$PY" -m pip install --no-build-isolation --no-deps -v .; then
    echo "BUILD FAILED"
    exit 1
  fi
fi
"$PY" -c "import driftcore, json; print(json.dumps(driftcore.build_info()))" |
  tee "$out/build_info.json"
gpu=$("$PY" -c "import driftcore; print(int(driftcore.gpu_available()))" 2>/dev/null || echo 0)
results=()
if [ "$gpu" != 1 ]; then
  echo "no usable GPU: a dry run, every CUDA step skipped"
  results=(--results "$out/gpu-check.json")
fi

CUDA_LAUNCH_BLOCKING=1 run smoke 120 "$PY" benchmarks/gpu_smoke.py "$section"
cat "$out/smoke.log"

tests_of() {
  case "$1" in
    core) echo tests/test_gpu.py tests/test_value_grid_device.py tests/test_cli.py ;;
    minhash) echo tests/test_minhash_gpu.py ;;
    mmd) echo tests/test_mmd_gpu.py tests/test_dask_cuda.py ;;
  esac
}

for s in "${sections[@]}"; do
  # shellcheck disable=SC2046
  run "pytest-$s" 300 "$PY" -m pytest $(tests_of "$s") -m gpu -x -q -p no:cacheprovider \
    -o filterwarnings=default --junitxml="$out/junit-$s.xml"
  tail -3 "$out/pytest-$s.log"
  if [ "$gpu" = 1 ]; then
    if command -v compute-sanitizer >/dev/null; then
      for tool in memcheck racecheck; do
        run "sanitizer-$s-$tool" 180 compute-sanitizer --tool "$tool" --print-limit 20 \
          "$PY" benchmarks/gpu_smoke.py "$s"
        grep "ERROR SUMMARY" "$out/sanitizer-$s-$tool.log" || true
      done
    else
      echo "no compute-sanitizer on PATH: sanitizer steps skipped"
    fi
    case "$s" in
      core) run "bench-$s" 300 "$PY" benchmarks/gpu_bench.py --n 2e8 --profile-n 1e9 --no-mmd \
        --json "$out/bench-core.json" ;;
      minhash) run "bench-$s" 300 "$PY" benchmarks/gpu_bench_minhash.py --docs 2e6 \
        --leak-train 1e6 --leak-eval 1e5 --json "$out/bench-minhash.json" ;;
      mmd) run "bench-$s" 300 "$PY" benchmarks/gpu_bench.py --mmd-only --mmd-n 1e6 \
        --mmd-also 2e5 --mmd-cpu-n 2e4 --json "$out/bench-mmd.json" ;;
    esac
    cat "$out/bench-$s.log"
  fi
done

"$PY" benchmarks/gpu_check.py "$out" "${sections[@]}" ${results[@]+"${results[@]}"}
[ "$gpu" = 1 ] && cp benchmarks/results/gpu-check.json "$out/" 2>/dev/null
echo "== done in $(($(date +%s) - start)) s (status $status)"
exit "$status"
