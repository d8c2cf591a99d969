"""What every tab of the staff page shares: the role check's shape, service errors as Gradio messages, dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import gradio as gr

from assistant.errors import ConciergeError
from assistant.staff.roles import StaffPrincipal

T = TypeVar("T")

#: ``need(request, role)``: the signed-in staff member if they have ``role``, a ``gr.Error`` otherwise
#: (``StaffViews.need``); every handler calls it first, whatever the page shows
RoleCheck = Callable[[gr.Request | None, str], StaffPrincipal]
#: what ``gr.update(...)`` returns: new properties for a component
Update = dict[str, Any]


def call(action: Callable[[], T]) -> T:
    """Run a service call; a ``ConciergeError`` becomes a ``gr.Error`` with its message for staff."""
    try:
        return action()
    except ConciergeError as e:
        raise gr.Error(e.user_message) from e


def parse_day(value: str, what: str) -> datetime | None:
    if not (value or "").strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise gr.Error(f"{what} must be a date like 2026-11-29.") from e
