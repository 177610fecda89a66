"""evidence: the claim revision and paper version a judgement was made against (its cache key)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:45:00

Judgements stored before this revision are taken as made against the claim revision
that was current when they were judged (the last revision changed at or before
`judged_at`, else the claim's revision now) and the paper's stored version: the best
that is known, and re-judging every stored judgement once would spend the judge budget
on papers already judged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('judged_claim_revision', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('judged_paper_version', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE evidence SET "
        "judged_claim_revision = COALESCE("
        "(SELECT MAX(r.revision) FROM claim_revisions r WHERE r.claim_id = evidence.claim_id "
        "AND r.changed_at <= evidence.judged_at), "
        "(SELECT c.revision FROM claims c WHERE c.id = evidence.claim_id)), "
        "judged_paper_version = (SELECT p.version FROM papers p WHERE p.arxiv_id = evidence.paper_id) "
        "WHERE judged_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('judged_paper_version')
        batch_op.drop_column('judged_claim_revision')
