"""The prior x optimizer factorial of an inquiry: storing a grid, reading it back, proposing from it.

The grid engine (`retest.factorial`) answers the inquiry's question in its toy world:
how much of the post-RL outcome the pretraining prior explains, and how much the
optimizer. This module knows nothing of the engine: `FactorialRecord` is the one
definition of what a stored grid holds (the agent maps an engine result into it,
`agent.factorial.to_record`), and the rules here are pure where they can be:

- `measured_answer`: the answer in one paragraph, from the stored numbers only (never
  paper or LLM text), labelled toy-world and naming the levels used.
- `assess_factorial`: may the grid propose a finding? Only a finished grid (every cell
  done) of preset full or gpu with >= 3 RL seeds, >= 2 pretraining seeds, an interval
  over seeds and no validity flag (the strength rule of `claims.strength`). The weekly
  preset flags its confounds, so it never proposes: its answer is a candidate only.
- `factorial_due`: is a scheduled grid due, given when the last one finished?
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.audit import record as audit
from claims.drafts import Draft
from claims.errors import NotFound
from claims.fields import NaiveUtc, one_of
from claims.models import FactorialRun, Inquiry, Proposal
from claims.proposing import write_proposals
from claims.retests import RunStrength
from claims.strength import assess_strength

FACTORIAL_STATUSES = ("succeeded", "partial", "failed", "interrupted")
FINISHED = ("succeeded", "partial")  # a grid with shares to read (partial: some cells failed)
PROPOSING_PRESETS = ("full", "gpu")
HEADLINE = ("pass@256", "pass@1")  # the outcomes the answer leads with (search capability first)
COMPONENTS = ("prior", "optimizer", "interaction", "pretrain_seed", "base_x_optimizer", "residual")
"""The variance components of the mixed model (retest.factorial.analysis); grids stored before it lack the
two random between-base ones (`pretrain_seed` may be there, as a part of `prior`)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ShareRecord(_Frozen):
    """One variance share (0..1) with its 95% interval."""

    estimate: float
    low: float
    high: float


class OutcomeSharesRecord(_Frozen):
    """The variance of one run split into the designed prior, optimizer and interaction, base to base
    (`pretrain_seed`), base x optimizer and RL-seed noise (`residual`); see COMPONENTS."""

    prior: ShareRecord
    optimizer: ShareRecord
    interaction: ShareRecord
    residual: ShareRecord
    pretrain_seed: ShareRecord | None = None  # base to base (before issue 23: the nested part of `prior`)
    base_x_optimizer: ShareRecord | None = None  # a base's own response to the optimizer


class CellRecord(_Frozen):
    """One GRPO run of the grid: its levels, seeds, status and outcomes."""

    prior: str
    mixture: str = ""
    amount: str = ""
    optimizer: str
    pretrain_seed: int
    rl_seed: int
    status: str
    outcomes: dict[str, float] = {}
    seconds: float = 0.0
    error: str | None = None
    key: str = ""


