"""Policy documents are split at headings, and every chunk carries its heading path."""

from pathlib import Path

import pytest

from knowledge.chunking import chunk_document
from knowledge.loaders import load_document, parse_markdown

DOC = """# Returns and refunds

Intro paragraph.

## Return window

You can return items within 30 days of delivery.

## Refunds

### Card payments

Refunds go back to the card in 5-7 business days.
"""


def test_markdown_sections_keep_heading_paths() -> None:
    title, sections = parse_markdown(DOC, "fallback")

    assert title == "Returns and refunds"
    assert [s.heading for s in sections] == [
        "Returns and refunds",
        "Returns and refunds > Return window",
        "Returns and refunds > Refunds > Card payments",
    ]


def test_each_chunk_starts_with_its_headings(tmp_path: Path) -> None:
    f = tmp_path / "returns.md"
    f.write_text(DOC, encoding="utf-8")
    doc = load_document(f, "returns.md", 1_000_000)

    chunks = chunk_document(doc, chunk_size=400, overlap=0)

    window = next(c for c in chunks if "30 days" in c.text)
    assert window.text.startswith("Returns and refunds\nReturn window\n")
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.source == "returns.md" for c in chunks)


def test_long_section_is_split_below_the_size_with_overlap(tmp_path: Path) -> None:
    body = " ".join(f"Sentence number {i} explains a rule." for i in range(200))
    f = tmp_path / "long.md"
    f.write_text(f"# Long\n\n## Part\n\n{body}\n", encoding="utf-8")
    doc = load_document(f, "long.md", 1_000_000)

    chunks = chunk_document(doc, chunk_size=500, overlap=60)

    assert len(chunks) > 5
    assert all(len(c.text) <= 500 + 70 for c in chunks)
    assert all(c.heading == "Long > Part" for c in chunks)
    assert chunks[1].body.startswith("…")


def test_html_headings_become_sections(tmp_path: Path) -> None:
    f = tmp_path / "ship.html"
    f.write_text(
        "<html><head><title>Shipping</title><script>x()</script></head><body>"
        "<h1>Shipping</h1><h2>Costs</h2><p>Standard shipping costs $5.99.</p></body></html>",
        encoding="utf-8",
    )

    doc = load_document(f, "ship.html", 1_000_000)

    assert doc.title == "Shipping"
    assert doc.sections[0].heading == "Shipping > Costs"
    assert "x()" not in doc.text


def test_text_file_title_comes_from_its_name(tmp_path: Path) -> None:
    f = tmp_path / "gift-cards.txt"
    f.write_text("Gift cards never expire.", encoding="utf-8")

    doc = load_document(f, "gift-cards.txt", 1_000_000)

    assert doc.title == "Gift cards" and doc.sections[0].text == "Gift cards never expire."


def test_empty_document_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "empty.md"
    f.write_text("# Only a title\n", encoding="utf-8")

    with pytest.raises(ValueError, match="no text"):
        load_document(f, "empty.md", 1_000_000)
