#!/usr/bin/env bash
# Sets alembic up on a fresh Debian/Ubuntu machine: system packages, npm dependencies, the libtorch
# addon and the TypeScript build. Safe to run again (installs only what is missing).
#
#   bash scripts/setup.sh           # what training, distillation and deployment need
#   bash scripts/setup.sh --test    # plus what the test suite needs (Chromium and a CJK font for the
#                                   # browser tests: the studio's screenshots show Chinese text)
#   bash scripts/setup.sh --bench   # plus PyTorch for Python (the benchmarks' baselines) and a venv with
#                                   # onnxruntime for Python (bench:deploy's same-run int8 reference)
#
# Elsewhere (macOS, other Linux): install libtorch yourself, export LIBTORCH=/path/to/libtorch (a
# directory with include/ and lib/, e.g. `python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))'`)
# and run this script; it then skips the apt step for libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."

# wrk: the HTTP load generator of `alembic bench` and bench:deploy (autocannon is the fallback).
packages=(wrk)
bench=0
# libgloo-dev: the Gloo headers that let the addon bind libtorch's own process groups (--nproc training).
[ -z "${LIBTORCH:-}" ] && packages+=(libtorch-dev libopenblas0-openmp libgloo-dev)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(chromium fonts-wqy-microhei) ;;
    --bench) packages+=(python3-torch python3-venv); bench=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if command -v dpkg >/dev/null 2>&1 && [ ${#packages[@]} -gt 0 ]; then
  missing=()
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# onnxruntime-node's post-install would try to download CUDA libraries; the CPU build ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-fund --no-audit
npm run build:addon
npm run build

# bench:deploy's same-run int8 reference is onnxruntime's own quantize_dynamic of PyTorch's export; Debian
# ships no onnxruntime for Python, so pip puts it (the version onnxruntime-node has) into a venv that also
# sees Debian's python3-torch. bench/torch-reference.ts uses this venv when it exists.
if [ "$bench" = 1 ]; then
  [ -x .venv-bench/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv-bench
  .venv-bench/bin/pip install -q 'onnxruntime==1.30.*' onnx
fi
echo "setup: done"
