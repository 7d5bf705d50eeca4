"""What a refused request must leave alone: every row of a clinic, and the size of every other table.

Tables with a ``clinic_id`` are read whole for the clinic (few rows in a test clinic), the rest are
counted, so a snapshot stays cheap in a session-wide database that other tests fill.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers every table)

Snapshot = dict[str, Any]


def snapshot(engine: Engine, clinic_id: int) -> Snapshot:
    state: Snapshot = {}
    with engine.connect() as conn:
        # In any order: sorted_tables would warn of the course <-> protocol_override foreign-key cycle.
        for table in SQLModel.metadata.tables.values():
            if "clinic_id" in table.c:
                rows = conn.execute(select(table).where(table.c.clinic_id == clinic_id)).all()
                state[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
            else:
                state[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return state


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The tables whose rows differ (for a readable assertion)."""
    return [name for name in before if before[name] != after.get(name)]
