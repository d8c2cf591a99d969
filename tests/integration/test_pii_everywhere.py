"""Issue 14, item 5: PII out of every write.

Each kind of personal data, in English and in Chinese, goes through real turns (the graph and the tool-calling
agent, with a scripted model that echoes it back), a hand-over, feedback, a review label and a resolved
hand-over's note, on the real store (SQLite and PostgreSQL) and Chroma on disk. Then every table of the database
(walked through the SQLAlchemy metadata), the SQLite file itself, every file of the Chroma store, the captured log,
the shopper's export (``/me/export``) and the review export (with traces) are searched: none of it is anywhere.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from sqlalchemy import select

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.shop.shop_import import demo_shop_path, ingest_shop, load_offers
from assistant.store import store_metadata
from assistant.turn.turn_service import AssistantService

pytestmark = pytest.mark.integration

SHOPPER = ShopperIdentity("C001")

#: every secret that must not be stored, and the messages (English, then Chinese) that carry them
SECRETS = {
    "card": "4111111111111111", "card_cn": "5555555555554444", "card_spaced": "4012 8888 8888 1881",
    "expiry": "exp 11/29", "cvv": "cvv 739", "expiry_cn": "有效期10/28", "cvv_cn": "安全码842",
    "ssn": "078-05-1120", "iban": "DE89370400440532013000", "email": "pii.tester@example.org",
    "email_cn": "zhangsan@qq.com", "address": "1600 Pennsylvania Avenue", "address_cn": "建国路88号",
    "phone": "4155550123", "phone_formatted": "(415) 555-0199", "mobile_cn": "13812345678",
    "mobile_cn_86": "8613912345678", "id_cn": "11010519491231002X",
    "wallet": "0x52908400098527886E0F7030069857D2E4169EE7",
}
MESSAGES = [
    f"My card {SECRETS['card']} {SECRETS['expiry']} {SECRETS['cvv']} was charged twice, what is your refund policy?",
    f"My SSN is {SECRETS['ssn']} and my IBAN is {SECRETS['iban']}, can I get the refund there?",
    f"Please send the return label to {SECRETS['address']}, Washington, DC 20500 and to {SECRETS['email']}",
    f"Call me at {SECRETS['phone']} or {SECRETS['phone_formatted']} about the return window",
    f"Can I pay from wallet {SECRETS['wallet']}?",
    f"我的卡号是{SECRETS['card_cn']}，{SECRETS['expiry_cn']}，{SECRETS['cvv_cn']}，邮箱是{SECRETS['email_cn']}，退货政策是什么？",
    f"我的手机号是{SECRETS['mobile_cn']}，身份证号{SECRETS['id_cn']}，请帮我查一下退款",
    f"请寄到北京市朝阳区{SECRETS['address_cn']}，电话{SECRETS['mobile_cn_86']}，卡{SECRETS['card_spaced']}",
    f"Where is my order NW-100073? It was paid with card {SECRETS['card']}",  # the model writes this one
]
HANDOVER = f"I want to talk to a human. 我的身份证号{SECRETS['id_cn']}，手机{SECRETS['mobile_cn']}"
#: the scripted model repeats personal data back: its raw text is in the trace
ECHO = (f"Noted: card {SECRETS['card']}, e-mail {SECRETS['email']}, 手机{SECRETS['mobile_cn']}, "
        f"身份证{SECRETS['id_cn']}. Returns are accepted within 30 days.")


def _call(name: str, **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}])


@pytest.fixture
def shop(store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Components]:
    caplog.set_level(logging.DEBUG)
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path / "data")}, "database": {"url": store_url},
        "knowledge": {"mode": "persistent", "collection_prefix": f"p{uuid.uuid4().hex[:8]}_"},
        "embeddings": {"dimensions": 1024}})
    components = build_components(settings)
    reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                          components.stores.offers, shop_profiles=components.stores.shop)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    yield components
    components.stores.close()


def _say(service: AssistantService, session: str | None, message: str) -> DoneEvent:
    done = list(service.respond(SHOPPER, session, message))[-1]
    assert isinstance(done, DoneEvent)
    return done


def _everything_written(components: Components, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """What the database, Chroma, the log and the exports hold, as text per place."""
    places: dict[str, str] = {}
    engine = components.stores.engine
    with engine.connect() as connection:
        for table in store_metadata().sorted_tables:
            rows = [dict(r._mapping) for r in connection.execute(select(table))]
            places[f"table {table.name}"] = json.dumps(rows, ensure_ascii=False, default=str)
    if engine.url.get_backend_name() == "sqlite":
        database = Path(str(engine.url.database))
        for path in database.parent.glob(database.name + "*"):  # the file, its WAL and shared memory
            places[f"file {path.name}"] = path.read_bytes().decode("utf-8", errors="replace")
    root = components.settings.chroma_path
    for path in root.rglob("*"):
        if path.is_file():
            places[f"chroma {path.relative_to(root)}"] = path.read_bytes().decode("utf-8", errors="replace")
    for kind in ("products", "policies"):
        places[f"chroma collection {kind}"] = json.dumps(
            [h.text for h in components.knowledge.search("refund card phone", kind, 50)], ensure_ascii=False)
    places["log"] = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    places["/me/export"] = json.dumps(components.privacy.export(SHOPPER.customer_id), ensure_ascii=False, default=str)
    review = components.log_review
    places["review export jsonl"] = "".join(review.export(fmt="jsonl", include_trace=True))
    places["review export csv"] = "".join(review.export(fmt="csv"))
    return places


def test_no_personal_data_is_stored_logged_or_exported(shop: Components, caplog: pytest.LogCaptureFixture) -> None:
    offers, _ = load_offers(demo_shop_path() / "offers.json")
    llm = FakeChatModel(default_reply=ECHO)
    graph = build_assistant(shop, llm=llm, offers=lambda: offers)
    session = graph.open_session(SHOPPER)
    for message in MESSAGES:
        _say(graph, session, message)
    handed = _say(graph, session, HANDOVER)
    settings = graph.deps.settings
    tool_calling = AssistantService(replace(graph.deps, settings=settings.model_copy(update={
        "agent": settings.agent.model_copy(update={"mode": "tool_calling"})})), shop.stores)
    llm.enqueue([_call("search_policies", query=f"refund to card {SECRETS['card']} for {SECRETS['mobile_cn']}"),
                 ECHO])
    tools_turn = _say(tool_calling, None, f"Refund to card {SECRETS['card']}? 手机{SECRETS['mobile_cn']}")
    graph.feedback(SHOPPER, handed.turn_id, "down", f"call {SECRETS['phone']} or {SECRETS['email_cn']}")
    shop.log_review.label(handed.turn_id, "incorrect", "reviewer1", f"shopper gave id {SECRETS['id_cn']}")
    handover = shop.stores.handovers.open_for_session(session)
    assert handover is not None, "the hand-over was not queued"
    shop.stores.handovers.claim(handover.id, "agent1")
    shop.stores.handovers.resolve(handover.id, "agent1", f"called back on {SECRETS['mobile_cn']}")
    shop.stores.ratings.rate(SHOPPER.customer_id, session, 2, f"mail {SECRETS['email']}, 卡{SECRETS['card_cn']}",
                             "handover_resolved")
    logging.getLogger("concierge.test").warning("shopper wrote %s", MESSAGES[5])

    places = _everything_written(shop, caplog)

    found = {(place, name) for place, text in places.items() for name, secret in SECRETS.items() if secret in text}
    assert found == set(), sorted(found)
    # what was written is there, redacted: the tool call's query, the model's raw text, the hand-over's summary
    stored = shop.stores.turns.get_turn(tools_turn.turn_id)
    assert stored is not None and "[CARD]" in json.dumps(stored.trace.get("tool_calls"))
    turns = shop.stores.turns.turns_for_session(SHOPPER.customer_id, session)
    assert "[CARD]" in json.dumps(turns[0].trace.get("tool_calls"))
    written = turns[len(MESSAGES) - 1]  # the order question: the model's raw text echoed the card
    assert "[CARD]" in written.trace["raw_model_text"]
    summary = shop.stores.handovers.get(handover.id)
    assert summary is not None and "[NATIONAL_ID]" in summary.summary and "[PHONE]" in summary.summary
    assert "[CARD]" in places["log"] and "退货政策" in places["log"]
