"""Read-only transactions, and the few rows a read still writes.

A read-only request (``read_scope``) takes no lock and flushes no ORM change: the rows a read still needs (its
audit row, the sign-in session's activity mark) are queued with ``defer`` and committed by the group commit
(``service/core/group_commit.py``), so under load one commit (and one fsync) serves many reads. A read is never
answered before its audit row is durable.

On SQLite the deferred writes of reads queued together are written as one (a ``Joint``): one savepoint for the lot,
and the rows of consecutive inserts into one table (``Rows``: every read's audit row) in one statement. Per read, the
statements' own cost was most of the writer's time, and the writer shares the process's one interpreter lock with
the requests. On PostgreSQL each read's writes keep a savepoint of their own: there the joined write made the
writer's batches a fifth the size, five times as many commits, and the reads' p99 worse (`bench.api`: 440-610 ms at
50 connections against 164-283 ms, at the same rate).

A read runs in autocommit on both databases: each statement is its own read transaction and sees what was
committed before it. On PostgreSQL at READ COMMITTED every statement takes its own snapshot in a transaction or
not, so BEGIN and COMMIT would add two round trips and no consistency; on SQLite (WAL lets a read run beside the
writer either way) the engine simply emits no BEGIN for a read (``service.core.db``), which makes it the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from service.core.db import READ_ONLY, is_sqlite
from service.core.group_commit import Joint, group_commit

# A deferred write is a statement run on a Core connection: a read's rows need no ORM unit of work, whose flush
# cost more than the rest of the read.
Write = Callable[[Connection], None]

# The most deferred writes of several reads written in one joined call (and so the most rows in one statement).
MOST_JOINED_WRITES = 500


@dataclass(frozen=True)
class Rows:
    """A write inserting ``rows`` by ``statement``. Consecutive ``Rows`` of one statement, of one read or of reads
    written together, are inserted by one statement, in their order."""

    statement: Insert
    rows: list[dict[str, Any]]

    def __call__(self, connection: Connection) -> None:
        connection.execute(self.statement, self.rows)


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
        group_commit(engine).run(_work(engine, writes))


async def commit_deferred_async(engine: Engine, writes: Sequence[Write]) -> None:
    """``commit_deferred`` for a caller on an event loop, which goes on with other requests meanwhile."""
    if writes:
        await group_commit(engine).run_async(_work(engine, writes))


def _work(engine: Engine, writes: Sequence[Write]) -> Joint[Sequence[Write], None] | Write:
    """The group commit's work for a read's writes: joined with other reads' on SQLite (see the module's
    docstring), alone elsewhere."""
    joint = Joint(_apply_joined, writes, weight=len(writes), most=MOST_JOINED_WRITES)
    return joint if is_sqlite(engine) else joint.alone


def _apply_joined(connection: Connection, items: list[Sequence[Write]]) -> list[None]:
    """Apply several reads' writes in their order, consecutive ``Rows`` of one statement as one."""
    pending: Rows | None = None
    for write in (write for writes in items for write in writes):
        if isinstance(write, Rows) and pending is not None and write.statement is pending.statement:
            pending.rows.extend(write.rows)
            continue
        if pending is not None:
            pending(connection)
            pending = None
        if isinstance(write, Rows):
            pending = Rows(write.statement, list(write.rows))  # a copy: the caller's own stays as it was
        else:
            write(connection)
    if pending is not None:
        pending(connection)
    return [None] * len(items)


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
