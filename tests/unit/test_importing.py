"""Reading import files: every bad record is reported with its file and line; the rest is read."""

from pathlib import Path

import pytest

from knowledge.importing import (
    DuplicateTracker,
    RecordError,
    SourceRecord,
    content_hash,
    find_files,
    read_records,
    schema_errors,
)


def _read(path: Path, max_bytes: int = 10_000_000) -> list[SourceRecord | RecordError]:
    return list(read_records(path, list_key="products", max_bytes=max_bytes))


def test_jsonl_bad_line_is_reported_and_others_read(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"id": "a"}\n{"id": \n\n{"id": "c"}\n', encoding="utf-8")

    out = _read(f)

    assert [r.data["id"] for r in out if isinstance(r, SourceRecord)] == ["a", "c"]
    errors = [r for r in out if isinstance(r, RecordError)]
    assert len(errors) == 1 and errors[0].line == 2 and "invalid JSON" in errors[0].message
    assert str(errors[0]).startswith(f"{f}:2:")


def test_json_array_records_keep_their_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text('[\n  {"id": "a"},\n  {"id": "b"},\n  7\n]\n', encoding="utf-8")

    out = _read(f)

    assert [(r.line, r.data["id"]) for r in out if isinstance(r, SourceRecord)] == [(2, "a"), (3, "b")]
    assert [(r.line, "expected a JSON object" in r.message) for r in out if isinstance(r, RecordError)] == [
        (4, True)
    ]


def test_json_object_with_list_key(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text('{"shop": "x",\n "products": [\n {"id": "a"}\n ]}', encoding="utf-8")

    out = _read(f)

    assert [(r.line, r.data["id"]) for r in out if isinstance(r, SourceRecord)] == [(3, "a")]


def test_csv_rows_carry_line_numbers_and_skip_blank_rows(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("id,name\na,Alpha\n,\nb,Beta\n", encoding="utf-8")

    out = _read(f)

    assert [(r.line, r.data["id"]) for r in out if isinstance(r, SourceRecord)] == [(2, "a"), (4, "b")]


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_bytes(b'{"id": "a"}\n{"id": "caf\xe9"}\n')

    out = _read(f)

    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert "line 2" in out[0].message and "UTF-8" in out[0].message


def test_oversized_file_is_refused_with_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"id": "a"}\n' * 1000, encoding="utf-8")

    out = _read(f, max_bytes=1000)

    assert len(out) == 1 and isinstance(out[0], RecordError) and "limit" in out[0].message


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no importable files"):
        find_files(tmp_path, (".jsonl",))


def test_schema_errors_name_the_missing_field() -> None:
    problems = schema_errors({"id": "x", "name": "n", "category": "c", "description": "d", "currency": "USD"},
                             "product")

    assert problems == ["missing required field 'price'"]


def test_schema_errors_name_the_bad_field() -> None:
    problems = schema_errors(
        {"id": "x", "name": "n", "category": "c", "description": "d", "price": "cheap", "currency": "USD"},
        "product",
    )

    assert len(problems) == 1 and problems[0].startswith("price:")


def test_duplicate_tracker_points_at_first_occurrence() -> None:
    tracker = DuplicateTracker()
    assert tracker.check("a", "f:1") is None

    message = tracker.check("a", "f:9")

    assert message is not None and "first seen at f:1" in message


def test_content_hash_ignores_key_order() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
