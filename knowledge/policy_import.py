"""Policy import: Markdown, text, HTML and PDF documents into the ``policies`` collection.

A document is the unit of change: an unchanged file (same chunk hashes) is skipped without embedding,
a changed one has its chunks rewritten and its surplus chunks deleted, and a file that disappeared from
the imported folder has all its chunks deleted. A file that fails to load keeps its previous chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.chunking import Chunk, chunk_document
from knowledge.importing import ImportReport, RecordError, content_hash, find_files
from knowledge.knowledge_store import IndexItem, KnowledgeStore
from knowledge.loaders import POLICY_SUFFIXES, load_document


def chunk_item(chunk: Chunk, origin: str) -> IndexItem:
    digest = content_hash([chunk.text, chunk.title, chunk.heading])
    return IndexItem(
        id=f"{origin}:{chunk.source}#{chunk.position}",
        text=chunk.text,
        metadata={
            "source": chunk.source,
            "title": chunk.title,
            "heading": chunk.heading,
            "position": chunk.position,
            "origin": origin,
            "hash": digest,
        },
    )


def import_policies(
    store: KnowledgeStore,
    path: Path,
    *,
    origin: str | None = None,
    chunk_size: int = 900,
    overlap: int = 120,
    max_bytes: int = 20_000_000,
    progress: Callable[[int, int], Any] | None = None,
) -> ImportReport:
    """Import a policy file or a folder of them; counts are per document."""
    report = ImportReport("policies")
    try:
        files = find_files(path, POLICY_SUFFIXES)
    except FileNotFoundError as e:
        report.fail(RecordError(str(path), None, str(e)), whole_file=True)
        return report
    origin = origin or path.name
    existing = store.existing("policies", origin)
    by_source: dict[str, dict[str, str]] = {}
    for chunk_id, meta in existing.items():
        by_source.setdefault(str(meta.get("source")), {})[chunk_id] = str(meta.get("hash"))
    seen: set[str] = set()
    for done, file in enumerate(files, start=1):
        if progress:
            progress(done, len(files))
        source = file.name if file == path else file.relative_to(path).as_posix()
        seen.add(source)
        try:
            document = load_document(file, source, max_bytes)
        except (OSError, ValueError) as e:
            report.fail(RecordError(str(file), None, str(e)))
            continue
        items = [chunk_item(c, origin) for c in chunk_document(document, chunk_size, overlap)]
        old = by_source.get(source, {})
        if old and {i.id: i.metadata["hash"] for i in items} == old:
            report.count("unchanged")
            continue
        changed = [i for i in items if old.get(i.id) != i.metadata["hash"]]
        surplus = sorted(set(old) - {i.id for i in items})
        try:
            store.upsert("policies", changed)
            store.delete("policies", surplus)
        except Exception as e:
            report.fail(RecordError(str(file), None, f"not stored: {e}"))
            continue
        report.count("updated" if old else "imported")
    removed_sources = [s for s in by_source if s not in seen]
    for source in removed_sources:
        store.delete("policies", sorted(by_source[source]))
    report.deleted = len(removed_sources)
    return report
