"""evidence: who reviewed the stance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stance_reviewed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('stance_reviewed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('stance_reviewed_at')
        batch_op.drop_column('stance_reviewed_by')
