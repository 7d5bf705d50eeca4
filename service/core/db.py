"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with foreign keys on, and every transaction starts with ``BEGIN IMMEDIATE``
so two writers can never interleave: the second waits (busy_timeout) instead of failing at commit.
That is what makes check-then-insert rules (the audit sealer's chain tail, booking overlap) safe on SQLite.
"""

from __future__ import annotations

import select
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

# Stable constraint names so Alembic migrations are the same on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Execution option and session flag of a read-only transaction (service/core/read_scope.py): on SQLite it
# begins no transaction and takes no writer lock.
READ_ONLY = "tms_read_only"

# SQLite admits one writer at a time. Threads of one process queue on this lock instead of in
# SQLite's busy handler, whose back-off sleeps (up to 100 ms each) gave long latency tails.
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(normalize_url(url_or_engine))
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the per-backend settings this service relies on."""
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Pooled: opening a connection (and its PRAGMAs) costs more than a small transaction. A pooled
            # connection is used by one checkout at a time, so no transaction is shared between threads.
            pool_size=8, max_overflow=16,
            **kwargs,
        )
        _install_sqlite_pragmas(engine)
        _WRITER_LOCKS[engine] = threading.Lock()  # not RLock: FastAPI may exit the scope on another thread
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _refuse_a_closed_connection)
    return engine


def _refuse_a_closed_connection(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (a restart, an administrator's terminate, an idle
    timeout), without a round trip: an idle connection is sent nothing unless the server is closing it, so a
    readable socket means it is gone. The pool then reconnects in its place, as a pre-ping would have, and the
    request does not fail. A pre-ping asks the server every time: a round trip on every request."""
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed this pooled connection")


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")  # clinical records: durable on power loss too
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only scope begins nothing: each statement is its own read transaction (autocommit, as on
        # PostgreSQL, see service.core.read_scope), so a read pays for no BEGIN and holds no WAL snapshot open.
        if not conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any exception."""
    with _WRITER_LOCKS.get(engine) or nullcontext(), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def connection_scope(engine: Engine) -> Iterator[Connection]:
    """A Core connection whose transaction commits on success and rolls back on any exception.

    For writes that need no ORM unit of work (a batch of prepared statements), under the same writer lock as
    ``session_scope``.
    """
    with _WRITER_LOCKS.get(engine) or nullcontext(), engine.begin() as connection:
        yield connection
