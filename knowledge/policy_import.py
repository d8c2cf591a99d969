"""Policy import: Markdown, text, HTML and PDF documents into the ``policies`` collection.

A document is the unit of change: an unchanged file (same chunk hashes) is skipped without embedding,
a changed one has its chunks rewritten and its surplus chunks deleted, and a file that disappeared from
the imported folder has all its chunks deleted. A file that fails to load keeps its previous chunks.

Before chunking, the sentences that read as instructions to the assistant are dropped
(``knowledge.passage_guard``) and listed in the report; a document over ``max_chars`` extracted characters or
``max_chunks`` chunks is cut there, and the report says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.chunking import Chunk, chunk_document
from knowledge.importing import ImportReport, RecordError, content_hash, find_files
from knowledge.knowledge_store import IndexItem, KnowledgeStore
from knowledge.loaders import POLICY_SUFFIXES, Document, Section, load_document
from knowledge.passage_guard import instruction_signals, quarantine_passages

#: defaults of ``knowledge.max_document_chars`` and ``knowledge.max_chunks_per_document``
MAX_DOCUMENT_CHARS = 100_000
MAX_CHUNKS_PER_DOCUMENT = 200


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


def without_instructions(document: Document) -> tuple[Document, list[str]]:
    """The document without the passages (and headings) that read as instructions, and those passages."""
    dropped: list[str] = []
    sections: list[Section] = []
    for section in document.sections:
        headings = []
        for heading in section.headings:
            if instruction_signals(heading):
                dropped.append(heading)
            else:
                headings.append(heading)
        text, removed = quarantine_passages(section.text)
        dropped.extend(removed)
        if text.strip():
            sections.append(Section(tuple(headings) or (document.source,), text))
    title = document.title
    if instruction_signals(title):
        dropped.append(title)
        title = document.source
    return Document(document.source, title, sections, document.cut), dropped


def import_policies(
    store: KnowledgeStore,
    path: Path,
    *,
    origin: str | None = None,
    chunk_size: int = 900,
    overlap: int = 120,
    max_bytes: int = 20_000_000,
    max_chars: int = MAX_DOCUMENT_CHARS,
    max_chunks: int = MAX_CHUNKS_PER_DOCUMENT,
    progress: Callable[[int, int], Any] | None = None,
) -> ImportReport:
    """Import a policy file or a folder of them; counts are per document. Passages quarantined and documents
    cut (over ``max_chars`` characters or ``max_chunks`` chunks) are listed in ``report.notices``."""
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
            document, dropped = without_instructions(load_document(file, source, max_bytes, max_chars))
        except (OSError, ValueError) as e:
            report.fail(RecordError(str(file), None, str(e)))
            continue
        report.quarantine(source, dropped)
        chunks = chunk_document(document, chunk_size, overlap)
        if document.cut:
            report.notice(source, "cut", document.cut)
        if len(chunks) > max_chunks:
            report.notice(source, "cut", f"{len(chunks):,} chunks, only the first {max_chunks:,} stored "
                                         "(knowledge.max_chunks_per_document)")
            chunks = chunks[:max_chunks]
        if not chunks:
            report.fail(RecordError(str(file), None, "nothing left to import once the passages that read as "
                                                     "instructions to the assistant were quarantined"))
            continue
        items = [chunk_item(c, origin) for c in chunks]
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
