"""Parsing and hashing of imported customer records (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.errors import ValidationError
from assistant.records import ConsentState
from assistant.store.customer_records import parse_customer_record, parse_timestamp, record_hash


def _record(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "c1",
        "name": "Ann",
        "orders": [
            {
                "id": "o1",
                "status": "shipped",
                "placed_at": "2024-05-01T10:00:00Z",
                "items": [{"product_id": "p1", "name": "Shoe", "quantity": 1, "unit_price": "19.90"}],
            }
        ],
    }
    record.update(fields)
    return record


def test_hash_ignores_key_order() -> None:
    assert record_hash({"a": 1, "b": {"x": 1, "y": 2}}) == record_hash({"b": {"y": 2, "x": 1}, "a": 1})


def test_hash_changes_when_a_value_changes() -> None:
    assert record_hash(_record(points=1)) != record_hash(_record(points=2))


def test_parsed_record_carries_its_hash() -> None:
    record = _record()

    assert parse_customer_record(record).source_hash == record_hash(record)


def test_unknown_fields_go_to_attributes() -> None:
    parsed = parse_customer_record(_record(loyalty_card="LC-1", favourite_store="Leeds"))

    assert parsed.attributes == {"loyalty_card": "LC-1", "favourite_store": "Leeds"}


def test_missing_consent_takes_the_schema_defaults() -> None:
    assert parse_customer_record(_record()).consent == ConsentState(personalization=True, marketing=False)


def test_a_timestamp_without_offset_is_taken_as_utc() -> None:
    assert parse_timestamp("2024-05-01T10:00:00", "x") == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_a_timestamp_with_offset_is_converted_to_utc() -> None:
    assert parse_timestamp("2024-05-01T12:00:00+02:00", "x") == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_a_malformed_timestamp_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="customer c1 joined_at"):
        parse_customer_record(_record(joined_at="yesterday"))


def test_numbers_written_as_text_are_converted() -> None:
    item = parse_customer_record(_record()).orders[0].items[0]

    assert item.unit_price == pytest.approx(19.9)


def test_a_fractional_quantity_is_a_validation_error() -> None:
    record = _record()
    record["orders"][0]["items"][0]["quantity"] = 1.5

    with pytest.raises(ValidationError, match="quantity"):
        parse_customer_record(record)


def test_preferences_repeated_in_another_case_are_kept_once() -> None:
    parsed = parse_customer_record(
        _record(preferences=[{"kind": "brand", "value": "Acme"}, {"kind": "brand", "value": " acme "}])
    )

    assert parsed.preferences == (("brand", "Acme"),)


def test_an_order_id_repeated_in_one_record_is_a_validation_error() -> None:
    record = _record()
    record["orders"].append(dict(record["orders"][0]))

    with pytest.raises(ValidationError, match="same order id"):
        parse_customer_record(record)


def test_a_record_without_id_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        parse_customer_record({"name": "Nobody"})


def test_a_missing_item_name_is_left_for_the_database_to_refuse() -> None:
    record = _record()
    del record["orders"][0]["items"][0]["name"]

    assert parse_customer_record(record).orders[0].items[0].name is None


def test_items_are_numbered_from_one_in_record_order() -> None:
    record = _record()
    record["orders"][0]["items"].append({"product_id": "p2", "name": "Sock", "quantity": 2, "unit_price": 3})

    items = parse_customer_record(record).orders[0].items

    assert [(i.position, i.product_id) for i in items] == [(1, "p1"), (2, "p2")]
