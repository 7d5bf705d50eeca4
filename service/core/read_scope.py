"""Read-only transactions, and the few rows a read still writes.

A read-only request (``read_scope``) takes no lock and flushes no ORM change: the rows a read still needs (its
audit row, the sign-in session's activity mark) are queued with ``defer`` and committed by the group commit
(``service/core/group_commit.py``), so under load one commit (and one fsync) serves many reads. A read is never
answered before its audit row is durable.

A read runs in autocommit on both databases: each statement is its own read transaction and sees what was
committed before it. On PostgreSQL at READ COMMITTED every statement takes its own snapshot in a transaction or
not, so BEGIN and COMMIT would add two round trips and no consistency; on SQLite (WAL lets a read run beside the
writer either way) the engine simply emits no BEGIN for a read (``service.core.db``), which makes it the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from service.core.db import READ_ONLY, is_sqlite
from service.core.group_commit import group_commit

# A deferred write is a statement run on a Core connection: a read's rows need no ORM unit of work, whose flush
# cost more than the rest of the read.
Write = Callable[[Connection], None]


DEFERRED = "deferred_writes"


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only transaction; its deferred writes are committed (by the group commit) before the scope ends.

    A flush of any other change raises: a route declared read-only that writes is a bug, found by its tests.
    """
    writes: list[Write] = []
    with read_transaction(engine, writes) as session:
        yield session
    commit_deferred(engine, writes)


@contextmanager
def read_transaction(engine: Engine, writes: list[Write]) -> Iterator[Session]:
    """``read_scope`` without its last step: the read transaction, ended; the writes it deferred are left in
    ``writes`` for ``commit_deferred``.

    For a caller that waits for the commit in its own way (the API, on the event loop: ``commit_deferred_async``).
    """
    options: dict[str, Any] = {READ_ONLY: True}
    if not is_sqlite(engine):
        options["isolation_level"] = "AUTOCOMMIT"  # see the module's docstring (SQLite's engine begins nothing)
    with Session(engine, expire_on_commit=False) as session:
        session.info[READ_ONLY] = True
        session.connection(execution_options=options)  # first: it decides the BEGIN (or none)
        try:
            yield session
            session.commit()  # ends the read transaction
        except BaseException:
            session.rollback()
            raise
        writes.extend(session.info.pop(DEFERRED, ()))


def commit_deferred(engine: Engine, writes: Sequence[Write]) -> None:
    """Commit a read's deferred writes by the group commit; returns once they are durable."""
    if writes:
        group_commit(engine).run(lambda connection: _apply(writes, connection))


async def commit_deferred_async(engine: Engine, writes: Sequence[Write]) -> None:
    """``commit_deferred`` for a caller on an event loop, which goes on with other requests meanwhile."""
    if writes:
        await group_commit(engine).run_async(lambda connection: _apply(writes, connection))


def _apply(writes: Sequence[Write], connection: Connection) -> None:
    for write in writes:
        write(connection)


def is_read_only(session: Session) -> bool:
    return bool(session.info.get(READ_ONLY))


def defer(session: Session, write: Write) -> None:
    """Apply ``write`` in this transaction, or, in a read-only one, in the group commit that ends it."""
    if is_read_only(session):
        session.info.setdefault(DEFERRED, []).append(write)
    else:
        write(session.connection())


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_read_only(session: Session, _context: Any, _instances: Any) -> None:
    if is_read_only(session) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only transaction tried to write; queue the write with read_scope.defer")
