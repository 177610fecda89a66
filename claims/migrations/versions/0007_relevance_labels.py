"""evidence: reviewers' relevance labels and the ranker that placed each row; cached claim query vectors

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relevance_label', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('labelled_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('labelled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ranker', sa.String(length=80), nullable=True))
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('query_embedding', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('query_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('query_key')
        batch_op.drop_column('query_embedding')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('ranker')
        batch_op.drop_column('labelled_at')
        batch_op.drop_column('labelled_by')
        batch_op.drop_column('relevance_label')
