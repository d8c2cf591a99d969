"""The one error table of the web app: each error family maps to its status and body, anything unexpected is a 500
whose error id is logged with the traceback, and no router translates errors itself any more."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from assistant.errors import (
    AuthError,
    ConciergeError,
    ConfigError,
    ConflictError,
    Forbidden,
    ModelUnavailable,
    NotFoundError,
    PromptTooLong,
    StoreError,
    ValidationError,
)
from assistant.staff.admin import UnsupportedFile, UploadTooLarge
from assistant.staff.copilot import HeldByAnotherAgent
from knowledge.knowledge_store import KnowledgeUnavailable
from ui.error_table import install_error_table, status_of

UI = Path(__file__).resolve().parents[2] / "ui"


def app_raising(error: Exception) -> TestClient:
    app = install_error_table(FastAPI())
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise error

    app.include_router(router)
    return TestClient(app)  # an unexpected error must not escape the table either


@pytest.mark.parametrize(("error", "status"), [
    (AuthError("no token", user_message="sign in"), 401),
    (Forbidden("no role", user_message="needs the admin role"), 403),
    (NotFoundError("gone", user_message="no such thing"), 404),
    (ConflictError("moved on", user_message="changed meanwhile"), 409),
    (HeldByAnotherAgent("s1", "ana"), 409),
    (UploadTooLarge("big", user_message="over the limit"), 413),
    (UnsupportedFile("exe", user_message="no importer reads .exe"), 415),
    (ValidationError("bad", user_message="fix the field"), 422),
    (StoreError("down", user_message="database down"), 503),
    (ModelUnavailable("timeout", user_message="model down"), 503),
    (PromptTooLong("long", user_message="too long"), 503),
    (ConfigError("unset", user_message="set it"), 503),
    (ConciergeError("drafting failed", user_message="write one yourself"), 503),
])
def test_each_error_family_maps_to_its_status_with_its_message(error: ConciergeError, status: int) -> None:
    response = app_raising(error).get("/boom")

    assert status_of(error) == status
    assert response.status_code == status
    assert response.json()["detail"] == error.user_message and response.json()["error"] == type(error).__name__


def test_the_knowledge_base_being_down_is_a_503() -> None:
    response = app_raising(KnowledgeUnavailable("chroma refused the connection")).get("/boom")

    assert response.status_code == 503
    assert response.json()["detail"] == "the knowledge base is unavailable: chroma refused the connection"


def test_another_agents_conversation_names_the_agent_and_keeps_the_unsent_text() -> None:
    error = HeldByAnotherAgent("s1", "ben")
    error.unsent = {"text": "Hello!", "draft": None}

    body = app_raising(error).get("/boom").json()

    assert body["held_by"] == "ben" and body["unsent"] == {"text": "Hello!", "draft": None}


def test_an_unexpected_error_is_a_500_with_an_id_that_is_logged_with_the_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ui.error_table"):
        response = app_raising(RuntimeError("a bug")).get("/boom")

    assert response.status_code == 500 and status_of(RuntimeError()) is None
    error_id = response.json()["error_id"]
    assert error_id and "a bug" not in response.json()["detail"]
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


def test_fastapis_own_input_checks_are_one_readable_422() -> None:
    app = install_error_table(FastAPI())

    @app.get("/items")
    def items(limit: int) -> dict[str, int]:
        return {"limit": limit}

    response = TestClient(app).get("/items", params={"limit": "many"})

    assert response.status_code == 422 and response.json()["detail"].startswith("invalid request: limit")


ERRORS = ("ConciergeError", "NotFoundError", "ValidationError", "ConflictError", "StoreError", "ConfigError",
          "ModelUnavailable", "AuthError", "Forbidden", "HeldByAnotherAgent", "UnsupportedFile", "UploadTooLarge",
          "KnowledgeUnavailable")
CATCH = re.compile(r"except\s*\(?[\w\s,|.]*\b(" + "|".join(ERRORS) + r")\b")


def test_no_router_catches_the_errors_the_table_maps() -> None:
    routers = [p for p in UI.rglob("*.py") if "APIRouter(" in p.read_text()]
    assert len(routers) >= 8
    offenders = {p.name: CATCH.findall(p.read_text()) for p in routers if CATCH.search(p.read_text())}
    assert offenders == {}


def test_the_table_is_registered_once_on_the_app() -> None:
    registered = {p.relative_to(UI).as_posix(): p.read_text().count("install_error_table(") for p in UI.rglob("*.py")
                  if "install_error_table(" in p.read_text() and p.name != "error_table.py"}
    handlers = [p.name for p in UI.rglob("*.py") if "exception_handler" in p.read_text()]
    assert registered == {"server.py": 1}
    assert handlers == ["error_table.py"]
