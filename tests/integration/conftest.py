"""Real components for integration tests: the bundled embedding model, Chroma on disk and a Chroma server,
llama-cpp-python's OpenAI-compatible server on the bundled GGUF, and a fresh demo shop on the real models."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from knowledge.embeddings import Embedder, SentenceTransformerEmbedder
from knowledge.knowledge_store import KnowledgeStore, build_chroma_client

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def bundled_embedder() -> Embedder:
    return SentenceTransformerEmbedder()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serving_pages(url: str) -> bool:
    """``/healthz`` answers and says the Gradio pages (the chat, the staff views) answer too: ``concierge serve``
    builds them after the REST API answers (``ui.pages_gate``). For fixtures whose tests open the pages."""
    import httpx

    response = httpx.get(f"{url}/healthz", timeout=2)
    return response.status_code == 200 and response.json().get("pages") == "ready"


@contextmanager
def served(command: list[str], log_path: Path, ready: Callable[[], bool], what: str, timeout: float = 60.0,
           env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process on loopback until ``ready()`` is true; fail with its log's tail if it does not come
    up in ``timeout`` seconds or exits; terminate it afterwards."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    break
            except Exception:  # not up yet: connection refused, timeouts, 5xx while loading
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start: {log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def chroma_served(path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``chroma run`` on a free loopback port with its data under ``path``: ``(url, process)``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    chroma = Path(sys.executable).with_name("chroma")

    def ready() -> bool:
        build_chroma_client("http", server_url=url).heartbeat()
        return True

    with served([str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
                path / "server.log", ready, "chroma server", env={"ANONYMIZED_TELEMETRY": "False"}) as proc:
        yield url, proc


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on loopback (`chroma run`), the scale-out path."""
    with chroma_served(tmp_path_factory.mktemp("chroma-server")) as (url, _):
        yield url


@pytest.fixture(params=["persistent", "http"])
def real_knowledge_store(request: pytest.FixtureRequest, tmp_path: Path, bundled_embedder: Embedder) -> KnowledgeStore:
    """The knowledge store on Chroma on disk, and on a Chroma server; both with the bundled model."""
    if request.param == "persistent":
        client = build_chroma_client("persistent", tmp_path / "chroma")
    else:
        client = build_chroma_client("http", server_url=request.getfixturevalue("chroma_server"))
    return KnowledgeStore(client, bundled_embedder, prefix=f"t{uuid.uuid4().hex[:8]}_")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` on a free loopback port; yields its ``/v1`` URL, terminated afterwards."""
    from assistant.llm import bundled_gguf_path

    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            return bool(response.status == 200)

    with served([sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf_path()), "--host",
                 "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--model_alias", "local"],
                tmp_path_factory.mktemp("llama-server") / "server.log", ready, "llama_cpp.server",
                env={"HF_HUB_OFFLINE": "1"}):
        yield url


@pytest.fixture(scope="session")
def real_demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A fresh demo shop on the default settings (bundled embeddings, Chroma on disk, SQLite, the bundled
    chat model), in a temp data dir, as ``concierge eval`` builds it. Shared by the modules that need it:
    tests that change orders restore their customers (tests/demo_reset.py)."""
    from assistant.components import build_components
    from assistant.config.loading import load_settings
    from assistant.shop.shop_import import demo_shop_path, ingest_shop

    data = tmp_path_factory.mktemp("real-shop")
    env = {k: v for k, v in os.environ.items() if k != "CONCIERGE_PROFILES"}
    settings = load_settings([], env=env, overrides={"app": {"data_dir": str(data), "load_demo": False},
                                                      "database": {"url": None}, "knowledge": {"path": None}})
    components = build_components(settings)
    reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                          components.stores.offers, shop_profiles=components.stores.shop)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    try:
        yield components
    finally:
        components.stores.close()


def app_on_fakes(data_dir: Path, overrides: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """``(components, app)``: the whole web app in-process on the test profile's fakes (scripted model, hash
    embeddings, in-memory Chroma under a fresh prefix, SQLite under ``data_dir``), the demo shop imported at
    start, the demo sign-in on and every rate limit lifted. ``overrides`` (nested sections) win. Close
    ``components.stores`` after."""
    from assistant.components import build_components
    from assistant.config.loading import _merge, load_settings
    from bench.load import unlimited_rates
    from ui.server import create_app

    rates = {key.split("__", 1)[1].lower(): value for key, value in unlimited_rates().items()}
    base: dict[str, Any] = {"app": {"data_dir": str(data_dir), "load_demo": True},
                            "knowledge": {"collection_prefix": f"f{uuid.uuid4().hex[:8]}_"},
                            "embeddings": {"dimensions": 4096}, "security": {**rates, "demo_sign_in": True}}
    settings = load_settings(["test"], env={}, overrides=_merge(base, overrides or {}))
    components = build_components(settings)
    return components, create_app(components)
