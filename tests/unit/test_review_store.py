"""The reviewers' store: search and filter turns, labels, replay of a real turn's trace, streamed export."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.errors import NotFoundError, ValidationError
from assistant.llm import FakeChatModel
from assistant.staff.review_replay import replay_steps
from assistant.store import CounterIds, EventRecord, FixedClock, Stores, TurnRecord, open_stores
from assistant.store.review_queries import TurnFilter
from assistant.turn.turn_service import AssistantService
from tests.unit.conftest import DEMO_NOW

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
BENCH = Path(__file__).resolve().parents[2] / "bench" / "analytics.py"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_analytics", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Log:
    """Writes turns into a store the way the service does, one clock step apart."""

    def __init__(self, stores: Stores, clock: FixedClock) -> None:
        self.stores, self.clock = stores, clock
        self.sessions: dict[str | None, str] = {}

    def turn(self, customer_id: str | None = "c1", message: str = "Where is my parcel?", reply: str = "On its way.",
             minutes: float = 10, events: tuple[EventRecord, ...] = (), **fields: Any) -> TurnRecord:
        if customer_id not in self.sessions:
            self.sessions[customer_id] = self.stores.sessions.open_session(customer_id)
        self.clock.advance(minutes=minutes)
        fields.setdefault("intent", "order_status")
        return self.stores.turns.record_turn(TurnRecord(session_id=self.sessions[customer_id], customer_id=customer_id,
                                                        message=message, reply=reply, **fields), events)

    def thumbs(self, turn: TurnRecord, rating: str) -> None:
        self.clock.advance(seconds=5)
        self.stores.events.add(EventRecord(kind="feedback", customer_id=turn.customer_id, session_id=turn.session_id,
                                           turn_id=turn.id, payload={"rating": rating, "note": ""}))


Make = Callable[[FakeChatModel], AssistantService]


@pytest.fixture
def make_service(own_demo_components: Components, demo_offers: list[dict[str, Any]]) -> Make:
    """Turns on this module's own demo shop: the replay tests open hand-overs and count offers shown."""
    def build(llm: FakeChatModel) -> AssistantService:
        return build_assistant(own_demo_components, llm=llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW)
    return build


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def stores(tmp_path: Path, clock: FixedClock, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'review.db'}", clock=clock, ids=CounterIds("t"))
    for customer_id in ("c1", "c2"):
        opened.customers.upsert_from_record(customer_record(customer_id), "test")
    yield opened
    opened.close()


@pytest.fixture
def log(stores: Stores, clock: FixedClock) -> Log:
    return Log(stores, clock)


def ids(stores: Stores, **filters: Any) -> list[str]:
    page = stores.review.search(TurnFilter(**filters), limit=500)
    assert page.total == len(page.items)
    return [t.id for t in page.items if t.id]


def offer_shown(offer_id: str = "runner15", segment: str = "gold/running-shoes") -> EventRecord:
    return EventRecord(kind="offer_shown", payload={"offer_id": offer_id, "code": offer_id.upper(), "segment": segment,
                                                    "propensity": 0.5, "policy": "thompson"})


# -- search ---------------------------------------------------------------------------------------------------
def test_pages_walk_every_match_newest_first_once_with_the_total(stores: Stores, log: Log) -> None:
    made = [log.turn(minutes=0 if i % 2 else 10).id for i in range(7)]  # pairs share a timestamp

    first = stores.review.search(limit=3)
    second = stores.review.search(limit=3, cursor=first.next_cursor)
    third = stores.review.search(limit=3, cursor=second.next_cursor)

    seen = [t.id for page in (first, second, third) for t in page.items]
    assert seen == list(reversed(made))
    assert first.total == second.total == 7 and third.next_cursor is None


def test_text_matches_message_or_reply_ignoring_case_and_percent_is_literal(stores: Stores, log: Log) -> None:
    in_message = log.turn(message="Can I RETURN boots?").id
    in_reply = log.turn(reply="Returns are free for gold members.").id
    log.turn(message="Is it 100% wool?", reply="Yes.")
    log.turn(message="Hello", reply="Hi there.")

    assert set(ids(stores, text="return")) == {in_message, in_reply}
    assert len(ids(stores, text="0% w")) == 1 and ids(stores, text="100%_") == []


