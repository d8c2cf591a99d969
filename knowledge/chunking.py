"""Chunking that keeps each heading with its text.

A section shorter than ``chunk_size`` is one chunk. A longer one is split at paragraph, then sentence,
then word boundaries, with ``overlap`` characters carried over. Every chunk starts with its heading
path, so the chunk alone says what it is about (and so does its embedding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.loaders import Document

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    source: str
    title: str
    heading: str
    position: int  # index of the chunk within its document
    text: str  # heading path + body: what is embedded and shown
    body: str  # the body alone


def _split(text: str, size: int) -> list[str]:
    """Split text into pieces of at most ``size`` characters at the largest natural boundary."""
    if len(text) <= size:
        return [text]
    for pattern in ("\n\n", None, " "):
        parts = _SENTENCE.split(text) if pattern is None else text.split(pattern)
        joiner = " " if pattern is None else pattern
        if len(parts) > 1:
            pieces: list[str] = []
            current = ""
            for part in parts:
                candidate = f"{current}{joiner}{part}" if current else part
                if len(candidate) <= size:
                    current = candidate
                    continue
                if current:
                    pieces.append(current)
                current = part
            if current:
                pieces.append(current)
            out: list[str] = []
            for piece in pieces:
                out.extend(_split(piece, size) if len(piece) > size else [piece])
            return out
    return [text[i : i + size] for i in range(0, len(text), size)]


def _with_overlap(pieces: list[str], overlap: int) -> list[str]:
    if overlap <= 0 or len(pieces) < 2:
        return pieces
    out = [pieces[0]]
    for previous, piece in zip(pieces, pieces[1:], strict=False):
        tail = previous[-overlap:]
        cut = tail.find(" ")
        tail = tail[cut + 1 :] if 0 <= cut < len(tail) - 1 else tail
        out.append(f"…{tail} {piece}")
    return out


def chunk_document(doc: Document, chunk_size: int = 900, overlap: int = 120) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in doc.sections:
        header = "\n".join(section.headings)
        budget = max(chunk_size - len(header) - 1, chunk_size // 2)
        for body in _with_overlap(_split(section.text.strip(), budget), overlap):
            chunks.append(
                Chunk(
                    source=doc.source,
                    title=doc.title,
                    heading=section.heading,
                    position=len(chunks),
                    text=f"{header}\n{body}",
                    body=body,
                )
            )
    return chunks
