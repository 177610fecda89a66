"""anchors: the papers that may have been meant when a cited label does not match the id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('anchors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidates', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('anchors', schema=None) as batch_op:
        batch_op.drop_column('candidates')
