"""PII out of every write: the columns that hold shopper or model text are redacted as their rows are written.

Mapper events on the declarative base (``models.py`` installs them) run :func:`redact_row` before every ORM
insert and update, whichever store or caller writes the row, so no path can store these columns unredacted:

- ``turns``: ``message``, ``reply`` and the whole ``trace`` (tool call arguments and results, queries, raw model
  text, facts and retrieved snippets);
- ``events``: the ``payload``, except identifiers the shop assigned (keys such as ``product_id``, ``offer_id``,
  ``code``, ``segment``), which analytics and the offer bandit count by;
- ``handovers``: ``summary`` and ``note``; ``turn_labels``: ``note``; ``session_ratings``: ``comment``.

Not redacted, on purpose: the customer's own profile and orders (the shop's records of them, imported or changed
by a confirmed action), a session's pending action (a new address waiting for the shopper's "yes") and a
hand-over's ``contact_email`` (given, with its purpose, to be answered there; deleted with the customer).
Redaction is idempotent: placeholders such as ``[EMAIL]`` are not redacted again.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection
from sqlalchemy.orm import Mapper

from assistant.privacy.redaction import redact, redact_json

#: table -> its text and JSON columns that are redacted on every write
REDACTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "turns": ("message", "reply", "trace"),
    "events": ("payload",),
    "handovers": ("summary", "note"),
    "turn_labels": ("note",),
    "session_ratings": ("comment",),
}
#: event payload keys whose string values are identifiers the shop assigned: kept as they are
_IDENTIFIER_KEY = re.compile(r"(^|_)(id|code|segment|kind|arm|variant|sku)$")


def _event_identifier(key: str) -> bool:
    return bool(_IDENTIFIER_KEY.search(key))


def redact_row(_mapper: Mapper[object], _connection: Connection, target: object) -> None:
    """``before_insert`` / ``before_update``: redact the row's PII columns in place."""
    table = getattr(target, "__tablename__", None)
    columns = REDACTED_COLUMNS.get(str(table)) if table else None
    if not columns:
        return
    for column in columns:
        value = getattr(target, column, None)
        if value is None:
            continue
        if isinstance(value, str):
            cleaned: object = redact(value).text
        elif table == "events":
            cleaned = redact_json(value, _event_identifier)
        else:
            cleaned = redact_json(value)
        if cleaned != value:
            setattr(target, column, cleaned)
