"""Faults: the server killed with SIGKILL in the middle of load (SQLite and PostgreSQL), Chroma gone, the model
server never answering, the SQLite database unable to grow. Acknowledged turns survive, the database stays
consistent, shoppers get a clear line and a person instead of a 5xx, and a store that cannot write says so."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, make_url

from assistant.store import build_engine
from bench.load import LoadResult, run_load, running_server, served_turn_ids, server_env, stored_turn_ids
from tests.integration.conftest import app_on_fakes, chroma_served

pytestmark = pytest.mark.integration

CANT_LOOK_UP = "can't look that up right now"


def bearer(client: Any, customer: str = "C001") -> dict[str, str]:
    response = client.post("/api/v1/demo/token", json={"customer_id": customer})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


CONSISTENCY = {  # each query counts rows that break a rule; all must be 0
    "turns without their session": "SELECT count(*) FROM turns t LEFT JOIN chat_sessions s ON s.id = t.session_id "
                                   "WHERE s.id IS NULL",
    "turns of another shopper's session": "SELECT count(*) FROM turns t JOIN chat_sessions s ON s.id = t.session_id "
                                          "WHERE coalesce(t.customer_id, '') <> coalesce(s.customer_id, '')",
    "events of a missing turn": "SELECT count(*) FROM events e WHERE e.turn_id IS NOT NULL AND NOT EXISTS "
                                "(SELECT 1 FROM turns t WHERE t.id = e.turn_id)",
    "events of a missing session": "SELECT count(*) FROM events e WHERE e.session_id IS NOT NULL AND NOT EXISTS "
                                   "(SELECT 1 FROM chat_sessions s WHERE s.id = e.session_id)",
}


def broken_rules(url: str) -> dict[str, int]:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            counts = {rule: int(connection.exec_driver_sql(sql).scalar_one()) for rule, sql in CONSISTENCY.items()}
    finally:
        engine.dispose()
    return {rule: n for rule, n in counts.items() if n}


def sqlite_integrity(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        problems += [f"foreign key: {row}" for row in connection.execute("PRAGMA foreign_key_check")]
    finally:
        connection.close()
    return [] if problems == ["ok"] else problems


# kill -9 in the middle of load -------------------------------------------------------------------
def test_sigkill_during_load_keeps_every_acknowledged_turn_and_a_consistent_database(store_url: str,
                                                                                     tmp_path: Path) -> None:
    env = server_env(tmp_path, "scripted", store_url)
    result, stop = LoadResult(), threading.Event()
    with running_server(env, tmp_path / "server.log") as (url, proc):
        load = threading.Thread(target=run_load, args=(url, 10, 200),
                                kwargs={"timeout": 30, "duration": 120, "stop": stop, "result": result})
        load.start()
        deadline = time.monotonic() + 120
        while len(result.acknowledged) < 40 and time.monotonic() < deadline and load.is_alive():
            time.sleep(0.05)
        stop.set()  # no new turns after the kill; the ones in flight stay in flight
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        load.join(90)
    acked = {o.turn_id for o in result.acknowledged if o.turn_id}
    print(f"\nbefore the kill: {result.summary()}")
    assert len(acked) >= 40 and not load.is_alive()
    assert result.errors["connection"] >= 1  # the kill came in the middle of turns: some were never answered
    assert result.server_errors == 0, result.errors

    with running_server(env, tmp_path / "restarted.log") as (url, _):
        served = served_turn_ids(url, result)
        with httpx.Client(base_url=url, timeout=60) as client:
            after = client.post("/api/v1/chat", json={"message": "How much is express shipping?"},
                                headers=bearer(client, "C002"))
    stored = stored_turn_ids(store_url)

    assert not acked - served and not acked - stored, f"lost: {sorted(acked - stored)[:10]}"
    assert after.status_code == 200 and after.json()["turn_id"]
    assert not broken_rules(store_url)
    if store_url.startswith("sqlite"):
        assert sqlite_integrity(Path(str(make_url(store_url).database))) == []


# Chroma unavailable ------------------------------------------------------------------------------
@pytest.fixture
def chroma_process(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A Chroma server of this test's own, so that the test may stop it."""
    with chroma_served(tmp_path) as (url, proc):
        yield url, proc


