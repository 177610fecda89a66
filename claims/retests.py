"""Storing retest results: a RetestRun row per run, the claim's last_retested_at, audit.

The retest engine (`retest/`) knows nothing of the database, and this module knows
nothing of the engine: `RetestRecord` is the one definition of what a stored run
holds; the agent turns an engine result into it (`agent.retests.to_record`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.audit import record as audit
from claims.errors import NotFound
from claims.fields import NaiveUtc, one_of
from claims.models import RUN_STATUSES, VERDICTS, Claim, RetestRun, utcnow


class RunStrength(BaseModel):
    """How strong one run is as evidence: what the engine reports about its own design.

    `claims.strength.assess_strength` turns it into `may_propose` and the reason.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    preset: str = ""
    rl_seeds: tuple[int, ...] = ()  # the GRPO seeds (replications need disjoint sets)
    pretrain_seeds: tuple[int, ...] = ()  # the base models pretrained (each a prior draw)
    interval: str = ""  # what the 95% interval resamples ("seeds", "problems (bootstrap, single seed)", ...)
    interval_spans_seeds: bool = False
    flags: tuple[str, ...] = ()  # validity flags the protocol raised (e.g. a ceiling that decides the verdict)
    toy_world: bool = True
    # a real model's revision (it stands for the prior: `claims.replication`); "" in the toy world
    model_revision: str = ""


class RetestRecord(BaseModel):
    """One retest run as stored (the columns of RetestRun that a run fills)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    protocol: str = Field(min_length=1)
    status: Annotated[str, one_of(RUN_STATUSES, "retest status")] = Field(description=f"One of {RUN_STATUSES}.")
    protocol_version: str = ""
    preset: str = ""
    config: dict[str, Any] = {}
    metrics: dict[str, Any] = {}  # the engine's plot series (retest.results.RunMetrics as JSON)
    verdict: Annotated[str | None, one_of(VERDICTS, "retest verdict", optional=True)] = Field(
        default=None, description=f"One of {VERDICTS}, or None (failed or pending).")
    effect_size: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    decision_rule: str = ""
    summary: str = ""
    environment: dict[str, Any] = {}
    artifacts: dict[str, Any] = {}
    log: str = ""
    strength: RunStrength = RunStrength()
    reason: str | None = None  # why it ran (a plan, a reviewer's request)
    started_at: NaiveUtc = None
    finished_at: NaiveUtc = None


def record_run(session: Session, claim_key: str, record: RetestRecord, actor: str = "retest") -> RetestRun:
    """Store `record` as a RetestRun of claim `claim_key`; a finished run (succeeded or
    failed) sets the claim's last_retested_at. Writes an audit entry. Raises NotFound
    for an unknown claim (a malformed record cannot be built: pydantic validates it)."""
    claim = session.scalar(select(Claim).where(Claim.key == claim_key))
    if claim is None:
        raise NotFound(f"no claim {claim_key!r}")
    data = record.model_dump(exclude_none=True)
    data["strength"] = record.strength.model_dump(mode="json")
    run = RetestRun(claim_id=claim.id, **data)
    session.add(run)
    if run.status in ("succeeded", "failed"):
        claim.last_retested_at = record.finished_at or utcnow()
    session.flush()
    audit(session, actor, "retest_recorded", "retest_run", run.id, claim=claim_key, protocol=run.protocol,
          status=run.status, verdict=run.verdict, effect_size=run.effect_size)
    return run
