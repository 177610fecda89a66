"""inquiries are identified by a hash of their whole question, not by a cut slug

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:00:00

Before, the identity was the slug, cut at 60 characters, so two questions sharing their
first words were one inquiry. The key function is copied here (not imported) so that
this migration keeps meaning what it meant when the code changes.
"""
import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def question_key(question: str) -> str:
    norm = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", question).casefold()).strip("-")
    return hashlib.sha256(norm.encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question_key', sa.String(length=64), nullable=True))
    inquiries = sa.table("inquiries", sa.column("id", sa.Integer), sa.column("question", sa.Text),
                         sa.column("question_key", sa.String))
    conn = op.get_bind()
    for row in conn.execute(sa.select(inquiries.c.id, inquiries.c.question)).all():
        conn.execute(inquiries.update().where(inquiries.c.id == row.id).values(question_key=question_key(row.question)))
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.alter_column('question_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_inquiries_question_key'), ['question_key'])


def downgrade() -> None:
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_inquiries_question_key'), type_='unique')
        batch_op.drop_column('question_key')
