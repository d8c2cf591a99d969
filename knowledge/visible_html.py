"""Only the text a reader of the page sees: hidden HTML is removed before an HTML document is imported.

Removed (with everything inside it):

- elements that are never shown: ``script``, ``style``, ``template``, ``noscript``, ``head`` content other
  than the title, comments;
- elements with the ``hidden`` attribute, ``aria-hidden="true"``, ``display:none``, ``visibility:hidden``
  or ``collapse``, ``opacity`` 0 (or below 0.05), ``transform: scale(0)``, a zero ``clip``/``clip-path``,
  a width or height of at most 1px with ``overflow:hidden``, or pushed off-screen (``left``, ``top``,
  ``text-indent`` or ``margin-left`` of -500px or less);
- text in a tiny font: ``font-size`` 0, at most 2px (1.5pt), or relative sizes that come to that;
- text in the colour of its background: a transparent colour, or a colour within 16 (of 255) on each of
  red, green and blue of the background. The background is the nearest declared ``background(-color)``
  (or ``bgcolor``) of the element or its ancestors; a page that declares none is white. So white text
  with no background anywhere is hidden; white text in a dark box is not.

Styles come from ``style`` attributes, ``bgcolor``/``color`` attributes and the page's ``<style>`` rules
(``@media`` blocks included; simple selectors such as ``p.note`` or ``#x`` matched from an index of the page,
others by soupsieve, at most :data:`MAX_COMPLEX_SELECTORS` of them per page). A declaration that hides
wins wherever it comes from (a rule's specificity is not computed), so text is dropped when in doubt.

:func:`strip_hidden_markup` does the same, by patterns, for the HTML inside Markdown, and drops its
comments (which a rendered page never shows).
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
SAME_COLOUR = 16  # max difference per channel (0-255) between text and background for "same colour"
TINY_PX = 2.0
_NAMED: dict[str, RGB] = {
    "white": WHITE, "black": BLACK, "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255),
    "yellow": (255, 255, 0), "gray": (128, 128, 128), "grey": (128, 128, 128), "silver": (192, 192, 192),
    "whitesmoke": (245, 245, 245), "snow": (255, 250, 250), "ivory": (255, 255, 240), "ghostwhite": (248, 248, 255),
    "floralwhite": (255, 250, 240), "seashell": (255, 245, 238), "mintcream": (245, 255, 250),
    "azure": (240, 255, 255), "aliceblue": (240, 248, 255), "linen": (250, 240, 230), "beige": (245, 245, 220),
    "lightgray": (211, 211, 211), "lightgrey": (211, 211, 211), "gainsboro": (220, 220, 220),
    "navy": (0, 0, 128), "maroon": (128, 0, 0), "purple": (128, 0, 128), "teal": (0, 128, 128),
    "olive": (128, 128, 0), "orange": (255, 165, 0), "lime": (0, 255, 0), "aqua": (0, 255, 255),
    "cyan": (0, 255, 255), "fuchsia": (255, 0, 255), "magenta": (255, 0, 255),
}
_NEVER_SHOWN = ("script", "style", "template", "noscript", "meta", "link", "iframe", "object", "embed")


def parse_colour(value: str) -> RGB | None | str:
    """An ``(r, g, b)``, ``"transparent"`` (alpha 0), or None when not understood."""
    v = value.strip().lower().replace("!important", "").strip()
    if v in ("transparent",):
        return "transparent"
    if v in _NAMED:
        return _NAMED[v]
    m = re.fullmatch(r"#([0-9a-f]{3,8})", v)
    if m:
        h = m.group(1)
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h)
        if len(h) not in (6, 8):
            return None
        if len(h) == 8 and int(h[6:8], 16) == 0:
            return "transparent"
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    m = re.fullmatch(r"(rgba?|hsla?)\(([^)]*)\)", v)
    if not m:
        return None
    parts = [p for p in re.split(r"[\s,/]+", m.group(2).strip()) if p]
    if len(parts) < 3:
        return None
    try:
        if len(parts) >= 4 and _number(parts[3], 1.0) <= 0.0:
            return "transparent"
        if m.group(1).startswith("rgb"):
            r, g, b = (round(min(max(_number(p, 255.0), 0.0), 255.0)) for p in parts[:3])
            return r, g, b
        hue = float(parts[0].removesuffix("deg")) / 360.0
        red, green, blue = colorsys.hls_to_rgb(hue % 1.0, _number(parts[2], 1.0), _number(parts[1], 1.0))
        return round(red * 255), round(green * 255), round(blue * 255)
    except ValueError:
        return None


def _number(text: str, scale: float) -> float:
    """``50%`` -> 0.5 * scale; ``0.5`` -> 0.5 (alpha, lightness) or ``128`` -> 128 (channels)."""
    if text.endswith("%"):
        return float(text[:-1]) / 100.0 * scale
    return float(text)


def same_colour(a: RGB, b: RGB) -> bool:
    return all(abs(x - y) <= SAME_COLOUR for x, y in zip(a, b, strict=True))


def parse_declarations(style: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in style.split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            out[name.strip().lower()] = value.replace("!important", "").strip().lower()
    return out


def _length_px(value: str, parent_px: float) -> float | None:
    m = re.match(r"(-?[\d.]+)\s*(px|pt|em|rem|%|ex|ch|vw|vh|)?", value.strip())
    if not m:
        return None
    try:
        number = float(m.group(1))
    except ValueError:
        return None
    unit = m.group(2) or ""
    factor = {"px": 1.0, "pt": 4 / 3, "em": parent_px, "rem": 16.0, "%": parent_px / 100, "ex": parent_px / 2,
              "ch": parent_px / 2, "vw": 10.0, "vh": 8.0, "": 1.0}[unit]
    return number * factor


def hides(d: dict[str, str]) -> bool:
    """The declarations hide the element and all it holds."""
    if d.get("display", "").startswith("none") or d.get("visibility", "") in ("hidden", "collapse"):
        return True
    try:
        if "opacity" in d and _number(d["opacity"].split()[0], 1.0) < 0.05:
            return True
    except (ValueError, IndexError):
        pass
    if re.search(r"scale[xy]?\(\s*0(\.0*)?\s*[,)]", d.get("transform", "")):
        return True
    if re.search(r"rect\(\s*0[a-z]*[\s,]+0[a-z]*[\s,]+0[a-z]*[\s,]+0", d.get("clip", "")) or \
            re.search(r"inset\(\s*(50|100)%", d.get("clip-path", "")):
        return True
    if "hidden" in (d.get("overflow-x"), d.get("overflow-y")) or d.get("overflow", "") in ("hidden", "clip"):
        for key in ("width", "height", "max-width", "max-height"):
            size = _length_px(d.get(key, ""), 16.0) if key in d else None
            if size is not None and size <= 1:
                return True
    for key in ("left", "top", "text-indent", "margin-left", "margin-top", "right"):
        size = _length_px(d.get(key, ""), 16.0) if key in d else None
        if size is not None and size <= -500:
            return True
    return False


@dataclass(frozen=True)
class _Look:
    colour: RGB | str = BLACK
    background: RGB | None = WHITE  # None: unknown (an image)
    font_px: float = 16.0

    @property
    def invisible_text(self) -> bool:
        if self.font_px <= TINY_PX or self.colour == "transparent":
            return True
        return isinstance(self.colour, tuple) and self.background is not None and \
            same_colour(self.colour, self.background)


def _background(d: dict[str, str], attrs_bg: str | None) -> RGB | None | bool:
    """The element's own background: a colour, None (an image: unknown), or False (none declared)."""
    value = d.get("background-color") or d.get("background") or attrs_bg
    if not value:
        return False
    if "url(" in value or "gradient(" in value:
        return None
    for token in re.findall(r"#[0-9a-f]{3,8}|(?:rgba?|hsla?)\([^)]*\)|[a-z]+", value.lower()):
        colour = parse_colour(token)
        if colour == "transparent":
            return False
        if isinstance(colour, tuple):
            return colour
    return False


