# Included by CMake right after llama.cpp's own project() call, through
# -DCMAKE_PROJECT_llama.cpp_INCLUDE=<this file> in CMAKE_ARGS (scripts/llama_flags.sh).
# llama-cpp-python forces LLAMA_BUILD_COMMON ON, yet its wheel installs only libllama and the ggml libraries:
# llama.cpp's "common" library and the HTTP library it links (cpp-httplib) are compiled and then thrown away.
# A normal variable of the same name shadows that cache entry in llama.cpp's folder (policy CMP0077: option()
# leaves it alone), so neither is compiled. llama-cpp-python builds this way itself for WebAssembly.
set(LLAMA_BUILD_COMMON OFF)

# libllama's sources are two thirds of the compile's CPU time, and most of them never run per token: model
# loading, the quantizer, grammars, chat templates, other architectures' caches and graph builders (150 files,
# compiled in unity batches). They get -O1; the sources a token passes through (decode, the graph, the KV cache,
# batches, sampling, the tokenizer) keep the build's -O3, as do the ggml kernels, which do the arithmetic.
# Measured on 2 cores (bench/README.md, issue 20): the library's compile 79 -> 70 s, decode and time to first
# token unchanged (bench/llm.py, llama.cpp alone). Runs once llama.cpp's folder is read, when the target exists.
set(CONCIERGE_LLAMA_HOT llama-context llama-graph llama-kv-cache llama-batch llama-sampler llama-vocab unicode)

function(concierge_lean_llama)
  if(NOT TARGET llama OR NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    return()
  endif()
  # the target's option comes after the build type's -O3 on the command line (the last -O wins); a source's own
  # options come after the target's, so the hot files are back at -O3
  target_compile_options(llama PRIVATE -O1)
  set(hot)
  foreach(name IN LISTS CONCIERGE_LLAMA_HOT)
    if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/src/${name}.cpp")
      list(APPEND hot "${CMAKE_CURRENT_SOURCE_DIR}/src/${name}.cpp")
    endif()
  endforeach()
  set_source_files_properties(${hot} DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/src" PROPERTIES COMPILE_OPTIONS -O3)
endfunction()
cmake_language(DEFER CALL concierge_lean_llama)
