"""The review queue of generated marketing copy: list, approve, edit (verified against the draft's facts), reject.

The service the copy REST routes (``ui.marketing_api``), the copilot and the staff page's copy tab call.
Reviewing copy that is no longer pending is a ``ConflictError`` (409 in the API).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.errors import ConflictError, ValidationError
from assistant.personalization.copywriter import review_copy
from assistant.store.copy_queue import COPY_STATUSES, CopyDraft, CopyStore

if TYPE_CHECKING:
    from assistant.turn.verifier import Verifier

__all__ = ["COPY_STATUSES", "CopyDraft", "CopyReview"]


class CopyReview:
    """``verifier``: builds the chat's checks for edited copy (the catalogue and every offer code) on first use."""

    def __init__(self, store: CopyStore, verifier: Callable[[], Verifier]) -> None:
        self._store = store
        self._make_verifier = verifier
        self._verifier: Verifier | None = None

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = self._make_verifier()
        return self._verifier

    def list(self, status: str | None = None, limit: int = 200) -> builtins.list[CopyDraft]:
        """Drafts oldest first, all or those with ``status``."""
        return list(self._store.list(status, limit))

    def pending(self, limit: int = 200) -> builtins.list[CopyDraft]:
        return self.list("pending", limit)

    def get(self, draft_id: str) -> CopyDraft | None:
        return self._store.get(draft_id)

    def review(self, draft_id: str, action: str, reviewer: str, text: str | None = None,
               reason: str | None = None) -> CopyDraft:
        """``approve`` | ``edit`` | ``reject`` a pending draft. ``NotFoundError`` for an unknown draft,
        ``ConflictError`` for one already reviewed (or a review the queue refuses)."""
        try:
            return review_copy(self._store, self.verifier, draft_id, action, reviewer, text, reason)
        except ValidationError as e:
            raise ConflictError(e.message, user_message=e.user_message) from e

    def approve(self, draft_id: str, reviewer: str, reason: str | None = None) -> CopyDraft:
        return self.review(draft_id, "approve", reviewer, None, reason)

    def edit(self, draft_id: str, reviewer: str, text: str, reason: str | None = None) -> CopyDraft:
        """Approve with the reviewer's text; problems against the draft's facts land in ``verdict.review.warnings``."""
        return self.review(draft_id, "edit", reviewer, text, reason)

    def reject(self, draft_id: str, reviewer: str, reason: str | None = None) -> CopyDraft:
        return self.review(draft_id, "reject", reviewer, None, reason)
