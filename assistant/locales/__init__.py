"""The assistant's fixed sentences in every language it ships, one message catalogue per language.

A catalogue is a module of this package named by its language code (``en.py``, ``zh.py``) with:

- ``NAME``: the language's own name ("English", "简体中文");
- ``BABEL_LOCALE``: the CLDR locale its numbers, amounts and dates are written in (``en``, ``zh_Hans_CN``);
- ``MESSAGES``: message id -> template, with ``{placeholders}`` filled by :func:`text`.

English is the reference: every message id is in ``en.py``, and every shipped catalogue has every id with the
same placeholders (``tests/unit/test_messages_catalogue.py``). Adding a language is adding its module here and
its words to the few rule tables that read shoppers' messages (see docs/languages.md).
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from collections.abc import Mapping
from functools import cache
from types import ModuleType

#: the reference language: the one every other catalogue is checked against, and the last resort
REFERENCE = "en"


@cache
def _modules() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg and len(info.name) <= 3 and info.name.isalpha():  # a language code: en, zh, ...
            found[info.name] = importlib.import_module(f"{__name__}.{info.name}")
    return found


def languages() -> tuple[str, ...]:
    """The language codes a catalogue ships for, the reference first: ``("en", "zh")``."""
    codes = sorted(_modules())
    return (REFERENCE, *[c for c in codes if c != REFERENCE])


def supported(language: str | None) -> str:
    """``language`` if a catalogue ships for it (``zh-CN`` and ``zh_Hans`` count as ``zh``), else the reference."""
    code = (language or "").replace("_", "-").split("-")[0].lower()
    return code if code in _modules() else REFERENCE


def catalogue(language: str) -> Mapping[str, str]:
    """The message id -> template table of one shipped language."""
    return dict(_modules()[supported(language)].MESSAGES)


def babel_locale(language: str) -> str:
    """The CLDR locale a language's numbers, amounts and dates are written in."""
    return str(_modules()[supported(language)].BABEL_LOCALE)


def language_name(language: str) -> str:
    return str(_modules()[supported(language)].NAME)


def examples(language: str) -> tuple[str, ...]:
    """The example questions the chat page offers in ``language``."""
    return tuple(getattr(_modules()[supported(language)], "EXAMPLES", ()))


def template(key: str, language: str = REFERENCE) -> str:
    """The unfilled template of ``key`` in ``language`` (the reference language's when that one lacks it)."""
    table = _modules()[supported(language)].MESSAGES
    if key in table:
        return str(table[key])
    return str(_modules()[REFERENCE].MESSAGES[key])  # KeyError: an unknown message id is a bug


def text(key: str, language: str = REFERENCE, **values: object) -> str:
    """The message ``key`` in ``language``, its placeholders filled from ``values``."""
    return template(key, language).format(**values)


def placeholders(template_text: str) -> set[str]:
    """The placeholder names of a template: ``"{order_id} is {status}"`` -> ``{"order_id", "status"}``."""
    return {name for _, name, _, _ in string.Formatter().parse(template_text) if name}


def fixed_prefix(key: str) -> tuple[str, ...]:
    """The text before the first placeholder of ``key`` in every language: how to recognise that message."""
    return tuple(template(key, lang).split("{")[0] for lang in languages())
