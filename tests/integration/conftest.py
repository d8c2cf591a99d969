"""Real components for integration tests: the bundled embedding model, Chroma on disk and a Chroma server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.embeddings import Embedder, SentenceTransformerEmbedder
from knowledge.store import KnowledgeStore, build_chroma_client

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def bundled_embedder() -> Embedder:
    return SentenceTransformerEmbedder()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on loopback (`chroma run`), the scale-out path."""
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log = open(path / "server.log", "wb")  # noqa: SIM115 - closed below
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            build_chroma_client("http", server_url=url).heartbeat()
            break
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"chroma server did not start: {(path / 'server.log').read_text(errors='replace')[-2000:]}")
    if proc.poll() is not None:
        pytest.fail(f"chroma server exited: {(path / 'server.log').read_text(errors='replace')[-2000:]}")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(params=["persistent", "http"])
def real_knowledge_store(request: pytest.FixtureRequest, tmp_path: Path, bundled_embedder: Embedder) -> KnowledgeStore:
    """The knowledge store on Chroma on disk, and on a Chroma server; both with the bundled model."""
    if request.param == "persistent":
        client = build_chroma_client("persistent", tmp_path / "chroma")
    else:
        client = build_chroma_client("http", server_url=request.getfixturevalue("chroma_server"))
    return KnowledgeStore(client, bundled_embedder, prefix=f"t{uuid.uuid4().hex[:8]}_")
