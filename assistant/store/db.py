"""Engines, migrations and transactions for the profile and log store.

URLs:
- ``sqlite:///data/concierge.db`` (relative) or ``sqlite:////abs/path.db``: the default. The parent
  directory is created, and every connection gets ``journal_mode=WAL`` (readers never block the writer),
  ``foreign_keys=ON`` (cascading deletes) and a ``busy_timeout``. ``sqlite://`` is an in-memory database
  shared by all sessions of the engine (for quick experiments; tests use a temp file).
- ``postgresql+psycopg://user:pass@host:5432/db``: ``postgresql://`` and ``postgres://`` are rewritten
  to the psycopg 3 driver. Libpq options pass through the query string, e.g.
  ``?options=-csearch_path%3Dmyschema`` to keep the tables in their own schema.

Migrations are Alembic revisions shipped inside the package (``assistant/migrations``). ``migrate``
runs them programmatically on an engine. To run Alembic by hand (to look at history, or downgrade)::

    alembic -c assistant/migrations/alembic.ini -x url=sqlite:///data/concierge.db upgrade head
    alembic -c assistant/migrations/alembic.ini -x url=postgresql+psycopg://localhost/shop history

(``CONCIERGE_DATABASE_URL`` works instead of ``-x url=...``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from assistant.errors import ConciergeError, ConfigError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
MIGRATION_LOCK_KEY = 0x436F6E63  # "Conc": the PostgreSQL advisory lock held while migrating
SUPPORTED_URLS = "sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL and pick the driver this project ships (psycopg 3 for PostgreSQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise ConfigError(f"not a database URL: {url!r}",
                          user_message=f"Set the store URL to {SUPPORTED_URLS}.") from e
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise ConfigError(f"unsupported database {parsed.drivername!r} in {parsed.render_as_string()}",
                      user_message=f"Use {SUPPORTED_URLS}.")


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def build_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (see the module docstring); nothing connects until first use."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if _is_memory(parsed):
            kwargs["poolclass"] = StaticPool
        else:
            database = Path(str(parsed.database))
            try:
                database.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigError(f"cannot create the directory for {database}: {e}",
                                  user_message=f"Make {database.parent} writable or choose another "
                                               "store path.") from e
        engine = create_engine(parsed, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest Alembic revision shipped with this version of the package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def store_metadata() -> MetaData:
    """The metadata of every table of the store.

    Imports each module of ``assistant.store`` first, so that models declared outside ``models.py``
    are registered too (Alembic's environment and the models-match-migrations test rely on this).
    """
    import assistant.store as package
    from assistant.store.models import Base

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return Base.metadata


@contextmanager
def _sqlite_migration_lock(url: URL) -> Iterator[None]:
    """An OS lock on ``<database>.migrate-lock`` beside a SQLite file, held while migrating.

    ``BEGIN IMMEDIATE`` alone is not enough when processes start together on a new file: each
    connection first switches the file to WAL, and SQLite answers "database is locked" without waiting
    when that switch meets another connection's write lock. Taking this lock first means only one
    connection at a time opens the file to migrate. PostgreSQL, in-memory databases and systems without
    ``fcntl`` (Windows) do not need or have it.
    """
    if url.get_backend_name() != "sqlite" or _is_memory(url):
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    database = Path(str(url.database)).expanduser().resolve()
    lock_path = database.with_name(database.name + ".migrate-lock")
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the Alembic migrations inside the package.

    The whole upgrade runs in one transaction under a lock (PostgreSQL: an advisory lock; SQLite: the
    database write lock, taken after an OS lock on ``<database>.migrate-lock``), so processes that start
    together migrate one after the other and the later ones find the schema current.
    """
    from alembic import command
    from alembic.util import CommandError

    config = _alembic_config()
    try:
        with _sqlite_migration_lock(engine.url), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            elif not _is_memory(engine.url):
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite: the write lock, for all of it
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except CommandError as e:
        raise StoreError(
            f"migrating {engine.url.render_as_string()} to {revision} failed: {e}",
            user_message="The database schema is at a revision this version of Concierge does not know "
                         "(was it migrated by a newer version?); upgrade Concierge or use another database.",
        ) from e
    except SQLAlchemyError as e:
        raise StoreError(
            f"migrating {engine.url.render_as_string()} to {revision} failed: {e}",
            user_message="The database schema could not be upgraded; check that the database is "
                         "reachable and that the user may create tables.",
        ) from e


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (stores convert them to domain types)."""
    return sessionmaker(engine, expire_on_commit=False)


#: SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100) and ENOSPC, as their messages say it
_DISK_FULL = re.compile(r"database or disk is full|no space left on device|could not extend file|disk full", re.I)


def _store_error(what: str, error: SQLAlchemyError) -> StoreError:
    orig = getattr(error, "orig", None)
    detail = str(orig) if orig is not None else str(error)
    first_line = next(iter(detail.strip().splitlines()), "")
    if isinstance(error, IntegrityError):
        return StoreError(
            f"{what} failed: the database refused the data: {first_line}",
            user_message=f"{what[:1].upper()}{what[1:]} was refused ({first_line}); fix the data and try again.",
        )
    if _DISK_FULL.search(detail):
        return StoreError(
            f"{what} failed: the database is full: {first_line}",
            user_message="The database is full (no space left on its disk): nothing of this was saved. Free disk "
                         "space, then retry.",
        )
    return StoreError(f"{what} failed: {type(error).__name__}: {first_line}")


@contextmanager
def write(sessions: sessionmaker[Session], what: str) -> Iterator[Session]:
    """One transaction: commits if the block succeeds, rolls back everything if anything fails.

    Database errors come out as ``StoreError`` (``what`` names the operation); ``ConciergeError``
    raised by the block (e.g. ``NotFoundError``) passes through unchanged after the rollback.
    """
    try:
        with sessions.begin() as session:
            yield session
    except ConciergeError:
        raise
    except SQLAlchemyError as e:
        raise _store_error(what, e) from e


@contextmanager
def read(sessions: sessionmaker[Session], what: str) -> Iterator[Session]:
    """A session for reading; database errors come out as ``StoreError``."""
    try:
        with sessions() as session:
            yield session
    except ConciergeError:
        raise
    except SQLAlchemyError as e:
        raise _store_error(what, e) from e
