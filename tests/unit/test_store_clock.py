"""Clock, id factories and the column types' value rules (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from assistant.errors import ValidationError
from assistant.store.clock import CounterIds, FixedClock, UuidIds
from assistant.store.columns import UTCDateTime, require_json, to_json_safe


def test_fixed_clock_moves_only_when_advanced() -> None:
    clock = FixedClock(datetime(2025, 1, 1, tzinfo=UTC))

    clock.advance(minutes=5)

    assert clock.now() == datetime(2025, 1, 1, 0, 5, tzinfo=UTC)


def test_fixed_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2025, 1, 1))


def test_counter_ids_are_predictable_and_sort_in_creation_order() -> None:
    ids = CounterIds("t")

    made = [ids.new_id() for _ in range(11)]

    assert made[:2] == ["t000001", "t000002"] and sorted(made) == made


def test_uuid_ids_are_32_hex_characters() -> None:
    new_id = UuidIds().new_id()

    assert len(new_id) == 32 and int(new_id, 16) >= 0


def test_utc_datetime_refuses_naive_values() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2025, 1, 1), sqlite.dialect())


def test_utc_datetime_stores_naive_utc_text_on_sqlite() -> None:
    local = datetime(2025, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    assert UTCDateTime().process_bind_param(local, sqlite.dialect()) == datetime(2025, 1, 1, 12, 0)


def test_utc_datetime_keeps_the_zone_on_postgresql() -> None:
    local = datetime(2025, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    assert UTCDateTime().process_bind_param(local, postgresql.dialect()) == datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_utc_datetime_reads_sqlite_values_back_as_utc() -> None:
    value = UTCDateTime().process_result_value(datetime(2025, 1, 1, 12, 0), sqlite.dialect())

    assert value == datetime(2025, 1, 1, 12, 0, tzinfo=UTC) and value.tzinfo is UTC


def test_require_json_refuses_objects_json_cannot_hold() -> None:
    with pytest.raises(ValidationError, match="trace"):
        require_json({"at": datetime(2025, 1, 1)}, "a turn's trace")


def test_to_json_safe_turns_unknown_values_into_text_and_nan_into_null() -> None:
    value = {"at": datetime(2025, 1, 1, tzinfo=UTC), "score": float("nan"), 1: ("a", {"b"}), "obj": Path("x")}

    assert to_json_safe(value) == {"at": "2025-01-01T00:00:00+00:00", "score": None, "1": ["a", ["b"]], "obj": "x"}
