"""Relevance labels of reviewers, the ranker that placed each candidate, cached query vectors.

The only writer of `evidence.relevance_label / labelled_by / labelled_at / ranker` and of
`claims.query_embedding / query_key`:

- `mark_relevance`: a reviewer says a candidate is relevant to its claim or not (audited,
  checked like a review decision). Labels survive re-runs: a later search refreshes a
  row's rank, never its label. They train the claim's re-ranker (agent/feedback.py).
- `claim_labels`: per claim, the papers marked relevant and not relevant.
- `set_rankers`: the version of the ranking (the base ranking, or a feedback model
  trained on N labels) that placed each row.
- `cached_query_vectors` / `store_query_vectors`: a claim's query vectors, keyed by a
  hash of what they were computed from, so an unchanged claim is not embedded again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import audit
from claims.errors import BadInput
from claims.evidence import row_for_reviewer
from claims.models import Claim, Evidence, utcnow

LABELS = ("relevant", "irrelevant")


@dataclass(frozen=True)
class Marked:
    """The outcome of a relevance mark."""

    evidence_id: int
    claim_key: str
    paper_id: str
    label: str
    before: str | None


@dataclass(frozen=True)
class ClaimLabels:
    """A claim's reviewer labels: arXiv ids marked relevant and irrelevant."""

    relevant: tuple[str, ...] = field(default_factory=tuple)
    irrelevant: tuple[str, ...] = field(default_factory=tuple)


def mark_relevance(session: Session, evidence_id: int, label: str, reviewer: str,
                   allowed: Sequence[str] | None = None, token: str | None = None) -> Marked:
    """Record a reviewer's relevance label on an evidence row (audited)."""
    if label not in LABELS:
        raise BadInput(f"unknown relevance label {label!r}; expected relevant or irrelevant")
    name, e = row_for_reviewer(session, evidence_id, reviewer, allowed, token)
    claim = session.get(Claim, e.claim_id)
    before = e.relevance_label
    e.relevance_label, e.labelled_by, e.labelled_at = label, name, utcnow()
    audit.record(session, name, "mark_relevance", "evidence", e.id, label=label, before=before,
                 paper=e.paper_id, claim=claim.key if claim else None)
    return Marked(e.id, claim.key if claim else "", e.paper_id, label, before)


def claim_labels(session: Session, claim_ids: Iterable[int]) -> dict[int, ClaimLabels]:
    """Reviewer labels per claim id (claims without labels are absent)."""
    rel: dict[int, list[str]] = {}
    irr: dict[int, list[str]] = {}
    rows = session.execute(
        select(Evidence.claim_id, Evidence.paper_id, Evidence.relevance_label)
        .where(Evidence.claim_id.in_(list(claim_ids)), Evidence.relevance_label.is_not(None))
        .order_by(Evidence.id)
    )
    for cid, pid, label in rows:
        (rel if label == "relevant" else irr).setdefault(cid, []).append(pid)
    return {cid: ClaimLabels(tuple(rel.get(cid, [])), tuple(irr.get(cid, []))) for cid in set(rel) | set(irr)}


def set_rankers(session: Session, rankers: dict[int, str]) -> None:
    """Record, per evidence id, the version of the ranking that placed the row."""
    if not rankers:
        return
    for row in session.scalars(select(Evidence).where(Evidence.id.in_(list(rankers)))):
        row.ranker = rankers[row.id]


def cached_query_vectors(session: Session, claim_ids: Iterable[int]) -> dict[int, tuple[str, bytes]]:
    """Per claim id: (key, vector bytes) of its cached query vectors, where there are any."""
    rows = session.execute(select(Claim.id, Claim.query_key, Claim.query_embedding)
                           .where(Claim.id.in_(list(claim_ids)), Claim.query_embedding.is_not(None)))
    return {cid: (key or "", blob) for cid, key, blob in rows}


def store_query_vectors(session: Session, vectors: dict[int, tuple[str, bytes]]) -> None:
    """Cache claims' query vectors: claim id -> (key, vector bytes)."""
    if not vectors:
        return
    for row in session.scalars(select(Claim).where(Claim.id.in_(list(vectors)))):
        row.query_key, row.query_embedding = vectors[row.id]
