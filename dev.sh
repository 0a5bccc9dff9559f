#!/usr/bin/env bash
# difflapack developer entry point: sets up everything on a fresh Debian machine, then runs
#   ./dev.sh demo    the main job: python -m difflapack demo
#   ./dev.sh test    the whole test suite (NumPy API, C kernels, Enzyme layer, C/CMake packaging)
#   ./dev.sh bench   the benchmarks (python -m difflapack bench; extra args passed on)
# Setup is idempotent: apt packages (OpenBLAS LP64 + ILP64, LAPACK, compilers, Python 3.11),
# a virtualenv in .venv with the pinned Enzyme (enzyme-ad 0.0.16, needs Python 3.11) and JAX,
# and difflapack itself built from this checkout.
set -euo pipefail
cd "$(dirname "$0")"

# cmake, pkgconf: the C consumers of tests/test_c_package.py; liblapacke-dev: examples/c and the
# real LAPACKE the oracle tests compare with (tests/_lapacke_oracle.py); clang: the header's
# entry points as a system clang++ emits them (tests/test_enzyme_header.py; skipped without it)
APT_PACKAGES="libopenblas-dev liblapack-dev libopenblas64-dev liblapacke-dev build-essential cmake pkgconf clang python3-venv"

ensure_apt() {
  local missing=()
  for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_python311() {
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      command -v "$c"; return 0
    fi
  done
  echo "difflapack needs Python 3.11 (enzyme-ad 0.0.16 is built for it only)" >&2
  return 1
}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    "$(find_python311)" -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # extras: test (pytest, scipy), enzyme (enzyme-ad, jax pinned)
  .venv/bin/python -m pip install -q ".[test,enzyme]"
}

cmd="${1:-demo}"; shift || true
ensure_apt
ensure_venv
case "$cmd" in
  demo)  exec .venv/bin/python -m difflapack demo "$@" ;;
  test)  exec .venv/bin/python -m pytest -q tests "$@" ;;
  bench) .venv/bin/python -m pip install -q ".[bench]" "torch==2.13.0"
         exec .venv/bin/python -m difflapack bench "$@" ;;
  *) echo "usage: ./dev.sh demo|test|bench" >&2; exit 2 ;;
esac
