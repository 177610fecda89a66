"""Stale proposals: a pending status proposal whose evidence changed under it (the rule, pure).

Every status proposal records what it rested on: `payload["basis"]`, evidence id -> the
stance it had (`claims.status_rules.basis`; for a proposal written before the basis was
recorded, its linked evidence with the stance its status implies: "supports" for
`holds`, "contradicts" otherwise). It is **stale** when, for any evidence in its basis:

- the stance is no longer the one it rested on: a reviewer set another stance
  (`claims evidence set`, the app's stance buttons), the judge judged it again, or a new
  version of the paper sent it back to be judged (`claims.versions`);
- the screen flags the paper (unless a reviewer set the stance);
- the paper was withdrawn (`claims.papers.withdrawn_papers`);
- a machine stance of "supports" or "contradicts" is no longer confident (< 0.7);
- the evidence row is gone.

A stale proposal is marked (state "stale", `payload["stale"]`: reason, when, by whom,
and the fresh proposals written for it; an audit entry "stale"), shown as stale in the
CLI and the app, and cannot be approved or rejected. In the same transaction the status
rule runs again for its claim on the current evidence: if it still calls for a change, a
fresh proposal is written (`payload["replaces"]` names the stale one). Checks run when a
reviewer sets a stance (`claims.evidence.set_stance`), at the start of proposing for a
claim (the agent's propose node, a retest's proposal: `claims.proposing.propose_for_claim`),
and when a proposal is approved (`claims.review.approve` refuses a stale one: exit 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from claims.status_rules import CONFIDENT

COUNTED = ("supports", "contradicts")  # the stances a status proposal can rest on


@dataclass(frozen=True)
class EvidenceNow:
    """One evidence row as it is now, with what the staleness rule reads."""

    id: int
    paper_id: str
    stance: str
    confidence: float | None
    reviewed_by: str | None = None  # who set or confirmed the stance (None: the machine's)
    screened: tuple[str, ...] = ()  # the screen's reasons when it flags the paper now
    withdrawn: int | None = None  # the version that withdrew the paper


def basis_of(proposed_status: str | None, payload: Mapping[str, Any] | None,
             evidence_ids: Iterable[int]) -> dict[str, str]:
    """What a status proposal rested on (evidence id as text -> stance); see the module doc."""
    recorded = (payload or {}).get("basis")
    if isinstance(recorded, dict):
        return {str(k): str(v) for k, v in recorded.items()}
    assumed = "supports" if proposed_status == "holds" else "contradicts"
    return {str(i): assumed for i in sorted(evidence_ids)}


def why_changed(rested_on: str, e: EvidenceNow | None, evidence_id: str) -> str | None:
    """Why one piece of a proposal's basis no longer holds (None: it still does)."""
    if e is None:
        return f"evidence {evidence_id} is gone"
    paper = f"arXiv:{e.paper_id}"
    if e.withdrawn is not None:
        return f"{paper} was withdrawn (v{e.withdrawn})"
    if e.stance == "flagged" or (e.screened and e.reviewed_by is None):
        return f"the screen flagged {paper} ({'; '.join(e.screened) or 'see the evidence'})"
    if e.stance == "unjudged":
        return (f"{paper} (evidence {e.id}) waits to be judged again "
                f"(was {rested_on!r}: a new version of the paper changed its abstract)")
    if e.stance != rested_on:
        who = f"a reviewer ({e.reviewed_by}) set" if e.reviewed_by else "the judge now says"
        return f"{who} {paper} (evidence {e.id}) {e.stance!r}, not {rested_on!r}"
    if e.reviewed_by is None and e.stance in COUNTED and (e.confidence or 0) < CONFIDENT:
        return f"the judge's confidence in {paper} (evidence {e.id}) fell to {e.confidence or 0:.2f} (< {CONFIDENT})"
    return None


def why_stale(basis: Mapping[str, str], now: Mapping[int, EvidenceNow]) -> str | None:
    """Why a proposal resting on `basis` is stale, given the evidence as it is `now` (None: not stale)."""
    reasons = [r for key, stance in sorted(basis.items(), key=lambda kv: int(kv[0]))
               if (r := why_changed(stance, now.get(int(key)), key))]
    return "; ".join(reasons) or None
