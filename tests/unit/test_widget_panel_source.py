"""The widget's panel as shipped (``ui/static/widget.js``), read as text: it talks to the shopper REST API only (no
iframe of the Gradio page, whose event queue is kept per process and needs sticky sessions), keeps nothing of the
conversation but what names it (the guest token, a session id) in the tab, and never puts text it was sent into
HTML. The browser tests (tests/browser/test_widget.py, test_widget_replicas.py) check what it does."""

from __future__ import annotations

import json
import re

import pytest

from assistant.locales import catalogue, template
from ui.widget_script import WIDGET_FILE

SOURCE = WIDGET_FILE.read_text(encoding="utf-8")
CODE = re.sub(r"/\*.*?\*/|(?<![:\"'])//[^\n]*", "", SOURCE, flags=re.S)  # comments out


def test_the_panel_talks_to_the_rest_api_and_frames_no_gradio_page() -> None:
    paths = set(re.findall(r"\bapi\(\"([^\"]*)\"", CODE))  # every request goes through api(path)
    fetched = re.findall(r"\bfetch\(([^,)]+)", CODE)

    assert {"/api/v1/chat", "/api/v1/sessions/"} <= paths, paths
    assert all(p.startswith("/api/v1/") for p in paths), paths  # nothing but the REST API
    assert set(fetched) == {"api(\"/api/v1/chat\"", "api(\"/api/v1/sessions/\" + encodeURIComponent(session",
                            "api(\"/api/v1/guest/preferences\"",  # the shopper's answer to a joined guest's tastes
                            "url", "script.src"}, fetched  # url: the updates poll, script.src: the origin check
    assert "iframe" not in CODE.lower() and "gradio" not in CODE.lower()


def test_text_from_the_server_is_never_put_into_html() -> None:
    assignments = re.findall(r"\.(?:innerHTML|outerHTML)\s*=\s*([^;]+);", CODE)
    # what is left of each value once its string literals are taken out: only the + joining them
    risky = [value for value in assignments if re.sub(r"\"(?:[^\"\\]|\\.)*\"|[\s+]", "", value)]

    assert assignments, "the check must see the button's icon, which is set as constant HTML"
    assert risky == [], risky
    assert "insertAdjacentHTML" not in CODE and "document.write" not in CODE and "eval(" not in CODE


def test_the_tab_keeps_only_what_names_the_conversation() -> None:
    stored = re.findall(r"sessionStorage\.setItem\(([^,]+),", CODE)
    kept = re.findall(r"write\((GUEST_KEY|SESSION_KEY), (\{[^}]*\}|null|value \?[^)]*\))", CODE)

    assert stored == ["key"]  # one place writes, through write(key, value)
    assert "localStorage" not in CODE and "document.cookie" not in CODE
    assert kept and all(re.fullmatch(r"[\w\s:{}?|,.()*+\-]*", value) for _, value in kept), kept
    assert not re.search(r"write\([A-Z_]+, \{[^}]*(text|reply|message)", CODE)  # no message text is kept



@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_offer_of_a_guests_tastes_uses_the_chat_pages_words(language: str) -> None:
    """The widget carries its own strings; those of the offer are the locale catalogue's, word for word."""
    strings = SOURCE[SOURCE.index("var STRINGS = {"):SOURCE.index("\n  };", SOURCE.index("var STRINGS = {"))]
    block = strings.split(f"\n    {language}: {{", 1)[1].split("\n    zh: {", 1)[0]

    def shown(name: str) -> object:  # a string or an array of strings; a literal broken over lines is one string
        found = re.search(name + r': (\[[^\]]*\]|"[^"]*")', block)
        assert found is not None, name
        return json.loads(re.sub(r'"\s*\+\s*"', "", found.group(1)))

    def parts(key: str) -> list[str]:
        return template(key, language).split("{items}")

    assert shown("tastes") == parts("ui.guest_preferences")
    assert shown("saved") == parts("ui.guest_preferences.saved")
    assert shown("save") == template("ui.guest_preferences.save", language)
    assert shown("skip") == template("ui.guest_preferences.skip", language)
    assert shown("notSaved") == template("ui.guest_preferences.not_saved", language)
    kinds = {key[len("ui.kind."):]: value for key, value in catalogue(language).items() if key.startswith("ui.kind.")}
    assert kinds and all(f'{kind}: "{label}"' in block for kind, label in kinds.items()), kinds
