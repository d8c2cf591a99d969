"""The scale-out topology of compose.yaml as plain processes: ``concierge serve`` replicas on one PostgreSQL (a
schema of their own), one Chroma server (``chroma run``) and one Redis (a key prefix of their own).

Shared by the replica tests (tests/integration/test_replicas.py, test_replicas_load.py) and bench/load_replicas.py,
so that the bench measures the topology the tests check. The replicas run the test profile's scripted chat model
and hash embeddings unless ``extra_env`` says otherwise (bench/concurrency.py points them at a model server)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from assistant.store import build_engine
from tests.integration.conftest import chroma_served, free_port, served, serving_pages

REDIS_URL = "redis://127.0.0.1:6379"
TOKEN_SECRET = "replica-test-secret"


@dataclass(frozen=True)
class Topology:
    urls: tuple[str, ...]
    env: dict[str, str]
    database_url: str
    redis_prefix: str
    work: Path
    processes: tuple[subprocess.Popen[bytes], ...] = field(default=(), compare=False)

    def cli(self, *args: str) -> None:
        """``concierge ARGS`` against the replicas' settings (the database, Chroma and Redis they share)."""
        done = subprocess.run([sys.executable, "-m", "ui.cli.main", *args], env={**os.environ, **self.env},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@contextmanager
def postgres_schema(admin_url: str, prefix: str = "concierge_replicas_") -> Iterator[str]:
    """A fresh schema in the PostgreSQL database at ``admin_url``; yields a URL whose search path is that schema,
    dropped (with everything in it) afterwards."""
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = build_engine(admin_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield make_url(admin_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def replica_topology(work: Path, admin_url: str, staff_key: str, replicas: int = 2,
                     extra_env: Mapping[str, str] | None = None) -> Iterator[Topology]:
    """``replicas`` ``concierge serve`` processes sharing a new PostgreSQL schema, a new ``chroma run`` server
    (under ``work``) and Redis under a new key prefix; the demo shop is ingested once through the CLI before the
    replicas start, as a deployment's job would. Everything is stopped and removed afterwards."""
    redis_prefix = f"concierge-replicas-{uuid.uuid4().hex[:8]}"
    try:
        with postgres_schema(admin_url) as database_url:
            (work / "chroma").mkdir(parents=True, exist_ok=True)
            with chroma_served(work / "chroma") as (chroma_url, _):
                env = {"CONCIERGE_PROFILES": "test", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                       "CONCIERGE_DATABASE__URL": database_url, "CONCIERGE_KNOWLEDGE__MODE": "http",
                       "CONCIERGE_KNOWLEDGE__SERVER_URL": chroma_url,
                       "CONCIERGE_KNOWLEDGE__COLLECTION_PREFIX": f"r{uuid.uuid4().hex[:8]}_",
                       "CONCIERGE_SECURITY__RATE_LIMIT_STORAGE": REDIS_URL,
                       "CONCIERGE_SECURITY__RATE_LIMIT_PREFIX": redis_prefix,
                       "CONCIERGE_SECURITY__STAFF_API_KEY": staff_key, "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true",
                       "CONCIERGE_TOKEN_SECRET": TOKEN_SECRET,
                       "CONCIERGE_SECURITY__TOKEN_SECRET": TOKEN_SECRET,  # wins over the test profile's secret
                       "CONCIERGE_APP__DATA_DIR": str(work / "cli"),
                       **(extra_env or {})}
                Topology((), env, database_url, redis_prefix, work).cli("ingest")  # the demo shop, once
                with ExitStack() as stack:
                    started = [stack.enter_context(replica_process(env, work / chr(ord("a") + i)))
                               for i in range(replicas)]
                    yield Topology(tuple(url for url, _ in started), env, database_url, redis_prefix, work,
                                   tuple(proc for _, proc in started))
    finally:
        forget_redis_keys(redis_prefix)


@contextmanager
def replica_process(env: Mapping[str, str], data: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``concierge serve`` on a free loopback port with its own data folder (its log there); yields its URL and
    process (a process killed meanwhile, e.g. by a fault test, is left as it is)."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: serving_pages(url), f"replica at {url}",
                timeout=240, env={**env, "CONCIERGE_APP__DATA_DIR": str(data)}) as proc:
        yield url, proc


@contextmanager
def replica(env: dict[str, str], data: Path) -> Iterator[str]:
    """:func:`replica_process`, its URL only."""
    with replica_process(env, data) as (url, _):
        yield url


def forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
