"""A turn's reply language as SQL, for the staff views that split or filter the log by language.

The turn service records the language of each reply in the turn's trace (``trace.language``: ``en``, ``zh``, ...;
see docs/languages.md). Turns whose trace has none (logged before languages were recorded, or replies an agent
sent) have the language ``unknown``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

from assistant.store import models as m

#: the language of a turn whose trace records none
UNKNOWN_LANGUAGE = "unknown"


def turn_language() -> Any:
    """``trace.language`` of ``turns`` (JSON on SQLite, JSONB on PostgreSQL), else ``unknown``."""
    return func.coalesce(m.TurnRow.trace["language"].as_string(), UNKNOWN_LANGUAGE)