class FactorialRecord(BaseModel):
    """One grid as stored (the columns of FactorialRun)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str = Field(min_length=1)
    executor: str = "local"
    status: Annotated[str, one_of(FACTORIAL_STATUSES, "factorial status")] = Field(
        description=f"One of {FACTORIAL_STATUSES}.")
    levels: dict[str, list[str]] = {}
    cells: list[CellRecord] = []
    shares: dict[str, OutcomeSharesRecord] = {}
    ranges: dict[str, dict[str, float]] = {}
    answer: str = ""  # the engine's paragraph (numbers and level names only)
    flags: list[str] = []
    strength: RunStrength = RunStrength()
    config: dict[str, Any] = {}
    environment: dict[str, Any] = {}
    reason: str = ""
    log: str = ""
    seconds: float = 0.0
    started_at: NaiveUtc = None
    finished_at: NaiveUtc = None


class StoredFactorial(_Frozen):
    """A stored grid as read back: its id, inquiry and record."""

    id: int
    inquiry: str  # the inquiry's slug
    question: str
    created_at: dt.datetime
    record: FactorialRecord


# --- pure rules ------------------------------------------------------------------------


def assess_factorial(record: FactorialRecord) -> tuple[bool, str]:
    """(may this grid propose a finding?, why): the rule in the module doc, pure."""
    problems = []
    if record.status != "succeeded":
        problems.append(f"the grid {record.status} (every cell must finish)")
    if not any(o in record.shares for o in HEADLINE):
        problems.append("no variance shares for " + " or ".join(HEADLINE))
    ok, why = assess_strength(record.strength, presets=PROPOSING_PRESETS)
    if not ok:
        problems.append(why)
    if problems:
        return False, "; ".join(problems)
    return True, why


def _pct(share: ShareRecord) -> str:
    return f"{share.estimate:.0%} (95% interval {share.low:.0%} to {share.high:.0%})"


def compare(shares: OutcomeSharesRecord) -> str:
    """Which of prior and optimizer explains more of one outcome, judged by their intervals."""
    p, o = shares.prior, shares.optimizer
    if p.low > o.high:
        return "the prior explains more than the optimizer"
    if o.low > p.high:
        return "the optimizer explains more than the prior"
    return "the intervals overlap: neither explains clearly more"


def levels_text(record: FactorialRecord) -> str:
    """The levels used, in words (shares depend on them)."""
    lv = record.levels
    parts = [f"priors {', '.join(lv.get('prior', [])) or '?'}", f"optimizers {', '.join(lv.get('optimizer', [])) or '?'}",
             f"{len(lv.get('pretrain_seed', []))} pretraining seed(s) per prior",
             f"{len(lv.get('rl_seed', []))} RL seed(s) per cell"]
    return "; ".join(parts)


def outcome_sentence(outcome: str, shares: OutcomeSharesRecord) -> str:
    """One outcome's shares in words."""
    between = ""
    if shares.base_x_optimizer is not None and shares.pretrain_seed is not None:  # the mixed model's six
        between = (f", base to base {shares.pretrain_seed.estimate:.0%}, base x optimizer "
                   f"{shares.base_x_optimizer.estimate:.0%}")
    return (f"{outcome}: prior {_pct(shares.prior)}, optimizer {_pct(shares.optimizer)}, interaction "
            f"{shares.interaction.estimate:.0%}{between}, seed noise {shares.residual.estimate:.0%} ({compare(shares)})")


def measured_answer(record: FactorialRecord) -> str:
    """The measured answer as one paragraph, from the stored numbers only (toy-world, with its levels)."""
    done = sum(1 for c in record.cells if c.status != "failed")
    label = "Toy-world answer" if record.strength.toy_world else "Small-model answer (not toy-world)"
    head = (f"{label} (a prior x optimizer factorial, {record.preset} preset, {done} of {len(record.cells)} "
            f"cells; {levels_text(record)})")
    outcomes = [o for o in HEADLINE if o in record.shares] or sorted(record.shares)
    if not outcomes:
        return head + ": no variance shares (too few cells finished)."
    body = "; ".join(outcome_sentence(o, record.shares[o]) for o in outcomes)
    tail = " Shares depend on the levels chosen."
    if record.flags:
        tail += " Confounds flagged: " + "; ".join(record.flags) + "."
    return f"{head}. Share of the variance of each post-RL outcome explained by the prior, the optimizer, their " \
           f"interaction and seed noise, with 95% intervals: {body}.{tail}"


def finding_text(record: FactorialRecord) -> str:
    """The new claim a strong grid proposes: one sentence on the headline outcome."""
    outcome = next(o for o in HEADLINE if o in record.shares)
    s = record.shares[outcome]
    return (f"In a toy world ({levels_text(record)}), {compare(s)} for post-RL {outcome}: the pretraining prior "
            f"explained {_pct(s.prior)} of its variance and the optimization algorithm {_pct(s.optimizer)}; "
            "the shares depend on the levels chosen.")


def factorial_due(last_finished: dt.datetime | None, now: dt.datetime, every_weeks: int) -> tuple[bool, str]:
    """(is a scheduled grid due?, why): never with every_weeks 0; due when none finished
    or the last finished at least `every_weeks` weeks ago (a day of slack for cron drift)."""
    if every_weeks <= 0:
        return False, "--factorial-every 0: never"
    if last_finished is None:
        return True, "no factorial grid of this inquiry has finished yet"
    age = now - last_finished
    if age >= dt.timedelta(weeks=every_weeks) - dt.timedelta(days=1):
        return True, f"the last grid finished {age.days} day(s) ago (every {every_weeks} week(s))"
    return False, f"the last grid finished {age.days} day(s) ago; next after {every_weeks} week(s)"


# --- the database side ---------------------------------------------------------------------


