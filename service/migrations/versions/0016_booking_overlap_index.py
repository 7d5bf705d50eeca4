"""booking overlap on SQLite by index: each resource's bookings indexed by start, one probe per trigger

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-02 18:50:00.000000

SQLite's backstop triggers (0004) scanned every booking a resource ever had on each insert: about 9 ms per
booking for a chair with a year of sessions. With an index on (resource, start) each trigger reads one row:
the resource's holding booking that starts last before the new one ends. The holding bookings of one resource
never overlap (these triggers see to it), so when that one ends before the new booking starts, every earlier
one does too. PostgreSQL keeps its exclusion constraints; nothing changes there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Statuses that free a booking's slot (service.models.bookings.RELEASED); every other status holds it.
RELEASED = "('cancelled', 'no_show')"
RESOURCES = ("chair", "device", "technician", "patient")

revision: str = '0016'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for resource in RESOURCES:
        op.create_index(f"ix_booking_{resource}_id_start_at", "booking", [f"{resource}_id", "start_at"])
        for event in ("INSERT", f"UPDATE OF start_at, end_at, status, {resource}_id"):
            name = f"booking_no_overlap_{resource}_{event.split()[0].lower()}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"""
                CREATE TRIGGER {name} BEFORE {event} ON booking
                WHEN NEW.status NOT IN {RELEASED} AND (
                    SELECT b.end_at FROM booking b WHERE b.{resource}_id = NEW.{resource}_id
                    AND b.start_at < NEW.end_at AND b.status NOT IN {RELEASED} AND b.id IS NOT NEW.id
                    ORDER BY b.start_at DESC LIMIT 1) > NEW.start_at
                BEGIN SELECT RAISE(ABORT, 'ex_booking_{resource}: overlapping booking'); END;
            """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for resource in RESOURCES:
        for event in ("INSERT", f"UPDATE OF start_at, end_at, status, {resource}_id"):
            name = f"booking_no_overlap_{resource}_{event.split()[0].lower()}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"""
                CREATE TRIGGER {name} BEFORE {event} ON booking
                WHEN NEW.status NOT IN {RELEASED} AND EXISTS (
                    SELECT 1 FROM booking b WHERE b.{resource}_id = NEW.{resource}_id AND b.id IS NOT NEW.id
                    AND b.status NOT IN {RELEASED} AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
                BEGIN SELECT RAISE(ABORT, 'ex_booking_{resource}: overlapping booking'); END;
            """)
        op.drop_index(f"ix_booking_{resource}_id_start_at", "booking")
