"""Catalogue import: products from JSONL, JSON or CSV into the ``products`` collection.

One Chroma document per product: the text a shopper's question is matched against, plus metadata for
filters (category, brand, price, in stock, tags) and the whole normalized record for product cards.
Re-import is incremental: unchanged products (same content hash) are not re-embedded, changed ones are
updated, and products that disappeared from the same import origin are deleted.

Text is what a shopper would see: a description written in HTML keeps only its visible text
(``knowledge.visible_html``), names and descriptions are normalised, and the sentences of a description that read
as instructions to the assistant are dropped and listed in the report (``knowledge.passage_guard``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.importing import (
    RECORD_SUFFIXES,
    DuplicateTracker,
    ImportReport,
    RecordError,
    SourceRecord,
    content_hash,
    find_files,
    read_records,
    schema_errors,
)
from knowledge.knowledge_store import IndexItem, KnowledgeStore
from knowledge.passage_guard import normalize_text, quarantine_passages

Progress = Callable[[int, int], Any]


def _number(value: str, field: str, cast: type[float] | type[int]) -> float | int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return cast(float(value)) if cast is int else cast(value)
    except ValueError as e:
        raise ValueError(f"{field}: {value!r} is not a number") from e


def from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """Convert a CSV row (all strings) into a catalogue record. See docs/formats.md."""
    record: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, value in row.items():
        if key.startswith("attributes."):
            if value.strip():
                attributes[key.split(".", 1)[1]] = value.strip()
        elif key in ("price", "rating"):
            number = _number(value, key, float)
            if number is not None:
                record[key] = number
        elif key in ("stock", "review_count"):
            number = _number(value, key, int)
            if number is not None:
                record[key] = number
        elif key == "tags":
            record["tags"] = [t.strip() for t in re.split(r"[|;]", value) if t.strip()]
        elif key in ("attributes", "variants"):
            if value.strip():
                try:
                    record[key] = json.loads(value)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{key}: not valid JSON ({e.msg})") from e
        elif value.strip():
            record[key] = value.strip()
    if attributes:
        record.setdefault("attributes", {}).update(attributes)
    return record


def normalize(record: dict[str, Any]) -> dict[str, Any]:
    """Fill derived fields: total stock and whether anything is in stock, price range."""
    out = dict(record)
    out["id"] = str(out["id"])
    variants = out.get("variants") or []
    if variants:
        out["stock"] = sum(int(v.get("stock") or 0) for v in variants)
        prices = [float(v["price"]) for v in variants if v.get("price") is not None] or [float(out["price"])]
        prices.append(float(out["price"]))
        out["min_price"], out["max_price"] = min(prices), max(prices)
    else:
        out["min_price"] = out["max_price"] = float(out["price"])
    out["in_stock"] = int(out.get("stock") or 0) > 0
    out["tags"] = [str(t).strip().lower() for t in out.get("tags") or [] if str(t).strip()]
    return out


def product_text(p: dict[str, Any]) -> str:
    """What the product's embedding is computed from: name, brand, category, description, options."""
    parts = [p["name"]]
    if p.get("brand"):
        parts.append(f"Brand: {p['brand']}")
    parts.append(f"Category: {p['category']}")
    parts.append(p["description"])
    options: dict[str, set[str]] = {}
    for variant in p.get("variants") or []:
        for key, value in (variant.get("options") or {}).items():
            options.setdefault(str(key), set()).add(str(value))
    for key, values in sorted(options.items()):
        parts.append(f"{key.capitalize()}: {', '.join(sorted(values))}")
    if p.get("tags"):
        parts.append("Tags: " + ", ".join(p["tags"]))
    attributes = p.get("attributes") or {}
    if attributes:
        parts.append("; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in attributes.items()))
    return "\n".join(parts)


def product_item(p: dict[str, Any], origin: str, source: str, digest: str) -> IndexItem:
    metadata: dict[str, Any] = {
        "product_id": p["id"],
        "name": p["name"],
        "brand": p.get("brand") or "",
        "category": p["category"],
        "price": float(p["min_price"]),
        "max_price": float(p["max_price"]),
        "currency": p["currency"],
        "in_stock": bool(p["in_stock"]),
        "stock": int(p.get("stock") or 0),
        "rating": float(p.get("rating") or 0.0),
        "tags": ",".join(p["tags"]),
        "origin": origin,
        "source": source,
        "hash": digest,
        "record": json.dumps(p, ensure_ascii=False, sort_keys=True),
    }
    for tag in p["tags"]:
        metadata[f"tag_{tag}"] = True
    return IndexItem(id=p["id"], text=product_text(p), metadata=metadata)


_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*\b[^>]*>")


def visible_description(text: str) -> str:
    """A description's visible text: HTML (if it is HTML) without its hidden parts and tags, normalised."""
    if _HTML_TAG.search(text):
        from bs4 import BeautifulSoup

        from knowledge.visible_html import remove_hidden

        soup = BeautifulSoup(text, "html.parser")
        remove_hidden(soup)
        text = " ".join(soup.get_text(" ", strip=True).split())
    return normalize_text(text)


def _parse(record: SourceRecord, csv_file: bool) -> tuple[dict[str, Any], list[str]]:
    """The normalised product and the passages of its description that were quarantined."""
    data = from_csv_row(record.data) if csv_file else record.data
    problems = schema_errors(data, "product")
    if problems:
        raise ValueError("; ".join(problems[:5]))
    product = normalize(data)
    product["name"] = normalize_text(str(product["name"])).strip()
    description, dropped = quarantine_passages(visible_description(str(product["description"])))
    product["description"] = re.sub(r"[ \t]{2,}", " ", description).strip()
    return product, dropped


def import_catalog(
    store: KnowledgeStore,
    path: Path,
    *,
    origin: str | None = None,
    max_bytes: int = 20_000_000,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a catalogue file or folder. ``origin`` labels the import set (default: its name)."""
    report = ImportReport("catalog")
    try:
        files = find_files(path, RECORD_SUFFIXES)
    except FileNotFoundError as e:
        report.fail(RecordError(str(path), None, str(e)), whole_file=True)
        return report
    origin = origin or path.name
    existing = store.existing("products", origin)
    tracker = DuplicateTracker()
    pending: list[tuple[IndexItem, str, str]] = []  # item, outcome, where

    def flush() -> None:
        if not pending:
            return
        try:
            store.upsert("products", [item for item, _, _ in pending])
            for _, outcome, _ in pending:
                report.count(outcome)
        except Exception as e:  # a failed batch: each of its records is reported, none half-written
            for item, _, where in pending:
                file, _, line = where.rpartition(":")
                report.fail(RecordError(file, int(line), f"product {item.id!r} not stored: {e}"))
        pending.clear()

    loaded = [
        (file, file.name if file == path else str(file.relative_to(path)),
         list(read_records(file, list_key="products", max_bytes=max_bytes, label=str(file))))
        for file in files
    ]
    total, done = sum(len(records) for _, _, records in loaded), 0
    for file, source, records in loaded:
        for entry in records:
            done += 1
            if progress:
                progress(done, total)
            if isinstance(entry, RecordError):
                report.fail(entry, whole_file=entry.line is None or "rest of file" in entry.message)
                continue
            where = f"{entry.file}:{entry.line}"
            raw_id = entry.data.get("id")
            if raw_id not in (None, ""):
                duplicate = tracker.check(str(raw_id), where)
                if duplicate:
                    report.fail(RecordError(entry.file, entry.line, duplicate))
                    continue
            try:
                product, dropped = _parse(entry, file.suffix.lower() == ".csv")
            except ValueError as e:
                report.fail(RecordError(entry.file, entry.line, str(e)))
                continue
            report.quarantine(f"{source}:{entry.line} (product {product['id']})", dropped)
            digest = content_hash(product)
            old = existing.get(product["id"])
            if old is not None and old.get("hash") == digest:
                report.count("unchanged")
                continue
            pending.append((product_item(product, origin, source, digest), "updated" if old else "imported", where))
            if len(pending) >= store.batch_size:
                flush()
    flush()
    if not report.incomplete:
        # records that failed validation keep their old version: only ids absent from the files go
        removed = [pid for pid in existing if pid not in tracker.ids]
        store.delete("products", removed)
        report.deleted = len(removed)
    return report

