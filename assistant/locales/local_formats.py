"""Numbers, amounts and dates as each shipped language writes them (CLDR, through Babel).

English keeps the forms the replies always had (``$1,299.00``, ``2026-11-28``: the verifier and the shop's
staff read them so); another language uses its catalogue's ``BABEL_LOCALE``: ``¥1,299.00``, ``US$89.00``,
``2026年11月28日``.
"""

from __future__ import annotations

from datetime import date, datetime

from assistant.locales import REFERENCE, babel_locale, supported
from assistant.records import money


def money_in(value: float | None, currency: str, language: str, shop_locale: str | None = None) -> str:
    """An amount in ``language``: English as :func:`assistant.records.money` writes it, others by CLDR."""
    if supported(language) == REFERENCE or value is None:
        return money(value, currency, shop_locale)
    from babel.numbers import UnknownCurrencyError, format_currency

    try:
        return str(format_currency(value, (currency or "USD").upper(), locale=babel_locale(language)))
    except (UnknownCurrencyError, ValueError):
        return money(value, currency, shop_locale)


def day_in(value: datetime | date | str | None, language: str) -> str:
    """A day in ``language``: ISO in English (``2026-11-28``), the long CLDR form otherwise (``2026年11月28日``);
    a value that is no date is given back as written (its first ten characters)."""
    day: date | None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "")[:10])
        except ValueError:
            day = None
    if day is None:
        return str(value or "")[:10]
    if supported(language) == REFERENCE:
        return day.isoformat()
    from babel.dates import format_date

    return str(format_date(day, format="long", locale=babel_locale(language)))
