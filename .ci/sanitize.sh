#!/usr/bin/env bash
# The C++ core and the module built with AddressSanitizer + UndefinedBehaviorSanitizer
# (CPU only), then the tests that reach C++. Any sanitizer report fails the run.
#
#   .ci/sanitize.sh                  # the CI selection
#   .ci/sanitize.sh tests/test_lsh.py -k merge   # or any pytest arguments
#
# Needs gcc (or clang) and the test dependencies in the active Python environment. The
# sanitized module goes to build/sanitize-site and is put first on PYTHONPATH for the
# tests only: an installed or editable driftcore is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

site=build/sanitize-site
wheels=$(mktemp -d)
echo "== sanitizer build (ASan + UBSan, -O1 -g, no CUDA)"
DRIFTCORE_SANITIZE=ON DRIFTCORE_CUDA=OFF python -m pip wheel -q --no-deps \
  -Cbuild-dir=build/sanitize -w "$wheels" .
rm -rf "$site"
python -m pip install -q --no-deps --target "$site" "$wheels"/driftcore-*.whl
rm -rf "$wheels"

# python is not linked against ASan, so its runtime is preloaded; libstdc++ with it, so
# that ASan finds the real __cxa_throw when the module throws (a C++ exception before
# libstdc++ was loaded aborts with "real___cxa_throw != 0").
cxx=${CXX:-g++}
preload="$($cxx -print-file-name=libasan.so):$($cxx -print-file-name=libstdc++.so)"
for lib in ${preload//:/ }; do
  [ -e "$lib" ] || { echo "no $lib: install the compiler's ASan runtime (libasan)"; exit 2; }
done
export LD_PRELOAD=$preload
# detect_leaks=0: CPython does not free its interned objects and module state at exit
# (by design), so LeakSanitizer would report every run.
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/.ci/ubsan.supp
export PYTHONPATH=$PWD/$site${PYTHONPATH:+:$PYTHONPATH}

python -c "import driftcore; assert driftcore.__file__.startswith('$PWD/$site'), driftcore.__file__"

if [ $# -eq 0 ]; then
  # Tests that reach the C++ kernels and loaders; pure-Python ones (CLI, docs, Dask,
  # dependencies) add nothing here. Not the slow tests: the sanitized build runs the
  # kernels several times slower.
  set -- -m "not slow and not gpu" \
    tests/test_alignment.py tests/test_thread_safety.py tests/test_hostile_states.py \
    tests/test_histogram.py tests/test_quantile_sketch.py tests/test_moments.py \
    tests/test_minhash.py tests/test_lsh.py tests/test_mmd.py tests/test_streaming_mmd.py \
    tests/test_pvalues.py tests/test_profile.py tests/test_compare.py tests/test_metrics.py \
    tests/test_verdict.py tests/test_golden.py tests/test_row_sample.py tests/test_categories.py \
    tests/test_value_grid.py tests/test_row_hash.py tests/test_exact_rows.py \
    tests/test_mmd_replay.py tests/test_pass_states.py
fi
echo "== tests under the sanitizers"
# --capture=sys: a sanitizer writes its report to file descriptor 2 and then aborts;
# pytest's default fd capture would swallow the report along with the process.
python -m pytest -q -p no:cacheprovider --capture=sys "$@"
