"""Read-only transactions and the group commit of the rows a read still writes, on both databases."""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from service.audit import service as audit
from service.audit.service import SYSTEM
from service.core.db import make_engine, session_scope
from service.core.group_commit import GroupCommit, Joint, group_commit
from service.core.read_scope import Rows, Write, _apply_joined, defer, read_scope
from service.models.clinics import Clinic
from tests.conftest import T0, Database, wait_until


def _clinics_named(database: Database, name: str) -> int:
    with database.engine.connect() as conn:  # another connection: sees only what is committed
        return int(conn.execute(text("SELECT count(*) FROM clinic WHERE name = :n"), {"n": name}).scalar_one())


def _add_clinic(name: str) -> Callable[[Connection], None]:
    def write(connection: Connection) -> None:
        connection.execute(insert(Clinic).values(name=name, created_at=T0))

    return write


def test_a_read_only_transaction_refuses_a_write_and_keeps_nothing(database: Database) -> None:
    name = f"ro-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RuntimeError, match="read-only transaction tried to write"), \
            read_scope(database.engine) as session:
        session.add(Clinic(name=name, created_at=T0))
        session.flush()
    assert _clinics_named(database, name) == 0


def test_a_reads_audit_row_is_committed_when_the_scope_ends_and_not_before(database: Database) -> None:
    marker = uuid.uuid4().hex
    probe = "SELECT count(*) FROM audit_event WHERE entity_id = :m"
    with read_scope(database.engine) as session:
        audit.record(session, SYSTEM, at=T0, action="read", entity="patient", entity_id=marker)
        with database.engine.connect() as conn:
            assert conn.execute(text(probe), {"m": marker}).scalar_one() == 0
    with database.engine.connect() as conn:
        assert conn.execute(text(probe), {"m": marker}).scalar_one() == 1


def test_a_failed_read_drops_its_queued_audit_row(database: Database) -> None:
    marker = uuid.uuid4().hex
    with pytest.raises(LookupError), read_scope(database.engine) as session:
        audit.record(session, SYSTEM, at=T0, action="read", entity="patient", entity_id=marker)
        raise LookupError("the read failed after its row was queued")
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event WHERE entity_id = :m"),
                            {"m": marker}).scalar_one() == 0


def test_a_read_runs_while_another_transaction_is_writing(database: Database) -> None:
    name = f"busy-{uuid.uuid4().hex[:8]}"
    seen: list[int] = []
    with session_scope(database.engine) as writer:  # holds SQLite's writer (and this process's writer lock)
        writer.add(Clinic(name=name, created_at=T0))
        writer.flush()

        def read() -> None:
            with read_scope(database.engine) as session:
                seen.append(len(session.exec(select(Clinic).where(Clinic.name == name)).all()))

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the read waited for the writer"
    assert seen == [0], "the read saw an uncommitted row"


def _wait_until(condition: Callable[[], bool]) -> None:
    wait_until(condition, "the callers never queued")


def test_group_commit_writes_the_queued_callers_in_one_transaction(database: Database) -> None:
    committer = GroupCommit(database.engine)
    leader_may_finish = threading.Event()
    connections: list[int] = []
    prefix = f"gc-{uuid.uuid4().hex[:8]}"

    def slow_leader(connection: Connection) -> None:
        leader_may_finish.wait(10)

    def follower(i: int) -> Callable[[Connection], None]:
        def write(connection: Connection) -> None:
            connections.append(id(connection))
            _add_clinic(f"{prefix}-{i}")(connection)

        return write

    leader = threading.Thread(target=committer.run, args=(slow_leader,))
    leader.start()
    _wait_until(lambda: committer.writing())
    followers = [threading.Thread(target=committer.run, args=(follower(i),)) for i in range(6)]
    for thread in followers:
        thread.start()
    _wait_until(lambda: committer.pending() == 6)
    leader_may_finish.set()
    for thread in [leader, *followers]:
        thread.join(timeout=10)
    assert len(connections) == 6 and len(set(connections)) == 1, "the queued callers were not written together"
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM clinic WHERE name LIKE :p"),
                            {"p": f"{prefix}-%"}).scalar_one() == 6


