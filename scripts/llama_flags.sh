# Sourced (POSIX sh) by scripts/install.sh and the Dockerfile, from the repository's root: how llama-cpp-python
# compiles llama.cpp. Build only what Concierge calls (the library: no command-line tools, examples, server binary
# or multimodal library), on every core. On x86-64, target a portable AVX2/FMA/F16C baseline instead of
# -march=native: a native build on a Xeon that advertises AMX and AVX-512 crashed (SIGSEGV / SIGILL in llama_decode)
# on this project's virtual machines, and the same wheel must run on every machine that shares the pip cache.
# CMAKE_ARGS or CMAKE_BUILD_PARALLEL_LEVEL already set win.
lean="-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF"
lean="$lean -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF"
# nor llama.cpp's "common" library (and its HTTP library): llama-cpp-python compiles it but does not ship it
# (scripts/llama_lean.cmake says how); half of the compile's CPU time
lean="$lean -DCMAKE_PROJECT_llama.cpp_INCLUDE=$PWD/scripts/llama_lean.cmake"
if [ "$(uname -m)" = "x86_64" ]; then
  lean="$lean -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
fi
export CMAKE_ARGS="${CMAKE_ARGS:-$lean}"
# not nproc alone: it follows OMP_NUM_THREADS
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)}"
