# Included by CMake right after llama.cpp's own project() call, through
# -DCMAKE_PROJECT_llama.cpp_INCLUDE=<this file> in CMAKE_ARGS (scripts/install.sh).
# llama-cpp-python forces LLAMA_BUILD_COMMON ON, yet its wheel installs only libllama and the ggml libraries:
# llama.cpp's "common" library and the HTTP library it links (cpp-httplib) are compiled and then thrown away.
# A normal variable of the same name shadows that cache entry in llama.cpp's folder (policy CMP0077: option()
# leaves it alone), so neither is compiled. llama-cpp-python builds this way itself for WebAssembly.
set(LLAMA_BUILD_COMMON OFF)
