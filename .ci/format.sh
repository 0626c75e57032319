#!/usr/bin/env bash
# Formatting: ruff for Python, clang-format for C++ and CUDA, at the pinned versions
# (another version may format differently). `.ci/format.sh` checks; `.ci/format.sh --fix`
# rewrites the files in place.
set -euo pipefail
cd "$(dirname "$0")/.."
RUFF_VERSION=0.17.6
CLANG_FORMAT_VERSION=23.1.5

have() { "$1" --version 2>/dev/null | grep -q "$2"; }
if ! have ruff "$RUFF_VERSION" || ! have clang-format "$CLANG_FORMAT_VERSION"; then
  python -m pip install -q "ruff==$RUFF_VERSION" "clang-format==$CLANG_FORMAT_VERSION"
fi

mapfile -t cxx < <(git ls-files 'cpp/*.cpp' 'cpp/*.hpp' 'cpp/*.cu' 'cpp/*.cuh' 'cpp/*.inc')
if [ "${1:-}" = "--fix" ]; then
  ruff format python tests benchmarks
  clang-format -i "${cxx[@]}"
else
  ruff format --check python tests benchmarks
  clang-format --dry-run --Werror "${cxx[@]}"
  echo "formatted: ${#cxx[@]} C++/CUDA files, ruff format clean"
fi
