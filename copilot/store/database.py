"""One database for every part that keeps state (drafts, feedback, conversations), on SQLite or PostgreSQL.

SQLite (a file in WAL mode) is the embedded default; `COPILOT_DATABASE_URL=postgresql://...` shares one
PostgreSQL database between every replica. The schema is kept by the Alembic migrations shipped in this
package and brought up to date when the database is opened; an error names the database (never its password)
and leaves the stored rows as they are.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from copilot.errors import CopilotError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 7_171_717  # the PostgreSQL advisory lock that lets one replica at a time migrate


class StoreError(CopilotError):
    """The database cannot be opened, read or written (unreachable, locked, damaged, read-only)."""

    code = "store_unavailable"
    label = "database"


def database_url(value: str | Path) -> URL:
    """A SQLAlchemy URL for a path (SQLite) or a `sqlite:///` / `postgresql://` URL, with the psycopg 3
    driver."""
    if isinstance(value, Path):
        return URL.create("sqlite", database=str(value))
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise StoreError(f"COPILOT_DATABASE_URL is not a database URL ({exc}); use "
                         "postgresql://user:password@host:port/name or sqlite:///path") from None
    if url.get_backend_name() in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database:
        return url.set(drivername="sqlite")
    raise StoreError(f"database URL {url.render_as_string(hide_password=True)}: only postgresql:// and "
                     "sqlite:///path are supported")


class Database:
    """An engine, its migrations run once at open, and read / write blocks that turn driver errors into a
    StoreError naming the database. Writers of one process take turns on a lock (SQLite's busy wait sleeps up
    to 100 ms at a time); each write is one transaction (`BEGIN IMMEDIATE` on SQLite)."""

    def __init__(
        self, url: str | Path, busy_timeout: float = 10.0, error: type[StoreError] = StoreError
    ) -> None:
        """`error`: the kind of StoreError a failed open raises (it names the database as its `label`)."""
        self.url = database_url(url)
        self.busy_timeout = busy_timeout
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self.name = (
            (self.url.database or "") if self.sqlite else self.url.render_as_string(hide_password=True)
        )
        self._write_lock = threading.Lock()
        self.engine = self._engine(error)
        self.migrate(error)

    def _engine(self, error: type[StoreError]) -> Engine:
        if not self.sqlite:
            milliseconds = int(self.busy_timeout * 1000)
            return create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                 connect_args={"connect_timeout": max(1, int(self.busy_timeout)),
                                               "options": f"-c lock_timeout={milliseconds}"})
        path = Path(self.url.database or "")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise error(f"{error.label} {path}: cannot create its folder ({exc.strerror})") from exc
        engine = create_engine(self.url,
                               connect_args={"timeout": self.busy_timeout, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine

    def migrate(self, error: type[StoreError] = StoreError) -> None:
        """Bring the schema to the newest revision: a read when it is already there (a locked database opens),
        else one write transaction (one replica at a time: an advisory lock on PostgreSQL)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        with self.reading(error) as db:
            if MigrationContext.configure(db).get_current_revision() == head:
                return
        with self.writing(error) as db:
            if not self.sqlite:
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = db
            command.upgrade(config, "head")

    @contextmanager
    def reading(self, error: type[StoreError] = StoreError) -> Iterator[Connection]:
        try:
            with self.engine.connect() as db:
                yield db
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise error(self.explain(exc, error.label)) from exc

    @contextmanager
    def writing(self, error: type[StoreError] = StoreError) -> Iterator[Connection]:
        """One transaction, committed when the block ends without an exception."""
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            raise error(f"{error.label} {self.name}: other writes of this process took over "
                        f"{self.busy_timeout:g} s")
        try:
            with self.engine.connect() as db:
                db.execution_options(immediate=True)
                with db.begin():
                    yield db
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise error(self.explain(exc, error.label)) from exc
        finally:
            self._write_lock.release()

    def explain(self, exc: BaseException, label: str = StoreError.label) -> str:
        """One sentence naming the database and what is wrong with it."""
        message = str(getattr(exc, "orig", None) or exc).strip()
        reason = message.splitlines()[0] if str(exc).strip() else repr(exc)
        where = f"{label} {self.name}"
        if "locked" in reason or "busy" in reason or "lock timeout" in reason:
            return f"{where} is locked by another program (waited {self.busy_timeout:g} s): {reason}"
        if "not a database" in reason or "malformed" in reason or "corrupt" in reason:
            return (f"{where} is damaged ({reason}); it was left as it is: restore it from a backup, "
                    "or move it away to start a new one")
        if "Connection refused" in reason or "could not connect" in reason or "connection failed" in reason:
            return f"{where}: cannot connect ({reason})"
        return f"{where}: {reason}"

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_connect(connection: Any, _record: Any) -> None:
    """Transactions are begun by the `begin` hook (pysqlite's own would not cover DDL); WAL lets readers read
    while one writer writes."""
    connection.isolation_level = None
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; no fsync on every insert
    connection.execute("PRAGMA foreign_keys=ON")


def _sqlite_begin(db: Connection) -> None:
    db.exec_driver_sql("BEGIN IMMEDIATE" if db.get_execution_options().get("immediate") else "BEGIN")