def find_inquiry(session: Session, inquiry: str | None = None) -> Inquiry:
    """The inquiry with this slug, or the first one imported; NotFound otherwise."""
    q = select(Inquiry).order_by(Inquiry.id)
    if inquiry:
        q = q.where(Inquiry.slug == inquiry)
    found = session.scalars(q).first()
    if found is None:
        raise NotFound(f"no inquiry {inquiry!r}" if inquiry else "no inquiry imported (try `claims import --bundled`)")
    return found


def record_factorial(session: Session, inquiry: str | None, record: FactorialRecord,
                     actor: str = "retest") -> StoredFactorial:
    """Store `record` as a factorial run of the inquiry (slug; None: the first); audited."""
    inq = find_inquiry(session, inquiry)
    data = record.model_dump(mode="json", exclude={"started_at", "finished_at"})
    run = FactorialRun(inquiry_id=inq.id, started_at=record.started_at, finished_at=record.finished_at, **data)
    session.add(run)
    session.flush()
    audit(session, actor, "factorial_recorded", "factorial_run", run.id, inquiry=inq.slug, preset=run.preset,
          executor=run.executor, status=run.status, cells=len(record.cells))
    return _stored(run, inq)


def _stored(run: FactorialRun, inq: Inquiry) -> StoredFactorial:
    fields = {k: getattr(run, k) for k in FactorialRecord.model_fields}
    return StoredFactorial(id=run.id, inquiry=inq.slug, question=inq.question, created_at=run.created_at,
                           record=FactorialRecord.model_validate(fields))


def factorial_runs(session: Session, inquiry: str | None = None, limit: int = 50) -> list[StoredFactorial]:
    """The inquiry's stored grids, newest first."""
    inq = find_inquiry(session, inquiry)
    rows = session.scalars(select(FactorialRun).where(FactorialRun.inquiry_id == inq.id)
                           .order_by(FactorialRun.id.desc()).limit(limit))
    return [_stored(r, inq) for r in rows]


def get_factorial(session: Session, run_id: int) -> StoredFactorial:
    run = session.get(FactorialRun, run_id)
    if run is None:
        raise NotFound(f"no factorial run {run_id}")
    return _stored(run, session.get(Inquiry, run.inquiry_id))


def latest_factorial(session: Session, inquiry: str | None = None,
                     statuses: tuple[str, ...] = FINISHED) -> StoredFactorial | None:
    """The inquiry's newest grid with one of `statuses` (default: finished ones), or None."""
    inq = find_inquiry(session, inquiry)
    run = session.scalars(select(FactorialRun).where(FactorialRun.inquiry_id == inq.id,
                                                     FactorialRun.status.in_(statuses))
                          .order_by(FactorialRun.finished_at.desc(), FactorialRun.id.desc())).first()
    return _stored(run, inq) if run is not None else None


def propose_from_factorial(session: Session, run_id: int, actor: str = "retest") -> tuple[list[int], list[str]]:
    """A `new_claim` proposal for the grid's inquiry when the grid is strong enough; (ids, why not).

    A weak grid proposes nothing (its answer stays visible as a candidate); while one
    factorial finding of the inquiry is pending, another is not proposed.
    """
    stored = get_factorial(session, run_id)
    record = stored.record
    ok, why = assess_factorial(record)
    if not ok:
        return [], [f"factorial run {run_id}: a candidate only, not proposed ({why})"]
    inq = find_inquiry(session, stored.inquiry)
    pending = session.scalars(select(Proposal).where(Proposal.state == "pending", Proposal.kind == "new_claim",
                                                     Proposal.inquiry_id == inq.id))
    same = next((p for p in pending if (p.payload or {}).get("source") == "factorial"), None)
    if same is not None:
        return [], [f"factorial run {run_id}: proposal {same.id} (a factorial finding) is still pending"]
    finished = record.finished_at or stored.created_at
    draft = Draft(kind="new_claim", claim_key=None, proposed_status=None, inquiry_id=inq.id,
                  proposed_text=finding_text(record),
                  rationale=f"Measured by factorial run {run_id} (a toy-world experiment: weigh it against the "
                            f"literature; {why}). {measured_answer(record)}",
                  payload={"as_of": finished.strftime("%Y-%m"), "position": len(inq.claims), "source": "factorial",
                           "factorial_run_id": run_id, "preset": record.preset, "toy_world": record.strength.toy_world})
    return write_proposals(session, [draft], actor=actor)
