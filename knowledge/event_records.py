"""Shop events (views, searches, carts, purchases, reviews) read from JSON Lines or CSV, one at a time.

Event files are large (a shop's month of clicks), so unlike the other importers this reader streams: it
never holds the file in memory, and its size is not capped by ``knowledge.max_file_mb``. Each record is
checked against ``knowledge/schemas/event.schema.json`` and its time parsed; a bad record becomes a
:class:`RecordError` with its line and the rest of the file still reads. The same checks serve
``POST /api/v1/events`` (:func:`check_event`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from knowledge.importing import DuplicateTracker, RecordError, schema_errors

EVENT_TYPES = ("product_view", "search", "add_to_cart", "purchase", "review")
EVENT_SUFFIXES = (".jsonl", ".ndjson", ".csv")
_INTEGERS = ("quantity", "rating")
_NUMBERS = ("price",)


@dataclass(frozen=True)
class ShopEvent:
    """One checked event; ``line`` is where it was read (the file's line, or the request's record number)."""

    id: str
    type: str
    customer_id: str
    at: datetime
    line: int
    product_id: str | None = None
    category: str | None = None
    brand: str | None = None
    query: str | None = None
    quantity: int | None = None
    price: float | None = None
    rating: int | None = None
    text: str | None = None
    order_id: str | None = None  # the shop's order a purchase belongs to (one purchase counts once)
    currency: str | None = None  # of ``price`` (None: the shop's currency)


def parse_time(value: str) -> datetime:
    """ISO 8601 with a zone (``Z`` or an offset); ValueError for a time without one."""
    at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"time {value!r} has no zone: add Z or an offset like +02:00")
    return at


def check_event(data: dict[str, object], line: int) -> ShopEvent | str:
    """The event in ``data``, or what is wrong with it (one message naming every problem)."""
    problems = schema_errors(data, "event")
    if problems:
        return "; ".join(problems)
    try:
        at = parse_time(str(data["at"]))
    except ValueError as e:
        return f"at: {e}"

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value).strip() or None if value is not None else None

    def number(key: str) -> float | None:
        value = data.get(key)
        return float(value) if isinstance(value, int | float) else None

    rating, quantity = number("rating"), number("quantity")
    return ShopEvent(id=str(data["id"]), type=str(data["type"]), customer_id=str(data["customer_id"]), at=at,
                     line=line, product_id=text("product_id"), category=text("category"), brand=text("brand"),
                     query=text("query"), quantity=int(quantity) if quantity is not None else None,
                     price=number("price"), rating=int(rating) if rating is not None else None, text=text("text"),
                     order_id=text("order_id"), currency=text("currency"))


def _from_csv(row: dict[str, str]) -> dict[str, object] | str:
    """A CSV row as the JSON record it stands for: empty cells absent, numbers as numbers."""
    record: dict[str, object] = {}
    for key, value in row.items():
        value = value.strip()
        if not value:
            continue
        if key in _INTEGERS or key in _NUMBERS:
            try:
                record[key] = int(value) if key in _INTEGERS else float(value)
            except ValueError:
                return f"{key}: {value!r} is not a number"
        else:
            record[key] = value
    return record


def _raw_records(path: Path) -> Iterator[tuple[int, dict[str, object] | str]]:
    """(line, record or problem) for each non-empty record of a JSONL or CSV file, read as a stream."""
    suffix = path.suffix.lower()
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        if suffix == ".csv":
            reader = csv.DictReader(f)
            if not reader.fieldnames:
                yield 1, "CSV file has no header row"
                return
            for row in reader:
                if None in row:
                    yield reader.line_num, "more values than header columns"
                    continue
                cells = {k.strip(): v or "" for k, v in row.items() if k}
                if any(v.strip() for v in cells.values()):
                    yield reader.line_num, _from_csv(cells)
            return
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                yield number, f"invalid JSON: {e.msg} (column {e.colno})"
                continue
            yield number, value if isinstance(value, dict) else f"expected a JSON object, got {type(value).__name__}"


def read_events(path: Path, label: str | None = None) -> Iterator[ShopEvent | RecordError]:
    """Each event of a ``.jsonl`` / ``.ndjson`` / ``.csv`` file, or a RecordError naming the file and line of a
    bad one (a duplicate id: the first one wins). A file that cannot be read is one error without a line."""
    name = label or str(path)
    if path.suffix.lower() not in EVENT_SUFFIXES:
        yield RecordError(name, None, f"unsupported file type {path.suffix!r}: use .jsonl, .ndjson or .csv")
        return
    seen = DuplicateTracker()
    try:
        for line, record in _raw_records(path):
            checked = check_event(record, line) if isinstance(record, dict) else record
            if isinstance(checked, str):
                yield RecordError(name, line, checked)
                continue
            duplicate = seen.check(checked.id, f"line {line}")
            yield RecordError(name, line, duplicate) if duplicate else checked
    except UnicodeDecodeError as e:
        yield RecordError(name, None, f"not valid UTF-8 ({e.reason}); save the file as UTF-8")
    except (OSError, csv.Error) as e:
        yield RecordError(name, None, f"cannot read the file: {e}")


def count_lines(path: Path) -> int:
    """Lines in a file (the progress bar's total), counted in blocks without decoding."""
    total = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            total += block.count(b"\n")
    return total
