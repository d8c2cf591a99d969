"""Reading import files record by record, with errors that name the file and line.

Every importer (catalogue, policies, customers) reads through here so that bad input is reported the
same way everywhere: a bad record becomes a :class:`RecordError` with its file and line, and the rest
of the file still imports. A file that cannot be read at all (too large, not UTF-8, not JSON) becomes
one error for the whole file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

RECORD_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")


@dataclass(frozen=True)
class RecordError:
    """One record (or a whole file, when ``line`` is None) that could not be imported."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class SourceRecord:
    """One parsed record and where it came from."""

    file: str
    line: int
    data: dict[str, Any]


@dataclass(frozen=True)
class ImportNotice:
    """Something an import changed in what it stored: a ``quarantined`` passage (it read as an instruction to the
    assistant and was not stored) or a document ``cut`` short (over a size cap)."""

    file: str
    kind: str  # "quarantined" | "cut"
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind}: {self.message}"


@dataclass
class ImportReport:
    """What one import did. ``failed`` counts records (or files) that were not imported; ``notices`` lists the
    passages quarantined and the documents cut (the import still succeeded)."""

    kind: str
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list[RecordError] = field(default_factory=list)
    #: True when a file could not be read at all; pruning of removed records is then not safe.
    incomplete: bool = False
    notices: list[ImportNotice] = field(default_factory=list)

    def notice(self, file: str, kind: str, message: str) -> None:
        self.notices.append(ImportNotice(file, kind, message))

    def quarantine(self, file: str, passages: Iterable[str]) -> None:
        """Note the passages of ``file`` that were not stored because they read as instructions."""
        for passage in passages:
            self.notice(file, "quarantined", passage if len(passage) <= 300 else passage[:300] + "…")

    @property
    def quarantined(self) -> list[ImportNotice]:
        return [n for n in self.notices if n.kind == "quarantined"]

    @property
    def cut(self) -> list[ImportNotice]:
        return [n for n in self.notices if n.kind == "cut"]

    def fail(self, error: RecordError, *, whole_file: bool = False) -> None:
        self.failed += 1
        self.errors.append(error)
        if whole_file:
            self.incomplete = True

    def count(self, outcome: str) -> None:
        """Count one record's outcome: ``imported``, ``updated`` or ``unchanged``."""
        if outcome == "imported":
            self.imported += 1
        elif outcome == "updated":
            self.updated += 1
        elif outcome == "unchanged":
            self.skipped += 1
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown outcome {outcome!r}")

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        """One line of counts; then, if any, one line per quarantined passage and per document cut."""
        line = (
            f"{self.kind}: {self.imported} imported, {self.updated} updated, "
            f"{self.skipped} skipped (unchanged), {self.deleted} deleted, {self.failed} failed"
        )
        if not self.notices:
            return line
        line += f"; {len(self.quarantined)} suspect passage(s) quarantined, {len(self.cut)} document(s) cut"
        return "\n".join([line, *(f"  {n}" for n in self.notices[:50])]
                         + ([f"  ... and {len(self.notices) - 50} more"] if len(self.notices) > 50 else []))


class FileTooLarge(ValueError):
    pass


def check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise FileTooLarge(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
            "(raise knowledge.max_file_mb to import it, or split it)"
        )


def decode_text(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM); raise ValueError naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"line {line}: not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start}); "
            "save the file as UTF-8"
        ) from e