def test_column_filters_narrow_to_their_turns(stores: Stores, log: Log) -> None:
    mine = log.turn("c1", intent="policy", verdict="pass").id
    other = log.turn("c2", intent="policy", verdict="fallback", status="fallback").id
    handed = log.turn("c2", intent="handover", verdict="handover", handover=True).id
    by_agent = log.turn("c2", author="agent:bob").id

    assert ids(stores, customer_id="c1") == [mine]
    assert ids(stores, intent="policy") == [other, mine]
    assert ids(stores, verdict="fallback") == ids(stores, status="fallback") == [other]
    assert ids(stores, handover=True) == [handed]
    assert ids(stores, author="agent") == ids(stores, author="agent:bob") == [by_agent]
    assert by_agent not in ids(stores, author="assistant") and ids(stores, author="agent:alice") == []


def test_the_date_range_includes_its_start_and_excludes_its_end(stores: Stores, log: Log) -> None:
    before = log.turn(minutes=0)
    at_start = log.turn(minutes=60)
    at_end = log.turn(minutes=60)
    assert at_start.created_at is not None and at_end.created_at is not None

    found = ids(stores, start=at_start.created_at, end=at_end.created_at)

    assert found == [at_start.id] and before.id not in found


def test_the_latest_thumbs_is_the_turns_feedback(stores: Stores, log: Log) -> None:
    changed_mind, liked, silent = log.turn(), log.turn(), log.turn()
    log.thumbs(changed_mind, "up")
    log.thumbs(changed_mind, "down")
    log.thumbs(liked, "up")

    assert ids(stores, feedback="down") == [changed_mind.id]
    assert ids(stores, feedback="up") == [liked.id]
    assert ids(stores, feedback="none") == [silent.id]
    assert stores.review.search(TurnFilter(feedback="down")).items[0].feedback == "down"


def test_offer_shown_and_accepted_follow_the_bandits_feedback_events(stores: Stores, log: Log) -> None:
    plain = log.turn().id
    shown_only = log.turn(events=(offer_shown("camp25"),)).id
    accepted = log.turn(events=(offer_shown("runner15"),)).id
    stores.bandit.record_feedback("c1", "runner15", "accepted")  # what POST /offers/{id}/feedback does

    assert ids(stores, offer_shown=True) == [accepted, shown_only]
    assert ids(stores, offer_shown=False) == [plain]
    assert ids(stores, offer_accepted=True) == [accepted]
    assert set(ids(stores, offer_accepted=False)) == {plain, shown_only}
    listed = {t.id: t for t in stores.review.search().items}
    assert accepted is not None and shown_only is not None
    assert listed[accepted].offers_shown == 1 and listed[accepted].offer_accepted
    assert listed[shown_only].offers_shown == 1 and not listed[shown_only].offer_accepted


def test_filters_combine(stores: Stores, log: Log) -> None:
    wanted = log.turn("c2", message="refund please", status="fallback")
    log.turn("c2", message="refund please")
    log.turn("c1", message="refund please", status="fallback")
    log.thumbs(wanted, "down")

    assert ids(stores, text="REFUND", customer_id="c2", status="fallback", feedback="down") == [wanted.id]


@pytest.mark.parametrize("bad", [
    TurnFilter(start=datetime(2026, 11, 20)),  # no time zone
    TurnFilter(start=START, end=START),
    TurnFilter(feedback="meh"),
    TurnFilter(label="great"),
    TurnFilter(author="robot"),
    TurnFilter(status="done"),
    TurnFilter(text="x" * 201),
])
def test_a_filter_that_cannot_match_is_refused_with_a_reason(stores: Stores, bad: TurnFilter) -> None:
    with pytest.raises(ValidationError) as refused:
        stores.review.search(bad)
    assert refused.value.user_message


