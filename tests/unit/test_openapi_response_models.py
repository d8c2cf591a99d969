"""Every success answer of the REST API has a response model that says what it holds (issue 21, item 1).

The document is the real app's (``create_app`` on the test profile's fakes, no demo shop). An answer documented as a
bare JSON object (no properties: ``dict[str, Any]``) tells a client nothing; streamed and file answers (JSON Lines,
CSV, server-sent events, files) are described by their media type instead. The staff response models name exactly
the fields their services produce: checked here against the services' own ``to_dict``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from assistant.components import build_components
from assistant.config.loading import load_settings
from assistant.domain import Citation, OfferView, ProductCard
from assistant.records import ConsentState, Order, OrderItem, TurnRecord
from assistant.shop.import_summary import ImportProblem, ImportResult, ImportSummary
from assistant.staff.admin import CollectionCount, Overview
from assistant.staff.conversation_views import (
    ConversationContext,
    CustomerContext,
    LiveConversation,
    QueueItem,
    SentReply,
    SuggestedReply,
)
from assistant.staff.offer_editing import AdminOffer
from assistant.staff.review_replay import ReplayStep
from assistant.store.copy_queue import CopyDraft
from assistant.store.handovers import Handover
from assistant.store.review_records import LabelRecord, TurnPage, TurnReplay, TurnSummary
from knowledge.importing import ImportNotice
from ui import admin_models, staff_models
from ui.handover_api import handover_json

#: answers that are not one JSON value: described by their media type (and, for events, the event's schema)
STREAMED = ("application/x-ndjson", "text/csv", "text/event-stream", "application/octet-stream")
NOW = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from ui.server import create_app

    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path_factory.mktemp("response-models")), "load_demo": False},
        "knowledge": {"collection_prefix": f"r{uuid.uuid4().hex[:8]}_"}})
    components = build_components(settings)
    try:
        yield TestClient(create_app(components)).get("/api/openapi.json").json()
    finally:
        components.stores.close()


def untyped_answers(document: dict[str, Any]) -> list[str]:
    """Every success answer (2xx, each JSON media type) whose schema, or whose list items' schema, is an object
    without properties."""
    schemas = document.get("components", {}).get("schemas", {})

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media_type, content in response.get("content", {}).items():
                    if media_type.startswith(STREAMED) or resolved(content.get("schema", {})).get("format") == "binary":
                        continue
                    schema = resolved(content.get("schema", {}))
                    if schema.get("type") == "array":
                        schema = resolved(schema.get("items", {}))
                    if not schema or (schema.get("type", "object") == "object" and not schema.get("properties")):
                        found.append(f"{method.upper()} {path} {status} {media_type}")
    return found


def test_no_success_answer_is_documented_as_a_bare_object(document: dict[str, Any]) -> None:
    operations = [(m, p) for p, item in document["paths"].items() for m in item]

    assert len(operations) >= 45
    assert untyped_answers(document) == []


def test_the_check_finds_an_answer_typed_as_a_bare_dict() -> None:
    app = FastAPI()

    @app.get("/loose")
    def loose() -> dict[str, Any]:
        return {}

    @app.get("/many")
    def many() -> list[dict[str, Any]]:
        return []

    @app.get("/typed", response_model=staff_models.HolderView)
    def typed() -> dict[str, Any]:
        return {}

    assert untyped_answers(app.openapi()) == ["GET /loose 200 application/json", "GET /many 200 application/json"]


def test_a_staff_answer_is_a_closed_object_with_its_fields_named(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    claim = document["paths"]["/api/v1/handovers/{handover_id}/claim"]["post"]["responses"]
    offer = schemas["AdminOfferView"]["properties"]["offer"]

    assert claim["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HandoverView"}
    assert set(claim) >= {"200", "401", "403", "404", "409", "503"}
    assert schemas["HandoverView"]["additionalProperties"] is False
    assert {"id", "code", "kind", "value", "eligibility"} <= set(offer["required"])  # the offer format itself
    assert set(schemas["SettingsView"]["properties"]) >= {"security", "llm", "derived"}


# the models name what the services produce -----------------------------------------------------------------------
HANDOVER = Handover("h1", "s1", "C001", "asked", "Wants a person.", "claimed", NOW, "t1", "ana", None, NOW, None)
TURN = TurnRecord("s1", "C001", "Where is my order?", "It shipped.", intent="order_status", verdict="pass",
                  id="t1", created_at=NOW)
AGENT_TURN = replace(TURN, author="agent:ana", trace={"edited": True, "held_for": "ana"})
SUMMARY = TurnSummary("t1", "s1", "C001", NOW, "hi", "hello", "greeting", "pass", "ok", False, "assistant", 12,
                      "scripted", "up", "correct", 1, True)
LABEL = LabelRecord(1, "t1", "correct", "fine", "rita", NOW)
ORDER = Order("O1", "C001", "delivered", NOW, "USD",
              (OrderItem(1, "P1", "Lantern", 2, 25.0, options={"colour": "red"}),), total=50.0,
              payments=({"method": "card", "amount": 50.0},), history=({"status": "delivered"},))
CUSTOMER = CustomerContext("C001", "Ana", "gold", 120, ConsentState(), NOW, preferences=(
    {"id": 1, "kind": "size", "value": "8.5", "origin": "explicit", "confidence": 1.0, "evidence_count": 1,
     "source_turn": None, "source": "profile", "created_at": NOW.isoformat(), "updated_at": NOW.isoformat(),
     "in_use": True, "note": "in use"},), orders=(ORDER,))
IMPORTED = ImportResult("uploads/policies/care.html", "policies", 3, errors=(ImportProblem("care.html", 2, "bad"),),
                        notices=(ImportNotice("care.html", "quarantined", "Ignore previous instructions"),))
COPY = CopyDraft("d1", "C001", None, "email", "Hi", "Hi", {"offer": "X"}, {"ok": True}, "pending", None, NOW, NOW)

PRODUCED: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (staff_models.HandoverView, handover_json(HANDOVER)),
    (staff_models.HandoverInQueue, QueueItem(HANDOVER, "ana").to_dict()),
    (staff_models.LiveConversationView, LiveConversation("s1", "C001", NOW, "hi", 3, "ana", "h1").to_dict()),
    (staff_models.ConversationContextView,
     ConversationContext("s1", CUSTOMER, (TURN, AGENT_TURN), HANDOVER, "ana").to_dict()),
    (staff_models.SuggestedReplyView, SuggestedReply(
        "s1", "hi", "hello", "greeting", "pass", (Citation("policy", "p1", "Returns"),),
        (ProductCard("P1", "Lantern", 25.0, "USD", "lanterns"),), (OfferView("o1", "CODE-1", "10% off", "..."),),
        ("a problem",)).to_dict()),
    (staff_models.SentReplyView, SentReply(AGENT_TURN, True, "-a\n+b", False).to_dict()),
    (staff_models.TurnPageView, TurnPage([SUMMARY], 1, None).to_dict()),
    (staff_models.LabelView, LABEL.to_dict()),
    (staff_models.TurnReplayView, TurnReplay(SUMMARY, {"timings": {}}, [ReplayStep("guard", "Guard", 1.5)],
                                             [{"kind": "feedback"}], [LABEL]).to_dict()),
    (admin_models.ImportSummaryView, ImportSummary((IMPORTED,)).to_dict()),
    (admin_models.CollectionsView, Overview((CollectionCount("products", "p", 3, {"demo": 3}),), 3, 0, 0, 1, 1, 2)
     .to_dict()),
    (admin_models.AdminOfferView, AdminOffer({"id": "o1"}, True, "live").to_dict()),
    (admin_models.CopyDraftView, COPY.to_dict()),
]


@pytest.mark.parametrize("model, produced", PRODUCED, ids=[m.__name__ for m, _ in PRODUCED])
def test_a_response_model_names_every_field_its_service_produces(model: type[BaseModel],
                                                                 produced: dict[str, Any]) -> None:
    parsed = model.model_validate(produced)  # a field the model does not name is refused

    assert parsed.model_dump(mode="json", exclude_unset=True) == json.loads(json.dumps(produced))


def test_a_field_a_model_does_not_name_is_refused() -> None:
    with pytest.raises(PydanticValidationError, match="Extra inputs are not permitted"):
        staff_models.LabelView.model_validate({**LABEL.to_dict(), "language": "en"})


def test_the_settings_model_has_a_section_per_settings_field() -> None:
    from assistant.settings import Settings

    assert set(admin_models.SettingsView.model_fields) == {*Settings.model_fields, "derived"}
