"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from assistant.errors import ValidationError

#: a value a JSON column holds as it is
JsonValue: TypeAlias = "None | str | bool | int | float | list[JsonValue] | dict[str, JsonValue]"

#: JSON everywhere, stored as JSONB on PostgreSQL.
JSONType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


def require_json(value: object, where: str) -> None:
    """Raise ``ValidationError`` unless ``value`` can be stored in a JSON column.

    Checked before writing because drivers differ: SQLite reports a bad value as a SQLAlchemy error,
    psycopg raises a bare ``TypeError`` from deep inside ``execute``.
    """
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValidationError(
            f"{where} cannot be stored as JSON: {e}",
            user_message=f"Only JSON values (text, numbers, booleans, null, lists, objects) fit in {where}.",
        ) from e


def to_json_safe(value: object) -> JsonValue:
    """A copy of ``value`` that any JSON column accepts: keys become text, tuples and sets lists,
    NaN and infinities ``None``, anything else unknown its ``str()``. For diagnostic blobs (a turn's
    trace) that must never stop a turn from being recorded."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones, so values are stored as naive UTC
    text (which also sorts correctly) and get ``tzinfo=UTC`` back when read. Naive datetimes are
    refused on the way in: they are almost always a bug about which zone was meant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware (UTC) datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
