"""Log review and analytics at scale: each query's p50 next to a full-table count on the same database.

    python bench/analytics.py                       # 100k turns in a temp SQLite file
    python bench/analytics.py --pg                  # ... and in a fresh schema of the test PostgreSQL
    python bench/analytics.py --turns 20000 --try-indexes

Generates a synthetic log with bulk inserts (``generate_log``: customers, sessions, turns with traces,
offer_shown / offer feedback / thumbs events, hand-overs, labels), then times every ``AnalyticsStore``
figure over the default 30 days and over the whole 90, the reviewers' searches (first page with its total
count), and a streamed export of every turn. The reference is a full scan of the turns table that reads every
row, ``SELECT COUNT(latency_ms) FROM turns``, measured in the same run (SQLite answers a bare ``COUNT(*)``
from the b-tree's page counts without reading rows; it is printed too). ``--try-indexes`` times everything
again after ``ANALYZE``, then after adding candidate indexes (no migration adds them: the figures tell
whether one should).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.store import models as m  # noqa: E402
from assistant.store.handovers import HANDOVER_REASONS, HandoverRow  # noqa: E402
from assistant.store.stores import Stores, build_stores  # noqa: E402

INTENTS = ("policy", "product", "recommendation", "order_status", "order_action", "offers", "other", "greeting")
OFFERS = ("runner15", "trail20", "camp25", "gold2x", "brew10", "sound15")
SEGMENTS = ("gold/running-shoes", "silver/any", "standard/camping", "platinum/audio", "anonymous/any")
WORDS = ("refund return shipping order size jacket boots tent kettle delivery coupon exchange warranty "
         "colour price stock tracking parcel late damaged").split()
END_DAY = date(2026, 11, 29)


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate_log(engine: Engine, turns: int = 100_000, *, days: int = 90, end: date = END_DAY, seed: int = 7,
                 customers: int = 500, turns_per_session: int = 4, events: bool = True,
                 batch: int = 5000) -> dict[str, int]:
    """Bulk-insert a synthetic interaction log into a migrated, empty store; returns the row counts.

    Turns are spread evenly over ``days`` days ending with ``end``, ``turns_per_session`` a minute apart
    per session; memory holds one batch of rows at a time. With ``events=False`` only customers,
    sessions and turns are written (the export test)."""
    rng = random.Random(seed)
    since = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1) - timedelta(days=days)
    step = timedelta(days=days) / max(1, turns // turns_per_session + 1)
    counts = {"customers": customers, "sessions": 0, "turns": 0, "events": 0, "handovers": 0, "labels": 0}
    customer_ids = [f"C{i:06d}" for i in range(customers)]
    with engine.begin() as connection:
        connection.execute(insert(m.CustomerRow.__table__), [  # type: ignore[arg-type]
            {"id": c, "name": f"Shopper {c}", "tier": "gold", "points": 0, "attributes": {}, "created_at": since,
             "updated_at": since} for c in customer_ids])
    event_id = 0
    sessions_batch: list[dict[str, Any]] = []
    turn_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    handover_rows: list[dict[str, Any]] = []
    label_rows: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as connection:
            for table, rows in ((m.ChatSessionRow.__table__, sessions_batch), (m.TurnRow.__table__, turn_rows),
                                (m.EventRow.__table__, event_rows), (HandoverRow.__table__, handover_rows),
                                (m.TurnLabelRow.__table__, label_rows)):
                if rows:
                    connection.execute(insert(table), rows)  # type: ignore[arg-type]
                    rows.clear()

    for n in range(turns):
        position = n % turns_per_session
        if position == 0:
            session_id = uuid.UUID(int=rng.getrandbits(128)).hex
            customer_id = rng.choice(customer_ids) if rng.random() < 0.8 else None
            started = since + step * (n // turns_per_session)
            sessions_batch.append({"id": session_id, "customer_id": customer_id, "channel": "web",
                                   "created_at": started, "last_seen_at": started, "state": {}})
            counts["sessions"] += 1
        created = started + timedelta(minutes=position, seconds=rng.randint(0, 50))
        turn_id = uuid.UUID(int=rng.getrandbits(128)).hex
        intent = rng.choice(INTENTS)
        roll = rng.random()
        status = "ok" if roll < 0.85 else "fallback" if roll < 0.95 else "error"
        handover = rng.random() < 0.03
        words = " ".join(rng.sample(WORDS, 5))
        verdict = "handover" if handover else {"ok": "pass", "fallback": "fallback", "error": "error"}[status]
        turn_rows.append({
            "id": turn_id, "session_id": session_id, "customer_id": customer_id, "created_at": created,
            "message": f"Question about {words} #{n}", "reply": f"Answer on {words}.", "intent": intent,
            "verdict": verdict, "status": status, "handover": handover,
            "trace": {"timings_ms": {"guard": 0.1, "understand": 0.4, "tools": 3.2, "compose": 900.0},
                      "verdict": verdict, "problems": [] if status == "ok" else ["unsupported number"]},
            "latency_ms": rng.randint(300, 4000), "model": "bench",
            "author": "assistant" if rng.random() < 0.97 else "agent:alice"})
        counts["turns"] += 1
        if events:
            if handover:
                handover_rows.append({"id": uuid.UUID(int=rng.getrandbits(128)).hex, "session_id": session_id,
                                      "customer_id": customer_id, "turn_id": turn_id,
                                      "reason": rng.choice(HANDOVER_REASONS), "summary": "bench", "status": "resolved",
                                      "created_at": created, "resolved_at": created, "open_session_id": None})
                counts["handovers"] += 1
            if rng.random() < 0.15:
                event_id += 1
                shown_id, offer, segment = event_id, rng.choice(OFFERS), rng.choice(SEGMENTS)
                event_rows.append({"id": shown_id, "customer_id": customer_id, "session_id": session_id,
                                   "turn_id": turn_id, "kind": "offer_shown", "created_at": created,
                                   "payload": {"offer_id": offer, "code": offer.upper(), "segment": segment,
                                               "propensity": round(rng.random(), 3), "policy": "thompson"}})
                for kind, chance in (("offer_clicked", 0.3), ("offer_accepted", 0.12), ("offer_redeemed", 0.05)):
                    if rng.random() < chance:
                        event_id += 1
                        event_rows.append({"id": event_id, "customer_id": customer_id, "session_id": session_id,
                                           "turn_id": turn_id, "kind": kind,
                                           "created_at": created + timedelta(minutes=2),
                                           "payload": {"offer_id": offer, "shown_event_id": shown_id,
                                                       "segment": segment}})
            if rng.random() < 0.12:
                event_id += 1
                event_rows.append({"id": event_id, "customer_id": customer_id, "session_id": session_id,
                                   "turn_id": turn_id, "kind": "feedback", "created_at": created + timedelta(minutes=1),
                                   "payload": {"rating": "up" if rng.random() < 0.7 else "down", "note": ""}})
            if rng.random() < 0.02:
                label_rows.append({"turn_id": turn_id, "label": rng.choice(m.TURN_LABELS), "note": None,
                                   "reviewer": "bench", "created_at": created + timedelta(days=1)})
                counts["labels"] += 1
        if len(turn_rows) >= batch:
            flush()
    flush()
    counts["events"] = event_id
    if engine.dialect.name == "postgresql" and event_id:
        with engine.begin() as connection:  # explicit ids: move the sequence past them
            connection.execute(text("SELECT setval(pg_get_serial_sequence('events', 'id'), :n)"), {"n": event_id})
    return counts


# timing ---------------------------------------------------------------------------------------------------
def p50_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm the caches once
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


CANDIDATE_INDEXES = (
    "CREATE INDEX ix_bench_events_kind_created ON events (kind, created_at)",
    "CREATE INDEX ix_bench_events_turn_kind ON events (turn_id, kind)",
    "CREATE INDEX ix_bench_turns_status_created ON turns (status, created_at)",
)


def measure(stores: Stores, repeat: int) -> list[tuple[str, float]]:
    from assistant.store.review_queries import TurnFilter

    last = END_DAY
    figures: list[tuple[str, Callable[[], Any]]] = []
    for name in stores.analytics.figures:
        figures.append((f"analytics {name} (30 days)",
                        lambda n=name: stores.analytics.run(n, last - timedelta(days=29), last)))  # type: ignore[misc]
    figures.append(("analytics volume (90 days)", lambda: stores.analytics.volume(last - timedelta(days=89), last)))
    figures.append(("analytics offer_conversion (90 days)",
                    lambda: stores.analytics.offer_conversion(last - timedelta(days=89), last)))
    week = datetime(2026, 11, 23, tzinfo=UTC)
    for label, f in (("search: first page, no filter", TurnFilter()),
                     ("search: text 'damaged'", TurnFilter(text="damaged")),
                     ("search: one shopper", TurnFilter(customer_id="C000042")),
                     ("search: last 7 days, fallbacks", TurnFilter(start=week, status="fallback")),
                     ("search: thumbs down", TurnFilter(feedback="down")),
                     ("search: offer accepted", TurnFilter(offer_accepted=True)),
                     ("search: label incorrect", TurnFilter(label="incorrect")),
                     ("search: unlabelled, no feedback", TurnFilter(label="none", feedback="none"))):
        figures.append((label, lambda f=f: stores.review.search(f, 50)))  # type: ignore[misc]
    return [(label, p50_ms(run, repeat)) for label, run in figures]


def bench(stores: Stores, backend: str, repeat: int, try_indexes: bool) -> None:
    def scalar(sql: str) -> int:
        with stores.engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())

    count_star = p50_ms(lambda: scalar("SELECT COUNT(*) FROM turns"), repeat)
    reference = p50_ms(lambda: scalar("SELECT COUNT(latency_ms) FROM turns"), repeat)
    print(f"\n## {backend}: {scalar('SELECT COUNT(*) FROM turns'):,} turns; reference: full scan "
          f"SELECT COUNT(latency_ms) FROM turns p50 {reference:.1f} ms (SELECT COUNT(*): {count_star:.1f} ms)\n")
    rows = measure(stores, repeat)
    analyzed: list[tuple[str, float]] = []
    indexed: list[tuple[str, float]] = []
    if try_indexes:
        with stores.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        analyzed = measure(stores, repeat)
        with stores.engine.begin() as connection:
            for ddl in CANDIDATE_INDEXES:
                connection.execute(text(ddl))
            connection.execute(text("ANALYZE"))
        indexed = measure(stores, repeat)
        with stores.engine.begin() as connection:  # the export below runs on the schema as shipped
            for ddl in CANDIDATE_INDEXES:
                connection.execute(text(f"DROP INDEX {ddl.split()[2]}"))
    extra = " after ANALYZE | with candidate indexes |" if try_indexes else ""
    print("| query | p50 ms | ratio to the full scan |" + extra)
    print("| --- | --- | --- |" + (" --- | --- |" if try_indexes else ""))
    for i, (label, ms) in enumerate(rows):
        more = f" {analyzed[i][1]:.1f} | {indexed[i][1]:.1f} |" if try_indexes else ""
        print(f"| {label} | {ms:.1f} | {ms / reference:.1f}x |{more}")
    started = time.perf_counter()
    lines = sum(chunk.count("\n") for chunk in stores.review.iter_export(None, "jsonl"))
    seconds = time.perf_counter() - started
    print(f"\nexport: {lines:,} turns as JSON Lines in {seconds:.1f} s ({lines / seconds:,.0f} turns/s)")


def open_bench_stores(url: str) -> Stores:
    from assistant.store import build_engine, migrate

    engine = build_engine(url)
    migrate(engine)
    return build_stores(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (p50 of them)")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL (CONCIERGE_TEST_PG_URL)")
    parser.add_argument("--try-indexes", action="store_true", help="time again with candidate indexes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        stores = open_bench_stores(f"sqlite:///{Path(tmp) / 'bench.db'}")
        started = time.perf_counter()
        counts = generate_log(stores.engine, args.turns)
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s")
        bench(stores, "SQLite", args.repeat, args.try_indexes)
        stores.close()
    if args.pg:
        from sqlalchemy import make_url

        from assistant.store import build_engine

        admin_url = os.environ.get("CONCIERGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = build_engine(admin_url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
            stores = open_bench_stores(url.render_as_string(hide_password=False))
            started = time.perf_counter()
            counts = generate_log(stores.engine, args.turns)
            with stores.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
            print(f"generated {counts} in {time.perf_counter() - started:.1f} s")
            bench(stores, "PostgreSQL", args.repeat, args.try_indexes)
            stores.close()
        finally:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()


if __name__ == "__main__":
    main()
