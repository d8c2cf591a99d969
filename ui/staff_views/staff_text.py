"""Shopper and model text on the staff page: shown as text, never as markup.

What a shopper typed, what the model wrote, hand-over summaries, names, preferences, product and offer texts and
traces reach the staff page through these functions or through components that show text as text
(``gr.Textbox``, ``gr.Dropdown`` labels, ``gr.Dataframe`` columns of datatype ``"str"``). Components that render
markup get only what is built here, where every such value is ``plain``: each ASCII punctuation character becomes
a numeric character reference (``<`` is ``&#60;``, ``!`` is ``&#33;``, ``:`` is ``&#58;``...). A reference is
always a literal character, to HTML and to Markdown alike: it opens no tag, starts no image, link, autolink,
emphasis, code span, list or table, so the value is exactly its characters on the page, whatever it holds.

- ``gr.Markdown`` with ``latex_delimiters=[]`` (no maths from text) gets lines of simple HTML whose values are
  ``plain`` (``gr.HTML`` is not used: it evaluates its template as JavaScript, which the staff page's CSP forbids);
- the agent's ``gr.Chatbot`` has ``render_markdown=False`` and no LaTeX, so a message is parsed as HTML only,
  and every message is ``plain``.

So a planted ``<form>`` with a password field, a ``position:fixed`` overlay, ``<img src=...>`` or a Markdown
image ``![x](http://elsewhere/...)`` shows as the literal characters, and the agent's browser fetches nothing
from another host because of it (``tests/browser/test_staff_text_only.py``).
"""

from __future__ import annotations

import string

#: every ASCII punctuation character as a numeric character reference (``&`` included, so nothing is decoded)
_LITERAL = str.maketrans({c: f"&#{ord(c)};" for c in string.punctuation})


def plain(value: object) -> str:
    """``value`` as literal text for HTML or Markdown: punctuation as character references, line breaks as
    ``<br>`` (so the value stays on one line of the markup it goes into)."""
    text = "" if value is None else str(value)
    return text.translate(_LITERAL).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def plain_block(value: object) -> str:
    """``value`` as literal text for a ``<pre>`` block (line breaks kept as they are)."""
    return ("" if value is None else str(value)).translate(_LITERAL)


def bullets(entries: list[str]) -> str:
    """A bulleted list (one line of HTML) of entries already built here; nothing when there are none."""
    return "<ul>" + "".join(f"<li>{e}</li>" for e in entries) + "</ul>" if entries else ""


def blocks(parts: list[str]) -> str:
    """Lines of HTML as one Markdown value: each its own block (a blank line between), empty parts left out."""
    return "\n\n".join(p for p in parts if p)
