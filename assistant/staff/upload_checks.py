"""What the admin's upload accepts: the kinds of shop data and their file types, safe file names, telling a file's
kind from its name and content, and why nothing in a staged file could be imported.

Everything here refuses before anything is stored: :class:`assistant.staff.admin.Admin` saves and imports a
file only after these checks pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from assistant.errors import ValidationError
from assistant.shop.shop_import import load_offers
from knowledge.catalog_import import from_csv_row
from knowledge.importing import RECORD_SUFFIXES, RecordError, read_records, schema_errors
from knowledge.loaders import POLICY_SUFFIXES, load_document

Kind = Literal["catalog", "policies", "customers", "offers"]
UploadKind = Literal["catalog", "policies", "customers", "offers", "auto"]
KINDS: tuple[Kind, ...] = ("catalog", "policies", "customers", "offers")
#: the file types each kind of shop data is read from (docs/formats.md)
SUFFIXES: dict[Kind, tuple[str, ...]] = {
    "catalog": RECORD_SUFFIXES,
    "policies": POLICY_SUFFIXES,
    "customers": (".jsonl", ".ndjson", ".json"),
    "offers": (".json", ".jsonl", ".ndjson"),
}
_MAX_NAME = 100


class UnsupportedFile(ValidationError):
    """An upload whose file type no importer reads (HTTP 415)."""


class UploadTooLarge(ValidationError):
    """An upload over ``knowledge.max_file_mb`` (HTTP 413)."""


def invalid(message: str, error: type[ValidationError] = ValidationError) -> ValidationError:
    """A refusal whose message is for the administrator as it is."""
    return error(message, user_message=message)


def safe_name(filename: str) -> str:
    """The file's own name (no folders), reduced to letters, digits, ``.``, ``-``, ``_``; at most 100 characters."""
    base = re.split(r"[/\\]", filename.strip())[-1]
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")
    if not clean or not Path(clean).stem:
        raise invalid(f"{filename!r} is not a usable file name")
    stem, suffix = Path(clean).stem, Path(clean).suffix
    return stem[: _MAX_NAME - len(suffix)] + suffix


_NAME_HINTS: tuple[tuple[str, Kind], ...] = (("customer", "customers"), ("offer", "offers"), ("product", "catalog"),
                                            ("catalog", "catalog"), ("polic", "policies"))


def detect_kind(name: str, data: bytes) -> Kind:
    """The kind of shop data a file holds: policy documents by type, then a hint in the name, then its first record."""
    suffix = Path(name).suffix.lower()
    if suffix in POLICY_SUFFIXES:
        return "policies"
    if suffix == ".csv":
        return "catalog"
    lowered = name.lower()
    for hint, kind in _NAME_HINTS:
        if hint in lowered and suffix in SUFFIXES[kind]:
            return kind
    first = _first_record(data, suffix)
    if first is not None:
        if "eligibility" in first or "code" in first:
            return "offers"
        if "price" in first or "category" in first:
            return "catalog"
        if {"orders", "email", "tier", "consent"} & set(first):
            return "customers"
    raise invalid(f"{name}: cannot tell whether this is a catalogue, customers or offers file: choose the kind")


def _first_record(data: bytes, suffix: str) -> dict[str, object] | None:
    try:
        text = data.decode("utf-8-sig")
        if suffix in (".jsonl", ".ndjson"):
            line = next((x for x in text.splitlines() if x.strip()), "")
            value: object = json.loads(line)
        else:
            value = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(value, dict):
        lists = [v for k, v in value.items() if k in ("products", "customers", "offers") and isinstance(v, list)]
        value = lists[0] if lists else value
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, dict) else None


def unimportable(kind: Kind, path: Path, max_bytes: int,
                 used_codes: Callable[[], Mapping[str, str]]) -> list[RecordError]:
    """Why nothing in the staged file can be imported; empty when at least one record (or the document) can be.

    ``used_codes`` gives the stored offers' codes (code -> offer id): an offers file that reuses another
    offer's code is refused whole."""
    if kind == "policies":
        try:
            load_document(path, path.name, max_bytes)
        except (OSError, ValueError) as e:
            return [RecordError(path.name, None, str(e))]
        return []
    if kind == "offers":
        offers, offer_errors = load_offers(path)
        if not offers:
            return offer_errors or [RecordError(path.name, None, "no offers in the file")]
        codes = used_codes()
        return [RecordError(path.name, None, f"offer {o['id']!r}: code {o['code']} is already used by offer "
                            f"{codes[str(o['code'])]!r}; nothing in this file was imported")
                for o in offers if codes.get(str(o["code"]), str(o["id"])) != str(o["id"])]
    schema, list_key = ("product", "products") if kind == "catalog" else ("customer", "customers")
    errors: list[RecordError] = []
    for entry in read_records(path, list_key=list_key, max_bytes=max_bytes, label=path.name):
        if isinstance(entry, RecordError):
            errors.append(entry)
            continue
        try:
            data = from_csv_row(entry.data) if path.suffix.lower() == ".csv" else entry.data
        except ValueError as e:
            errors.append(RecordError(entry.file, entry.line, str(e)))
            continue
        problems = schema_errors(data, schema)
        if not problems:
            return []
        errors.append(RecordError(entry.file, entry.line, "; ".join(problems[:5])))
    return errors or [RecordError(path.name, None, f"no {list_key} in the file")]
