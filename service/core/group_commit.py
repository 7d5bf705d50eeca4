"""Group commit on SQLite: concurrent callers' writes share one transaction, one writer turn and one fsync.

SQLite admits one writer, and every commit costs an fsync (``synchronous=FULL``). Whoever arrives while no batch
is being written becomes the leader: it takes everything queued, runs each caller's work in one transaction and
wakes the others. Under load one commit serves many callers; alone, a caller commits its own batch at once, so
nobody waits for a timer.

Each caller's work runs in a SAVEPOINT of its own: a caller whose work raises has its own writes rolled back and
sees its own error, and the others' writes commit. A failed commit is raised in every caller of the batch. A
caller returns only after the batch holding its writes has committed: nothing is answered before it is durable.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine

from service.core.db import connection_scope

T = TypeVar("T")


@dataclass(eq=False)
class _Ticket:
    work: Callable[[Connection], Any]
    done: bool = False
    result: Any = None
    error: BaseException | None = field(default=None)


class GroupCommit:
    """Commits queued callers' work for one engine, a batch at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cv = threading.Condition()
        self._queue: list[_Ticket] = []
        self._writing = False

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a committed transaction (shared with other callers'); return its result or raise."""
        ticket = _Ticket(work)
        with self._cv:
            self._queue.append(ticket)
            while self._writing and not ticket.done:
                self._cv.wait()
            batch: list[_Ticket] = []
            if not ticket.done:
                self._writing = True
                batch, self._queue = self._queue, []
        if batch:
            self._lead(batch)
        if ticket.error is not None:
            raise ticket.error
        result: T = ticket.result
        return result

    def pending(self) -> int:
        """Callers queued behind the batch being written."""
        with self._cv:
            return len(self._queue)

    def writing(self) -> bool:
        with self._cv:
            return self._writing

    def _lead(self, batch: list[_Ticket]) -> None:
        try:
            with connection_scope(self._engine) as connection:
                for member in batch:
                    try:
                        with connection.begin_nested():
                            member.result = member.work(connection)
                    except Exception as exc:  # this caller's writes are rolled back; the others' stand
                        member.error = exc
        except BaseException as exc:  # BEGIN or COMMIT failed: no caller's writes are durable
            for member in batch:
                member.error = exc
        finally:
            with self._cv:
                for member in batch:
                    member.done = True
                self._writing = False
                self._cv.notify_all()


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_BY_ENGINE_LOCK = threading.Lock()


def group_commit(engine: Engine) -> GroupCommit:
    """The engine's one group committer."""
    with _BY_ENGINE_LOCK:
        found = _BY_ENGINE.get(engine)
        if found is None:
            found = _BY_ENGINE[engine] = GroupCommit(engine)
        return found
