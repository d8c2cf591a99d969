"""Policy document loaders: Markdown, plain text, HTML and PDF into :class:`Section` lists.

Every loader returns the document as sections, each with its heading path, so that chunking can keep
a heading with its text and a citation can say "Returns and refunds > Return window".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.importing import check_size, decode_text

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
    for tag in soup(["script", "style", "nav", "footer", "noscript"]):
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


def load_pdf(path: Path, fallback_title: str) -> tuple[str, list[Section]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as e:
        raise ValueError(f"cannot read PDF: {e}") from e
    title = fallback_title
    meta = reader.metadata
    if meta is not None and meta.title:
        title = str(meta.title)
    sections = [Section((title, f"page {n}"), text) for n, text in enumerate(pages, start=1) if text]
    return title, sections


def load_document(path: Path, source: str, max_bytes: int) -> Document:
    """Read one policy file. Raises ValueError with a message a person can act on."""
    check_size(path, max_bytes)
    suffix = path.suffix.lower()
    fallback = _title_from_name(path)
    if suffix == ".pdf":
        title, sections = load_pdf(path, fallback)
    else:
        text = decode_text(path.read_bytes())
        if suffix in (".md", ".markdown"):
            title, sections = parse_markdown(text, fallback)
        elif suffix in (".html", ".htm"):
            title, sections = load_html(text, fallback)
        elif suffix == ".txt":
            title, sections = fallback, [Section((fallback,), text.strip())] if text.strip() else []
        else:
            raise ValueError(f"unsupported file type {suffix!r}: use {', '.join(POLICY_SUFFIXES)}")
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise ValueError("the document has no text")
    return Document(source=source, title=title, sections=sections)
