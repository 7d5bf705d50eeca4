"""Group commit: concurrent callers' writes share one transaction, one writer turn and one fsync.

Every commit costs an fsync (SQLite's ``synchronous=FULL``, PostgreSQL's WAL flush), and SQLite admits one
writer. Used for the small rows many requests write (a read's audit row) and, on SQLite, for event batches.
Whoever arrives while no batch is being written becomes the leader: it takes everything queued, runs each
caller's work in one transaction and wakes the others. Under load one commit serves many callers; alone, a caller
commits its own batch at once, so nobody waits for a timer.

A batch is first written whole, without savepoints (work rarely fails). If a caller's work raises, that
transaction is rolled back and the batch written again with each caller's work in a SAVEPOINT of its own: the
caller whose work raised has its own writes rolled back and sees its own error, and the others' writes commit. A
failed commit is raised in every caller of the batch. A caller returns only after the batch holding its writes has
committed: nothing is answered before it is durable.

A caller on an event loop (``run_async``) waits without a thread: its batch is written by whichever thread leads,
or, when it finds nobody writing (or only such callers are queued when a batch ends), by the committer's own writer
thread. So under load one thread hand-off serves a batch of reads rather than one per read.

Work of one kind from several callers may also run as one (a ``Joint``): an event batch's statements cost about the
same for one chair's fifty events as for ten chairs' five hundred, so consecutive joints of the same kind in a batch
run in one call (in one savepoint when the batch is written again). If that call raises, each of them runs again
alone in a savepoint of its own, so only the caller whose work fails sees an error, as without joining.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection, Engine

from service.core.db import connection_scope

T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True, eq=False)
class Joint(Generic[P, T]):
    """One caller's ``item`` of work that ``run(connection, items)`` does for many callers at once.

    ``run`` returns each item's result in the items' order. Consecutive joints with the same ``run`` in a batch are
    joined while their ``weight`` adds up to at most ``most``, so a joined call is never larger than the caller of
    ``run`` allows for one item of that weight.
    """

    run: Callable[[Connection, list[P]], list[T]]
    item: P
    weight: int = 1
    most: int = 1

    def alone(self, connection: Connection) -> T:
        return self.run(connection, [self.item])[0]


@dataclass(eq=False)
class _Ticket:
    work: Callable[[Connection], Any] | Joint[Any, Any]
    done: bool = False
    result: Any = None
    error: BaseException | None = field(default=None)
    # Set for a caller on an event loop: its loop, and the future the writing thread resolves when its batch is done.
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None


class GroupCommit:
    """Commits queued callers' work for one engine, a batch at a time."""

    def __init__(self, engine: Engine) -> None:
        # Weak: the registry below keys committers by engine weakly, which a strong reference here would defeat,
        # keeping every engine, and its committer's writer thread, for the life of the process.
        self._engine = weakref.ref(engine)
        self._cv = threading.Condition()
        self._queue: list[_Ticket] = []
        self._writing = False
        # Leads batches no caller's thread will: those of callers on an event loop (one thread, so one batch at a
        # time, as the writer lock would allow anyway).
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")

    def run(self, work: Callable[[Connection], T] | Joint[Any, T]) -> T:
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
        return _outcome(ticket)

    async def run_async(self, work: Callable[[Connection], T] | Joint[Any, T]) -> T:
        """``run`` for a caller on an event loop: the loop goes on with other work until the batch has committed.

        If the caller is cancelled meanwhile, its work is still written (or fails) with its batch.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        ticket = _Ticket(work, waiter=(loop, done))
        with self._cv:
            self._queue.append(ticket)
            if not self._writing:
                self._writing = True
                self._writer.submit(self._lead_queued)
        await done
        return _outcome(ticket)

    def pending(self) -> int:
        """Callers queued behind the batch being written."""
        with self._cv:
            return len(self._queue)

    def writing(self) -> bool:
        with self._cv:
            return self._writing

    def _lead_queued(self) -> None:
        with self._cv:
            batch, self._queue = self._queue, []
        self._lead(batch)

    def _lead(self, batch: list[_Ticket]) -> None:
        try:
            engine = self._engine()
            if engine is None:  # never while a caller waits: each holds the engine it passed to group_commit
                raise RuntimeError("the group commit's engine is gone")
            runs = list(_runs(batch))
            failed = _write_at_once(engine, runs)
            if failed is not None:
                with connection_scope(engine) as connection:
                    for i, run in enumerate(runs):
                        if len(run) == 1 or i == failed or not _write_joined(connection, run):
                            for member in run:
                                _write_alone(connection, member)
        except BaseException as exc:  # BEGIN or COMMIT failed: no caller's writes are durable
            for member in batch:
                member.error = exc
        finally:
            with self._cv:
                for member in batch:
                    member.done = True
                if self._queue and all(queued.waiter is not None for queued in self._queue):
                    # No queued caller waits on a thread of its own to take the next batch: the writer takes it.
                    self._writer.submit(self._lead_queued)
                else:
                    self._writing = False
                self._cv.notify_all()
            _wake(batch)


def _runs(batch: list[_Ticket]) -> Iterator[list[_Ticket]]:
    """The batch in order, as runs of joints that may be written as one; any other work is a run of its own."""
    run: list[_Ticket] = []
    weight = 0
    for member in batch:
        work = member.work
        if isinstance(work, Joint) and run and isinstance(run[0].work, Joint) and run[0].work.run == work.run \
                and weight + work.weight <= work.most:
            run.append(member)
            weight += work.weight
            continue
        if run:
            yield run
        run, weight = [member], work.weight if isinstance(work, Joint) else 0
    if run:
        yield run


class _WorkFailed(Exception):
    """A caller's work raised in ``_write_at_once`` (its run is ``run``): the transaction is rolled back."""

    def __init__(self, run: int) -> None:
        super().__init__(run)
        self.run = run


