"""pulse accounting: recorded, estimated and unit-counted pulses on a session; check-in override

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pulses_recorded', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('pulses_estimated', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('pulses_unit_only', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('unit_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pulses_trusted', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default='recorded'))
        batch_op.add_column(sa.Column('tail_pulses', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('check_in_override', sa.JSON(), nullable=True))
    # Sessions stored before the split: every pulse they hold was recorded or counted as it is today.
    op.execute("UPDATE treatment_session SET pulses_recorded = pulses_delivered")


def downgrade() -> None:
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        for name in ('check_in_override', 'tail_pulses', 'pulses_trusted', 'unit_count', 'pulses_unit_only',
                     'pulses_estimated', 'pulses_recorded'):
            batch_op.drop_column(name)
