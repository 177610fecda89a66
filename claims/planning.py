"""Retest planning: when should a claim's protocol be re-run? (pure rules, then their records)

The rules below are pure (`plan_retests`). The database side is the only writer of
`retest_plans` rows: `plan_run_retests` records an agent run's decisions (idempotent
per run), `queued_retests` lists what the weekly job should run, `link_plans` marks a
plan answered by a retest run of its own claim, `queue_replication` and
`queue_retest` queue the replication of a failed strong run and the claim's other
protocols.

A claim is retested only if it names a protocol that the retest engine knows. Then,
in order of priority, a retest is queued when:

1. it was requested (`claims agent run --retest KEY`): reason "requested";
2. new contradicting evidence arrived since the protocol's last finished run
   (judged "contradicts", any confidence): reason "N new contradicting paper(s)";
3. the protocol never ran successfully for the claim (a failed run is retried at
   the next check), or its last successful run finished at least
   `interval_days` ago: reason "never run" / "last run D days ago (interval I)".

4. (not the agent's planning: the weekly job's, after a strong run) a strong run of one
   of the claim's protocols said "inconsistent" and is not yet replicated on new seeds
   (`claims.replication`): `queue_replication` queues it as the claim's next retest,
   reason "replicate run N ...", run on the next block of seeds; and each protocol that
   serves the claim with no strong run yet (C4, C5: retests propose only when all agree)
   is queued too (`queue_retest`);

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
from typing import Any

from sqlalchemy import func, or_, select

from claims import audit
from claims.errors import Conflict, NotFound
from claims.models import Claim, Evidence, RetestPlan, RetestRun, utcnow
from claims.store import Store

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


# --- the database side: recording a run's plans, the queue the weekly job works through ---


@dataclass(frozen=True)
class PlannedRetest:
    """A recorded plan row (queue or skip) of one claim."""

    plan_id: int
    claim_key: str
    protocol: str | None
    decision: str
    reason: str


@dataclass(frozen=True)
class QueuedRetest:
    """A queued plan not yet run, oldest first in `queued_retests`."""

    plan_id: int
    claim_key: str
    protocol: str
    reason: str


def plan_run_retests(store: Store, claim_keys: list[str], agent_run_id: int, requested: set[str],
                     protocols: dict[str, int], budget: int, actor: str = "agent",
                     now: dt.datetime | None = None) -> list[PlannedRetest]:
    """Decide and record queue/skip for each claim within the run's budget (idempotent per run).

    `protocols` maps the retest engine's protocol names to their interval in days. A
    claim already planned by this run keeps its plan (a resumed run plans nothing twice).
    """
    now = now or utcnow()
    with store.write() as s:
        claims = list(s.scalars(select(Claim).where(Claim.key.in_(claim_keys)).order_by(Claim.inquiry_id, Claim.position)))
        done = {p.claim_id: p for p in s.scalars(select(RetestPlan).where(RetestPlan.agent_run_id == agent_run_id))}
        inputs = [_plan_input(s, c, agent_run_id, protocols, c.key in requested) for c in claims if c.id not in done]
        left = budget - sum(p.decision == QUEUE for p in done.values())
        by_key = {c.key: c for c in claims}
        for d in plan_retests(inputs, left, now):
            row = RetestPlan(claim_id=by_key[d.claim_key].id, protocol=d.protocol, decision=d.decision,
                             reason=d.reason, decided_at=now, agent_run_id=agent_run_id)
            s.add(row)
            s.flush()
            audit.record(s, actor, "plan", "retest_plan", row.id, claim=d.claim_key, decision=d.decision, reason=d.reason)
            done[row.claim_id] = row
        return [PlannedRetest(done[c.id].id, c.key, done[c.id].protocol, done[c.id].decision, done[c.id].reason)
                for c in claims]


def _plan_input(s: Any, claim: Any, run_id: int, protocols: dict[str, int], requested: bool) -> PlanInput:
    last = None
    if claim.protocol:
        last = s.scalar(select(func.max(RetestRun.finished_at)).where(
            RetestRun.claim_id == claim.id, RetestRun.protocol == claim.protocol, RetestRun.status == "succeeded",
            RetestRun.finished_at.is_not(None)))  # a failed run is retried at the next check
    contra = select(func.count()).select_from(Evidence).where(
        Evidence.claim_id == claim.id, Evidence.stance == "contradicts")
    if last is not None:
        contra = contra.where(Evidence.judged_at > last)
    queued = s.scalar(select(func.count()).select_from(RetestPlan).where(
        RetestPlan.claim_id == claim.id, RetestPlan.decision == QUEUE, RetestPlan.retest_run_id.is_(None),
        or_(RetestPlan.agent_run_id.is_(None), RetestPlan.agent_run_id != run_id)))
    return PlanInput(
        claim_key=claim.key,
        protocol=claim.protocol,
        interval_days=protocols.get(claim.protocol) if claim.protocol else None,
        last_finished_at=last,
        new_contradictions=int(s.scalar(contra) or 0),
        requested=requested,
        already_queued=bool(queued),
    )


def queued_retests(store: Store) -> list[QueuedRetest]:
    """The queued plans that no retest run answers yet, oldest first."""
    with store.read() as s:
        rows = s.execute(
            select(RetestPlan.id, Claim.key, RetestPlan.protocol, RetestPlan.reason)
            .join(Claim, Claim.id == RetestPlan.claim_id)
            .where(RetestPlan.decision == QUEUE, RetestPlan.retest_run_id.is_(None), RetestPlan.protocol.is_not(None))
            .order_by(RetestPlan.decided_at, RetestPlan.id)
        ).all()
    return [QueuedRetest(*r) for r in rows]


def link_plans(session: Any, plan_ids: list[int], retest_run_id: int) -> None:
    """Mark plans as answered by a retest run (which must be of the plans' claim)."""
    run = session.get(RetestRun, retest_run_id)
    for plan in session.scalars(select(RetestPlan).where(RetestPlan.id.in_(plan_ids))):
        if run is None or plan.claim_id != run.claim_id:
            raise Conflict(f"retest plan {plan.id} is not for the claim of retest run {retest_run_id}")
        plan.retest_run_id = retest_run_id


def queue_replication(session: Any, claim_key: str, protocol: str, run_id: int, actor: str = "weekly",
                      now: dt.datetime | None = None) -> int | None:
    """Queue the replication of retest run `run_id` (a strong "inconsistent" not yet replicated,
    `claims.replication.replication_due`) as the claim's next retest (`queue_retest`, reason
    "replicate run N ..."). The weekly job runs it on the next block of seeds."""
    reason = (f"replicate run {run_id} (verdict inconsistent) on new seeds: a strong run counts toward a "
              "proposal only once replicated")
    return queue_retest(session, claim_key, protocol, reason, actor=actor, now=now)


def queue_retest(session: Any, claim_key: str, protocol: str, reason: str, actor: str = "weekly",
                 now: dt.datetime | None = None) -> int | None:
    """Queue a retest of the claim with `protocol` outside the agent's planning (a plan row with
    no agent run: a replication, or a protocol of the claim that has no strong run yet). None
    when a plan for that claim and protocol is already queued."""
    claim = session.scalar(select(Claim).where(Claim.key == claim_key))
    if claim is None:
        raise NotFound(f"no claim {claim_key!r}")
    waiting = session.scalar(select(RetestPlan.id).where(
        RetestPlan.claim_id == claim.id, RetestPlan.protocol == protocol, RetestPlan.decision == QUEUE,
        RetestPlan.retest_run_id.is_(None)).limit(1))
    if waiting is not None:
        return None
    row = RetestPlan(claim_id=claim.id, protocol=protocol, decision=QUEUE, reason=reason, decided_at=now or utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor, "plan", "retest_plan", row.id, claim=claim_key, decision=QUEUE, reason=reason)
    return row.id