Work = Callable[[Connection], object] | Joint[str, str]


def _one_batch(committer: GroupCommit, callers: dict[str, Work]) -> dict[str, object]:
    """Queue ``callers``, in order, behind a leader's batch, so they are written as one batch; what each got."""
    return _queued_together(committer, {label: functools.partial(committer.run, work)
                                        for label, work in callers.items()})


def _queued_together(committer: GroupCommit, calls: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Run ``calls``, each on a thread of its own, each started once the one before has queued its work behind a
    leader's batch, so that their work is written as the next batch; what each returned or raised."""
    leader_may_finish = threading.Event()
    outcomes: dict[str, object] = {}

    def call(label: str, run: Callable[[], object]) -> None:
        try:
            outcomes[label] = run()
        except BaseException as exc:  # noqa: BLE001 - the test records what each caller saw
            outcomes[label] = exc

    leader = threading.Thread(target=call, args=(
        "leader", lambda: committer.run(lambda c: leader_may_finish.wait(10) and "led")))
    leader.start()
    _wait_until(lambda: committer.writing())
    threads = [threading.Thread(target=call, args=item) for item in calls.items()]
    for queued, thread in enumerate(threads, 1):
        thread.start()
        _wait_until(lambda queued=queued: committer.pending() == queued)  # type: ignore[misc]
    leader_may_finish.set()
    for thread in (leader, *threads):
        thread.join(timeout=10)
    return outcomes


def test_a_failed_caller_in_a_batch_rolls_back_its_own_writes_and_the_others_commit(database: Database) -> None:
    good_name, bad_name = f"gc-{uuid.uuid4().hex[:8]}", f"gc-{uuid.uuid4().hex[:8]}"

    def good(connection: Connection) -> str:
        _add_clinic(good_name)(connection)
        return "written"

    def broken(connection: Connection) -> None:
        _add_clinic(bad_name)(connection)
        raise ValueError("this caller's work fails after it wrote")

    outcomes = _one_batch(GroupCommit(database.engine), {"bad": broken, "good": good})
    assert outcomes["leader"] == "led" and outcomes["good"] == "written"
    assert isinstance(outcomes["bad"], ValueError)
    assert _clinics_named(database, good_name) == 1
    assert _clinics_named(database, bad_name) == 0, "the failed caller's write was committed"


class _Clinics:
    """A ``Joint``'s work: adds a clinic per item and answers each item; fails on an item starting with "bad"."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.calls: list[list[str]] = []

    def run(self, connection: Connection, items: list[str]) -> list[str]:
        self.calls.append(list(items))
        for item in items:
            _add_clinic(f"{self.prefix}-{item}")(connection)
        if any(item.startswith("bad") for item in items):
            raise ValueError("an item of this call is bad")
        return [f"{item} written" for item in items]

    def joint(self, item: str, most: int = 10) -> Joint[str, str]:
        return Joint(self.run, item, weight=1, most=most)


def test_joints_queued_together_run_as_one_call_and_each_caller_gets_its_own_result(database: Database) -> None:
    work = _Clinics(f"gcj-{uuid.uuid4().hex[:8]}")
    other = f"{work.prefix}-plain"
    outcomes = _one_batch(GroupCommit(database.engine), {
        "a": work.joint("a", most=2), "b": work.joint("b", most=2), "c": work.joint("c", most=2),  # two fit in one
        "plain": _add_clinic(other),  # other work ends a run of joints
        "d": work.joint("d"), "e": work.joint("e")})
    assert work.calls == [["a", "b"], ["c"], ["d", "e"]]
    assert {k: v for k, v in outcomes.items() if k not in ("leader", "plain")} == {
        item: f"{item} written" for item in "abcde"}
    assert all(_clinics_named(database, f"{work.prefix}-{item}") == 1 for item in "abcde")
    assert _clinics_named(database, other) == 1


def test_a_batch_whose_work_all_succeeds_is_one_transaction_with_no_savepoint(database: Database) -> None:
    work = _Clinics(f"gcj-{uuid.uuid4().hex[:8]}")
    other = f"{work.prefix}-plain"
    savepoints: list[str] = []
    commits: list[int] = []

    def count_savepoint(_connection: Connection, name: str) -> None:
        savepoints.append(name)

    def count_commit(connection: Connection) -> None:
        commits.append(id(connection))

    committer = GroupCommit(database.engine)
    committer.run(lambda c: None)  # the committer's first batch, before the events are counted
    event.listen(database.engine, "savepoint", count_savepoint)
    event.listen(database.engine, "commit", count_commit)
    try:
        outcomes = _one_batch(committer, {"a": work.joint("a"), "b": work.joint("b"), "plain": _add_clinic(other)})
    finally:
        event.remove(database.engine, "savepoint", count_savepoint)
        event.remove(database.engine, "commit", count_commit)
    assert outcomes["a"] == "a written" and outcomes["b"] == "b written" and outcomes["leader"] == "led"
    assert savepoints == [], "a batch with nothing failing paid for savepoints"
    assert len(commits) == 2, "the leader's batch and the queued one: a commit each"
    assert work.calls == [["a", "b"]]
    assert _clinics_named(database, f"{work.prefix}-a") == _clinics_named(database, other) == 1


def test_a_joined_call_that_fails_is_written_again_one_by_one_and_only_the_failing_caller_sees_it(
        database: Database) -> None:
    work = _Clinics(f"gcj-{uuid.uuid4().hex[:8]}")
    outcomes = _one_batch(GroupCommit(database.engine), {
        "first": work.joint("first"), "bad": work.joint("bad"), "last": work.joint("last")})
    assert work.calls == [["first", "bad", "last"], ["first"], ["bad"], ["last"]]
    assert outcomes["first"] == "first written" and outcomes["last"] == "last written"
    assert isinstance(outcomes["bad"], ValueError)
    # The joined attempt's writes were rolled back: each good item is written once, by its call alone.
    assert _clinics_named(database, f"{work.prefix}-first") == _clinics_named(database, f"{work.prefix}-last") == 1
    assert _clinics_named(database, f"{work.prefix}-bad") == 0


def test_a_failed_commit_raises_in_every_caller_of_the_batch_and_keeps_nothing(database: Database) -> None:
    name = f"gc-{uuid.uuid4().hex[:8]}"

    def fail_marked_commits(connection: Connection) -> None:
        if connection.info.pop("fail_commit", False):
            raise OSError("the disk is full")  # as the commit's fsync would report it

    def write_and_doom_the_commit(connection: Connection) -> None:
        _add_clinic(f"{name}-doomed")(connection)
        connection.info["fail_commit"] = True

    event.listen(database.engine, "commit", fail_marked_commits)
    try:
        outcomes = _one_batch(GroupCommit(database.engine), {
            "good": _add_clinic(f"{name}-good"), "doomed": write_and_doom_the_commit})
    finally:
        event.remove(database.engine, "commit", fail_marked_commits)
    assert outcomes["leader"] == "led", "the batch before the failed one failed too"
    assert isinstance(outcomes["good"], OSError) and isinstance(outcomes["doomed"], OSError)
    assert _clinics_named(database, f"{name}-good") == 0 and _clinics_named(database, f"{name}-doomed") == 0


def test_callers_on_an_event_loop_queued_behind_a_batch_are_written_together_by_the_writer(
        database: Database) -> None:
    """Callers on an event loop hold no thread: when the batch ahead of them ends, the committer's writer thread
    takes them all as the next batch, and each gets its own result."""
    committer = GroupCommit(database.engine)
    leader_may_finish = threading.Event()
    connections: list[int] = []
    prefix = f"gca-{uuid.uuid4().hex[:8]}"

    def write(i: int) -> Work:
        def work(connection: Connection) -> int:
            connections.append(id(connection))
            _add_clinic(f"{prefix}-{i}")(connection)
            return i

        return work

    async def callers() -> list[object]:
        queued = [asyncio.ensure_future(committer.run_async(write(i))) for i in range(5)]
        await asyncio.to_thread(_wait_until, lambda: committer.pending() == 5)
        leader_may_finish.set()
        return await asyncio.wait_for(asyncio.gather(*queued), 10)

    leader = threading.Thread(target=committer.run, args=(lambda c: leader_may_finish.wait(10),))
    leader.start()
    _wait_until(lambda: committer.writing())
    results = asyncio.run(callers())
    leader.join(timeout=10)
    assert results == [0, 1, 2, 3, 4]
    assert len(connections) == 5 and len(set(connections)) == 1, "the queued callers were not written together"
    assert not committer.writing(), "the committer still counts itself as writing with nothing queued"
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM clinic WHERE name LIKE :p"),
                            {"p": f"{prefix}-%"}).scalar_one() == 5


def test_a_caller_on_an_event_loop_sees_its_own_error_and_the_callers_beside_it_commit(database: Database) -> None:
    committer = GroupCommit(database.engine)
    good_name, bad_name = f"gca-{uuid.uuid4().hex[:8]}", f"gca-{uuid.uuid4().hex[:8]}"
    leader_may_finish = threading.Event()

    def broken(connection: Connection) -> None:
        _add_clinic(bad_name)(connection)
        raise ValueError("this caller's work fails after it wrote")

    async def callers() -> list[object]:
        queued = [asyncio.ensure_future(committer.run_async(broken)),
                  asyncio.ensure_future(committer.run_async(_add_clinic(good_name)))]
        await asyncio.to_thread(_wait_until, lambda: committer.pending() == 2)
        sync_caller = asyncio.to_thread(committer.run, _add_clinic(f"{good_name}-thread"))  # one on a thread too
        queued.append(asyncio.ensure_future(sync_caller))
        await asyncio.to_thread(_wait_until, lambda: committer.pending() == 3)
        leader_may_finish.set()
        return await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 10)

    leader = threading.Thread(target=committer.run, args=(lambda c: leader_may_finish.wait(10),))
    leader.start()
    _wait_until(lambda: committer.writing())
    bad, good, on_thread = asyncio.run(callers())
    leader.join(timeout=10)
    assert isinstance(bad, ValueError) and good is None and on_thread is None
    assert _clinics_named(database, good_name) == 1 and _clinics_named(database, f"{good_name}-thread") == 1
    assert _clinics_named(database, bad_name) == 0, "the failed caller's write was committed"


def test_a_caller_on_an_event_loop_alone_is_committed_at_once(database: Database) -> None:
    committer = GroupCommit(database.engine)
    name = f"gca-{uuid.uuid4().hex[:8]}"
    assert asyncio.run(asyncio.wait_for(committer.run_async(lambda c: _add_clinic(name)(c) or "alone"), 10)) == "alone"
    assert _clinics_named(database, name) == 1 and not committer.writing()


def _reads_in_one_batch(database: Database, reads: dict[str, Callable[[Session], None]]) -> dict[str, object]:
    """Run ``reads``, each in its read scope, so that their deferred writes are written as one batch by the engine's
    group commit; what each read's scope returned (None) or raised."""

    def read(body: Callable[[Session], None]) -> None:
        with read_scope(database.engine) as session:
            body(session)

    return _queued_together(group_commit(database.engine),
                            {label: functools.partial(read, body) for label, body in reads.items()})


def _audit_read(marker: str) -> Callable[[Session], None]:
    def body(session: Session) -> None:
        audit.record(session, SYSTEM, at=T0, action="read", entity="patient", entity_id=marker)

    return body


def _audit_markers(database: Database, prefix: str) -> list[str]:
    """The markers of committed audit rows starting with ``prefix``, in the order of their ids."""
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT entity_id FROM audit_event WHERE entity_id LIKE :p ORDER BY id"),
                                 {"p": f"{prefix}%"}).scalars())