#: the properties that can hide text or change its colour, size or background: rules without any are skipped
_RELEVANT = re.compile(r"^(display|visibility|opacity|transform|clip|clip-path|overflow(-[xy])?|(max-)?(width|height)|"
                       r"left|top|right|text-indent|margin-left|margin-top|color|background(-color)?|font(-size)?)$")
_SIMPLE_SELECTOR = re.compile(r"([a-zA-Z][\w-]*|\*)?((?:[.#][\w-]+)*)")
#: selectors that need soupsieve (combinators, attributes, pseudo-classes) evaluated per page, at most
MAX_COMPLEX_SELECTORS = 300


def _sheet_styles(soup: BeautifulSoup) -> dict[int, list[dict[str, str]]]:
    """Declarations of the page's ``<style>`` rules, per element (by ``id()``), in document order.

    Simple selectors (``p``, ``.x``, ``#y``, ``p.x.z``) are matched from an index of the page; others through
    soupsieve, the first :data:`MAX_COMPLEX_SELECTORS` of them (a stylesheet of thousands of rules stays fast)."""
    from bs4 import Tag

    found: dict[int, list[dict[str, str]]] = {}
    elements = [e for e in soup.find_all(True) if isinstance(e, Tag)]
    by_class: dict[str, list[Tag]] = {}
    by_id: dict[str, list[Tag]] = {}
    by_tag: dict[str, list[Tag]] = {}
    for element in elements:
        by_tag.setdefault(element.name, []).append(element)
        for name in element.get_attribute_list("class") or []:
            if name:
                by_class.setdefault(str(name), []).append(element)
        if element.get("id"):
            by_id.setdefault(str(element.get("id")), []).append(element)
    complex_left = MAX_COMPLEX_SELECTORS
    for style in soup.find_all("style"):
        css = re.sub(r"/\*.*?\*/", "", style.get_text(), flags=re.S)
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            declarations = {k: v for k, v in parse_declarations(body).items() if _RELEVANT.match(k)}
            if not declarations:
                continue
            for selector in selectors.split(","):
                selector = selector.strip()
                if not selector or selector.startswith("@") or re.search(r":(hover|focus|active|visited)|::?"
                                                                            r"(before|after|selection)", selector):
                    continue
                simple = _SIMPLE_SELECTOR.fullmatch(selector)
                if simple:
                    matched = _simple_matches(simple, elements, by_tag, by_class, by_id)
                elif complex_left > 0:
                    complex_left -= 1
                    try:
                        matched = soup.select(selector)
                    except Exception:  # soupsieve does not understand it: the rule is ignored
                        continue
                else:
                    continue
                for element in matched:
                    found.setdefault(id(element), []).append(declarations)
    return found


