"""Log review: the interaction log as reviewers see it (search, replay, label, export). Staff only (``reviewer``).

The service the reviewers' REST routes (``ui.review_api``) and the staff page's review tab both call. The
filter and result types are importable from here; the queries themselves live in the store.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.errors import NotFoundError
from assistant.locales import languages
from assistant.store.review_queries import (
    EXPORT_FORMATS,
    TURN_LABELS,
    ExportFormat,
    LabelRecord,
    ReviewStore,
    TurnFilter,
    TurnPage,
    TurnReplay,
    TurnSummary,
)
from assistant.store.turn_language import UNKNOWN_LANGUAGE

__all__ = ["EXPORT_FORMATS", "TURN_LABELS", "UNKNOWN_LANGUAGE", "ExportFormat", "LabelRecord", "LogReview",
           "TurnFilter", "TurnPage", "TurnReplay", "TurnSummary"]


class LogReview:
    """Search, replay, label and export turns. Bad filters, page sizes, labels or formats raise
    ``ValidationError``; labelling an unknown turn raises ``NotFoundError``."""

    def __init__(self, store: ReviewStore) -> None:
        self._store = store

    def search(self, f: TurnFilter | None = None, limit: int = 50, cursor: str | None = None) -> TurnPage:
        """Matching turns, newest first, a page at a time, with the total count and the next page's cursor."""
        f = f or TurnFilter()
        f.validate()
        return self._store.search(f, limit, cursor)

    def languages(self) -> tuple[str, ...]:
        """The languages turns can be filtered by: every shipped one (``en`` first), then ``unknown`` (turns that
        recorded none: logged before languages were, or replies an agent sent)."""
        return (*languages(), UNKNOWN_LANGUAGE)

    def count(self, f: TurnFilter | None = None) -> int:
        return self._store.count(f)

    def replay(self, turn_id: str) -> TurnReplay | None:
        """One turn with its trace as replay steps, its events and its labels; ``None`` if there is no such turn."""
        return self._store.get_replay(turn_id)

    def get_replay(self, turn_id: str) -> TurnReplay:
        """``replay``, or ``NotFoundError`` if there is no such turn."""
        found = self._store.get_replay(turn_id)
        if found is None:
            raise NotFoundError(f"turn {turn_id!r} not found", user_message=f"no turn {turn_id!r}")
        return found

    def label(self, turn_id: str, label: str, reviewer: str, note: str | None = None) -> LabelRecord:
        """A reviewer's label; the newest label of a turn is its current one. ``NotFoundError`` for no such turn."""
        try:
            return self._store.add_label(turn_id, label, reviewer, note)
        except NotFoundError as e:
            raise NotFoundError(e.message, user_message=f"no turn {turn_id!r}") from e

    def export(self, f: TurnFilter | None = None, fmt: str = "jsonl", *, include_trace: bool = False
               ) -> Iterator[str]:
        """The matching turns as JSON Lines or CSV text chunks (read lazily: memory stays flat)."""
        f = f or TurnFilter()
        f.validate()
        return self._store.iter_export(f, fmt, include_trace=include_trace)
