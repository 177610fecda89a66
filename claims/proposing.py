"""Proposals from evidence and retest verdicts: reading the facts, and the deduplicating writer.

The rules are pure and live beside this module: `claims.status_rules` (what status the
evidence and strong retest verdicts call for), `claims.strength` (when a retest run is
strong enough to propose), `claims.anchor_rules` (what to do about an anchor that does
not check out). This module reads the plain facts they take from the database
(`claim_facts`, `anchor_fact`) and writes what they propose (`write_proposals`).
Superseded claims get no proposals. It also marks pending status proposals stale when
the evidence they rest on changed, and proposes afresh (`mark_stale`; the rule and when
it runs: `claims.staleness`).

Every proposal carries a rationale, links to the evidence and retest runs behind it,
and a fingerprint (`claims.drafts.Draft.fingerprint`). The writer skips a draft whose
fingerprint any earlier proposal has (pending, approved or rejected: a rejected finding
is not proposed again; a stale one does not count) and a status or anchor draft while a
pending proposal already proposes the same change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from claims import audit
from claims.anchor_changes import AnchorCandidate, Difference
from claims.anchor_rules import AnchorFact, propose_anchor
from claims.dissent_guard import Judged, discounted
from claims.drafts import Draft
from claims.errors import NotFound
from claims.models import Anchor, Claim, Evidence, Paper, Proposal, RetestRun, utcnow
from claims.papers import withdrawn_papers
from claims.protocols import serving_protocols
from claims.replication import runs_of, strong_runs
from claims.screening import screen_paper
from claims.staleness import EvidenceNow, basis_of, why_stale
from claims.status_rules import ClaimFacts, EvidenceFact, RunFact, propose_status, why_no_proposal


def claim_facts(session: Session, claim: Claim) -> tuple[ClaimFacts, list[EvidenceFact], list[RunFact]]:
    """The plain facts about one claim (a `claims.models.Claim`) that the rules read."""
    found = session.execute(
        select(Evidence.id, Evidence.paper_id, Evidence.stance, Evidence.confidence, Paper.published,
               Paper.title, Paper.summary, Evidence.stance_reviewed_by,
               Evidence.rationale, Evidence.quote, Evidence.conditions)
        .join(Paper, Paper.arxiv_id == Evidence.paper_id)
        .where(Evidence.claim_id == claim.id)
    ).all()
    withdrawn = withdrawn_papers(session, [row.paper_id for row in found])
    kept = [
        r for r in found
        # a withdrawn paper never counts; nor a screened (flagged) one, whatever a judge said of it,
        # unless a reviewer set its stance
        if r.paper_id not in withdrawn
        and (r.stance_reviewed_by is not None or not screen_paper(r.title, r.summary or "").flagged)
    ]
    # nor a machine stance that restates the paper's instructions or repeats a near-duplicate (claims.dissent_guard)
    guarded = discounted(Judged(r.id, r.paper_id, r.stance, r.summary or "", r.title or "", r.rationale or "",
                                r.quote or "", r.conditions or "", r.stance_reviewed_by is not None) for r in kept)
    rows = [(r.id, r.paper_id, r.stance, r.confidence, r.published) for r in kept if r.id not in guarded]
    runs = runs_of(session, claim.id)
    protocols = ()
    if claim.protocol or runs:  # the protocols that test it together (C4, C5: several; claims.protocols)
        protocols = serving_protocols([claim.protocol or "", *(r.protocol for r in strong_runs(runs))])
    return (
        ClaimFacts(claim.key, claim.status, claim.as_of_start, claim.as_of_end, protocols),
        [EvidenceFact(*r) for r in rows],
        runs,
    )


def anchor_fact(anchor: Anchor) -> AnchorFact:
    """The plain facts of a `claims.models.Anchor`."""
    return AnchorFact(
        id=anchor.id,
        arxiv_id=anchor.arxiv_id,
        status=anchor.status,
        differences=tuple(Difference.from_stored(d) for d in anchor.differences or ()),
        cited_label=anchor.cited_label,
        cited_date=anchor.cited_date,
        verified_title=anchor.verified_title,
        verified_published=anchor.verified_published,
        candidates=tuple(AnchorCandidate.model_validate(c) for c in anchor.candidates or ()),
    )


def _write_status(session: Session, facts: tuple[ClaimFacts, list[EvidenceFact], list[RunFact]],
                  actor: str) -> tuple[list[int], list[str]]:
    draft = propose_status(*facts)
    return write_proposals(session, [draft] if draft else [], actor=actor)


@dataclass(frozen=True)
class WrittenProposal:
    id: int
    proposed_status: str


@dataclass(frozen=True)
class StatusOutcome:
    """What proposing for one claim did: the status proposals written, or why none was."""

    written: tuple[WrittenProposal, ...] = ()
    why_not: str = ""  # "" when something was written

    @property
    def ids(self) -> list[int]:
        return [p.id for p in self.written]


def propose_for_claim(session: Session, claim: Claim, actor: str = "agent") -> list[int]:
    """Write the status proposal a claim's evidence and retest verdicts call for; new ids
    (`propose_status_for`, without the reason)."""
    return propose_status_for(session, claim, actor).ids


def propose_status_for(session: Session, claim: Claim, actor: str = "agent") -> StatusOutcome:
    """Write the status proposal a claim's evidence and retest verdicts call for: the proposals
    written, or why none was (`claims.status_rules.why_no_proposal`, or the writer's skip reason).

    First the claim's pending status proposals are checked: the stale ones are marked and
    proposed afresh (`mark_stale`); their fresh proposals are among those written.
    """
    fresh = [i for stale in mark_stale(session, claim_ids=[claim.id], actor=actor) for i in stale.replaced_by]
    facts = claim_facts(session, claim)
    ids, skipped = _write_status(session, facts, actor)
    written = tuple(WrittenProposal(i, session.get(Proposal, i).proposed_status or "") for i in fresh + ids)
    if written:
        return StatusOutcome(written)
    return StatusOutcome(why_not="; ".join(skipped) if skipped else why_no_proposal(*facts))


# --- stale proposals (the rule: claims.staleness) ---------------------------------------


@dataclass(frozen=True)
class Staled:
    """A pending proposal found stale and marked: why, and the fresh proposals written for it."""

    proposal_id: int
    claim_key: str | None
    reason: str
    replaced_by: tuple[int, ...] = ()


def evidence_now(session: Session, evidence_ids: Iterable[int]) -> dict[int, EvidenceNow]:
    """The evidence rows as they are now, with the screen's verdict and withdrawals (`claims.staleness`)."""
    ids = sorted(set(evidence_ids))
    if not ids:
        return {}
    found = session.execute(
        select(Evidence.id, Evidence.paper_id, Evidence.stance, Evidence.confidence, Evidence.stance_reviewed_by,
               Paper.title, Paper.summary)
        .join(Paper, Paper.arxiv_id == Evidence.paper_id)
        .where(Evidence.id.in_(ids))
    ).all()
    withdrawn = withdrawn_papers(session, [row.paper_id for row in found])
    return {eid: EvidenceNow(eid, pid, stance, conf, reviewed, tuple(screen_paper(title, summary or "").reasons),
                             withdrawn.get(pid))
            for eid, pid, stance, conf, reviewed, title, summary in found}


def stale_reason(session: Session, proposal: Proposal) -> str | None:
    """Why a status proposal no longer rests on its evidence (None: it does, or it is not a status proposal)."""
    if proposal.kind != "status":
        return None
    basis = basis_of(proposal.proposed_status, proposal.payload, [e.id for e in proposal.evidence])
    return why_stale(basis, evidence_now(session, [int(k) for k in basis]))


def mark_stale(session: Session, *, claim_ids: Iterable[int] | None = None, evidence_ids: Iterable[int] | None = None,
               actor: str = "agent") -> list[Staled]:
    """Mark stale the pending status proposals whose basis no longer holds, and propose afresh for their claims.

    `claim_ids`: check only these claims' proposals; `evidence_ids`: only proposals resting
    on this evidence (None: all). Each marked proposal gets state "stale", `payload["stale"]`
    and an audit entry; the status rule then runs again for its claim (module doc of
    `claims.staleness`).
    """
    query = select(Proposal).where(Proposal.state == "pending", Proposal.kind == "status").order_by(Proposal.id)
    if claim_ids is not None:
        query = query.where(Proposal.claim_id.in_(list(claim_ids)))
    touched = None if evidence_ids is None else {str(i) for i in evidence_ids}
    out: list[Staled] = []
    for proposal in session.scalars(query).all():
        basis = basis_of(proposal.proposed_status, proposal.payload, [e.id for e in proposal.evidence])
        if touched is not None and not touched & set(basis):
            continue
        reason = why_stale(basis, evidence_now(session, [int(k) for k in basis]))
        if reason is None:
            continue
        stale = {"reason": reason, "at": utcnow().isoformat(timespec="seconds"), "by": actor}
        marked = session.execute(  # conditional, like a decision: a reviewer who decided it first wins
            update(Proposal).where(Proposal.id == proposal.id, Proposal.state == "pending")
            .values(state="stale", payload={**(proposal.payload or {}), "basis": basis, "stale": stale})
            .execution_options(synchronize_session=False))
        if marked.rowcount != 1:
            continue
        session.refresh(proposal)
        audit.record(session, actor, "stale", "proposal", proposal.id,
                     claim=proposal.claim.key if proposal.claim else None,
                     reason=reason, basis=basis)
        session.flush()
        fresh = _write_status(session, claim_facts(session, proposal.claim), "agent")[0] if proposal.claim else []
        for new in session.scalars(select(Proposal).where(Proposal.id.in_(fresh))):
            new.payload = {**(new.payload or {}), "replaces": proposal.id}
        proposal.payload = {**proposal.payload, "stale": {**proposal.payload["stale"], "replaced_by": fresh}}
        out.append(Staled(proposal.id, proposal.claim.key if proposal.claim else None, reason, tuple(fresh)))
    session.flush()
    return out


def propose_for_claim_key(session: Session, key: str, actor: str = "agent") -> list[int]:
    """`propose_for_claim` for the claim with this key; new proposal ids."""
    return propose_status_for_key(session, key, actor).ids


def propose_status_for_key(session: Session, key: str, actor: str = "agent") -> StatusOutcome:
    """`propose_status_for` the claim with this key: the proposals written, or why none was."""
    claim = session.scalar(select(Claim).where(Claim.key == key))
    if claim is None:
        raise NotFound(f"no claim {key}")
    return propose_status_for(session, claim, actor=actor)


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
        # a stale proposal does not count: its finding may be proposed afresh
        earlier = select(Proposal.id).where(Proposal.fingerprint == fp, Proposal.state != "stale")
        if session.scalar(earlier.limit(1)) is not None:
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