def _simple_matches(m: re.Match[str], elements: list[Tag], by_tag: dict[str, list[Tag]],
                    by_class: dict[str, list[Tag]], by_id: dict[str, list[Tag]]) -> list[Tag]:
    tag = (m.group(1) or "*").lower()
    parts = re.findall(r"[.#][\w-]+", m.group(2) or "")
    if parts:
        first = parts[0]
        pool = (by_class if first[0] == "." else by_id).get(first[1:], [])
    else:
        pool = elements if tag == "*" else by_tag.get(tag, [])
    out = []
    for element in pool:
        if tag != "*" and element.name != tag:
            continue
        classes = set(element.get_attribute_list("class") or [])
        if all((p[1:] in classes) if p[0] == "." else (element.get("id") == p[1:]) for p in parts):
            out.append(element)
    return out


def _declarations(tag: Tag, sheet: dict[int, list[dict[str, str]]]) -> tuple[dict[str, str], bool]:
    """The element's merged declarations (rules in order, then ``style``) and whether any of them hides it."""
    from_sheet = sheet.get(id(tag), [])
    inline = parse_declarations(str(tag.get("style") or ""))
    merged: dict[str, str] = {}
    for d in [*from_sheet, inline]:
        merged.update(d)
    return merged, any(hides(d) for d in [*from_sheet, inline]) or hides(merged)


