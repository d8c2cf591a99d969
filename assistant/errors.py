"""The one error hierarchy of Concierge.

Every error meant for a person carries a ``user_message`` that says what to do about it. Third-party
errors (SQLAlchemy, HTTP clients, model runtimes) are wrapped at the seam where they occur with
``raise SomeConciergeError(...) from e``, so callers catch ``ConciergeError`` and nothing else.
"""

from __future__ import annotations


class ConciergeError(Exception):
    """Base class: ``str(error)`` is for logs, ``user_message`` is for the person who can act on it."""

    default_user_message = "Something went wrong inside Concierge; see the log for details."

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.user_message = user_message or self.default_user_message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, user_message={self.user_message!r})"


class NotFoundError(ConciergeError):
    """A thing asked for does not exist (or belongs to someone else, which callers must not learn)."""

    default_user_message = "Nothing was found under that id; check the id and try again."


class ValidationError(ConciergeError):
    """Input was rejected: a record, a field or an argument is malformed."""

    default_user_message = "The input was rejected; fix the fields named in the message and try again."


class ConfigError(ConciergeError):
    """Settings are missing or wrong, or an optional extra is not installed."""

    default_user_message = "Concierge is misconfigured; fix the setting named in the message."


class StoreError(ConciergeError):
    """The profile and log database failed (unreachable, constraint violated, migration failed)."""

    default_user_message = (
        "The database could not complete the operation; check that it is reachable and that its "
        "schema is up to date (assistant.store.migrate), then retry."
    )


class ConflictError(ConciergeError):
    """A change was refused because the thing changed meanwhile (an order moved on to another status)."""

    default_user_message = "That changed in the meantime; look at it again and retry."


class AuthError(ConciergeError):
    """The caller is not signed in: no credentials, or a token that is malformed, forged or expired."""

    default_user_message = "Your session is not valid any more; please sign in again."


class Forbidden(ConciergeError):
    """The caller is signed in but may not do this (a role is missing, a feature is switched off)."""

    default_user_message = "You are not allowed to do that."


class ModelUnavailable(ConciergeError):
    """The chat model failed, timed out or could not be reached; the turn should fall back or retry."""

    default_user_message = (
        "The language model is not available right now; check that it is running (CONCIERGE_LLM__MODE, "
        "CONCIERGE_LLM__OPENAI__BASE_URL) and retry."
    )


class PromptTooLong(ModelUnavailable):
    """The prompt does not fit the context window: send fewer facts or raise ``llm.context_window``."""

    default_user_message = (
        "The conversation is too long for the model's context window; shorten it or raise "
        "CONCIERGE_LLM__CONTEXT_WINDOW."
    )
