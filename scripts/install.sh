#!/usr/bin/env bash
# Create .venv and install Concierge into it. Usage: scripts/install.sh [extras], e.g. "dev".
# torch is pinned to 2.13.0, the CPU build this machine kind keeps on disk (an unpinned torch pulls CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
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