def _write_at_once(engine: Engine, runs: list[list[_Ticket]]) -> int | None:
    """Write the batch's runs in one transaction without a savepoint: None once committed.

    If a caller's work raises, nothing is kept and the failed run's index is returned: the batch is then written
    again with a savepoint per run, and per caller in the failed run, so only the failing caller sees its error.
    Work rarely fails, and on PostgreSQL the savepoints were two round trips per read beside its one insert
    (`bench.api`: 10-20 % more patient reads at 8 and 25 connections, a lower p99 at 8 and a longer one at 50;
    docs/deployment.md, Capacity). A failed commit raises, as before.
    """
    results: list[Any] = []
    try:
        with connection_scope(engine) as connection:
            for i, run in enumerate(runs):
                try:
                    results.extend(_call(connection, run))
                except Exception as exc:
                    raise _WorkFailed(i) from exc
    except _WorkFailed as failed:
        return failed.run
    for member, result in zip((m for run in runs for m in run), results, strict=True):
        member.result = result
    return None


def _call(connection: Connection, run: list[_Ticket]) -> list[Any]:
    """Do a run's work: its joints in one call, or the one work that is not a joint; each caller's result, in order."""
    first = run[0].work
    if isinstance(first, Joint):
        return first.run(connection, [member.work.item for member in run if isinstance(member.work, Joint)])
    return [first(connection)]  # work that is not a joint is a run of its own


def _write_joined(connection: Connection, run: list[_Ticket]) -> bool:
    """Write the run's joints in one call and one savepoint; False, with nothing written, if that call raised."""
    try:
        with connection.begin_nested():
            results = _call(connection, run)
    except Exception:  # written again one by one, so that only the caller whose work fails sees its error
        return False
    for member, result in zip(run, results, strict=True):
        member.result = result
    return True


def _write_alone(connection: Connection, member: _Ticket) -> None:
    work = member.work
    try:
        with connection.begin_nested():
            member.result = work.alone(connection) if isinstance(work, Joint) else work(connection)
    except Exception as exc:  # this caller's writes are rolled back; the others' stand
        member.error = exc


def _outcome(ticket: _Ticket) -> Any:
    if ticket.error is not None:
        raise ticket.error
    return ticket.result


def _wake(batch: list[_Ticket]) -> None:
    """Tell the batch's callers on event loops that it is done: one call into each loop for all of its callers (a
    call from another thread wakes the loop, a system call each)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for member in batch:
        if member.waiter is not None:
            loop, done = member.waiter
            by_loop.setdefault(loop, []).append(done)
    for loop, futures in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, futures)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for done in futures:
        if not done.done():  # its caller may have been cancelled
            done.set_result(None)


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_BY_ENGINE_LOCK = threading.Lock()


def group_commit(engine: Engine) -> GroupCommit:
    """The engine's one group committer."""
    with _BY_ENGINE_LOCK:
        found = _BY_ENGINE.get(engine)
        if found is None:
            found = _BY_ENGINE[engine] = GroupCommit(engine)
        return found
