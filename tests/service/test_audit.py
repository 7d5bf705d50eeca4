"""The audit trail: append-only, hash-chained, and `tmsops audit verify` names the first bad row."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from service.app import create_app
from service.audit import service as audit
from service.audit.sealer import seal
from service.audit.service import Actor
from service.audit.verify import verify_chain
from service.core.clock import FrozenClock
from service.core.db import session_scope
from tests.conftest import T0, fresh_database, make_tenant, patient_body, settings_for


@pytest.fixture
def fresh(db_kind: str, tmp_path: Path) -> tuple[str, Engine]:
    """A database of its own, with a few patients' worth of audit rows, that tests may wreck."""
    url, engine = fresh_database(db_kind, tmp_path)
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    tenant = make_tenant(app)
    client = tenant.client("technician")
    for i in range(3):
        pid = client.post("/api/v1/patients", json=patient_body(family_name=f"P{i}")).json()["id"]
        client.get(f"/api/v1/patients/{pid}")
    seal(engine, T0)  # as the scheduler's leader does within a second or so
    return url, engine


def _tamper(engine: Engine, *statements: str) -> None:
    """Change the table behind the service's back, as someone with database access could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        for statement in statements:
            conn.execute(text(statement))


def _cli_verify(url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"TMS_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "service.cli", "audit", "verify"],
                          capture_output=True, text=True, env=env, timeout=60)


def test_intact_chain_verifies(fresh: tuple[str, Engine]) -> None:
    url, engine = fresh
    result = verify_chain(engine)
    assert result.ok and result.rows_checked >= 14
    cli = _cli_verify(url)
    assert cli.returncode == 0 and "audit chain intact" in cli.stdout


def test_database_refuses_update_and_delete_of_audit_rows(fresh: tuple[str, Engine]) -> None:
    _, engine = fresh
    for statement in ("UPDATE audit_event SET reason = 'x' WHERE id = 2", "DELETE FROM audit_event WHERE id = 2"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert verify_chain(engine).ok


def test_edited_row_is_named(fresh: tuple[str, Engine]) -> None:
    url, engine = fresh
    _tamper(engine, "UPDATE audit_event SET reason = 'nothing to see' WHERE id = 5")
    result = verify_chain(engine)
    assert not result.ok and result.first_bad_id == 5 and "changed" in (result.problem or "")
    cli = _cli_verify(url)
    assert cli.returncode == 1 and "row 5" in cli.stderr


def test_deleted_row_is_named(fresh: tuple[str, Engine]) -> None:
    url, engine = fresh
    _tamper(engine, "DELETE FROM audit_event WHERE id = 6")
    result = verify_chain(engine)
    assert not result.ok and result.first_bad_id == 7 and "removed" in (result.problem or "")
    assert _cli_verify(url).returncode == 1


def test_reordered_rows_are_named(fresh: tuple[str, Engine]) -> None:
    _, engine = fresh
    _tamper(engine,
            "UPDATE audit_event SET id = 100000 WHERE id = 8",
            "UPDATE audit_event SET id = 8 WHERE id = 9",
            "UPDATE audit_event SET id = 9 WHERE id = 100000")
    result = verify_chain(engine)
    assert not result.ok and result.first_bad_id == 8


def test_removed_tail_is_detected(fresh: tuple[str, Engine]) -> None:
    _, engine = fresh
    last = verify_chain(engine).rows_checked
    _tamper(engine, f"DELETE FROM audit_event WHERE id = {last}")
    result = verify_chain(engine)
    assert not result.ok and "removed" in (result.problem or "")


def test_concurrent_appends_keep_the_chain(fresh: tuple[str, Engine]) -> None:
    """Many writers at once: appends serialize on the chain head, so the chain still verifies."""
    _, engine = fresh
    before = verify_chain(engine).rows_checked
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with session_scope(engine) as session:
                    audit.record(session, Actor(None, f"w{n}", None), at=T0, action="test", entity="x", entity_id=i)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = verify_chain(engine)
    assert result.ok and result.rows_checked == before + 60
