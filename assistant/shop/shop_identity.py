"""Who the shop is: ``shop.json`` of a shop folder read and checked, the neutral default for a folder without
one, and the profile a process uses (the stored one, with the settings' overrides).

A folder without ``shop.json`` gives a shop without a name (the assistant says "our shop": a folder's name is
often a path or a data set's name, never a name to greet shoppers with), the most common currency of its
catalogue, and the English locale ``en``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.records import ShopProfile
from assistant.settings import AppSettings, check_currency, normalize_locale
from knowledge.importing import ImportReport, RecordError, check_size, decode_text, schema_errors

if TYPE_CHECKING:
    from assistant.store.shop_profiles import ShopProfileStore

SHOP_FILE = "shop.json"
DEFAULT_CURRENCY = "USD"
DEFAULT_LOCALE = "en"


def main_currency(currencies: Iterable[str]) -> str | None:
    """The most common currency (ties: the first in alphabetical order); ``None`` for none."""
    counts = Counter(c for c in currencies if c)
    if not counts:
        return None
    return min(counts, key=lambda c: (-counts[c], c))


def read_shop_file(path: Path, max_bytes: int = 1_000_000) -> tuple[dict[str, Any] | None, RecordError | None]:
    """``shop.json`` read and checked: (its fields, None) or (None, what is wrong with it)."""
    try:
        check_size(path, max_bytes)
        data = json.loads(decode_text(path.read_bytes()))
    except (OSError, ValueError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, RecordError(str(path), None, str(e))
    if not isinstance(data, dict):
        return None, RecordError(str(path), None, "shop.json must be one JSON object")
    problems = schema_errors(data, "shop")
    fields = dict(data)
    try:
        if not problems and "locale" in fields:
            fields["locale"] = normalize_locale(str(fields["locale"]))
        if not problems and "currency" in fields:
            check_currency(str(fields["currency"]))
    except ValueError as e:
        problems.append(str(e))
    if problems:
        return None, RecordError(str(path), None, "; ".join(problems[:5]))
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
    return fields, None


def folder_profile(fields: dict[str, Any] | None, currencies: Iterable[str], origin: str | None) -> ShopProfile:
    """The profile of a shop folder: its ``shop.json`` fields, else the neutral default; the currency falls back
    to the catalogue's most common one."""
    fields = fields or {}
    currency = fields.get("currency") or main_currency(currencies) or DEFAULT_CURRENCY
    return ShopProfile(name=str(fields.get("name") or ""), currency=str(currency),
                       locale=str(fields.get("locale") or DEFAULT_LOCALE),
                       source="shop.json" if fields else "default", origin=origin)


def import_shop_profile(store: ShopProfileStore, root: Path, currencies: Callable[[], Iterable[str]], *,
                        origin: str, whole_shop: bool) -> ImportReport | None:
    """Store the profile of the shop folder ``root``. With ``shop.json``: its profile (a bad file changes nothing
    and fails the report). Without: the neutral default, but only for a ``whole_shop`` (a folder with a
    catalogue) or when nothing is stored yet, so a folder of extra policies keeps the shop's name. ``None`` when
    nothing was to be done."""
    path = root / SHOP_FILE
    report = ImportReport("shop")
    if path.exists():
        fields, error = read_shop_file(path)
        if error is not None:
            report.fail(error, whole_file=True)
            return report
        report.count(store.put(folder_profile(fields, currencies(), origin)))
        return report
    if not whole_shop and store.get() is not None:
        return None
    report.count(store.put(folder_profile(None, currencies(), origin)))
    return report


def effective_profile(stored: ShopProfile | None, app: AppSettings,
                      currencies: Callable[[], Iterable[str]]) -> ShopProfile:
    """The profile a process uses: the stored one (else the default, with the catalogue's main currency), with
    ``app.shop_name``/``shop_currency``/``shop_locale`` overriding it when set."""
    profile = stored or folder_profile(None, currencies(), None)
    return replace(profile, name=app.shop_name.strip() or profile.name,
                   currency=app.shop_currency or profile.currency, locale=app.shop_locale or profile.locale)
