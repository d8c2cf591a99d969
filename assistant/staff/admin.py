"""The admin back end: upload and re-ingest shop data, collections and counts, offers, settings with secrets masked.

A thin layer over the importers the CLI uses (``knowledge.catalog_import``, ``knowledge.policy_import``,
``assistant.shop.shop_import``), for the admin API (``ui/admin_api.py``) and the admin view. Uploaded files
are kept under
``<data_dir>/uploads/<kind>/``; each file is its own import set (origin ``uploads/<kind>/<name>``), so uploading
a file again skips its unchanged records, updates changed ones and removes the ones no longer in it, and never
touches other files' records. A file of an unsupported type, too large, or with nothing importable in it is
refused before anything is stored or replaced on disk.

Long work reports progress as ``progress(fraction, description)`` with ``fraction`` in 0..1: a ``gr.Progress``
can be passed as it is.

What an upload may be is checked in :mod:`assistant.staff.upload_checks`, offers are viewed, merged and checked
in :mod:`assistant.staff.offer_editing`; their public names are importable from here too.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.components import Components
from assistant.errors import ConflictError, NotFoundError
from assistant.personalization.offer_rules import offer_time
from assistant.shop.import_summary import (
    ImportProblem,
    ImportResult,
    ImportSummary,
    ProgressCallback,
    ProgressSteps,
)
from assistant.shop.shop_import import (
    ShopLayout,
    demo_shop_path,
    import_customers,
    import_offers,
    ingest_shop,
)
from assistant.staff.masking import mask_secrets
from assistant.staff.offer_editing import AdminOffer, OfferStatus, admin_offer, check_offer, merge_offer
from assistant.staff.upload_checks import (
    KINDS,
    SUFFIXES,
    Kind,
    UnsupportedFile,
    UploadKind,
    UploadTooLarge,
    detect_kind,
    invalid,
    safe_name,
    unimportable,
)
from knowledge.catalog_import import import_catalog
from knowledge.knowledge_store import KINDS as COLLECTION_KINDS
from knowledge.policy_import import import_policies

__all__ = ["ADMIN_ORIGIN", "KINDS", "SUFFIXES", "Admin", "AdminOffer", "CollectionCount", "Kind", "OfferStatus",
           "Overview", "UnsupportedFile", "UploadKind", "UploadTooLarge", "detect_kind", "merge_offer", "safe_name"]

ADMIN_ORIGIN = "admin"  # the import set of offers created by hand
_IMPORT_LOCK = threading.Lock()  # one import at a time in this process: two uploads never interleave on a set


@dataclass(frozen=True)
class CollectionCount:
    kind: str
    name: str  # the Chroma collection
    count: int  # documents: one per product, one per policy chunk
    by_origin: dict[str, int] = field(default_factory=dict)  # import set -> documents


@dataclass(frozen=True)
class Overview:
    collections: tuple[CollectionCount, ...]
    products: int
    policy_chunks: int
    policy_documents: int
    customers: int
    offers_active: int
    offers_total: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- the admin -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Upload:
    name: str
    kind: Kind
    data: bytes


class Admin:
    """What the shop's administrator does: shop data in, collections and counts, offers, settings."""

    def __init__(self, components: Components, *, now: Callable[[], datetime] | None = None) -> None:
        self.components = components
        self.settings = components.settings
        self._now = now or (lambda: datetime.now(UTC))

    @property
    def upload_root(self) -> Path:
        return self.settings.app.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.settings.knowledge.max_file_mb * 1_000_000)

    # uploads ---------------------------------------------------------------------------------------------------
    def upload(self, files: Sequence[tuple[str, bytes]], kind: UploadKind = "auto",
               progress: ProgressCallback | None = None) -> ImportSummary:
        """Save and import files of one kind (``auto``: told by name and content).

        Raises ``UnsupportedFile``, ``UploadTooLarge`` or ``ValidationError`` (no files, empty file, kind not
        recognised, the same name twice) before anything is saved. A file with nothing importable in it is
        ``rejected`` in the summary and changes nothing; bad records are reported with file and line while the
        rest imports.
        """
        if not files:
            raise invalid("no files to upload: choose at least one file")
        if kind != "auto" and kind not in KINDS:
            raise invalid(f"unknown kind {kind!r}: choose {', '.join(KINDS)} or auto")
        planned = [self._plan(name, data, kind) for name, data in files]
        names = Counter((p.kind, p.name) for p in planned)
        twice = sorted(name for (_, name), n in names.items() if n > 1)
        if twice:
            raise invalid(f"the same file name twice in one upload: {', '.join(twice)}")
        steps = ProgressSteps(progress, len(planned))
        with _IMPORT_LOCK:
            results = [self._import_upload(p, steps.unit(i, f"{p.kind} {p.name}")) for i, p in enumerate(planned)]
        summary = ImportSummary(tuple(results))
        if summary.changed:
            self.components.reload_shop_data()
        steps.emit(1.0, summary.summary())
        return summary

    def _plan(self, filename: str, data: bytes, kind: UploadKind) -> _Upload:
        name = safe_name(filename)
        suffix = Path(name).suffix.lower()
        every = sorted({s for suffixes in SUFFIXES.values() for s in suffixes})
        if suffix not in every:
            raise invalid(
                f"{filename}: unsupported file type {suffix or '(no extension)'}: upload a catalogue (.jsonl, .json, "
                ".csv), policy documents (.md, .txt, .html, .pdf), customers (.jsonl, .json) or offers (.json)",
                UnsupportedFile)
        if kind != "auto" and suffix not in SUFFIXES[kind]:
            raise invalid(f"{filename}: {kind} are read from {', '.join(SUFFIXES[kind])} files, not {suffix}",
                          UnsupportedFile)
        if len(data) > self.max_upload_bytes:
            raise invalid(f"{filename} is {len(data) / 1e6:.1f} MB, over the {self.settings.knowledge.max_file_mb:g} "
                          "MB limit (knowledge.max_file_mb): split it or raise the limit", UploadTooLarge)
        if not data.strip():
            raise invalid(f"{filename} is empty")
        return _Upload(name, kind if kind != "auto" else detect_kind(name, data), data)

    def _import_upload(self, upload: _Upload, progress: Callable[[int, int], None]) -> ImportResult:
        folder = self.upload_root / upload.kind
        folder.mkdir(parents=True, exist_ok=True)
        staging = self.upload_root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        source = f"uploads/{upload.kind}/{upload.name}"
        with tempfile.TemporaryDirectory(dir=staging) as tmp:
            staged = Path(tmp) / upload.name
            staged.write_bytes(upload.data)
            problems = unimportable(upload.kind, staged, self.max_upload_bytes, self._used_codes)
            if problems:  # the saved file of that name and everything stored stay as they were
                return ImportResult(source, upload.kind, failed=len(problems), rejected=True, errors=tuple(
                    ImportProblem(upload.name, p.line, p.message) for p in problems[:50]))
            final = folder / upload.name
            os.replace(staged, final)
        return self._import_file(upload.kind, final, source, progress, lambda _file: upload.name)

    def _used_codes(self) -> dict[str, str]:
        """Every stored offer's code (retired offers too) -> its offer id."""
        return {str(o["code"]): str(o["id"]) for o in self.components.stores.offers.all(include_inactive=True)}

    def _import_file(self, kind: Kind, path: Path, source: str, progress: Callable[[int, int], None] | None,
                     label: Callable[[str], str]) -> ImportResult:
        """One file through the importer the CLI uses for its kind, as the import set ``source``."""
        k, max_bytes = self.settings.knowledge, self.max_upload_bytes
        if kind == "catalog":
            report = import_catalog(self.components.knowledge, path, origin=source, max_bytes=max_bytes,
                                    progress=progress)
        elif kind == "policies":
            report = import_policies(self.components.knowledge, path, origin=source, chunk_size=k.chunk_size,
                                     overlap=k.chunk_overlap, max_bytes=max_bytes, max_chars=k.max_document_chars,
                                     max_chunks=k.max_chunks_per_document, progress=progress)
        elif kind == "customers":
            report = import_customers(self.components.stores.customers, path, origin=source, max_bytes=max_bytes,
                                      progress=progress)
        else:
            report = import_offers(self.components.stores.offers, path, origin=source)
        return ImportResult.from_report(report, source, label)

    # re-ingest -------------------------------------------------------------------------------------------------
    def uploaded_files(self) -> list[tuple[Kind, Path]]:
        """The files uploaded so far, by kind."""
        found: list[tuple[Kind, Path]] = []
        for kind in KINDS:
            folder = self.upload_root / kind
            if folder.is_dir():
                found.extend((kind, p) for p in sorted(folder.iterdir())
                             if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES[kind])
        return found

    def demo_in_use(self) -> bool:
        """The bundled demo shop is part of this shop's data: its records are stored (it was loaded on first start
        or by ``concierge ingest``)."""
        name = demo_shop_path(self.settings.app.demo_shop).name
        knowledge = self.components.knowledge
        return bool(knowledge.existing("products", f"{name}/catalog")
                    or knowledge.existing("policies", f"{name}/policies"))

    def reingest(self, progress: ProgressCallback | None = None) -> ImportSummary:
        """Import again everything the app knows of: the demo shop (when in use) and every uploaded file.

        Unchanged records are skipped without embedding; the summary says what changed."""
        root = demo_shop_path(self.settings.app.demo_shop) if self.demo_in_use() else None
        layout = ShopLayout(root) if root else None
        parts = [k for k in KINDS if layout is not None and getattr(layout, k) is not None]
        uploads = self.uploaded_files()
        steps = ProgressSteps(progress, len(parts) + len(uploads))
        results: list[ImportResult] = []
        with _IMPORT_LOCK:
            if root is not None:
                k = self.settings.knowledge
                reports = ingest_shop(root, self.components.knowledge, self.components.stores.customers,
                                      self.components.stores.offers, shop_profiles=self.components.stores.shop,
                                      chunk_size=k.chunk_size,
                                      overlap=k.chunk_overlap, max_bytes=self.max_upload_bytes,
                                      max_document_chars=k.max_document_chars,
                                      max_chunks_per_document=k.max_chunks_per_document,
                                      progress_for=lambda kind: steps.unit(parts.index(kind), f"demo shop {kind}")
                                      if kind in parts else None)

                def relative(file: str) -> str:
                    try:
                        return f"{root.name}/{Path(file).relative_to(root).as_posix()}"
                    except ValueError:
                        return file

                results.extend(ImportResult.from_report(r, f"{root.name}/{r.kind}", relative) for r in reports)
            for i, (kind, path) in enumerate(uploads, start=len(parts)):
                source = f"uploads/{kind}/{path.name}"
                results.append(self._import_file(kind, path, source, steps.unit(i, f"{kind} {path.name}"),
                                                 lambda _file: source))  # noqa: B023 - called before the next file
        summary = ImportSummary(tuple(results))
        if summary.changed:
            self.components.reload_shop_data()
        steps.emit(1.0, summary.summary())
        return summary

    # collections -----------------------------------------------------------------------------------------------
    def collections(self) -> Overview:
        """Chroma collections with their counts per import set; customers and offers in the database."""
        knowledge = self.components.knowledge
        counts: list[CollectionCount] = []
        documents = 0
        for kind in COLLECTION_KINDS:
            metadata = knowledge.all_metadata(kind)
            origins = Counter(str(m.get("origin") or "") for _, m in metadata)
            counts.append(CollectionCount(kind, knowledge.collection_name(kind), len(metadata),
                                          dict(sorted(origins.items()))))
            if kind == "policies":
                documents = len({(m.get("origin"), m.get("source")) for _, m in metadata})
        offers = self.components.stores.offers
        by_kind = {c.kind: c.count for c in counts}
        return Overview(tuple(counts), products=by_kind["products"], policy_chunks=by_kind["policies"],
                        policy_documents=documents, customers=len(self.components.stores.customers.list_ids()),
                        offers_active=len(offers.all()), offers_total=len(offers.all(include_inactive=True)))

    # offers ----------------------------------------------------------------------------------------------------
    def offers(self) -> list[AdminOffer]:
        """Every offer, retired ones too, with whether it can be shown now."""
        store = self.components.stores.offers
        active = {str(o["id"]) for o in store.all()}
        return [self._view(o, str(o["id"]) in active) for o in store.all(include_inactive=True)]

    def offer(self, offer_id: str) -> AdminOffer:
        found = self.components.stores.offers.get(offer_id)
        if found is None:
            raise NotFoundError(f"no offer {offer_id!r}", user_message=f"There is no offer {offer_id!r}.")
        return self._view(found, any(str(o["id"]) == offer_id for o in self.components.stores.offers.all()))

    def _view(self, offer: dict[str, Any], active: bool) -> AdminOffer:
        return admin_offer(offer, active, self._now())

    def update_offer(self, offer_id: str, changes: Mapping[str, Any]) -> AdminOffer:
        """Change some fields of an offer (``eligibility`` is merged field by field; None removes a field).

        The edit is kept until the file the offer came from is uploaded again changed (the file then wins).
        Raises ``NotFoundError`` or ``ValidationError`` naming the bad fields (nothing is changed then)."""
        if not isinstance(changes, Mapping) or not changes:
            raise invalid("no changes: give the offer fields to change, e.g. {\"value\": 20}")
        current = self.offer(offer_id).offer
        if "id" in changes and str(changes["id"]) != offer_id:
            raise invalid(f"an offer's id cannot change ({offer_id!r}); create a new offer instead")
        data = merge_offer(current, changes)
        self._validate(data, offer_id)
        self.components.stores.offers.edit(offer_id, data)
        self.components.reload_shop_data(("offers",))
        return self.offer(offer_id)

    def create_offer(self, offer: Mapping[str, Any]) -> AdminOffer:
        """A new offer, validated like an imported one (``ConflictError`` when the id exists)."""
        if not isinstance(offer, Mapping):
            raise invalid("an offer is a JSON object (see knowledge/schemas/offer.schema.json)")
        data = {k: v for k, v in offer.items() if v is not None}
        self._validate(data, None)
        offer_id = str(data["id"])
        if self.components.stores.offers.get(offer_id) is not None:
            message = f"an offer {offer_id!r} exists already: edit it, or choose another id"
            raise ConflictError(message, user_message=message)
        self.components.stores.offers.upsert(data, ADMIN_ORIGIN)
        self.components.reload_shop_data(("offers",))
        return self.offer(offer_id)

    def disable_offer(self, offer_id: str) -> AdminOffer:
        """Stop showing an offer now: it expires now (and a start still to come is dropped)."""
        current = self.offer(offer_id).offer
        now = self._now().astimezone(UTC)
        rules = dict(current.get("eligibility") or {})
        starts = offer_time(rules.get("starts_at"))
        changes: dict[str, Any] = {"expires_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if starts and starts >= now.replace(microsecond=0):
            changes["starts_at"] = None
        return self.update_offer(offer_id, {"eligibility": changes})

    def _validate(self, data: Mapping[str, Any], offer_id: str | None) -> None:
        check_offer(data, offer_id, lambda: self.components.stores.offers.all(include_inactive=True))

    # settings --------------------------------------------------------------------------------------------------
    def settings_view(self) -> dict[str, Any]:
        """The effective settings as a nested dict with every secret masked (plus the derived paths)."""
        s = self.settings
        view = mask_secrets(s)
        view["derived"] = mask_secrets({"database_url": s.database_url, "chroma_path": str(s.chroma_path),
                                        "model_cache_dir": str(s.model_cache_dir), "uploads": str(self.upload_root)})
        return view
