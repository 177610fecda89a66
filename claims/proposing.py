"""Proposals from evidence and retest verdicts: reading the facts, and the deduplicating writer.

The rules are pure and live beside this module: `claims.status_rules` (what status the
evidence and strong retest verdicts call for), `claims.strength` (when a retest run is
strong enough to propose), `claims.anchor_rules` (what to do about an anchor that does
not check out). This module reads the plain facts they take from the database
(`claim_facts`, `anchor_fact`) and writes what they propose (`write_proposals`).
Superseded claims get no proposals.

Every proposal carries a rationale, links to the evidence and retest runs behind it,
and a fingerprint (`claims.drafts.Draft.fingerprint`). The writer skips a draft whose
fingerprint any earlier proposal has (pending, approved or rejected: a rejected finding
is not proposed again) and a status or anchor draft while a pending proposal already
proposes the same change.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import audit
from claims.anchor_rules import AnchorFact, propose_anchor
from claims.drafts import Draft
from claims.errors import NotFound
from claims.models import Anchor, Claim, Evidence, Paper, Proposal, RetestRun
from claims.retests import RunStrength
from claims.screening import screen_paper
from claims.status_rules import ClaimFacts, EvidenceFact, RunFact, propose_status


def claim_facts(session: Session, claim: Claim) -> tuple[ClaimFacts, list[EvidenceFact], list[RunFact]]:
    """The plain facts about one claim (a `claims.models.Claim`) that the rules read."""
    rows = [
        (eid, paper_id, stance, confidence, published)
        for eid, paper_id, stance, confidence, published, title, summary, reviewed_by in session.execute(
            select(Evidence.id, Evidence.paper_id, Evidence.stance, Evidence.confidence, Paper.published,
                   Paper.title, Paper.summary, Evidence.stance_reviewed_by)
            .join(Paper, Paper.arxiv_id == Evidence.paper_id)
            .where(Evidence.claim_id == claim.id)
        )
        # a screened (flagged) paper never counts, whatever a judge said of it, unless a reviewer set its stance
        if reviewed_by is not None or not screen_paper(title, summary or "").flagged
    ]
    runs = session.execute(
        select(RetestRun.id, RetestRun.protocol, RetestRun.verdict, RetestRun.finished_at, RetestRun.strength).where(
            RetestRun.claim_id == claim.id, RetestRun.status == "succeeded"
        )
    ).all()
    return (
        ClaimFacts(claim.key, claim.status, claim.as_of_start, claim.as_of_end),
        [EvidenceFact(*r) for r in rows],
        [RunFact(rid, protocol, verdict, finished, RunStrength.model_validate(strength or {}))
         for rid, protocol, verdict, finished, strength in runs],
    )


def anchor_fact(anchor: Anchor) -> AnchorFact:
    """The plain facts of a `claims.models.Anchor`."""
    return AnchorFact(
        id=anchor.id,
        arxiv_id=anchor.arxiv_id,
        status=anchor.status,
        differences=tuple(anchor.differences or ()),
        cited_label=anchor.cited_label,
        cited_date=anchor.cited_date,
        verified_title=anchor.verified_title,
        verified_published=anchor.verified_published,
        candidates=tuple(anchor.candidates or ()),
    )


def propose_for_claim(session: Session, claim: Claim, actor: str = "agent") -> list[int]:
    """Write the status proposal a claim's evidence and retest verdicts call for; new ids."""
    draft = propose_status(*claim_facts(session, claim))
    return write_proposals(session, [draft] if draft else [], actor=actor)[0]


def propose_for_claim_key(session: Session, key: str, actor: str = "agent") -> list[int]:
    """`propose_for_claim` for the claim with this key; new proposal ids."""
    claim = session.scalar(select(Claim).where(Claim.key == key))
    if claim is None:
        raise NotFound(f"no claim {key}")
    return propose_for_claim(session, claim, actor=actor)


def propose_anchor_corrections(session: Session, claim_keys: list[str], actor: str = "agent") -> list[int]:
    """Anchor corrections for the mismatched anchors of these claims' inquiries; new ids."""
    inquiries = set(session.scalars(select(Claim.inquiry_id).where(Claim.key.in_(claim_keys))))
    keys_by_id = dict(session.execute(select(Claim.id, Claim.key)).all())
    anchors = session.scalars(select(Anchor).where(Anchor.inquiry_id.in_(inquiries)).order_by(Anchor.id))
    drafts = [d for a in anchors if (d := propose_anchor(anchor_fact(a), keys_by_id.get(a.claim_id)))]
    return write_proposals(session, drafts, actor=actor)[0]


def write_proposals(session: Session, drafts: list[Draft], actor: str = "agent") -> tuple[list[int], list[str]]:
    """Write pending proposals for the drafts not seen before; (written ids, skip reasons).

    Each written proposal links its evidence and runs and gets an audit entry.
    """
    written: list[int] = []
    skipped: list[str] = []
    for draft in drafts:
        fp = draft.fingerprint
        label = f"{draft.kind} {draft.claim_key or draft.payload.get('arxiv_id')}"
        if session.scalar(select(Proposal.id).where(Proposal.fingerprint == fp).limit(1)) is not None:
            skipped.append(f"{label}: same finding already proposed")
            continue
        claim = session.scalar(select(Claim).where(Claim.key == draft.claim_key)) if draft.claim_key else None
        pending = select(Proposal).where(Proposal.state == "pending", Proposal.kind == draft.kind)
        same = None
        if draft.kind == "status":
            pending = pending.where(Proposal.claim_id == claim.id, Proposal.proposed_status == draft.proposed_status)
            same = session.scalars(pending).first()
        elif draft.kind == "anchor" and draft.payload.get("anchor_id"):
            same = next(
                (p for p in session.scalars(pending) if (p.payload or {}).get("anchor_id") == draft.payload.get("anchor_id")),
                None,
            )
        if same is not None:
            skipped.append(f"{label}: proposal {same.id} already pending")
            continue
        inquiry_id = draft.inquiry_id or (claim.inquiry_id if claim is not None else None)
        if inquiry_id is None and draft.payload.get("anchor_id"):
            anchor = session.get(Anchor, draft.payload["anchor_id"])
            inquiry_id = anchor.inquiry_id if anchor is not None else None
        proposal = Proposal(
            claim_id=claim.id if claim is not None else None,
            inquiry_id=inquiry_id,
            kind=draft.kind,
            proposed_status=draft.proposed_status,
            proposed_text=draft.proposed_text,
            payload=dict(draft.payload),
            rationale=draft.rationale,
            fingerprint=fp,
            state="pending",
            created_by=actor,
        )
        if draft.evidence_ids:
            proposal.evidence = list(session.scalars(select(Evidence).where(Evidence.id.in_(draft.evidence_ids))))
        if draft.run_ids:
            proposal.retest_runs = list(session.scalars(select(RetestRun).where(RetestRun.id.in_(draft.run_ids))))
        session.add(proposal)
        session.flush()
        audit.record(
            session, actor, "propose", "proposal", proposal.id,
            kind=draft.kind, claim=draft.claim_key, proposed_status=draft.proposed_status,
            evidence=sorted(draft.evidence_ids), runs=sorted(draft.run_ids), fingerprint=fp,
        )
        written.append(proposal.id)
    return written, skipped
