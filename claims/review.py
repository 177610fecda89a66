"""The review service: the one place that changes a claim.

A proposal is decided once: approved (optionally with edits) or rejected, by a named
reviewer, in one transaction that writes the claim's new revision and an audit row.
Two reviewers racing: the decision is a conditional UPDATE (`WHERE state='pending'`),
so exactly one wins and the other gets AlreadyDecided.

A stale proposal (its evidence changed: `claims.staleness`) is not decided: approving or
rejecting it raises StaleProposal (exit 4), naming why and the fresh proposal, if any.
Before approving a pending status proposal its basis is checked again; one found stale
then is refused the same way (and marked by the next check that writes: a stance set,
the agent's propose step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from claims import audit, textgate
from claims.anchor_changes import ANCHOR_ACTIONS, AnchorAction, AnchorChange
from claims.creation import create_claim, next_key, set_as_of
from claims.dates import parse_as_of
from claims.errors import AlreadyDecided, BadInput, NotFound, StaleProposal
from claims.models import CLAIM_STATUSES, Anchor, Claim, ClaimRevision, Proposal, utcnow
from claims.proposing import stale_reason
from claims.reviewers import check_reviewer

CLAIM_KINDS = ("status", "text", "new_claim", "retire")


@dataclass(frozen=True)
class ClaimState:
    """The reviewable state of a claim."""

    text: str
    as_of: str
    status: str
    revision: int


def resolve_change(kind: str, current: ClaimState, proposed_text: str | None, proposed_status: str | None,
                   as_of: str | None = None, edits: dict[str, Any] | None = None) -> ClaimState | None:
    """The claim's state after approving a proposal (None when nothing changes).

    Edits (`text`, `status`, `as_of`) override what the proposal says.
    """
    edits = {k: v for k, v in (edits or {}).items() if v not in (None, "")}
    new_text = edits.get("text", proposed_text if kind in ("text", "new_claim") else None)
    text = new_text.strip() if new_text and new_text.strip() else current.text
    status = edits.get("status", proposed_status) or current.status
    new_as_of = edits.get("as_of", as_of) or current.as_of
    if status not in CLAIM_STATUSES:
        raise BadInput(f"unknown status {status!r}; expected one of {', '.join(CLAIM_STATUSES)}")
    if not text.strip():
        raise BadInput("a claim's text cannot be empty")
    parse_as_of(new_as_of)
    nxt = replace(current, text=text, status=status, as_of=new_as_of)
    if nxt == current:
        return None
    return replace(nxt, revision=current.revision + 1)


def _claim_state(claim: Claim) -> ClaimState:
    return ClaimState(claim.text, claim.as_of, claim.status, claim.revision)


def _claim_lock(session: Session, proposal_id: int, reviewer: str, state: str, comment: str) -> Proposal:
    """Atomically move a pending proposal to `state`; raise if someone else decided it."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    if proposal.state == "stale":
        stale = (proposal.payload or {}).get("stale") or {}
        raise StaleProposal(_stale_message(proposal_id, stale.get("reason") or "its evidence changed",
                                           stale.get("replaced_by") or []))
    done = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.state == "pending")
        .values(state=state, reviewer=reviewer, comment=comment, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.refresh(proposal)
        raise AlreadyDecided(
            f"proposal {proposal_id} was already {proposal.state} by {proposal.reviewer or 'someone'}"
            + (f" at {proposal.decided_at:%Y-%m-%d %H:%M} UTC" if proposal.decided_at else "")
        )
    session.refresh(proposal)
    return proposal


def approve(session: Session, proposal_id: int, reviewer: str, comment: str = "", edits: dict[str, Any] | None = None,
            allowed_reviewers: Sequence[str] | None = None, token: str | None = None) -> Proposal:
    """Approve a proposal (optionally with edits: text, status, as_of) and apply it.

    The reviewer must pass `claims.reviewers.check_reviewer` (allow-list; token when required).
    """
    reviewer = check_reviewer(session, reviewer, allowed_reviewers, token)
    comment, edits = textgate.comment(comment), _gated(edits)
    current = session.get(Proposal, proposal_id)
    if current is not None and current.state == "pending" and (reason := stale_reason(session, current)):
        raise StaleProposal(_stale_message(proposal_id, reason, None))
    proposal = _claim_lock(session, proposal_id, reviewer, "approved", comment)
    if proposal.kind == "anchor":
        _apply_anchor(session, proposal, reviewer, edits)
    elif proposal.kind == "new_claim":
        _apply_new_claim(session, proposal, reviewer, comment, edits)
    elif proposal.kind in CLAIM_KINDS:
        _apply_claim_change(session, proposal, reviewer, comment, edits)
    else:
        raise BadInput(f"proposal {proposal_id} has an unknown kind {proposal.kind!r}")
    audit.record(session, reviewer, "approve", "proposal", proposal.id, kind=proposal.kind, comment=comment, edits=edits or {})
    return proposal


def reject(session: Session, proposal_id: int, reviewer: str, comment: str,
           allowed_reviewers: Sequence[str] | None = None, token: str | None = None) -> Proposal:
    """Reject a proposal; nothing else changes."""
    reviewer = check_reviewer(session, reviewer, allowed_reviewers, token)
    comment = textgate.comment(comment)
    if not comment:
        raise BadInput("a rejection needs a comment saying why")
    proposal = _claim_lock(session, proposal_id, reviewer, "rejected", comment)
    audit.record(session, reviewer, "reject", "proposal", proposal.id, kind=proposal.kind, comment=comment)
    return proposal


def _gated(edits: dict[str, Any] | None) -> dict[str, Any] | None:
    """A reviewer's edits through the text gate: a given text may not be blank (it would approve the original)."""
    if not edits:
        return edits
    out = dict(edits)
    if "text" in out and out["text"] is not None:
        out["text"] = textgate.gate(out["text"], "the edited text (--text)")
    if out.get("as_of") is not None:
        out["as_of"] = textgate.gate(out["as_of"], "the edited as-of date (--as-of)", limit=40)
    return out


def _stale_message(proposal_id: int, reason: str, replaced_by: list[int] | None) -> str:
    """One line: the proposal is stale, why, and what to review instead."""
    if replaced_by is None:
        then = "the next check marks it stale and proposes afresh if the evidence still calls for it"
    elif replaced_by:
        then = "review proposal " + ", ".join(f"#{i}" for i in replaced_by) + " instead"
    else:
        then = "the evidence no longer calls for this change"
    return f"proposal {proposal_id} is stale and cannot be approved as it stands: {reason}; {then}"


def _apply_claim_change(session: Session, proposal: Proposal, reviewer: str, comment: str, edits: dict[str, Any] | None) -> None:
    claim = session.get(Claim, proposal.claim_id)
    if claim is None:
        raise NotFound(f"proposal {proposal.id} names no existing claim")
    nxt = resolve_change(proposal.kind, _claim_state(claim), proposal.proposed_text, proposal.proposed_status,
                         (proposal.payload or {}).get("as_of"), edits)
    if nxt is None:
        return
    if nxt.status != claim.status:
        claim.status_since = utcnow()
    if nxt.as_of != claim.as_of:
        set_as_of(claim, parse_as_of(nxt.as_of))
    claim.text, claim.status, claim.revision = nxt.text, nxt.status, nxt.revision
    session.add(ClaimRevision(claim_id=claim.id, revision=nxt.revision, text=nxt.text, as_of=nxt.as_of,
                              status=nxt.status, approved_by=reviewer, proposal_id=proposal.id, note=comment))
    audit.record(session, reviewer, "revise", "claim", claim.key, revision=nxt.revision, proposal=proposal.id,
                 status=nxt.status)


def _apply_new_claim(session: Session, proposal: Proposal, reviewer: str, comment: str, edits: dict[str, Any] | None) -> None:
    payload = proposal.payload or {}
    text = (edits or {}).get("text") or proposal.proposed_text or ""
    as_of = parse_as_of((edits or {}).get("as_of") or payload.get("as_of", ""))
    key = next_key(session)
    claim = create_claim(session, proposal.inquiry_id, key, payload.get("position", 0), text, as_of, approved_by=reviewer,
                         note=comment, status=(edits or {}).get("status") or "unreviewed", proposal_id=proposal.id)
    proposal.claim_id = claim.id
    audit.record(session, reviewer, "create", "claim", key, proposal=proposal.id)


def _replace_anchor(session: Session, proposal: Proposal, anchor: Anchor, change: AnchorChange, reviewer: str) -> None:
    """Point the anchor at the paper that was meant (the label stays); re-verified on the next run."""
    old = anchor.arxiv_id
    new = (change.replace_with or "").strip()
    if not new:
        raise BadInput(f"anchor proposal {proposal.id} names no replacement id")
    anchor.arxiv_id = new
    anchor.cited_date = change.cited_date or anchor.cited_date
    anchor.status, anchor.differences, anchor.candidates = "unchecked", [], []
    anchor.verified_title, anchor.verified_published = None, None
    audit.record(session, reviewer, "replace", "anchor", anchor.id, proposal=proposal.id, old_id=old, new_id=new,
                 cited_label=anchor.cited_label, cited_date=anchor.cited_date)


def _flag_anchor(session: Session, proposal: Proposal, anchor: Anchor, change: AnchorChange, reviewer: str) -> None:
    """Mark the anchor for a person: the export says its id does not name the cited paper."""
    anchor.status = "flagged"
    audit.record(session, reviewer, "flag", "anchor", anchor.id, proposal=proposal.id, arxiv_id=anchor.arxiv_id,
                 cited_label=anchor.cited_label)


def _remove_anchor(session: Session, proposal: Proposal, anchor: Anchor, change: AnchorChange, reviewer: str) -> None:
    """Drop the anchor from its inquiry (what it said is kept in the audit entry)."""
    audit.record(session, reviewer, "remove", "anchor", anchor.id, proposal=proposal.id, arxiv_id=anchor.arxiv_id,
                 cited_label=anchor.cited_label, cited_date=anchor.cited_date, status=anchor.status)
    session.delete(anchor)


def _withdrawn_anchor(session: Session, proposal: Proposal, anchor: Anchor, change: AnchorChange, reviewer: str) -> None:
    """Mark the anchor withdrawn: the export tells the reader not to rely on it."""
    anchor.status = "withdrawn"
    audit.record(session, reviewer, "withdrawn", "anchor", anchor.id, proposal=proposal.id, arxiv_id=anchor.arxiv_id)


def _correct_anchor(session: Session, proposal: Proposal, anchor: Anchor, change: AnchorChange, reviewer: str) -> None:
    """Write the cited label and date as proposed; re-verified on the next run."""
    anchor.cited_label = anchor.cited_label if change.cited_label is None else change.cited_label
    anchor.cited_date = anchor.cited_date if change.cited_date is None else change.cited_date
    anchor.status, anchor.differences = "unchecked", []
    audit.record(session, reviewer, "correct", "anchor", anchor.id, proposal=proposal.id,
                 cited_label=anchor.cited_label, cited_date=anchor.cited_date)


ANCHOR_APPLIERS: dict[AnchorAction, Callable[[Session, Proposal, Anchor, AnchorChange, str], None]] = {
    "replace": _replace_anchor, "flag": _flag_anchor, "remove": _remove_anchor, "withdrawn": _withdrawn_anchor,
    "correct": _correct_anchor,
}


def _anchor_change(proposal: Proposal, edits: dict[str, Any] | None) -> AnchorChange:
    """The proposal's change with a reviewer's edits (label, date, replacement id, action) over it."""
    keep = ("cited_label", "cited_date", "replace_with", "action")
    action = (edits or {}).get("action")
    if action and action not in ANCHOR_ACTIONS:
        raise BadInput(f"anchor action {action!r}: expected one of {', '.join(ANCHOR_ACTIONS)}")
    try:
        change = AnchorChange.from_payload(proposal.payload)
    except ValidationError as exc:
        raise BadInput(f"anchor proposal {proposal.id}: {exc.errors()[0]['msg']}") from None
    return change.model_copy(update={k: v for k, v in (edits or {}).items() if k in keep and v})


def _apply_anchor(session: Session, proposal: Proposal, reviewer: str, edits: dict[str, Any] | None) -> None:
    change = _anchor_change(proposal, edits)
    anchor = session.get(Anchor, change.anchor_id) if change.anchor_id else None
    if anchor is None:
        if not change.arxiv_id:
            raise BadInput(f"anchor proposal {proposal.id} names neither an anchor nor an arXiv id")
        anchor = Anchor(inquiry_id=proposal.inquiry_id, claim_id=proposal.claim_id, arxiv_id=change.arxiv_id,
                        cited_label=change.cited_label or "", cited_date=change.cited_date or "",
                        position=len(session.scalars(select(Anchor.id).where(Anchor.inquiry_id == proposal.inquiry_id)).all()))
        session.add(anchor)
        session.flush()
        audit.record(session, reviewer, "correct", "anchor", anchor.id, proposal=proposal.id,
                     cited_label=anchor.cited_label, cited_date=anchor.cited_date)
        return
    ANCHOR_APPLIERS[change.kind](session, proposal, anchor, change, reviewer)
