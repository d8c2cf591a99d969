"""Errors raised at the chat-model seam (third-party errors are wrapped here with ``raise ... from e``)."""

from __future__ import annotations

from assistant.errors import ConciergeError


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


class ScriptExhausted(AssertionError):
    """A strict :class:`~assistant.llm.fake.FakeChatModel` was called with no reply queued.

    An ``AssertionError`` on purpose: it is a test failure, and code that catches ``ConciergeError``
    to fall back must not swallow it.
    """
