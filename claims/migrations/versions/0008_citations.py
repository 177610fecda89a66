"""citations: papers that cite the papers claims rest on (Semantic Scholar forward citations)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'citations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cited_arxiv_id', sa.String(length=40), nullable=False),
        sa.Column('citing_s2_id', sa.String(length=64), nullable=False),
        sa.Column('citing_arxiv_id', sa.String(length=40), nullable=True),
        sa.Column('doi', sa.String(length=200), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('published', sa.Date(), nullable=True),
        sa.Column('found_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('citing_s2_id', 'cited_arxiv_id'),
    )
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citations_cited_arxiv_id'), ['cited_arxiv_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_citations_citing_arxiv_id'), ['citing_arxiv_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citations_citing_arxiv_id'))
        batch_op.drop_index(batch_op.f('ix_citations_cited_arxiv_id'))
    op.drop_table('citations')
