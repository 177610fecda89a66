"""Creating rows: a claim with its first revision, an inquiry with its notes and anchors.

The one place these rows are made: the Markdown importer and the JSON exchange (a new
inquiry), `claims add` (a reviewer's claim, perhaps in a new inquiry) and the review
service (an approved `new_claim` proposal) call `create_claim` and `create_inquiry`.
Checking the input and the audit entry stay with each caller (they differ).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.dates import AsOf
from claims.models import Anchor, Claim, ClaimRevision, Inquiry, SourceNote, utcnow
from claims.vocabulary import ClaimStatus


def next_key_number(session: Session) -> int:
    """The number of the next free claim key (C<n>)."""
    keys = session.scalars(select(Claim.key)).all()
    nums = [int(m.group(1)) for k in keys if (m := re.fullmatch(r"C(\d+)", k))]
    return max(nums, default=0) + 1


def next_key(session: Session) -> str:
    return f"C{next_key_number(session)}"


def set_as_of(claim: Claim, as_of: AsOf) -> None:
    """Write a claim's as-of date and the window it covers."""
    claim.as_of, claim.as_of_start, claim.as_of_end, claim.as_of_precision = (
        as_of.raw, as_of.start, as_of.end, as_of.precision,
    )


def create_claim(
    session: Session, inquiry_id: int, key: str, position: int, text: str, as_of: AsOf, approved_by: str, note: str,
    status: ClaimStatus = "unreviewed", protocol: str | None = None, revision: int = 1,
    status_since: dt.datetime | None = None, proposal_id: int | None = None,
) -> Claim:
    """A new claim row and its revision `revision` (1 unless imported at a later one), flushed."""
    claim = Claim(inquiry_id=inquiry_id, key=key, position=position, text=text, status=status, protocol=protocol,
                  status_since=status_since or utcnow(), revision=revision)
    set_as_of(claim, as_of)
    session.add(claim)
    session.flush()
    session.add(ClaimRevision(claim_id=claim.id, revision=revision, text=text, as_of=claim.as_of, status=status,
                              approved_by=approved_by, proposal_id=proposal_id, note=note))
    return claim


@dataclass(frozen=True)
class NewInquiry:
    """What an importer read for a new inquiry (its notes and anchors in order)."""

    slug: str
    question_key: str
    question: str
    content_hash: str
    description: str = ""
    summary: str = ""
    prompt_role: str = ""
    prompt_tasks: str = ""
    source_path: str = ""
    notes: Sequence[tuple[str, str]] = ()  # (question, summary)
    anchors: Sequence[tuple[str, str, str]] = ()  # (arxiv_id, cited_label, cited_date)


def create_inquiry(session: Session, new: NewInquiry) -> Inquiry:
    """A new inquiry with its source notes and anchors, flushed. A slug already taken gets the
    question key's first 8 characters appended (another question with the same first words)."""
    slug = new.slug
    if session.scalar(select(Inquiry.id).where(Inquiry.slug == slug)) is not None:
        slug = f"{slug}-{new.question_key[:8]}"
    inquiry = Inquiry(slug=slug, question_key=new.question_key, title=new.question, question=new.question,
                      description=new.description, summary=new.summary, prompt_role=new.prompt_role,
                      prompt_tasks=new.prompt_tasks, source_path=new.source_path, content_hash=new.content_hash)
    session.add(inquiry)
    session.flush()
    for i, (question, summary) in enumerate(new.notes):
        session.add(SourceNote(inquiry_id=inquiry.id, position=i, question=question, summary=summary))
    for i, (arxiv_id, label, cited) in enumerate(new.anchors):
        session.add(Anchor(inquiry_id=inquiry.id, position=i, arxiv_id=arxiv_id, cited_label=label, cited_date=cited))
    return inquiry
