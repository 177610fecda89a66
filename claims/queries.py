"""Read helpers that return the documented, stable JSON shapes of the CLI.

`claim_summaries` -> `claims list --format json`: objects with key, text, as_of,
as_of_start, as_of_end, as_of_precision, status, status_since, revision, protocol,
inquiry, last_checked_at, last_retested_at.
`claim_detail` -> `claims show KEY --format json`: the claim plus revisions, inquiry
(question, source notes, anchors), evidence, retest_runs, proposals (pending).
`proposal_summaries` -> `claims review list --format json`: objects with id, claim,
kind, state, proposed_status, proposed_text, rationale, created_at, evidence ids, runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from claims.anchor_changes import difference_texts
from claims.dates import format_published
from claims.errors import NotFound
from claims.models import Anchor, Claim, ClaimRevision, Evidence, Inquiry, Proposal, RetestRun, SourceNote


def claim_row(c: Claim) -> dict[str, Any]:
    return {
        "key": c.key, "text": c.text, "as_of": c.as_of, "as_of_start": c.as_of_start, "as_of_end": c.as_of_end,
        "as_of_precision": c.as_of_precision, "status": c.status, "status_since": c.status_since,
        "revision": c.revision, "protocol": c.protocol, "inquiry": c.inquiry.slug if c.inquiry else None,
        "last_checked_at": c.last_checked_at, "last_retested_at": c.last_retested_at,
    }


def claim_summaries(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    q = select(Claim).options(selectinload(Claim.inquiry)).order_by(Claim.inquiry_id, Claim.position, Claim.id)
    if status:
        q = q.where(Claim.status == status)
    return [claim_row(c) for c in session.scalars(q)]


def claim_exists(session: Session, key: str) -> bool:
    """Whether a claim has this key."""
    return session.scalar(select(Claim.id).where(Claim.key == key)) is not None


def get_claim(session: Session, key: str) -> Claim:
    claim = session.scalar(select(Claim).where(Claim.key == key))
    if claim is None:
        raise NotFound(f"no claim {key!r} (see `claims list`)")
    return claim


def anchor_row(a: Anchor) -> dict[str, Any]:
    return {
        "id": a.arxiv_id, "cited_label": a.cited_label, "cited_date": a.cited_date, "status": a.status,
        "differences": difference_texts(a.differences), "verified_title": a.verified_title,
        "verified_published": a.verified_published, "checked_at": a.checked_at,
    }


def evidence_row(e: Evidence) -> dict[str, Any]:
    p = e.paper
    return {
        "evidence_id": e.id, "id": e.paper_id, "title": p.title if p else None,
        "published": format_published(p.published, p.published_precision) if p else None, "relevance": e.relevance, "rank": e.rank, "method": e.method,
        "stance": e.stance, "confidence": e.confidence, "conditions": e.conditions, "rationale": e.rationale,
        "quote": e.quote, "judged_by": e.judged_by, "prompt_version": e.prompt_version, "judged_at": e.judged_at,
        "judge_error": e.judge_error, "found_at": e.found_at, "url": f"https://arxiv.org/abs/{e.paper_id}",
        "stance_reviewed_by": e.stance_reviewed_by, "stance_reviewed_at": e.stance_reviewed_at,
        "relevance_label": e.relevance_label, "labelled_by": e.labelled_by, "ranker": e.ranker,
    }


def run_row(r: RetestRun) -> dict[str, Any]:
    return {
        "id": r.id, "protocol": r.protocol, "protocol_version": r.protocol_version, "preset": r.preset,
        "status": r.status, "verdict": r.verdict, "effect_size": r.effect_size, "ci_low": r.ci_low,
        "ci_high": r.ci_high, "decision_rule": r.decision_rule, "summary": r.summary, "reason": r.reason,
        "started_at": r.started_at, "finished_at": r.finished_at, "environment": r.environment,
    }


def proposal_row(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.id, "claim": p.claim.key if p.claim else None, "kind": p.kind, "state": p.state,
        "proposed_status": p.proposed_status, "proposed_text": p.proposed_text, "payload": p.payload,
        "rationale": p.rationale, "created_by": p.created_by, "created_at": p.created_at,
        "reviewer": p.reviewer, "comment": p.comment, "decided_at": p.decided_at,
        "evidence": [e.id for e in p.evidence], "retest_runs": [r.id for r in p.retest_runs],
    }


def proposal_detail(session: Session, proposal_id: int) -> dict[str, Any]:
    """One proposal (any state) with the evidence behind it as it is now; a stale one says why."""
    p = session.get(Proposal, proposal_id)
    if p is None:
        raise NotFound(f"no proposal {proposal_id}")
    stale = (p.payload or {}).get("stale") or {}
    return {
        **proposal_row(p),
        "stale_reason": stale.get("reason"), "replaced_by": stale.get("replaced_by") or [],
        "replaces": (p.payload or {}).get("replaces"), "basis": (p.payload or {}).get("basis"),
        "evidence_detail": [{"id": e.id, "paper_id": e.paper_id, "stance": e.stance, "confidence": e.confidence,
                             "stance_reviewed_by": e.stance_reviewed_by} for e in p.evidence],
    }


@dataclass(frozen=True)
class ClaimRecord:
    """A claim's rows, read once: what `claims show` and the app's claim page render."""

    claim: Claim
    inquiry: Inquiry
    revisions: list[ClaimRevision]  # oldest first
    notes: list[SourceNote]
    anchors: list[Anchor]  # the inquiry's (some name this claim), in the document's order
    evidence: list[Evidence]  # most relevant first: the top `evidence_limit`
    evidence_total: int
    runs: list[RetestRun]  # newest first
    pending: list[Proposal]  # oldest first


def read_claim(session: Session, key: str, evidence_limit: int = 50) -> ClaimRecord:
    """The claim `key` with its revisions, inquiry, anchors, evidence, retest runs and pending proposals."""
    claim = get_claim(session, key)
    evidence = session.scalars(
        select(Evidence).options(selectinload(Evidence.paper)).where(Evidence.claim_id == claim.id)
        .order_by(Evidence.relevance.desc(), Evidence.id).limit(evidence_limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(Evidence).where(Evidence.claim_id == claim.id)) or 0
    runs = session.scalars(select(RetestRun).where(RetestRun.claim_id == claim.id).order_by(RetestRun.id.desc())).all()
    pending = session.scalars(
        select(Proposal).where(Proposal.claim_id == claim.id, Proposal.state == "pending")
        .order_by(Proposal.created_at, Proposal.id)
    ).all()
    anchors = session.scalars(select(Anchor).where(Anchor.inquiry_id == claim.inquiry_id)
                              .order_by(Anchor.position, Anchor.id)).all()
    return ClaimRecord(claim=claim, inquiry=claim.inquiry, revisions=list(claim.revisions),
                       notes=list(claim.inquiry.notes), anchors=list(anchors), evidence=list(evidence),
                       evidence_total=total, runs=list(runs), pending=list(pending))


def claim_detail(session: Session, key: str, evidence_limit: int = 50) -> dict[str, Any]:
    """`claims show KEY --format json` (see the module doc)."""
    record = read_claim(session, key, evidence_limit)
    inquiry = record.inquiry
    return {
        **claim_row(record.claim),
        "revisions": [
            {"revision": r.revision, "text": r.text, "as_of": r.as_of, "status": r.status, "changed_at": r.changed_at,
             "approved_by": r.approved_by, "proposal_id": r.proposal_id, "note": r.note}
            for r in record.revisions
        ],
        "inquiry": {
            "slug": inquiry.slug, "question": inquiry.question,
            "source_notes": [{"question": n.question, "summary": n.summary} for n in record.notes],
            "anchors": [anchor_row(a) for a in record.anchors],
        },
        "evidence": [evidence_row(e) for e in record.evidence],
        "retest_runs": [run_row(r) for r in record.runs],
        "proposals": [proposal_row(p) for p in record.pending],
    }


def proposal_summaries(session: Session, state: str | None = "pending", limit: int | None = None) -> list[dict[str, Any]]:
    q = (select(Proposal).options(selectinload(Proposal.claim), selectinload(Proposal.evidence),
                                  selectinload(Proposal.retest_runs))
         .order_by(Proposal.created_at, Proposal.id))
    if state:
        q = q.where(Proposal.state == state)
    if limit:
        q = q.limit(limit)
    return [proposal_row(p) for p in session.scalars(q)]
