"""scripts/llama_lean.cmake on a small CMake project shaped like llama.cpp's (a project named llama.cpp, the
``llama`` library in ``src/``): cmake really configures it, and the compile commands it writes are read."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

LEAN = Path(__file__).resolve().parents[2] / "scripts" / "llama_lean.cmake"

TOP = """cmake_minimum_required(VERSION 3.19)
project("llama.cpp" CXX)
option(LLAMA_BUILD_COMMON "llama.cpp's common library" ON)
file(WRITE "${CMAKE_BINARY_DIR}/common.txt" "${LLAMA_BUILD_COMMON}")
add_subdirectory(src)
"""
SRC = """set(models models/a.cpp models/b.cpp)
add_library(llama SHARED llama-context.cpp llama-sampler.cpp llama-quant.cpp llama-model-loader.cpp ${models})
set_target_properties(llama PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 16)
set_source_files_properties(llama-context.cpp llama-sampler.cpp llama-quant.cpp llama-model-loader.cpp
                            PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
"""


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    cmake = shutil.which("cmake")
    assert cmake, "cmake is needed to build the model runtime (scripts/install.sh) and for this test"
    root = tmp_path_factory.mktemp("llama")
    (root / "src" / "models").mkdir(parents=True)
    (root / "CMakeLists.txt").write_text(TOP)
    (root / "src" / "CMakeLists.txt").write_text(SRC)
    for name in ["llama-context", "llama-sampler", "llama-quant", "llama-model-loader", "models/a", "models/b"]:
        symbol = name.replace("-", "_").replace("/", "_")
        (root / "src" / f"{name}.cpp").write_text(f"int f_{symbol}() {{ return 1; }}\n")
    build = root / "build"
    subprocess.run([cmake, "-S", str(root), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                    "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", f"-DCMAKE_PROJECT_llama.cpp_INCLUDE={LEAN}"],
                   check=True, capture_output=True, text=True)
    entries = json.loads((build / "compile_commands.json").read_text())
    return {Path(e["file"]).name: e["command"].split() for e in entries} | {
        "common": [(build / "common.txt").read_text()]}


def last_level(command: list[str]) -> str:
    return [flag for flag in command if flag.startswith("-O")][-1]


def test_the_sources_a_token_passes_through_keep_O3(commands: dict[str, list[str]]) -> None:
    assert last_level(commands["llama-context.cpp"]) == "-O3"
    assert last_level(commands["llama-sampler.cpp"]) == "-O3"


def test_loading_quantizing_and_the_model_graph_builders_get_O1(commands: dict[str, list[str]]) -> None:
    assert last_level(commands["llama-quant.cpp"]) == "-O1"
    assert last_level(commands["llama-model-loader.cpp"]) == "-O1"
    unity = [name for name in commands if name.startswith("unity_")]
    assert unity, "the model sources are still compiled in a unity batch"
    assert all(last_level(commands[name]) == "-O1" for name in unity)


def test_llama_cpps_common_library_is_not_built(commands: dict[str, list[str]]) -> None:
    assert commands["common"] == ["OFF"]
