"""PII out of the logs: every log record is redacted (:func:`assistant.privacy.redaction.redact`) as it is made.

:func:`install_log_redaction` wraps the logging module's record factory, so each record of every logger (ours,
uvicorn's access log, libraries') has its formatted message, its traceback text and its stack redacted before
any handler sees it. :class:`RedactingFilter` does the same as a filter, for a handler set up elsewhere. Opening
the store (``assistant.store.stores.build_stores``) installs it, so every process that can write shopper data
also logs without it.
"""

from __future__ import annotations

import logging
from typing import Any

from assistant.privacy.redaction import redact

_DONE = "_pii_redacted"


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact the record's message (arguments merged in), exception text and stack, once."""
    if getattr(record, _DONE, False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed format string: keep the record as the logging module would report it
        return record
    record.msg, record.args = redact(message).text, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info)).text
    elif record.exc_text:
        record.exc_text = redact(record.exc_text).text
    if record.stack_info:
        record.stack_info = redact(record.stack_info).text
    setattr(record, _DONE, True)
    return record


class RedactingFilter(logging.Filter):
    """A filter that lets every record through, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Redact every log record from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _DONE, False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(factory(*args, **kwargs))

    setattr(make, _DONE, True)
    logging.setLogRecordFactory(make)