def test_a_cursor_that_was_not_issued_is_refused(stores: Stores, log: Log) -> None:
    log.turn()
    for cursor in ("garbage", "bm90fGE"):  # not base64 of time|id; base64 of "not|a"
        with pytest.raises(ValidationError):
            stores.review.search(cursor=cursor)


# -- labels ---------------------------------------------------------------------------------------------------
def test_the_newest_label_is_the_current_one(stores: Stores, log: Log) -> None:
    turn, untouched = log.turn(), log.turn()
    assert turn.id is not None
    stores.review.add_label(turn.id, "correct", "rita")
    log.clock.advance(minutes=1)
    stores.review.add_label(turn.id, "outdated_knowledge", "sam", "the return window changed to 60 days")

    assert ids(stores, label="outdated_knowledge") == [turn.id]
    assert ids(stores, label="correct") == []
    assert ids(stores, label="none") == [untouched.id]
    labels = stores.review.labels_for(turn.id)
    assert [(x.label, x.reviewer) for x in labels] == [("outdated_knowledge", "sam"), ("correct", "rita")]
    assert labels[0].note == "the return window changed to 60 days"


def test_a_bad_label_or_unknown_turn_stores_nothing(stores: Stores, log: Log) -> None:
    turn = log.turn()
    assert turn.id is not None

    with pytest.raises(ValidationError):
        stores.review.add_label(turn.id, "great", "rita")
    with pytest.raises(ValidationError):
        stores.review.add_label(turn.id, "correct", "  ")
    with pytest.raises(NotFoundError):
        stores.review.add_label("no-such-turn", "correct", "rita")

    assert stores.review.labels_for(turn.id) == []


# -- replay ---------------------------------------------------------------------------------------------------
def last_turn(service: AssistantService, who: str, message: str) -> str:
    done = list(service.respond(ShopperIdentity(who), None, message))[-1]
    assert isinstance(done, DoneEvent)
    return done.turn_id


def test_a_turn_replays_step_by_step_with_chunks_scores_raw_text_and_verdict(
        make_service: Make, fake_llm: FakeChatModel) -> None:
    # the shopper's own order (the model writes) and the refund policy's chunks
    service = make_service(fake_llm.enqueue(["Your order NW-100065 was delivered."]))
    turn_id = last_turn(service, "C001", "When will the refund for my order NW-100065 arrive?")

    replay = service.stores.review.get_replay(turn_id)

    assert replay is not None and replay.turn.intent == "order_status"
    names = [s.name for s in replay.steps]
    assert names[:4] == ["guard", "profile", "session", "understand"]
    assert names.index("retrieval") < names.index("tool_call") < names.index("compose") < names.index("verify")
    assert names[-1] == "record"
    steps = {s.name: s for s in replay.steps}  # the last tool call: the policy search after the order lookup
    chunks = steps["retrieval"].detail["chunks"]
    assert chunks and all(isinstance(c["score"], float) and c["id"] for c in chunks)
    assert steps["tool_call"].detail["tool"] == "search_policies" and steps["tool_call"].ms is not None
    assert steps["compose"].detail["raw_model_text"] == "Your order NW-100065 was delivered."
    assert steps["compose"].ms is not None
    assert steps["verify"].detail["verdict"] == "pass" and steps["understand"].detail["intent"] == "order_status"
    assert steps["guard"].detail["message"] == "When will the refund for my order NW-100065 arrive?"


