"""dose check: the signed override a course was ordered with, and the one a session was delivered under

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dose_override_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_course_dose_override_id_protocol_override'),
                                    'protocol_override', ['dose_override_id'], ['id'])
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dose_override_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_treatment_session_dose_override_id_protocol_override'),
                                    'protocol_override', ['dose_override_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_treatment_session_dose_override_id_protocol_override'),
                                 type_='foreignkey')
        batch_op.drop_column('dose_override_id')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_course_dose_override_id_protocol_override'), type_='foreignkey')
        batch_op.drop_column('dose_override_id')