def test_chroma_going_away_degrades_to_a_person_not_a_5xx(chroma_process: tuple[str, Any], tmp_path: Path) -> None:
    chroma_url, chroma = chroma_process
    components, app = app_on_fakes(tmp_path / "app", {"knowledge": {"mode": "http", "server_url": chroma_url}})
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = bearer(client)
            before = client.post("/api/v1/chat", json={"message": "How much is express shipping?"}, headers=headers)
            chroma.terminate()
            chroma.wait(30)

            answers = [client.post("/api/v1/chat", json={"message": m}, headers=headers)
                       for m in ("How long do I have to return something?", "Show me a rain jacket")]
            health = client.get("/healthz")
            search = client.get("/api/v1/search", params={"q": "boots"})
        assert before.status_code == 200 and before.json()["handover"] is None
        for answer in answers:
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert CANT_LOOK_UP in body["reply"] and body["handover"]["reason"] == "tool_failure"
            turn = components.stores.turns.get_turn(body["turn_id"])
            assert turn is not None and turn.handover and turn.trace["problems"]
            assert components.stores.handovers.open_for_session(body["session_id"]) is not None
        assert health.status_code == 503 and "knowledge base is unavailable" in health.json()["detail"]
        assert search.status_code == 503
    finally:
        components.stores.close()


# the model server never answers ------------------------------------------------------------------
@pytest.fixture
def silent_model_server() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers a byte."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines.get("event", ""), json.loads(lines.get("data", "{}"))))
    return events


def test_a_model_that_times_out_degrades_to_a_person_not_a_5xx(silent_model_server: str, tmp_path: Path) -> None:
    components, app = app_on_fakes(tmp_path, {"llm": {"mode": "openai", "openai": {
        "base_url": silent_model_server, "timeout_s": 1}}})
    question = {"message": "Where is my order NW-100073?"}  # the model writes about the shopper's own order
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = bearer(client)
            started = time.monotonic()
            answer = client.post("/api/v1/chat", json=question, headers=headers)
            took = time.monotonic() - started
            streamed = client.post("/api/v1/chat", json={**question, "stream": True}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert CANT_LOOK_UP in body["reply"] and body["handover"]["reason"] == "tool_failure"
        assert took < 30
        turn = components.stores.turns.get_turn(body["turn_id"])
        assert turn is not None and turn.handover
        assert any("ModelUnavailable" in p and "did not answer" in p for p in turn.trace["problems"])

        assert streamed.status_code == 200
        events = sse_events(streamed.text)
        kinds = [kind for kind, _ in events]
        assert "handover" in kinds and kinds[-1] == "done"
        assert CANT_LOOK_UP in events[-1][1]["reply"] and events[-1][1]["turn_id"]
    finally:
        components.stores.close()


# the SQLite database cannot grow -----------------------------------------------------------------
def test_a_full_sqlite_database_gets_a_clear_503_and_stays_intact(tmp_path: Path) -> None:
    """SQLite's own limit on the file's size (``PRAGMA max_page_count`` set to the pages it has, on every
    connection) makes each write that needs a new page fail with SQLITE_FULL, as a full disk does."""
    components, app = app_on_fakes(tmp_path)
    engine = components.stores.engine
    database = tmp_path / "concierge.db"
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = bearer(client)
            first = client.post("/api/v1/chat", json={"message": "How much is express shipping?"}, headers=headers)
            session = {"session_id": first.json()["session_id"]}
            acked = {first.json()["turn_id"]}
            acked |= {client.post("/api/v1/chat", json={"message": "When do I get free shipping?", **session},
                                  headers=headers).json()["turn_id"] for _ in range(2)}
            with engine.connect() as connection:
                pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())

            def cap(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

            event.listen(engine, "connect", cap)
            engine.dispose()  # every connection from now on has the cap
            refused: list[Any] = []
            statuses = []
            for i in range(80):  # same session, then a new one, in turn: both paths must fail cleanly
                body = {"message": f"Which payment methods do you accept? ({i})", **(session if i % 2 else {})}
                response = client.post("/api/v1/chat", json=body, headers=headers)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    acked.add(response.json()["turn_id"])
                else:
                    refused.append(response)
                if len({r.json().get("error") for r in refused}) >= 2 or len(refused) >= 6:
                    break
            streamed = client.post("/api/v1/chat", json={"message": "Which payment methods do you accept?",
                                                          "stream": True, **session}, headers=headers)
            event.remove(engine, "connect", cap)
            engine.dispose()  # space again
            after = client.post("/api/v1/chat", json={"message": "How much is express shipping?", **session},
                                headers=headers)

        print(f"\nstatuses while full: {statuses}; refusals: {[r.json() for r in refused][:2]}")
        assert refused, f"the database never filled up: {statuses}"
        assert set(statuses) <= {200, 503}, statuses
        for response in refused:
            detail = response.json()["detail"]
            assert "full" in detail and ("could not be saved" in detail or "nothing of this was saved" in detail)
        last_kind, last = sse_events(streamed.text)[-1]  # a stream has begun (200): its last event says it
        assert last_kind == "error" and last["error"] == "TurnNotStored" and "could not be saved" in last["detail"]
        assert after.status_code == 200
        assert sqlite_integrity(database) == []
        stored = stored_turn_ids(f"sqlite:///{database}")
        assert acked <= stored
        assert not broken_rules(f"sqlite:///{database}")
    finally:
        components.stores.close()
