"""Staff roles: who may see what in the copilot, the log review and the admin views.

An ``agent`` works the hand-over queue (copilot, marketing copy review), a ``reviewer`` reads, labels and
exports the conversation log and its analytics, an ``admin`` is all three and also manages knowledge, offers,
settings and shoppers' data rights. Every view and API route checks the role on the server side through a
``RoleDependency``: ``require("reviewer")`` is a FastAPI dependency that returns the signed-in
``StaffPrincipal`` or answers 401 (not signed in, session expired) or 403 (signed in, wrong role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["agent", "reviewer", "admin", "marketer"]
#: a ``marketer`` runs campaigns (audiences, copy variants, holdouts, channel exports); admin may too
ROLES: tuple[Role, ...] = ("agent", "reviewer", "admin", "marketer")


@dataclass(frozen=True)
class StaffPrincipal:
    """A signed-in member of staff (or the service key, which acts as ``admin``)."""

    username: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return "admin" in self.roles or role in self.roles

    @property
    def author(self) -> str:
        """How a reply this person sent is attributed in the log."""
        return f"agent:{self.username}"


#: ``require(role)`` -> a FastAPI dependency returning the ``StaffPrincipal`` (401/403 otherwise)
RoleDependency = Callable[[str], Callable[..., Any]]
