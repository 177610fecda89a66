"""Retest planning: when should a claim's protocol be re-run? (pure rules)

A claim is retested only if it names a protocol that the retest engine knows. Then,
in order of priority, a retest is queued when:

1. it was requested (`claims agent run --retest KEY`): reason "requested";
2. new contradicting evidence arrived since the protocol's last finished run
   (judged "contradicts", any confidence): reason "N new contradicting paper(s)";
3. the protocol never ran successfully for the claim (a failed run is retried at
   the next check), or its last successful run finished at least
   `interval_days` ago: reason "never run" / "last run D days ago (interval I)".

and skipped otherwise ("no protocol", "unknown protocol", "already queued",
"last run D days ago, next due in N days"). Queued retests are limited by a budget
per agent run (setting `retest_budget`): requested ones first, then contradicted,
then overdue (oldest first); those over budget are skipped with the reason
"over budget (B per run): <what would have queued it>". A claim with a queued
retest that has not run yet is never queued twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

QUEUE = "queue"
SKIP = "skip"

# Priority of a reason to queue (lower first) when the budget is short.
_REQUESTED, _CONTRADICTED, _OVERDUE = 0, 1, 2


@dataclass(frozen=True)
class PlanInput:
    """What the rule needs to know about one claim, as plain values."""

    claim_key: str
    protocol: str | None
    interval_days: int | None  # None: the protocol is unknown to the retest engine
    last_finished_at: dt.datetime | None  # the protocol's last finished run for the claim
    new_contradictions: int = 0  # contradicting evidence judged since that run
    requested: bool = False
    already_queued: bool = False


@dataclass(frozen=True)
class PlanDecision:
    claim_key: str
    protocol: str | None
    decision: str  # queue | skip
    reason: str


def assess(item: PlanInput, now: dt.datetime) -> tuple[int | None, str]:
    """(priority, reason) if the claim wants a retest, else (None, reason to skip)."""
    if not item.protocol:
        return None, "no protocol"
    if item.interval_days is None:
        return None, f"unknown protocol {item.protocol!r}"
    if item.already_queued:
        return None, "already queued, not run yet"
    if item.requested:
        return _REQUESTED, "requested"
    if item.new_contradictions > 0:
        n = item.new_contradictions
        return _CONTRADICTED, f"{n} new contradicting paper{'s' if n != 1 else ''} since the last run"
    if item.last_finished_at is None:
        return _OVERDUE, "never run"
    age = (now - item.last_finished_at).days
    if age >= item.interval_days:
        return _OVERDUE, f"last run {age} days ago (interval {item.interval_days})"
    return None, f"last run {age} days ago, next due in {item.interval_days - age} days"


def plan_retests(items: list[PlanInput], budget: int, now: dt.datetime) -> list[PlanDecision]:
    """Decide queue/skip for each claim within `budget` queued retests (input order kept)."""
    assessed = [(item, *assess(item, now)) for item in items]
    wanting = sorted(
        (i for i, (_, prio, _) in enumerate(assessed) if prio is not None),
        key=lambda i: (
            assessed[i][1],
            assessed[i][0].last_finished_at or dt.datetime.min,
            assessed[i][0].claim_key,
        ),
    )
    granted = set(wanting[: max(0, budget)])
    decisions = []
    for i, (item, prio, reason) in enumerate(assessed):
        if prio is None:
            decisions.append(PlanDecision(item.claim_key, item.protocol, SKIP, reason))
        elif i in granted:
            decisions.append(PlanDecision(item.claim_key, item.protocol, QUEUE, reason))
        else:
            decisions.append(PlanDecision(item.claim_key, item.protocol, SKIP, f"over budget ({budget} per run): {reason}"))
    return decisions
