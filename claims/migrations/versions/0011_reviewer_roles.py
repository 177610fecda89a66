"""reviewers: a role per account (admin | reviewer); the earliest active account becomes the admin

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviewers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=False, server_default='reviewer'))
    op.execute("UPDATE reviewers SET role = 'admin' WHERE id = "
               "(SELECT min(id) FROM reviewers WHERE revoked_at IS NULL)")


def downgrade() -> None:
    with op.batch_alter_table('reviewers', schema=None) as batch_op:
        batch_op.drop_column('role')
