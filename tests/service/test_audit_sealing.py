"""Audit rows are inserted unsealed without a chain-wide lock; the sealer links them in an order it assigns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from config.settings import PROJECT_ROOT
from service.audit import sealer
from service.audit import service as audit
from service.audit.chain import content_digest, link_hash
from service.audit.checkpoints import Checkpoint, read_checkpoints, verify_checkpoints
from service.audit.keys import signing_key
from service.audit.sealer import seal
from service.audit.service import Actor
from service.audit.verify import verify_chain
from service.core.clock import FrozenClock
from service.core.db import _WRITER_LOCKS, session_scope
from service.jobs.scheduler import JobRunner
from service.models.audit import AuditEvent, AuditHead
from tests.conftest import T0, fresh_database, settings_for
from tests.faults import evidence

ACTOR = Actor(None, "tester", None)


@pytest.fixture
def fresh(db_kind: str, tmp_path: Path) -> Engine:
    _, engine = fresh_database(db_kind, tmp_path)
    return engine


def _record(engine: Engine, n: int) -> list[int]:
    ids = []
    for i in range(n):
        with session_scope(engine) as session:
            ids.append(audit.record(session, ACTOR, at=T0, action="test", entity="x", entity_id=i).id or 0)
    return ids


def _rows(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def test_a_recorded_row_is_unsealed_until_the_sealer_links_it(fresh: Engine) -> None:
    _record(fresh, 3)
    rows = _rows(fresh)
    assert [r.sealed for r in rows] == [False, False, False] and all(r.digest for r in rows)
    result = verify_chain(fresh)
    assert result.ok and (result.sealed, result.unsealed) == (0, 3)

    assert seal(fresh, T0).sealed == 3
    rows = _rows(fresh)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    result = verify_chain(fresh)
    assert result.ok and (result.sealed, result.unsealed) == (3, 0)
    assert seal(fresh, T0).sealed == 0  # nothing new: nothing changes


def test_a_batch_recorded_in_one_statement_equals_the_rows_recorded_one_by_one(fresh: Engine) -> None:
    entries = [(i, None, {"n": i, "when": T0}) for i in range(4)]
    inserts: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            inserts.append(statement)

    event.listen(fresh, "before_cursor_execute", count)
    try:
        with session_scope(fresh) as session:
            audit.record_many(session, ACTOR, at=T0, action="create", entity="x", entries=entries)
    finally:
        event.remove(fresh, "before_cursor_execute", count)
    assert len(inserts) == 1, inserts
    with session_scope(fresh) as session:
        for entity_id, patient_id, new in entries:
            audit.record(session, ACTOR, at=T0, action="create", entity="x", entity_id=entity_id,
                         patient_id=patient_id, new=new)
    rows = _rows(fresh)
    batch, single = rows[:4], rows[4:]
    assert [r.entity_id for r in batch] == ["0", "1", "2", "3"]  # in the order given
    assert [r.new_values for r in batch] == [{"n": i, "when": T0.isoformat()} for i in range(4)]
    assert [r.digest for r in batch] == [r.digest for r in single]
    assert seal(fresh, T0).sealed == 8
    result = verify_chain(fresh)
    assert result.ok and (result.sealed, result.unsealed) == (8, 0)


def test_reads_of_the_chain_show_sealed_and_unsealed_rows(fresh: Engine) -> None:
    _record(fresh, 2)
    seal(fresh, T0)
    _record(fresh, 2)
    assert [r.sealed for r in _rows(fresh)] == [True, True, False, False]
    result = verify_chain(fresh)
    assert result.ok and (result.sealed, result.unsealed, result.rows_checked) == (2, 2, 4)


def test_sealing_runs_in_batches_each_continuing_the_chain(fresh: Engine) -> None:
    _record(fresh, 7)
    assert seal(fresh, T0, batch=3).sealed == 7
    assert [r.seq for r in _rows(fresh)] == list(range(1, 8))
    with Session(fresh) as session:
        head = session.get(AuditHead, 1)
    assert head is not None and head.last_seq == 7
    assert verify_chain(fresh).ok


def test_a_late_commit_is_sealed_in_the_next_batch(fresh: Engine, db_kind: str) -> None:
    """A row whose transaction commits after later rows were sealed takes the next position, not its id's."""
    if db_kind == "sqlite":
        pytest.skip("SQLite has one writer at a time: a row with a smaller id always commits first there")
    late_inserted, release = threading.Event(), threading.Event()
    late_id: list[int] = []

    def slow_request() -> None:
        with session_scope(fresh) as session:
            late_id.append(audit.record(session, ACTOR, at=T0, action="late", entity="x").id or 0)
            late_inserted.set()
            release.wait(30)

    worker = threading.Thread(target=slow_request)
    worker.start()
    assert late_inserted.wait(30)
    early = _record(fresh, 2)  # these commit while the late one is still open
    assert seal(fresh, T0).sealed == 2
    release.set()
    worker.join(30)
    assert late_id[0] < early[0]
    assert seal(fresh, T0).sealed == 1
    by_id = {r.id: r.seq for r in _rows(fresh)}
    assert [by_id[i] for i in early] == [1, 2] and by_id[late_id[0]] == 3
    assert verify_chain(fresh).ok