def test_the_audit_rows_of_reads_written_together_are_one_insert_on_sqlite_and_kept_in_the_order_the_reads_queued(
        database: Database) -> None:
    """SQLite joins the reads' writes; PostgreSQL writes each read's alone (see service.core.read_scope)."""
    prefix = f"joined-{uuid.uuid4().hex[:8]}-"
    inserts: list[str] = []

    def count_audit_inserts(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            inserts.append(statement)

    event.listen(database.engine, "before_cursor_execute", count_audit_inserts)
    try:
        outcomes = _reads_in_one_batch(database, {str(i): _audit_read(f"{prefix}{i}") for i in range(5)})
    finally:
        event.remove(database.engine, "before_cursor_execute", count_audit_inserts)
    assert outcomes == {"leader": "led", **{str(i): None for i in range(5)}}
    assert _audit_markers(database, prefix) == [f"{prefix}{i}" for i in range(5)]
    expected = 1 if database.kind == "sqlite" else 5
    assert len(inserts) == expected, f"five reads' audit rows took {len(inserts)} insert statements"


def test_a_read_whose_deferred_write_fails_sees_the_error_and_the_reads_beside_it_keep_their_rows(
        database: Database) -> None:
    prefix = f"joined-{uuid.uuid4().hex[:8]}-"

    def broken(session: Session) -> None:
        audit.record(session, SYSTEM, at=T0, action="read", entity="patient", entity_id=f"{prefix}bad")

        def fail(_connection: Connection) -> None:
            raise ValueError("this read's deferred write fails")

        defer(session, fail)

    outcomes = _reads_in_one_batch(database, {
        "first": _audit_read(f"{prefix}first"), "bad": broken, "last": _audit_read(f"{prefix}last")})
    assert outcomes["first"] is None and outcomes["last"] is None
    assert isinstance(outcomes["bad"], ValueError)
    # The joined attempt was rolled back and each read written alone: the good rows once, the failed read's none.
    assert _audit_markers(database, prefix) == [f"{prefix}first", f"{prefix}last"]


def test_rows_are_merged_only_across_consecutive_writes_of_one_statement_and_the_callers_lists_stay_as_given(
        database: Database) -> None:
    prefix = f"merge-{uuid.uuid4().hex[:8]}-"
    rows = {name: [{"name": f"{prefix}{name}", "created_at": T0}] for name in "abd"}
    inserts: list[str] = []

    def log(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    statement = insert(Clinic)
    writes: list[Sequence[Write]] = [[Rows(statement, rows["a"])], [Rows(statement, rows["b"])],
                                 [_add_clinic(f"{prefix}c")], [Rows(statement, rows["d"])]]
    event.listen(database.engine, "before_cursor_execute", log)
    try:
        with database.engine.begin() as connection:
            _apply_joined(connection, writes)
    finally:
        event.remove(database.engine, "before_cursor_execute", log)
    # a and b in one insert; the plain write c keeps d apart; the order of all four as given.
    assert len(inserts) == 3, inserts
    with database.engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM clinic WHERE name LIKE :p ORDER BY id"), {"p": f"{prefix}%"})
        assert list(names.scalars()) == [f"{prefix}{name}" for name in "abcd"]
    assert all(len(given) == 1 for given in rows.values()), "a caller's rows were changed by the merge"


def test_an_engines_committer_and_its_writer_thread_go_when_the_engine_does(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    committer = group_commit(engine)
    assert asyncio.run(committer.run_async(lambda connection: connection.exec_driver_sql("SELECT 1").scalar())) == 1
    writers = list(committer._writer._threads)
    assert len(writers) == 1 and writers[0].is_alive()
    committer_ref = weakref.ref(committer)
    engine.dispose()
    del committer, engine
    # The writer thread wakes the caller from inside the batch it leads, so its frames may hold the committer a
    # moment longer: it must go once they unwind (a leak would keep it for good).
    deadline = time.monotonic() + 10
    while gc.collect() >= 0 and committer_ref() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert committer_ref() is None
    writers[0].join(timeout=10)
    assert not writers[0].is_alive()
