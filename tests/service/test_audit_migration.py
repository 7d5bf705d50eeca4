"""Audit rows written before keyed sealing (revision 0008) are sealed into the keyed chain after the upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from service.audit import service as audit
from service.audit.sealer import seal
from service.audit.service import SYSTEM
from service.audit.verify import verify_chain
from service.core.db import session_scope
from service.core.migrate import alembic_config
from tests.conftest import T0, fresh_database


def test_rows_from_before_the_upgrade_are_sealed_and_new_ids_follow_them(db_kind: str, tmp_path: Path) -> None:
    url, engine = fresh_database(db_kind, tmp_path)
    command.downgrade(alembic_config(url), "0008")
    with engine.begin() as conn:  # what 0008's append path wrote: explicit ids, unkeyed links
        for i in (1, 2, 3):
            conn.execute(text("INSERT INTO audit_event (id, at, action, entity, prev_hash, hash) "
                              f"VALUES ({i}, '2026-11-23 14:00:00+00:00', 'old', 'x', 'p{i}', 'h{i}')"))
        conn.execute(text("UPDATE audit_head SET last_event_id = 3, last_hash = 'h3'"))
    command.upgrade(alembic_config(url), "head")
    engine.dispose()

    before = verify_chain(engine)
    assert before.ok and (before.sealed, before.unsealed) == (0, 3)
    with session_scope(engine) as session:
        new_id = audit.record(session, SYSTEM, at=T0, action="new", entity="x").id
    assert new_id == 4  # the database's own id sequence continues after the old rows
    assert seal(engine, T0).sealed == 4
    after = verify_chain(engine)
    assert after.ok and (after.sealed, after.unsealed) == (4, 0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT hash FROM audit_event WHERE id = 3")).scalar() != "h3"
