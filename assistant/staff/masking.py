"""Secrets out of sight: settings (or any nested data) with every secret value replaced by a mask."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

MASK = "********"

_SECRET_NAME = re.compile(r"secret|password|passwd|pwd|key|token|credential", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?=@)")
_QUERY_SECRET = re.compile(r"(?P<head>[?&](?:password|passwd|pwd|secret|token|key|api_key|apikey|access_token)=)"
                           r"(?P<value>[^&#\s]+)", re.I)


def mask_text(text: str) -> str:
    """A URL's password (``user:password@host``) and secret query parameters replaced by the mask."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, text)


def mask_secrets(value: Any, name: str = "") -> Any:
    """A JSON-ready copy of settings (a model or plain data) with every secret masked: ``SecretStr`` values, strings
    under a name with secret, password, key or token in it, and passwords in URLs."""
    if isinstance(value, BaseModel):
        return {k: mask_secrets(getattr(value, k), k) for k in type(value).model_fields}
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Mapping):
        return {str(k): mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [mask_secrets(v, name) for v in value]
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return MASK if value and _SECRET_NAME.search(name) else mask_text(value)
    return value
