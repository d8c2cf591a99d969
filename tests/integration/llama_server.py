"""llama.cpp's own OpenAI-compatible server (``llama-server``: parallel slots, continuous batching) on the bundled
GGUF, for the shared-model-server topology (bench/concurrency.py --replicas, test_llm_llama_server.py).

The binary is built by ``scripts/build_model_server.sh`` from the llama.cpp that the installed llama-cpp-python
vendors, into ``.cache/llama-server/<llama-cpp-python version>/llama-server`` (``LLAMA_SERVER_CACHE`` moves
``.cache/llama-server``; ``LLAMA_SERVER_BIN`` names another binary).
"""

from __future__ import annotations

import importlib.metadata
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = "scripts/build_model_server.sh"
#: context tokens per slot: what llama-cpp-python's server and the in-process backend get (llm.context_window)
SLOT_CONTEXT = 2048


def llama_server_binary() -> Path | None:
    """The built ``llama-server`` for the installed llama-cpp-python, or None when it is not built."""
    named = os.environ.get("LLAMA_SERVER_BIN")
    if named:
        return Path(named) if os.access(named, os.X_OK) else None
    try:
        version = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None
    cache = Path(os.environ.get("LLAMA_SERVER_CACHE") or ROOT / ".cache" / "llama-server")
    binary = cache / version / "llama-server"
    return binary if os.access(binary, os.X_OK) else None


def llama_server_command(binary: Path, port: int, parallel: int, threads: int) -> list[str]:
    """``llama-server`` on the bundled GGUF as model ``local``: ``parallel`` slots of ``SLOT_CONTEXT`` tokens each,
    continuous batching, ``threads`` threads for decode and prefill, on loopback."""
    from assistant.llm import bundled_gguf_path

    return [str(binary), "--model", str(bundled_gguf_path()), "--alias", "local", "--host", "127.0.0.1",
            "--port", str(port), "--parallel", str(parallel), "--cont-batching",
            "--ctx-size", str(SLOT_CONTEXT * parallel), "--threads", str(threads), "--threads-batch", str(threads)]


@contextmanager
def llama_server_served(binary: Path, log_path: Path, parallel: int = 8, threads: int | None = None,
                        timeout: float = 120.0) -> Iterator[str]:
    """``llama-server`` on a free loopback port until it answers ``/v1/models``; yields its ``/v1`` URL."""
    from tests.integration.conftest import free_port, served

    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return bool(response.status == 200)

    command = llama_server_command(binary, port, parallel, threads or os.cpu_count() or 1)
    with served(command, log_path, ready, "llama-server", timeout=timeout):
        yield url