def test_concurrent_requests_and_a_running_sealer_keep_the_chain(fresh: Engine) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with session_scope(fresh) as session:
                    audit.record(session, Actor(None, f"w{n}", None), at=T0, action="test", entity="x", entity_id=i)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def sealer() -> None:
        while not done.is_set():
            seal(fresh, T0, batch=7)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    sealing = threading.Thread(target=sealer)
    sealing.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    sealing.join()
    seal(fresh, T0)
    assert not errors
    result = verify_chain(fresh)
    assert result.ok and (result.sealed, result.unsealed) == (60, 0)


def test_a_sealer_overtaken_by_another_between_its_look_and_its_write_looks_again(
        fresh: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The links are worked out before the head is locked; a head moved meanwhile means they continue nothing."""
    _record(fresh, 3)
    write = sealer._write
    overtaken: list[int] = []

    def another_sealer_first(engine: Engine, plan: sealer._Plan) -> tuple[int, str] | None:
        if not overtaken:
            overtaken.append(len(plan.seals))
            _record(fresh, 2)  # recorded after the first sealer looked
            assert seal(fresh, T0).sealed == 5  # the other sealer seals every row, the first one's three included
            _record(fresh, 1)  # left for the first sealer's second look
        return write(engine, plan)

    monkeypatch.setattr(sealer, "_write", another_sealer_first)
    assert seal(fresh, T0).sealed == 1  # its first plan's head had moved: nothing of it written; then the new row
    assert overtaken == [3]
    assert [r.seq for r in _rows(fresh)] == [1, 2, 3, 4, 5, 6]
    result = verify_chain(fresh)
    assert result.ok and (result.sealed, result.unsealed) == (6, 0)


def test_the_sealer_works_out_digests_and_links_without_holding_the_writer(
        fresh: Engine, db_kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite every commit of the process queues for one writer lock, a read's audit row included: the HMACs,
    most of a seal's time, must not be computed while holding it."""
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL has no process-wide writer lock: the sealer's update holds only the head's row")
    _record(fresh, 4)
    writer = _WRITER_LOCKS[fresh]
    held: list[bool] = []

    def digest(key: bytes, fields: dict[str, object]) -> str:
        held.append(writer.locked())
        return content_digest(key, fields)

    def link(key: bytes, **parts: Any) -> str:
        held.append(writer.locked())
        return link_hash(key, **parts)

    monkeypatch.setattr(sealer, "content_digest", digest)
    monkeypatch.setattr(sealer, "link_hash", link)
    assert seal(fresh, T0).sealed == 4
    assert held == [False] * 8  # a digest and a link a row
    assert verify_chain(fresh).ok


def _disable_triggers(engine: Engine, conn: object) -> None:
    execute = conn.execute  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))


def test_a_row_edited_before_it_was_sealed_is_named_and_never_sealed(fresh: Engine) -> None:
    ids = _record(fresh, 3)
    with fresh.begin() as conn:
        _disable_triggers(fresh, conn)
        conn.execute(text(f"UPDATE audit_event SET reason = 'rewritten' WHERE id = {ids[1]}"))
    result = verify_chain(fresh)
    assert not result.ok and result.first_bad_id == ids[1] and "not yet sealed" in (result.problem or "")
    sealed = seal(fresh, T0)
    assert sealed.sealed == 2 and sealed.refused == [ids[1]]
    assert [r.sealed for r in _rows(fresh)] == [True, False, True]
    assert not verify_chain(fresh).ok


