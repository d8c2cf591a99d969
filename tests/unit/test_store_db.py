"""Database URLs and engine construction (no server needed: engines connect lazily)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConciergeError, ConfigError, StoreError
from assistant.store.db import build_engine, normalize_url


def test_a_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    assert normalize_url("postgresql://u@db:5432/shop").drivername == "postgresql+psycopg"


def test_a_postgres_scheme_url_gets_the_psycopg_driver() -> None:
    assert normalize_url("postgres://u@db/shop").drivername == "postgresql+psycopg"


def test_an_explicit_driver_is_kept() -> None:
    assert normalize_url("postgresql+psycopg://u@db/shop").drivername == "postgresql+psycopg"


def test_an_unsupported_database_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_url("mysql://u@db/shop")

    assert "sqlite:///" in caught.value.user_message


def test_text_that_is_no_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        normalize_url("not a url")


def test_a_sqlite_engine_creates_the_missing_folder(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'store.db'}")
    engine.dispose()

    assert (tmp_path / "a" / "b").is_dir()


def test_store_errors_are_concierge_errors_with_advice() -> None:
    error = StoreError("boom")

    assert isinstance(error, ConciergeError) and "retry" in error.user_message
