"""audit sealing: rows are inserted unsealed (with a keyed digest) and linked into the chain later by the sealer

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00.000000

Rows written before this revision keep their content; their old (unkeyed) links are replaced when the sealer
seals them into the keyed chain. The append-only triggers now let exactly one change through: the sealer
setting a row's position and links, once, with its content untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
CONTENT = ("id", "at", "clinic_id", "user_id", "username", "action", "entity", "entity_id", "patient_id",
           "old_values", "new_values", "reason", "client")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if not postgres:  # batch mode rebuilds the table, which would drop its triggers anyway
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_event_seq'), ['seq'], unique=True)
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seq', sa.Integer(), nullable=False, server_default='0'))
    # The keyed chain starts afresh; every existing row is sealed into it by the sealer's first run.
    op.execute(f"UPDATE audit_head SET last_seq = 0, last_event_id = 0, last_hash = '{GENESIS}' WHERE id = 1")
    if postgres:
        # Ids were handed out by the old append path (head + 1); the database's sequence hands them out now.
        op.execute("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), "
                   "COALESCE((SELECT max(id) FROM audit_event), 0) + 1, false)")
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    def same(column: str) -> str:
        cast = "::text" if column in ("old_values", "new_values") else ""  # json has no equality operator
        return f"OLD.{column}{cast} IS NOT DISTINCT FROM NEW.{column}{cast}"

    unchanged = " AND ".join(same(c) for c in CONTENT)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {unchanged}
               AND (OLD.digest IS NULL OR OLD.digest = NEW.digest) THEN
                RETURN NEW;  -- the sealer, sealing a row once
            END IF;
            RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
        END $$;
    """)


def _sqlite_triggers() -> None:
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CONTENT)
    op.execute(f"""
        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {unchanged}
                  AND (OLD.digest IS NULL OR OLD.digest IS NEW.digest))
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END;
    """)
    op.execute("""
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END;
    """)


def downgrade() -> None:
    """Back to 0008's columns. The keyed links stay in place, so the unkeyed verify of 0008 will not pass."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    op.execute("UPDATE audit_event SET prev_hash = '', hash = '' WHERE hash IS NULL")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('last_seq')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_seq'))
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.drop_column('seq')
        batch_op.drop_column('digest')
    if postgres:
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
            END $$;
        """)
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    else:
        for op_name in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_event_no_{op_name.lower()} BEFORE {op_name} ON audit_event
                BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: {op_name} refused'); END;
            """)
