#!/usr/bin/env bash
# Build llama.cpp's own OpenAI-compatible server (`llama-server`: parallel slots, continuous batching) from the
# llama.cpp sources that the installed llama-cpp-python vendors, and cache the binary. Usage:
#
#   bash scripts/build_model_server.sh            # prints the binary's path on its last line
#   FORCE_BUILD=1 bash scripts/build_model_server.sh
#
# The source is llama-cpp-python's sdist from the package index (its vendor/llama.cpp), at the version installed
# in .venv (LLAMA_CPP_VERSION overrides it), so the server runs the same llama.cpp as the in-process backend.
# Only the `llama-server` target is built: CPU only, Release, static (one self-contained binary), no curl, no
# OpenSSL, no web UI (no download from Hugging Face at build time), on every core, with the portable x86-64
# baseline of scripts/install.sh. The binary goes to .cache/llama-server/<version>/llama-server
# (LLAMA_SERVER_CACHE overrides .cache/llama-server); a present binary is kept (FORCE_BUILD=1 builds again).
# The build took 512 s (8.5 minutes) on 2 shared cores, so scripts/test.sh does not run it. Used by
# bench/concurrency.py --replicas and tests/integration/test_llm_llama_server.py (skipped until it is built).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

fail() { printf 'build_model_server: %s\n' "$1" >&2; exit 1; }

version=${LLAMA_CPP_VERSION:-$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' \
  2>/dev/null || true)}
[ -n "$version" ] || fail "llama-cpp-python is not installed in .venv (run scripts/install.sh) and LLAMA_CPP_VERSION is not set"
cache=${LLAMA_SERVER_CACHE:-$ROOT/.cache/llama-server}/$version
binary=$cache/llama-server
if [ -x "$binary" ] && [ -z "${FORCE_BUILD:-}" ]; then
  echo "llama-server $version already built (FORCE_BUILD=1 builds again):" >&2
  echo "$binary"
  exit 0
fi

command -v cmake >/dev/null || fail "cmake is missing: apt-get install cmake, or pip install cmake"
command -v c++ >/dev/null || command -v g++ >/dev/null || fail "no C++ compiler: apt-get install build-essential"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)  # not nproc alone: it follows OMP_NUM_THREADS

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9  # one build per version at a time; a build that finished meanwhile is kept
if [ -x "$binary" ] && [ -z "${FORCE_BUILD:-}" ]; then
  echo "$binary"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/llama-server-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "==> [source] llama-cpp-python $version sdist (vendor/llama.cpp) from the package index" >&2
"$PYTHON" -m pip download -qq --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$work" >&2 \
  || fail "could not download the llama-cpp-python $version sdist (check the connection to the package index)"
tar -xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
src=$work/llama_cpp_python-$version/vendor/llama.cpp
[ -f "$src/tools/server/CMakeLists.txt" ] || fail "the sdist has no vendor/llama.cpp/tools/server"

flags=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
  -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_HIP=OFF -DGGML_SYCL=OFF)
if [ "$(uname -m)" = "x86_64" ]; then  # the baseline of scripts/install.sh (a native build crashed on AMX hosts)
  flags+=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
fi
# shellcheck disable=SC2206  # extra flags, split on spaces like CMAKE_ARGS
flags+=(${LLAMA_SERVER_CMAKE_ARGS:-})

echo "==> [build] llama-server (CPU, Release, static) on $jobs cores; 8-9 minutes on 2" >&2
started=$SECONDS
cmake -S "$src" -B "$work/build" "${generator[@]}" "${flags[@]}" >"$work/configure.log" 2>&1 \
  || { tail -30 "$work/configure.log" >&2; fail "cmake could not configure llama.cpp (log above)"; }
cmake --build "$work/build" --target llama-server --parallel "$jobs" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; fail "the llama-server build failed (log above)"; }
"$work/build/bin/llama-server" --version >/dev/null 2>&1 || fail "the built llama-server does not run"
cp "$work/build/bin/llama-server" "$cache/llama-server.tmp"
mv "$cache/llama-server.tmp" "$binary"  # atomic: a reader sees the whole binary or none
printf 'llama-cpp-python %s vendor/llama.cpp, built in %d s on %s cores, flags: %s\n' \
  "$version" "$((SECONDS - started))" "$jobs" "${flags[*]}" >"$cache/BUILD-INFO"
echo "==> [done] llama-server built in $((SECONDS - started)) s" >&2
echo "$binary"
