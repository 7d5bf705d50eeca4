"""Read-only transactions, and group commit for the few rows a read still writes.

A read-only request (``read_scope``) takes no writer lock (on SQLite it begins a deferred transaction, which
WAL lets run beside the writer) and flushes no ORM change: the rows a read still needs (its audit row, the
sign-in session's activity mark) are queued with ``defer``. On PostgreSQL they are written at the end of the
read's own transaction (no lock is shared there); on SQLite they are committed by group commit. Whoever
arrives while no batch is being written becomes the leader: it takes everything queued, writes it in one
transaction and wakes the others. Under load one commit (one fsync, one SQLite writer turn) serves many
requests; alone, a request commits its own batch at once, so nobody waits for a timer. Each caller returns only
after the batch holding its writes has committed, and sees that batch's error if it failed: a read is never
answered before its audit row is durable.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from service.core.db import READ_ONLY, connection_scope, is_sqlite

# A deferred write is a statement run on a Core connection: a read's rows need no ORM unit of work, whose flush
# cost more than the rest of the read.
Write = Callable[[Connection], None]


@dataclass(eq=False)
class _Ticket:
    writes: Sequence[Write]
    done: bool = False
    error: BaseException | None = field(default=None)


class GroupCommit:
    """Commits queued writes for one engine, a batch at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cv = threading.Condition()
        self._queue: list[_Ticket] = []
        self._writing = False

    def run(self, writes: Sequence[Write]) -> None:
        """Apply ``writes`` in a committed transaction (shared with other callers'), or raise its error."""
        ticket = _Ticket(writes)
        with self._cv:
            self._queue.append(ticket)
            while self._writing and not ticket.done:
                self._cv.wait()
            if ticket.done:
                return self._outcome(ticket)
            self._writing = True
            batch, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            self._write(batch)
        except BaseException as exc:  # every caller in the batch gets it; none is told its read was audited
            error = exc
        finally:
            with self._cv:
                for member in batch:
                    member.done, member.error = True, error
                self._writing = False
                self._cv.notify_all()
        return self._outcome(ticket)

    def _write(self, batch: list[_Ticket]) -> None:
        with connection_scope(self._engine) as connection:
            for member in batch:
                for write in member.writes:
                    write(connection)

    @staticmethod
    def _outcome(ticket: _Ticket) -> None:
        if ticket.error is not None:
            raise ticket.error


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_BY_ENGINE_LOCK = threading.Lock()


def group_commit(engine: Engine) -> GroupCommit:
    """The engine's one group committer."""
    with _BY_ENGINE_LOCK:
        found = _BY_ENGINE.get(engine)
        if found is None:
            found = _BY_ENGINE[engine] = GroupCommit(engine)
        return found


DEFERRED = "deferred_writes"


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only transaction; its deferred writes are committed before the scope ends (on SQLite by the group
    commit, on PostgreSQL in the read's own transaction).

    A flush of any other change raises: a route declared read-only that writes is a bug, found by its tests.
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
                for write in session.info.pop(DEFERRED, ()):
                    write(connection)
            session.commit()  # ends the read transaction, with its deferred writes where they are in place
        except BaseException:
            session.rollback()
            raise
        writes = session.info.pop(DEFERRED, None)
    if writes:
        group_commit(engine).run(writes)


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
