"""The words stored in the claims tables, in one place: a `Literal` type each, and its values.

Pydantic models and function signatures use the types; validation and the CLI's
choices use the tuples (`claims.models` re-exports them beside the tables).
"""

from __future__ import annotations

from typing import Literal, get_args

ClaimStatus = Literal["unreviewed", "holds", "weakened", "contested", "overturned", "superseded"]
AnchorStatus = Literal["unchecked", "verified", "mismatch", "not_found", "flagged", "withdrawn"]
JudgedStance = Literal["supports", "contradicts", "refines", "unrelated"]  # what a judge answers, a reviewer sets
Stance = Literal["unjudged", "supports", "contradicts", "refines", "unrelated", "failed", "flagged"]
ProposalState = Literal["pending", "approved", "rejected", "stale"]  # stale: its evidence changed (claims.staleness)
RunStatus = Literal["queued", "running", "succeeded", "failed", "interrupted"]  # interrupted: Ctrl-C, stays queued
Verdict = Literal["consistent", "inconsistent", "inconclusive"]

CLAIM_STATUSES: tuple[ClaimStatus, ...] = get_args(ClaimStatus)
ANCHOR_STATUSES: tuple[AnchorStatus, ...] = get_args(AnchorStatus)
REVIEWABLE_STANCES: tuple[JudgedStance, ...] = get_args(JudgedStance)
STANCES: tuple[Stance, ...] = get_args(Stance)
PROPOSAL_STATES: tuple[ProposalState, ...] = get_args(ProposalState)
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
