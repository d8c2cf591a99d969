#!/usr/bin/env bash
# Create .venv and install Concierge into it. Usage: scripts/install.sh [extras], e.g. "dev".
# torch is pinned to 2.13.0, the CPU build this machine kind keeps on disk (an unpinned torch pulls CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# llama-cpp-python compiles llama.cpp from source, once per machine (pip keeps the wheel in its cache).
# Build only what Concierge calls (the library: no command-line tools, examples, server binary or multimodal
# library), on every core. On x86-64, target a portable AVX2/FMA/F16C baseline instead of -march=native: a
# native build on a Xeon that advertises AMX and AVX-512 crashed (SIGSEGV / SIGILL in llama_decode) on this
# project's virtual machines, and the same wheel must run on every machine that shares the pip cache.
lean="-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF"
lean="$lean -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF"
if [ "$(uname -m)" = "x86_64" ]; then
  lean="$lean -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
fi
export CMAKE_ARGS="${CMAKE_ARGS:-$lean}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
if [ -n "${1:-}" ]; then
  .venv/bin/python -m pip install -q -e ".[$1]"
else
  .venv/bin/python -m pip install -q -e .
fi
