#!/usr/bin/env bash
# GPU check for a machine with a CUDA GPU (the device tool's H100/H200): build with
# CUDA, run the GPU parity tests, run the GPU benchmarks, print a short table last.
# Nothing is downloaded: the machine's Python must already have numpy, cupy,
# pybind11, scikit-build-core, cmake, ninja, pytest and pytest-benchmark.
# Full logs go to $OUT (or ./gpu-out). Usage: bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-out}"
mkdir -p "$out"
start=$(date +%s)
status=0

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
nvcc --version | tail -2 >>"$out/gpu.txt" 2>&1

echo "== build (CUDA required)"
# --no-deps: the machine is offline; scipy and pyarrow, if absent, only skip tests.
if ! DRIFTCORE_CUDA=ON pip install --no-build-isolation --no-deps -v . >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log"; echo "BUILD FAILED"; exit 1
fi
python -c "import driftcore, json; print(json.dumps(driftcore.build_info()))" | tee -a "$out/gpu.txt"

echo "== pytest -m gpu"
python -m pytest tests/test_gpu.py tests/test_mmd_gpu.py -m gpu -q -p no:cacheprovider >"$out/pytest_gpu.log" 2>&1 || status=1
tail -15 "$out/pytest_gpu.log"

echo "== GPU benchmarks"
python benchmarks/gpu_bench.py --json "$out/gpu_bench.json" >"$out/gpu_bench.log" 2>&1 || status=1
cat "$out/gpu_bench.log"
echo "== done in $(( $(date +%s) - start )) s (status $status)"
exit $status
