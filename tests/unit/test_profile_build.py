"""``concierge profiles build``: the DuckDB build over a small generated event file gives the affinities the
events imply (weight by type, halved per half-life of age, noisy-or), agrees with learning event by event,
writes them as preferences with their provenance, and its SQL runs unchanged on PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from assistant.components import Components
from assistant.personalization.event_intake import build_event_intake
from assistant.personalization.profile_build import affinity_sql, build_profiles, run_profile_build
from assistant.store import build_engine
from assistant.store.affinity_writes import Affinity, AffinityWriteCounts
from tests.unit.event_shop import PRODUCTS, event, inferred, make_shop, write_jsonl
from ui.cli.cli_context import CliContext
from ui.cli.main import app

AS_OF = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CATALOG = [(p["id"], p["category"], p["brand"]) for p in PRODUCTS]


def at(days_before: float, base: datetime = AS_OF) -> str:
    return (base - timedelta(days=days_before)).isoformat()


def small_file(path: Path, base: datetime = AS_OF) -> Path:
    return write_jsonl(path, [
        event("a1", "purchase", "S1", at(1, base), product_id="G-1"),
        event("a2", "add_to_cart", "S1", at(0, base), product_id="G-1"),
        event("a3", "product_view", "S1", at(30, base), product_id="W-1"),
        event("b1", "review", "S2", at(0, base), product_id="W-2", rating=2),
        event("b2", "review", "S2", at(30, base), product_id="W-2", rating=5),
        event("b3", "purchase", "S2", at(0, base), product_id="UNLISTED", category="gizmos", brand="Initech"),
        event("b4", "search", "S2", at(0, base), query="widgets"),
        "{broken",
    ])


def collect(path: Path) -> tuple[dict[tuple[str, str, str], Affinity], int]:
    rows: list[Affinity] = []

    def keep(items: Iterator[Affinity]) -> AffinityWriteCounts:
        rows.extend(items)
        return AffinityWriteCounts()

    summary = run_profile_build(path, CATALOG, as_of_s=AS_OF.timestamp(), half_life_days=30.0, write=keep)
    return {(r.customer_id, r.kind, r.value): r for r in rows}, summary.rejected


def test_the_build_gives_the_affinities_the_events_imply(tmp_path: Path) -> None:
    found, rejected = collect(small_file(tmp_path / "events.jsonl"))

    purchase_a_day_ago = 0.4 * 0.5 ** (1 / 30)
    expected = {
        ("S1", "category", "gadgets"): 1 - (1 - purchase_a_day_ago) * (1 - 0.25),
        ("S1", "category", "widgets"): 0.1 * 0.5,  # a view 30 days old
        ("S1", "brand", "Acme"): 1 - (1 - purchase_a_day_ago) * (1 - 0.25) * (1 - 0.1 * 0.5),  # all three are Acme
        ("S2", "category", "widgets"): 0.4 * 0.5,  # the 5-star review a half-life ago; the 2-star one adds nothing
        ("S2", "brand", "Globex"): 0.4 * 0.5,
        ("S2", "category", "gizmos"): 0.4,  # named by the event itself, not in the catalogue
        ("S2", "brand", "Initech"): 0.4,
    }
    assert {k: round(v.confidence, 4) for k, v in found.items()} == {k: round(v, 4) for k, v in expected.items()}
    assert found[("S1", "brand", "Acme")].last_event == "a2"  # the latest event behind it
    assert rejected == 1


def test_the_build_keeps_the_top_n_per_shopper_and_kind(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "events.jsonl", [
        event(f"e{i}", "purchase", "S1", at(0), product_id="X", category=f"cat-{i}", brand=None)
        for i in range(8)] + [event("again", "purchase", "S1", at(0), product_id="X", category="cat-7")])

    rows: list[Affinity] = []

    def keep(items: Iterator[Affinity]) -> AffinityWriteCounts:
        rows.extend(items)
        return AffinityWriteCounts()

    run_profile_build(path, [], as_of_s=AS_OF.timestamp(), half_life_days=30.0, top_n=3, write=keep)

    assert [r.value for r in rows] == ["cat-7", "cat-0", "cat-1"]


def test_a_csv_event_file_builds_the_same(tmp_path: Path) -> None:
    csv_path = tmp_path / "events.csv"
    csv_path.write_text("id,type,customer_id,at,product_id,rating\n"
                        f"a1,purchase,S1,{at(1)},G-1,\n"
                        f"a2,add_to_cart,S1,{at(0)},G-1,\n"
                        f"a3,product_view,S1,{at(30)},W-1,\n", encoding="utf-8")
    from_json, _ = collect(small_file(tmp_path / "events.jsonl"))

    from_csv, rejected = collect(csv_path)

    assert rejected == 0
    assert {k: round(v.confidence, 6) for k, v in from_csv.items()} == \
        {k: round(v.confidence, 6) for k, v in from_json.items() if k[0] == "S1"}


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Components]:
    components = make_shop(tmp_path / "one")
    yield components
    components.stores.close()


def test_the_build_writes_preferences_that_match_learning_event_by_event(shop: Components, tmp_path: Path) -> None:
    other = make_shop(tmp_path / "two")
    try:
        path = small_file(tmp_path / "events.jsonl", base=datetime.now(UTC))
        build_event_intake(other).import_file(path)

        summary = build_profiles(shop, path)

        built = inferred(shop, "S1")
        learned = inferred(other, "S1")
        assert set(built) == set(learned)
        assert all(built[k][0] == pytest.approx(learned[k][0], abs=0.01) for k in built)
        assert built[("brand", "Acme")][1] == "event:a2"
        assert summary.written is not None and summary.written.written == 7
    finally:
        other.stores.close()


def test_running_the_build_again_changes_nothing_and_respects_the_shopper(shop: Components, tmp_path: Path) -> None:
    path = small_file(tmp_path / "events.jsonl", base=datetime.now(UTC))
    build_profiles(shop, path)
    first = inferred(shop, "S1")
    gadgets = next(p for p in shop.stores.customers.list_preferences("S1") if p.value == "gadgets")
    shop.stores.customers.remove_preference("S1", gadgets.id)
    shop.stores.customers.set_consent("S2", "personalization", False, "test")

    summary = build_profiles(shop, path)

    assert summary.written is not None
    assert (summary.written.written, summary.written.refused, summary.written.no_consent) == (0, 1, 1)
    assert {k: v for k, v in inferred(shop, "S1").items()} == {k: v for k, v in first.items()
                                                               if k != ("category", "gadgets")}


def test_the_cli_prints_a_summary_and_the_sql(shop: Components, tmp_path: Path) -> None:
    path = small_file(tmp_path / "events.jsonl", base=datetime.now(UTC))

    result = CliRunner().invoke(app, ["profiles", "build", str(path)], obj=CliContext(components_built=shop))
    sql = CliRunner().invoke(app, ["profiles", "build", str(path), "--print-sql"],
                             obj=CliContext(components_built=shop))

    assert result.exit_code == 0, result.output
    assert "profiles: 7 events read (1 rejected), 7 affinities" in result.stdout
    assert "7 preferences written" in result.stdout
    assert sql.exit_code == 0 and "FIRST_VALUE(event_id) OVER" in sql.stdout and "read_json" not in sql.stdout


@pytest.mark.postgres
def test_the_same_sql_runs_unchanged_on_postgresql(postgres_admin_url: str, tmp_path: Path) -> None:
    """The build's SQL is standard: PostgreSQL (not DuckDB) gives the same affinities over the same tables."""
    expected, _ = collect(small_file(tmp_path / "events.jsonl"))
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()[:-1]]
    schema = f"build_{int(time.time() * 1000)}"
    engine = build_engine(postgres_admin_url)
    try:
        with engine.begin() as db:
            db.execute(text(f'CREATE SCHEMA "{schema}"'))
            db.execute(text(f'SET search_path TO "{schema}"'))
            db.execute(text("CREATE TABLE events (event_id TEXT, event_type TEXT, customer_id TEXT, "
                            "at_s DOUBLE PRECISION, product_id TEXT, category TEXT, brand TEXT, rating INTEGER)"))
            db.execute(text("CREATE TABLE products (product_id TEXT, category TEXT, brand TEXT)"))
            db.execute(text("INSERT INTO events VALUES (:i, :t, :c, :a, :p, :cat, :b, :r)"), [
                {"i": e["id"], "t": e["type"], "c": e["customer_id"],
                 "a": datetime.fromisoformat(e["at"]).timestamp(), "p": e.get("product_id"),
                 "cat": e.get("category"), "b": e.get("brand"), "r": e.get("rating")} for e in lines])
            db.execute(text("INSERT INTO products VALUES (:p, :c, :b)"),
                       [{"p": p, "c": c, "b": b} for p, c, b in CATALOG])
            rows = db.execute(text(affinity_sql(AS_OF.timestamp(), 30.0))).all()
            db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        engine.dispose()

    got = {(r[0], r[1], r[2]): (round(float(r[3]), 6), r[5]) for r in rows}
    assert got == {k: (round(v.confidence, 6), v.last_event) for k, v in expected.items()}


def test_rows_of_a_build_run_elsewhere_load_as_preferences(shop: Components, tmp_path: Path) -> None:
    found, _ = collect(small_file(tmp_path / "events.jsonl"))
    out = tmp_path / "affinities.jsonl"  # what Spark's DataFrame.write.json gives: one object per row, any order
    write_jsonl(out, [{"customer_id": r.customer_id, "pref_kind": r.kind, "pref_value": r.value,
                       "confidence": r.confidence, "evidence": 1, "last_event": r.last_event}
                      for r in sorted(found.values(), key=lambda r: r.value)])

    result = CliRunner().invoke(app, ["profiles", "load", str(out)], obj=CliContext(components_built=shop))

    assert result.exit_code == 0, result.output
    assert "profiles: 7 preferences written" in result.stdout
    assert inferred(shop, "S2")[("brand", "Initech")] == (pytest.approx(0.4, abs=0.001), "event:b3")
