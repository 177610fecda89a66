"""retest runs: how strong each run is as evidence

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('retest_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('strength', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('retest_runs', schema=None) as batch_op:
        batch_op.drop_column('strength')
