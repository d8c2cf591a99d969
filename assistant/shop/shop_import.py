"""Importers that the CLI, the admin API and first start share.

Catalogue and policies go to the knowledge store (``knowledge.catalog_import`` / ``knowledge.policy_import``);
customers with their orders go to the relational store, each customer in its own transaction. A *shop
folder* holds all of them in a fixed layout (see docs/formats.md), and the bundled demo shop is one; its
``shop.json`` (name, currency, locale) goes to the relational store too (``assistant.shop.shop_identity``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConciergeError
from assistant.shop.shop_identity import SHOP_FILE, import_shop_profile
from knowledge.catalog_import import import_catalog
from knowledge.importing import (
    RECORD_SUFFIXES,
    DuplicateTracker,
    ImportReport,
    RecordError,
    find_files,
    read_records,
    schema_errors,
)
from knowledge.knowledge_store import KnowledgeStore
from knowledge.policy_import import MAX_CHUNKS_PER_DOCUMENT, MAX_DOCUMENT_CHARS, import_policies

if TYPE_CHECKING:
    from assistant.store.customers import CustomerStore
    from assistant.store.offer_store import OfferStore
    from assistant.store.shop_profiles import ShopProfileStore

log = logging.getLogger(__name__)

Progress = Callable[[int, int], Any]


def import_customers(
    customers: CustomerStore,
    path: Path,
    *,
    origin: str | None = None,
    max_bytes: int = 20_000_000,
    progress: Progress | None = None,
) -> ImportReport:
    """Import customers with orders (JSONL or JSON). Each customer commits whole or not at all."""
    report = ImportReport("customers")
    try:
        files = find_files(path, tuple(s for s in RECORD_SUFFIXES if s != ".csv"))
    except FileNotFoundError as e:
        report.fail(RecordError(str(path), None, str(e)), whole_file=True)
        return report
    origin = origin or path.name
    tracker = DuplicateTracker()
    loaded = [list(read_records(f, list_key="customers", max_bytes=max_bytes, label=str(f))) for f in files]
    total, done = sum(len(records) for records in loaded), 0
    for records in loaded:
        for entry in records:
            done += 1
            if progress:
                progress(done, total)
            if isinstance(entry, RecordError):
                report.fail(entry, whole_file=entry.line is None or "rest of file" in entry.message)
                continue
            raw_id = entry.data.get("id")
            if raw_id not in (None, ""):
                duplicate = tracker.check(str(raw_id), f"{entry.file}:{entry.line}")
                if duplicate:
                    report.fail(RecordError(entry.file, entry.line, duplicate))
                    continue
            problems = schema_errors(entry.data, "customer")
            if problems:
                report.fail(RecordError(entry.file, entry.line, "; ".join(problems[:5])))
                continue
            try:
                report.count(customers.upsert_from_record(entry.data, origin))
            except ConciergeError as e:
                report.fail(RecordError(entry.file, entry.line, f"customer {raw_id!r} not stored: {e}"))
    if not report.incomplete:
        removed = sorted(customers.ids_for_origin(origin) - tracker.ids)
        for customer_id in removed:
            customers.delete(customer_id)
        report.deleted = len(removed)
    return report


def load_offers(path: Path) -> tuple[list[dict[str, Any]], list[RecordError]]:
    """Read and validate an offers catalogue; returns the valid offers and the errors.

    Besides the schema, an offer whose rules contradict each other (e.g. it starts after it expires)
    is refused: it could never be shown correctly.
    """
    from assistant.personalization.offer_rules import offer_problems

    offers: list[dict[str, Any]] = []
    errors: list[RecordError] = []
    tracker = DuplicateTracker()
    for entry in read_records(path, list_key="offers", max_bytes=5_000_000):
        if isinstance(entry, RecordError):
            errors.append(entry)
            continue
        problems = schema_errors(entry.data, "offer")
        if not problems:
            problems = offer_problems(entry.data)
        duplicate = tracker.check(str(entry.data.get("id")), f"{entry.file}:{entry.line}")
        if problems or duplicate:
            errors.append(RecordError(entry.file, entry.line, "; ".join(problems) or str(duplicate)))
            continue
        offers.append(entry.data)
    return offers, errors


def import_offers(store: OfferStore, path: Path, *, origin: str | None = None) -> ImportReport:
    """Validate an offers catalogue and store it (``OfferStore``); offers no longer listed are retired."""
    report = ImportReport("offers")
    if not path.is_file():
        report.fail(RecordError(str(path), None, "no such file"), whole_file=True)
        return report
    offers, errors = load_offers(path)
    for error in errors:
        report.fail(error, whole_file=error.line is None)
    origin = origin or path.name
    for offer in offers:
        report.count(store.upsert(offer, origin))
    if report.ok:  # a bad offer keeps its previous version: retire nothing when anything failed
        report.deleted = store.deactivate_missing(origin, {str(o["id"]) for o in offers})
    return report


@dataclass(frozen=True)
class ShopLayout:
    """Where each part of a shop folder is. Missing parts are skipped."""

    root: Path

    def _first(self, *names: str) -> Path | None:
        for name in names:
            candidate = self.root / name
            if candidate.exists():
                return candidate
        return None

    @property
    def catalog(self) -> Path | None:
        return self._first("products.jsonl", "products.json", "products.csv", "catalog")

    @property
    def policies(self) -> Path | None:
        return self._first("policies")

    @property
    def customers(self) -> Path | None:
        return self._first("customers.jsonl", "customers.json", "customers")

    @property
    def offers(self) -> Path | None:
        return self._first("offers.json")

    @property
    def shop(self) -> Path | None:
        return self._first(SHOP_FILE)


def _bundled() -> Path:
    import knowledge

    return Path(knowledge.__file__).resolve().parent


#: the bundled demo shops: the folders under ``knowledge/`` named ``demo*`` that hold a shop (``shop.json``), by
#: folder name, which is what ``app.demo_shop`` says
DEMO_SHOPS = tuple(sorted(p.name for p in _bundled().glob("demo*") if (p / SHOP_FILE).is_file()))


def demo_shop_path(shop: str = "demo") -> Path:
    """A bundled demo shop's folder under ``knowledge/`` (``demo``, the default, or ``demo_zh``); the
    ``app.demo_shop`` setting picks the one the app loads."""
    if shop not in DEMO_SHOPS:
        raise ValueError(f"no bundled demo shop {shop!r} (one of: {', '.join(DEMO_SHOPS)})")
    return _bundled() / shop


def ingest_shop(
    root: Path,
    knowledge: KnowledgeStore,
    customers: CustomerStore,
    offers: OfferStore | None = None,
    *,
    shop_profiles: ShopProfileStore | None = None,
    chunk_size: int = 900,
    overlap: int = 120,
    max_bytes: int = 20_000_000,
    max_document_chars: int = MAX_DOCUMENT_CHARS,
    max_chunks_per_document: int = MAX_CHUNKS_PER_DOCUMENT,
    progress_for: Callable[[str], Progress | None] = lambda _kind: None,
) -> list[ImportReport]:
    """Import every part of a shop folder, each under an origin named after the shop folder; with
    ``shop_profiles``, the shop's profile too (``shop.json``, or the neutral default for a whole shop).
    Policy documents are capped at ``max_document_chars`` characters and ``max_chunks_per_document`` chunks."""
    layout = ShopLayout(root)
    label = root.name
    reports: list[ImportReport] = []
    if layout.catalog:
        reports.append(import_catalog(knowledge, layout.catalog, origin=f"{label}/catalog", max_bytes=max_bytes,
                                      progress=progress_for("catalog")))
    if layout.policies:
        reports.append(import_policies(knowledge, layout.policies, origin=f"{label}/policies",
                                       chunk_size=chunk_size, overlap=overlap, max_bytes=max_bytes,
                                       max_chars=max_document_chars, max_chunks=max_chunks_per_document,
                                       progress=progress_for("policies")))
    if layout.customers:
        reports.append(import_customers(customers, layout.customers, origin=f"{label}/customers",
                                        max_bytes=max_bytes, progress=progress_for("customers")))
    if layout.offers and offers is not None:
        reports.append(import_offers(offers, layout.offers, origin=f"{label}/offers"))
    if shop_profiles is not None and (reports or layout.shop):
        def currencies() -> list[str]:  # this folder's catalogue, else everything imported
            found = knowledge.existing("products", f"{label}/catalog") if layout.catalog else {}
            metadata = found.values() if found else (m for _, m in knowledge.all_metadata("products"))
            return [str(m.get("currency") or "") for m in metadata]

        shop = import_shop_profile(shop_profiles, root, currencies, origin=label, whole_shop=bool(layout.catalog))
        if shop is not None:
            reports.append(shop)
    if not reports:
        report = ImportReport("shop")
        report.fail(RecordError(str(root), None, f"no products.*, policies/, customers.*, offers.json or {SHOP_FILE} "
                                                 "here"), whole_file=True)
        reports.append(report)
    return reports


def load_demo_if_empty(knowledge: KnowledgeStore, customers: CustomerStore, offers: OfferStore | None = None, *,
                       shop_profiles: ShopProfileStore | None = None, chunk_size: int = 900,
                       overlap: int = 120, max_document_chars: int = MAX_DOCUMENT_CHARS,
                       max_chunks_per_document: int = MAX_CHUNKS_PER_DOCUMENT,
                       demo_shop: str = "demo") -> list[ImportReport] | None:
    """First start: import the bundled demo shop ``demo_shop`` (``app.demo_shop``) when both stores are empty.
    None if nothing was done."""
    if any(knowledge.stats().values()) or customers.list_ids():
        return None
    log.info("importing the demo shop %r (first start only: later starts skip it)", demo_shop)
    return ingest_shop(demo_shop_path(demo_shop), knowledge, customers, offers, shop_profiles=shop_profiles,
                       chunk_size=chunk_size, overlap=overlap, max_document_chars=max_document_chars,
                       max_chunks_per_document=max_chunks_per_document)
