"""Read-only transactions, and the few rows a read still writes.

A read-only request (``read_scope``) takes no writer lock (on SQLite it begins a deferred transaction, which
WAL lets run beside the writer) and flushes no ORM change: the rows a read still needs (its audit row, the
sign-in session's activity mark) are queued with ``defer``. On PostgreSQL they are written at the end of the
read's own transaction (no lock is shared there); on SQLite they are committed by the group commit
(``service/core/group_commit.py``), so under load one commit serves many reads. A read is never answered before
its audit row is durable.
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
    """A read-only transaction; its deferred writes are committed before the scope ends (on SQLite by the group
    commit, on PostgreSQL in the read's own transaction).

    A flush of any other change raises: a route declared read-only that writes is a bug, found by its tests.
    """
    writes: list[Write] = []
    with read_transaction(engine, writes) as session:
        yield session
    commit_deferred(engine, writes)


@contextmanager
def read_transaction(engine: Engine, writes: list[Write]) -> Iterator[Session]:
    """``read_scope`` without its last step: the read transaction, ended; the writes it deferred are left in
    ``writes`` for ``commit_deferred`` (on PostgreSQL none are left: they were written in the transaction).

    For a caller that waits for the commit in its own way (the API, on the event loop: ``commit_deferred_async``).
    """
    # PostgreSQL has no single writer to spare, and its own WAL groups concurrent commits: there the deferred
    # writes go in the read's own transaction, saving a second connection and transaction per request.
    in_place = not is_sqlite(engine)
    with Session(engine, expire_on_commit=False) as session:
        session.info[READ_ONLY] = True
        connection = session.connection(execution_options={READ_ONLY: True})  # first: it decides the BEGIN
        try:
            yield session
            if in_place:
                _apply(session.info.pop(DEFERRED, ()), connection)
            session.commit()  # ends the read transaction, with its deferred writes where they are in place
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
