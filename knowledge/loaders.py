"""Policy document loaders: Markdown, plain text, HTML and PDF into :class:`Section` lists.

Every loader returns the document as sections, each with its heading path, so that chunking can keep
a heading with its text and a citation can say "Returns and refunds > Return window".

What is read is what a reader sees: hidden HTML (in HTML files and inside Markdown) is dropped
(``knowledge.visible_html``) and all text is normalised (``knowledge.passage_guard.normalize_text``). A document
longer than ``max_chars`` extracted characters is cut there, and says so in ``Document.cut``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.importing import check_size, decode_text
from knowledge.passage_guard import normalize_text
from knowledge.visible_html import remove_hidden, strip_hidden_markup

POLICY_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]  # from the document title down to this section
    text: str

    @property
    def heading(self) -> str:
        return " > ".join(self.headings)


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the imported folder: the citation
    title: str
    sections: list[Section]
    cut: str | None = None  # why the document was cut short (too long), None if read whole

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def parse_markdown(text: str, fallback_title: str) -> tuple[str, list[Section]]:
    """Split Markdown at its headings; the first level-1 heading is the title."""
    title = fallback_title
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buffer: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(buffer).strip()
        buffer.clear()
        if body:
            sections.append(Section(tuple(h for _, h in stack) or (title,), body))

    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match:
            flush()
            level, heading = len(match.group(1)), match.group(2).strip()
            if level == 1 and title == fallback_title and not sections and not stack:
                title = heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
        else:
            buffer.append(line)
    flush()
    if stack and not any(s.headings for s in sections):
        sections = [Section((title,), "")]
    return title, [s if s.headings[0] == title else Section((title, *s.headings), s.text) for s in sections]


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


def load_html(text: str, fallback_title: str) -> tuple[str, list[Section]]:
    """HTML to Markdown-like text (headings kept), then parsed like Markdown."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    remove_hidden(soup)
    for tag in soup(["nav", "footer"]):
        tag.decompose()
    lines: list[str] = []
    title_tag = soup.find("title")
    for element in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "pre", "blockquote"]):
        content = " ".join(element.get_text(" ", strip=True).split())
        if not content:
            continue
        name = element.name or ""
        if name.startswith("h") and len(name) == 2:
            lines.append(f"\n{'#' * int(name[1])} {content}\n")
        elif name == "li":
            lines.append(f"- {content}")
        else:
            lines.append(f"{content}\n")
    fallback = title_tag.get_text(strip=True) if title_tag and title_tag.get_text(strip=True) else fallback_title
    return parse_markdown("\n".join(lines), fallback)


#: bytes of (decompressed) page content read per extracted character allowed: a page whose content stream is
#: larger than this is not read (a small PDF can expand to megabytes of text operators)
PDF_BYTES_PER_CHAR = 12


def load_pdf(path: Path, fallback_title: str, max_chars: int | None = None) -> tuple[str, list[Section], str | None]:
    """The PDF's pages as sections; reading stops once ``max_chars`` characters are extracted (the third value
    then says where it stopped)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    pages: list[str] = []
    cut: str | None = None
    try:
        reader = PdfReader(str(path))
        total = 0
        for number, page in enumerate(reader.pages, start=1):
            if max_chars is not None:
                contents = page.get_contents()
                size = len(contents.get_data()) if contents is not None else 0
                if total >= max_chars or size > max(max_chars - total, 0) * PDF_BYTES_PER_CHAR + 100_000:
                    cut = f"read up to page {number - 1} of {len(reader.pages)}"
                    break
            text = (page.extract_text() or "").strip()
            pages.append(text)
            total += len(text)
    except (PdfReadError, OSError, ValueError) as e:
        raise ValueError(f"cannot read PDF: {e}") from e
    title = fallback_title
    meta = reader.metadata
    if meta is not None and meta.title:
        title = str(meta.title)
    sections = [Section((title, f"page {n}"), text) for n, text in enumerate(pages, start=1) if text]
    return title, sections, cut


def _normalized(title: str, sections: list[Section]) -> tuple[str, list[Section]]:
    return normalize_text(title).strip(), [
        Section(tuple(normalize_text(h).strip() for h in s.headings), normalize_text(s.text)) for s in sections]


def _capped(sections: list[Section], max_chars: int) -> tuple[list[Section], bool]:
    """The sections up to ``max_chars`` characters of text in all; True if anything was cut."""
    out: list[Section] = []
    left = max_chars
    for section in sections:
        if len(section.text) > left:
            if left > 0:
                out.append(Section(section.headings, section.text[:left]))
            return out, True
        out.append(section)
        left -= len(section.text)
    return out, False


def load_document(path: Path, source: str, max_bytes: int, max_chars: int | None = None) -> Document:
    """Read one policy file (at most ``max_chars`` characters of its text: ``Document.cut`` then says so).
    Raises ValueError with a message a person can act on."""
    check_size(path, max_bytes)
    suffix = path.suffix.lower()
    fallback = _title_from_name(path)
    cut: str | None = None
    if suffix == ".pdf":
        title, sections, cut = load_pdf(path, fallback, max_chars)
    else:
        text = decode_text(path.read_bytes())
        if suffix in (".md", ".markdown"):
            title, sections = parse_markdown(strip_hidden_markup(text), fallback)
        elif suffix in (".html", ".htm"):
            title, sections = load_html(text, fallback)
        elif suffix == ".txt":
            title, sections = fallback, [Section((fallback,), text.strip())] if text.strip() else []
        else:
            raise ValueError(f"unsupported file type {suffix!r}: use {', '.join(POLICY_SUFFIXES)}")
    title, sections = _normalized(title, sections)
    sections = [s for s in sections if s.text.strip()]
    if max_chars is not None:
        sections, over = _capped(sections, max_chars)
        if over or cut:
            cut = f"cut at {max_chars:,} characters (knowledge.max_document_chars)" + (f"; {cut}" if cut else "")
    if not sections:
        raise ValueError("the document has no text" + (f" ({cut})" if cut else ""))
    return Document(source=source, title=title or fallback, sections=sections, cut=cut)
