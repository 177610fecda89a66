"""A new arXiv version that changes a paper's abstract: machine stances on it are judged again.

A stance judged on the old abstract may not hold for the new one. When `upsert_papers`
takes a newer version whose abstract differs, each evidence row on that paper with a
machine stance (supports, contradicts, refines, unrelated; not confirmed or set by a
reviewer) goes back to `unjudged`, so the next run judges it on the new text; a stance
a reviewer confirmed or set is kept. Either way an audit entry
`evidence.abstract_changed` keeps the old and new abstract and the old stance, for the
reviewer to compare (`abstract_changes`). A withdrawn version is left to the anchor
check (its notice is not something to judge).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import stances
from claims.audit import record
from claims.models import REVIEWABLE_STANCES, AuditEntry, Evidence


def papers_claims_rest_on(session: Session, confident: float = 0.7) -> list[str]:
    """Papers behind confident or reviewed stances (supports, contradicts, refines): watched for new versions."""
    rows = session.scalars(select(Evidence.paper_id).where(
        Evidence.stance.in_(("supports", "contradicts", "refines")),
        (Evidence.confidence >= confident) | Evidence.stance_reviewed_by.is_not(None)))
    return sorted(set(rows))


def rejudge_changed(session: Session, paper_id: str, old_abstract: str, new_abstract: str, old_version: int,
                    new_version: int, actor: str = "agent") -> list[int]:
    """Send the machine stances on `paper_id` back to unjudged; the evidence ids reset."""
    reset = []
    for row in session.scalars(select(Evidence).where(Evidence.paper_id == paper_id)):
        if row.stance not in REVIEWABLE_STANCES:
            continue
        kept = row.stance_reviewed_by is not None
        record(session, actor, "evidence.abstract_changed", "evidence", row.id, paper=paper_id,
               old_version=old_version, new_version=new_version, old_abstract=old_abstract,
               new_abstract=new_abstract, old_stance=row.stance, old_confidence=row.confidence,
               kept_by_reviewer=row.stance_reviewed_by if kept else None)
        if kept:
            continue
        if stances.send_back(row, f"re-judge: version {new_version} changed the abstract (was {row.stance} on "
                                  f"v{old_version})"):
            reset.append(row.id)
    return reset


def abstract_changes(session: Session, evidence_id: int) -> list[dict[str, Any]]:
    """The abstract changes recorded for one evidence row, oldest first (old and new text side by side)."""
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.abstract_changed",
                                                    AuditEntry.entity_id == str(evidence_id)).order_by(AuditEntry.id))
    return [dict(r.details or {}, at=r.at) for r in rows]