def _hidden_by_attributes(tag: Tag) -> bool:
    if tag.name in _NEVER_SHOWN or tag.has_attr("hidden"):
        return True
    if str(tag.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return tag.name == "input" and str(tag.get("type") or "").lower() == "hidden"


def remove_hidden(soup: BeautifulSoup) -> int:
    """Remove from ``soup`` every element and text a reader would not see (see the module docstring).

    Returns how many elements and texts were removed."""
    from bs4 import Comment, NavigableString, Tag

    sheet = _sheet_styles(soup)
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    doomed: list[Tag | NavigableString] = []
    page = _Look()
    for root_name in ("html", "body"):
        root = soup.find(root_name)
        if isinstance(root, Tag):
            d, _ = _declarations(root, sheet)
            bg = _background(d, str(root.get("bgcolor") or "") or None)
            if bg is not False:
                page = replace(page, background=bg if isinstance(bg, tuple) else None)
    stack: list[tuple[Tag, _Look]] = [(soup, page)]
    while stack:
        tag, look = stack.pop()
        for child in tag.children:
            if isinstance(child, NavigableString):
                if child.strip() and look.invisible_text and tag.name != "title":
                    doomed.append(child)
                continue
            if not isinstance(child, Tag):
                continue
            if child.name == "title":
                continue
            if child.name == "head":
                stack.append((child, look))
                continue
            d, hidden = _declarations(child, sheet)
            if hidden or _hidden_by_attributes(child):
                doomed.append(child)
                continue
            stack.append((child, _child_look(child, d, look)))
    for item in doomed:
        item.extract()
    for head in soup.find_all("head"):  # of the head, only the title is read
        for child in list(head.children):
            if not (isinstance(child, Tag) and child.name == "title"):
                child.extract()
    return len(doomed)


def _child_look(child: Tag, d: dict[str, str], look: _Look) -> _Look:
    colour_value = d.get("color") or (str(child.get("color") or "") if child.name == "font" else "")
    colour = parse_colour(colour_value) if colour_value else None
    bg = _background(d, str(child.get("bgcolor") or "") or None)
    font_px = look.font_px
    if "font-size" in d:
        size = _length_px(d["font-size"], look.font_px)
        if size is not None:
            font_px = size
    elif d.get("font") and re.search(r"(^|\s)0(px|pt|em|rem|%)?(\s|/|$)", d["font"]):
        font_px = 0.0
    return _Look(colour=colour if colour is not None else look.colour,
                 background=look.background if bg is False else (bg if isinstance(bg, tuple) else None),
                 font_px=font_px)


# -- Markdown -------------------------------------------------------------------------------------------------
_MD_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)
_MD_TAG = re.compile(r"<(?P<close>/?)(?P<tag>[a-zA-Z][a-zA-Z0-9]*)\b(?P<attrs>[^>]*?)(?P<self>/?)>")
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _attrs_hide(attrs: str, tag: str) -> bool:
    values = {m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR.finditer(attrs)}
    if tag in _NEVER_SHOWN or "hidden" in values or values.get("aria-hidden", "").lower() == "true":
        return True
    d = parse_declarations(values.get("style", ""))
    if values.get("color") and tag == "font":
        d.setdefault("color", values["color"])
    colour = parse_colour(d["color"]) if d.get("color") else None
    bg = _background(d, values.get("bgcolor"))
    size = _length_px(d["font-size"], 16.0) if "font-size" in d else None
    look = _Look(colour=colour if colour is not None else BLACK,
                 background=WHITE if bg is False else (bg if isinstance(bg, tuple) else None),
                 font_px=16.0 if size is None else size)
    return hides(d) or look.invisible_text


def strip_hidden_markup(text: str) -> str:
    """Markdown: drop HTML comments and the inline HTML elements (with what they hold) that would not be seen.

    A hidden element ends at its matching closing tag (same-name elements inside it are counted); one that is
    never closed hides the rest of the text, as it would in a browser."""
    if "<" not in text:
        return text
    text = _MD_COMMENT.sub("", text)
    out: list[str] = []
    position = 0
    hidden: str | None = None  # the name of the hidden element we are inside
    nested = 0  # same-name elements opened inside it
    for m in _MD_TAG.finditer(text):
        tag = m.group("tag").lower()
        void = tag in _VOID or bool(m.group("self"))
        if hidden is not None:
            if tag == hidden and not void:
                if not m.group("close"):
                    nested += 1
                elif nested:
                    nested -= 1
                else:
                    hidden = None
            position = m.end()
            continue
        out.append(text[position:m.start()])
        position = m.end()
        if not m.group("close") and _attrs_hide(m.group("attrs"), tag):
            hidden = None if void else tag
            continue
        out.append(m.group(0))
    if hidden is None:
        out.append(text[position:])
    return "".join(out)