def content_hash(data: object) -> str:
    """A stable hash of a JSON-like value, used to skip unchanged records on re-import."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def find_files(path: Path, suffixes: Iterable[str]) -> list[Path]:
    """The importable files at ``path`` (a file, or a folder searched recursively), sorted."""
    wanted = tuple(s.lower() for s in suffixes)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        return [path]
    files = sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted and not p.name.startswith(".")
    )
    if not files:
        raise FileNotFoundError(f"{path}: no importable files ({', '.join(wanted)}) in this folder")
    return files


def read_records(
    path: Path, *, list_key: str, max_bytes: int, label: str | None = None
) -> Iterator[SourceRecord | RecordError]:
    """Yield each record of a JSONL, JSON or CSV file, or a RecordError for each bad one.

    JSON files may hold an array of objects or an object with the array under ``list_key``.
    CSV rows come as dicts of strings; converting them is the caller's job.
    """
    name = label or str(path)
    suffix = path.suffix.lower()
    try:
        check_size(path, max_bytes)
        text = decode_text(path.read_bytes())
    except (OSError, ValueError) as e:
        yield RecordError(name, None, str(e))
        return
    if suffix in (".jsonl", ".ndjson"):
        yield from _jsonl(name, text)
    elif suffix == ".json":
        yield from _json(name, text, list_key)
    elif suffix == ".csv":
        yield from _csv(name, text)
    else:
        yield RecordError(name, None, f"unsupported file type {suffix!r}: use .jsonl, .json or .csv")


def _jsonl(name: str, text: str) -> Iterator[SourceRecord | RecordError]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            yield RecordError(name, number, f"invalid JSON: {e.msg} (column {e.colno})")
            continue
        if not isinstance(value, dict):
            yield RecordError(name, number, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield SourceRecord(name, number, value)


_WS = re.compile(r"[\s,]*")


def _json(name: str, text: str, list_key: str) -> Iterator[SourceRecord | RecordError]:
    """Scan the top-level array element by element so each record keeps its line number."""
    decoder = json.JSONDecoder()
    start = _array_start(text, list_key)
    if start is None:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            yield RecordError(name, e.lineno, f"invalid JSON: {e.msg} (column {e.colno})")
            return
        if isinstance(value, dict):
            yield SourceRecord(name, 1, value)  # a single record
        else:
            yield RecordError(name, 1, f"expected an array of objects or {{{list_key!r}: [...]}}")
        return
    pos = start + 1
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            yield RecordError(name, text.count("\n") + 1, "invalid JSON: unterminated array")
            return
        if text[pos] == "]":
            return
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            # The rest of the array cannot be delimited reliably: stop at the first broken element.
            yield RecordError(name, e.lineno, f"invalid JSON: {e.msg} (column {e.colno}); rest of file skipped")
            return
        if isinstance(value, dict):
            yield SourceRecord(name, line, value)
        else:
            yield RecordError(name, line, f"expected a JSON object, got {type(value).__name__}")


def _array_start(text: str, list_key: str) -> int | None:
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    if stripped.startswith("["):
        return offset
    if stripped.startswith("{"):
        match = re.search(r'"' + re.escape(list_key) + r'"\s*:\s*\[', text)
        if match:
            return match.end() - 1
    return None


def _csv(name: str, text: str) -> Iterator[SourceRecord | RecordError]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        yield RecordError(name, 1, "CSV file has no header row")
        return
    try:
        for row in reader:
            if None in row:
                yield RecordError(name, reader.line_num, "more values than header columns")
                continue
            values = {k.strip(): (v if v is not None else "") for k, v in row.items() if k}
            if not any(v.strip() for v in values.values()):
                continue
            yield SourceRecord(name, reader.line_num, values)
    except csv.Error as e:
        yield RecordError(name, reader.line_num, f"invalid CSV: {e}; rest of file skipped")


@cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    text = resources.files("knowledge.schemas").joinpath(f"{schema_name}.schema.json").read_text("utf-8")
    schema = json.loads(text)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(data: dict[str, Any], schema_name: str) -> list[str]:
    """Human-readable problems of ``data`` against ``knowledge/schemas/<schema_name>.schema.json``."""
    problems = []
    for error in sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            problems.append(f"missing required field {error.message.split(' ')[0]}" + (f" in {where}" if where else ""))
        else:
            problems.append(f"{where or 'record'}: {error.message}")
    return problems


class DuplicateTracker:
    """Remembers where each id was first seen in one import run."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def check(self, record_id: str, where: str) -> str | None:
        first = self._seen.get(record_id)
        if first is not None:
            return f"duplicate id {record_id!r} (first seen at {first}); this one was not imported"
        self._seen[record_id] = where
        return None

    @property
    def ids(self) -> set[str]:
        return set(self._seen)