def test_the_database_lets_only_the_sealing_change_through(fresh: Engine) -> None:
    ids = _record(fresh, 1)
    refused = (f"UPDATE audit_event SET reason = 'x' WHERE id = {ids[0]}",
               f"UPDATE audit_event SET seq = 99, reason = 'x' WHERE id = {ids[0]}")
    for statement in refused:
        with pytest.raises(DBAPIError, match="append-only"), fresh.begin() as conn:
            conn.execute(text(statement))
    seal(fresh, T0)
    with pytest.raises(DBAPIError, match="append-only"), fresh.begin() as conn:  # sealed once, never again
        conn.execute(text(f"UPDATE audit_event SET seq = 5, prev_hash = 'x', hash = 'y' WHERE id = {ids[0]}"))
    assert verify_chain(fresh).ok


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_leader_runs_the_sealer_in_a_child_process_that_ends_with_the_lead(db_kind: str, tmp_path: Path) -> None:
    url, engine = fresh_database(db_kind, tmp_path)
    checkpoints = tmp_path / "checkpoints.jsonl"
    settings = settings_for(url, scheduler_enabled=True, audit_seal_seconds=0.2, audit_checkpoints=str(checkpoints),
                            audit_signing_key_file=tmp_path / "signing.pem")
    ids = _record(engine, 3)
    runner = JobRunner(engine, settings, FrozenClock(T0))
    try:
        assert runner.start() is True
        assert runner.sealer is not None and runner.sealer.pid not in (None, os.getpid())
        child = runner.sealer.pid or 0
        evidence.wait_until(lambda: all(r.sealed for r in _rows(engine)), 30, "the sealer process to seal the rows")
        later = _record(engine, 2)  # it goes on sealing what commits later
        evidence.wait_until(lambda: all(r.sealed for r in _rows(engine)), 30, "the later rows to be sealed")
    finally:
        runner.shutdown()
        engine.dispose()
    assert runner.sealer is None and _gone(child)
    assert [r.id for r in sorted(_rows(engine), key=lambda r: r.seq or 0)] == ids + later
    assert verify_chain(engine).ok
    logged = [c for _, c in read_checkpoints(checkpoints, signing_key(settings).public_key())]
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
    assert head is not None and logged[-1] == Checkpoint(5, head.last_hash, T0)  # the leader's clock, not the child's
    assert verify_checkpoints(engine, checkpoints, signing_key(settings).public_key()).ok
    assert not str(checkpoints).startswith(str(PROJECT_ROOT))


def test_a_sealer_process_that_dies_is_started_again_by_its_leader(tmp_path: Path) -> None:
    url, engine = fresh_database("sqlite", tmp_path)
    settings = settings_for(url, scheduler_enabled=True, scheduler_leader_retry_seconds=1, audit_seal_seconds=0.2,
                            audit_checkpoints=str(tmp_path / "checkpoints.jsonl"),
                            audit_signing_key_file=tmp_path / "signing.pem")
    runner = JobRunner(engine, settings, FrozenClock(T0))
    try:
        assert runner.start() is True and runner.sealer is not None
        first = runner.sealer.pid or 0
        os.kill(first, signal.SIGKILL)
        evidence.wait_until(lambda: runner.sealer is not None and runner.sealer.pid != first
                            and runner.sealer.running(), 30, "the leader to start a new sealer")
        ids = _record(engine, 2)
        evidence.wait_until(lambda: all(r.sealed for r in _rows(engine)), 30, "the new sealer to seal the rows")
    finally:
        runner.shutdown()
        engine.dispose()
    assert [r.id for r in _rows(engine)] == ids and verify_chain(engine).ok


def test_the_sealer_process_ends_when_its_leader_is_killed(tmp_path: Path) -> None:
    """SIGKILL runs no clean-up: the child sees its pipe from the leader close and exits."""
    url, engine = fresh_database("sqlite", tmp_path)
    engine.dispose()
    leader = subprocess.Popen([sys.executable, "-m", "tests.service.sealer_leader", url, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    try:
        assert leader.stdout is not None
        child = int(json.loads(leader.stdout.readline())["sealer"])
        assert not _gone(child)
        leader.kill()
        leader.wait()
        evidence.wait_until(lambda: _exited(child), 10, "the orphaned sealer to exit")
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()


def _exited(pid: int) -> bool:
    """Gone, or a zombie waiting for a parent to reap it (the killed leader's child is reparented to init)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True

