"""inquiry slugs of long questions end in a hash of the whole question

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:00:00

Before, a question's slug was cut at 60 characters, so two questions sharing their
first words were one inquiry. The slug functions are copied here (not imported) so
that this migration keeps meaning what it meant when the code changes.
"""
import hashlib
import re

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

inquiries = sa.table("inquiries", sa.column("id", sa.Integer), sa.column("slug", sa.String), sa.column("question", sa.Text))


def _full(question: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")


def new_slug(question: str) -> str:
    full = _full(question)
    if len(full) <= 60:
        return full or "inquiry"
    digest = hashlib.sha256(full.encode()).hexdigest()[:12]
    return f"{full[: 60 - len(digest) - 1].rsplit('-', 1)[0]}-{digest}"


def old_slug(question: str) -> str:
    s = _full(question)
    if len(s) > 60:
        s = s[:60].rsplit("-", 1)[0]
    return s or "inquiry"


def _reslug(compute) -> None:  # type: ignore[no-untyped-def]
    conn = op.get_bind()
    rows = conn.execute(sa.select(inquiries.c.id, inquiries.c.slug, inquiries.c.question)).all()
    taken = {r.slug for r in rows}
    for r in rows:
        slug = compute(r.question)
        if slug != r.slug and slug not in taken:  # on downgrade, two questions may cut to one slug: keep the second as is
            conn.execute(inquiries.update().where(inquiries.c.id == r.id).values(slug=slug))
            taken.discard(r.slug)
            taken.add(slug)


def upgrade() -> None:
    _reslug(new_slug)


def downgrade() -> None:
    _reslug(old_slug)