def test_a_policy_turn_replays_as_built_from_the_policy_without_the_model(make_service: Make,
                                                                          fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    turn_id = last_turn(service, "C001", "How long do I have to return something?")

    replay = service.stores.review.get_replay(turn_id)

    assert replay is not None and replay.turn.intent == "policy" and fake_llm.calls == []
    steps = {s.name: s for s in replay.steps}
    assert steps["retrieval"].detail["chunks"] and steps["tool_call"].detail["tool"] == "search_policies"
    assert steps["compose"].detail["raw_model_text"] == ""
    assert steps["verify"].detail["verdict"] == "fallback"
    assert any(r.startswith("built from the facts") for r in steps["verify"].detail["reasons"])
    assert "30 days" in steps["record"].detail["reply"]


def test_an_offer_turn_replays_the_offer_choice_and_the_verifiers_reasons(
        make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue(["Here is your offer."]))  # names no code: fails
    turn_id = last_turn(service, "C001", "Do I have any offers?")

    replay = service.stores.review.get_replay(turn_id)

    assert replay is not None
    steps = {s.name: s for s in replay.steps}
    (offer,) = steps["offers"].detail["offers"]
    assert 0 < offer["propensity"] <= 1 and offer["segment"] and offer["code"]
    assert steps["verify"].detail["verdict"] == "fallback" and steps["verify"].detail["reasons"]
    assert steps["record"].detail["events"] == ["offer_shown"]
    assert [e["kind"] for e in replay.events] == ["offer_shown"] and replay.turn.offers_shown == 1
    json.dumps(replay.to_dict())  # ready for a JSON response as it is


def test_a_hand_over_turn_replays_its_reason_without_retrieval(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    turn_id = last_turn(service, "C003", "I want to talk to a person")

    replay = service.stores.review.get_replay(turn_id)

    assert replay is not None and replay.turn.handover
    names = [s.name for s in replay.steps]
    assert "handover" in names and "retrieval" not in names and "compose" not in names
    assert replay.steps[names.index("handover")].detail["reason"] == "customer_request"


def test_replay_of_an_unknown_turn_is_none(stores: Stores) -> None:
    assert stores.review.get_replay("nope") is None


def test_labels_come_with_the_replay_newest_first(stores: Stores, log: Log) -> None:
    turn = log.turn(trace={"timings_ms": {"guard": 0.1}, "verdict": "pass"})
    assert turn.id is not None
    stores.review.add_label(turn.id, "incorrect", "rita")
    stores.review.add_label(turn.id, "correct", "sam")

    replay = stores.review.get_replay(turn.id)

    assert replay is not None and [x.reviewer for x in replay.labels] == ["sam", "rita"]
    assert replay.turn.label == "correct"


def test_a_failed_turns_partial_trace_replays_as_far_as_it_got_and_its_error() -> None:
    trace = {"guard": {"blocked": None, "injection": [], "pii": []}, "timings_ms": {"guard": 0.3, "tools": 2.0},
             "tool_calls": [], "retrieved": [], "error": {"type": "StoreError", "message": "db down"}}

    steps = replay_steps(trace, {"status": "error", "verdict": "error"})

    assert [s.name for s in steps] == ["guard", "retrieval", "record", "error"]
    assert steps[0].ms == 0.3 and steps[1].ms == 2.0 and steps[-1].detail["type"] == "StoreError"
    assert [s.name for s in replay_steps({})] == ["record"]


# -- export ---------------------------------------------------------------------------------------------------
def test_jsonl_export_holds_every_match_newest_first_across_chunks(stores: Stores, log: Log) -> None:
    made = [log.turn(minutes=0 if i % 3 else 5, message=f"turn {i}").id for i in range(7)]
    log.turn("c2")

    chunks = list(stores.review.iter_export(TurnFilter(customer_id="c1"), "jsonl", chunk_size=2))

    rows = [json.loads(line) for chunk in chunks for line in chunk.splitlines()]
    assert [r["id"] for r in rows] == list(reversed(made)) and len(chunks) == 4
    assert rows[0]["message"] == "turn 6" and rows[0]["created_at"].endswith("+00:00") and "trace" not in rows[0]


def test_jsonl_export_can_carry_each_turns_trace(stores: Stores, log: Log) -> None:
    log.turn(trace={"verdict": "pass", "timings_ms": {"guard": 0.2}})

    (line,) = "".join(stores.review.iter_export(fmt="jsonl", include_trace=True)).splitlines()

    assert json.loads(line)["trace"] == {"verdict": "pass", "timings_ms": {"guard": 0.2}}


def test_csv_export_has_a_header_and_defuses_spreadsheet_formulas(stores: Stores, log: Log) -> None:
    turn = log.turn(message="=HYPERLINK(\"http://evil\")", reply="Sorry, what do you mean?")
    assert turn.id is not None
    stores.review.add_label(turn.id, "policy_violation", "rita")

    text = "".join(stores.review.iter_export(fmt="csv"))

    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["id"] == turn.id and row["label"] == "policy_violation" and row["customer_id"] == "c1"
    assert row["message"] == "'=HYPERLINK(\"http://evil\")" and row["reply"] == "Sorry, what do you mean?"


def test_a_bad_export_format_or_filter_fails_before_anything_is_sent(stores: Stores) -> None:
    with pytest.raises(ValidationError):
        stores.review.iter_export(fmt="xlsx")
    with pytest.raises(ValidationError):
        stores.review.iter_export(TurnFilter(feedback="meh"))


def test_exporting_100k_turns_streams_them_in_bounded_memory(tmp_path: Path) -> None:
    stores = open_stores(f"sqlite:///{tmp_path / 'big.db'}")
    try:
        counts = bench_module().generate_log(stores.engine, 100_000, events=False, customers=50)
        assert counts["turns"] == 100_000

        tracemalloc.start()
        try:
            lines = 0
            for chunk in stores.review.iter_export(TurnFilter(), "csv", chunk_size=2000):
                lines += chunk.count("\n")
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        stores.close()

    assert lines == 100_000 + 1  # the header
    assert peak < 50 * 2**20, f"export peaked at {peak / 2**20:.1f} MiB"


def test_the_generated_log_covers_every_filter_and_figure(tmp_path: Path) -> None:
    stores = open_stores(f"sqlite:///{tmp_path / 'small.db'}")
    try:
        counts = bench_module().generate_log(stores.engine, 2000, days=10)
        total = stores.review.count()
        some = {str(f): stores.review.count(f) for f in (
            TurnFilter(feedback="down"), TurnFilter(offer_accepted=True), TurnFilter(handover=True),
            TurnFilter(author="agent"), TurnFilter(status="fallback"))}
    finally:
        stores.close()
    assert total == counts["turns"] == 2000 and counts["events"] > 0 and counts["labels"] > 0
    assert all(0 < n < total for n in some.values()), some


def test_timestamps_before_the_period_are_outside_it(stores: Stores, log: Log) -> None:
    early = log.turn(minutes=0)
    log.turn(minutes=60 * 24)
    assert early.created_at is not None

    assert ids(stores, end=early.created_at + timedelta(seconds=1)) == [early.id]


# -- languages ------------------------------------------------------------------------------------------------
def test_each_turn_shows_its_reply_language_and_the_log_filters_by_it(stores: Stores, log: Log) -> None:
    chinese = log.turn(message="我的订单到哪里了？", reply="您的订单已发货。", trace={"language": "zh"}).id
    english = log.turn(trace={"language": "en", "message_language": "en"}).id
    unrecorded = log.turn("c2", author="agent:bob").id  # an agent's reply records no language

    page = stores.review.search(limit=10)

    assert {t.id: t.language for t in page.items} == {chinese: "zh", english: "en", unrecorded: None}
    assert ids(stores, language="zh") == [chinese] and ids(stores, language="en") == [english]
    assert ids(stores, language="unknown") == [unrecorded]
    assert ids(stores, language="zh", customer_id="c2") == [] and ids(stores, language="fr") == []


def test_the_language_is_exported_and_a_malformed_one_is_refused(stores: Stores, log: Log) -> None:
    log.turn(trace={"language": "zh"})

    (line,) = "".join(stores.review.iter_export(TurnFilter(language="zh"), "jsonl")).splitlines()
    header, row = "".join(stores.review.iter_export(TurnFilter(language="zh"), "csv")).splitlines()

    assert json.loads(line)["language"] == "zh"
    assert header.split(",")[-1] == "language" and row.endswith(",zh")
    with pytest.raises(ValidationError, match="language"):
        stores.review.search(TurnFilter(language="zh' OR 1=1 --"))
