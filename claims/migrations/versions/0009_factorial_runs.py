"""factorial_runs: prior x optimizer grid runs of an inquiry (issue 15)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'factorial_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.Column('preset', sa.String(length=40), nullable=False),
        sa.Column('executor', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('levels', sa.JSON(), nullable=False),
        sa.Column('cells', sa.JSON(), nullable=False),
        sa.Column('shares', sa.JSON(), nullable=False),
        sa.Column('ranges', sa.JSON(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.Column('strength', sa.JSON(), nullable=False),
        sa.Column('config', sa.JSON(), nullable=False),
        sa.Column('environment', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('log', sa.Text(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_factorial_runs_inquiry_id_inquiries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_factorial_runs')),
    )
    with op.batch_alter_table('factorial_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_factorial_runs_inquiry_id'), ['inquiry_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('factorial_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_factorial_runs_inquiry_id'))
    op.drop_table('factorial_runs')
