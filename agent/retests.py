"""Between the retest engine and the claims store: run a protocol, record it, propose.

`run_retest` is the one function for that use case: `claims retest run` and the weekly job
both call it, so both draw replications, record the run and propose through the same gate
(`claims.proposing.propose_status_for_key`: a run counts only when strong and replicated).

`retest/` knows nothing of the database and `claims/` nothing of the engine; this is
the one place that reads a `retest.runner.RetestResult` field by field into a
`claims.retests.RetestRecord` (a renamed field fails the type check here). It also
turns a config into a replication's (`replicated_config`: the next block of seeds,
`claims.replication`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from claims.models import utcnow
from claims.planning import link_plans, queue_replication, queue_retest
from claims.proposing import StatusOutcome, propose_status_for_key
from claims.protocols import serving_protocols
from claims.replication import protocols_without_strong_run, replication_due, seed_block
from claims.retests import RetestRecord, RunStrength, record_run
from claims.runs import INTERRUPTED, SUCCEEDED
from claims.settings import Settings
from claims.store import Store
from claims.strength import assess_strength
from retest.measures import IntervalKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from retest.presets import RetestConfig
    from retest.runner import RetestResult

Say = Callable[[str], None]


class Replication(Enum):
    """Whether a retest runs on the next block of seeds (`replicated_config`)."""

    NO = "no"  # the config's own seeds
    YES = "yes"  # always (`claims retest run --replicate`)
    WHEN_DUE = "when due"  # when the protocol's latest strong run for the claim awaits one (the weekly job)


@dataclass(frozen=True)
class RetestRequest:
    """One retest to run for a claim: what, why, by whom, on which seeds."""

    claim_key: str
    protocol: str
    preset: str
    reason: str  # why it runs (stored with the run; a replication adds its seeds)
    actor: str  # who records and proposes ("weekly", "retest" from the command line)
    config: RetestConfig | None = None  # None: the preset's
    rl_seeds: int | None = None  # RL seeds, overriding the config's
    replication: Replication = Replication.NO
    plan_id: int | None = None  # the queued plan it answers (linked once the run finished)
    queue_follow_ups: bool = False  # queue a new strong "inconsistent"'s replication and the claim's other protocols


@dataclass(frozen=True)
class RetestDone:
    """What `run_retest` did: the stored run, what was proposed (or why not), what it queued."""

    run_id: int
    record: RetestRecord
    seconds: float
    proposal: StatusOutcome  # empty when the run was interrupted (nothing is proposed then)
    queued: tuple[str, ...] = ()  # one line per retest it queued

    @property
    def interrupted(self) -> bool:
        return self.record.status == INTERRUPTED

    @property
    def strong(self) -> tuple[bool, str]:
        """(may this run propose?, why): `claims.strength.assess_strength` of a succeeded run."""
        ok, why = assess_strength(self.record.strength)
        return ok and self.record.status == SUCCEEDED, why


def run_retest(store: Store, settings: Settings, request: RetestRequest, say: Say) -> RetestDone:
    """Run `request.protocol`, store it as a retest run of the claim, and propose from it.

    A crash is recorded as a failed run with its log (the engine's own, or here: an engine
    that cannot be imported or set up); Ctrl-C records the run as interrupted, links no plan
    and proposes nothing. Otherwise the plan it answers is linked, follow-ups are queued if
    asked (a new strong "inconsistent" not yet replicated: its replication; a strong run:
    the claim's other protocols with no strong run yet), and the claim's status proposal
    is written if its evidence and strong, replicated retests call for one (the gate:
    `claims.status_rules`), or the reason none was is returned.
    """
    t = time.monotonic()
    reason, raised = request.reason, False
    try:
        # the engine is imported here, not at the top: an engine that cannot be imported is
        # recorded as a failed run with its traceback, like any other crash
        from retest.presets import preset as load_preset
        from retest.runner import run_protocol

        config, seeds = request.config or load_preset(request.preset), request.rl_seeds
        with store.read() as s:
            due = replication_due(s, request.claim_key, request.protocol) \
                if request.replication is Replication.WHEN_DUE else None
            if request.replication is Replication.YES or due is not None:
                config, replication = replicated_config(s, request.claim_key, request.protocol, config, seeds)
                seeds, replication = None, replication + (f" of run {due.latest.id}" if due and due.latest else "")
                reason += f"; {replication}"
                say(f"retest {request.protocol} for {request.claim_key}: {replication}")
        result = run_protocol(request.protocol, preset=config.preset, seeds=seeds, cache_dir=settings.retest_cache_dir,
                              artifacts_dir=settings.retest_artifacts_dir, progress=say, config=config,
                              workers=settings.retest_workers)
        record = to_record(result, reason=reason)  # Ctrl-C inside the run: status "interrupted"
    except KeyboardInterrupt:  # Ctrl-C before the engine started (while importing it)
        record, raised = failed_start(request.protocol, request.preset, traceback.format_exc(), reason=reason), True
    except Exception:  # the engine records its own crashes; this catches import or set-up errors
        record = failed_start(request.protocol, request.preset, traceback.format_exc(), reason=reason)
    stopped = raised or record.status == INTERRUPTED
    if stopped:
        record = record.model_copy(update={"status": INTERRUPTED, "verdict": None,
                                           "summary": f"interrupted (Ctrl-C) after {time.monotonic() - t:.0f} s"})
    queued: list[str] = []
    proposal = StatusOutcome(why_not="interrupted: nothing is proposed from an interrupted run")
    with store.write() as s:
        run_id = record_run(s, request.claim_key, record, actor=request.actor).id
        if not stopped:
            if request.plan_id is not None:
                link_plans(s, [request.plan_id], run_id)
            if request.queue_follow_ups:
                queued = _queue_follow_ups(s, request, record, run_id)
            proposal = propose_status_for_key(s, request.claim_key, actor=request.actor)
    for line in queued:
        say(line)
    return RetestDone(run_id, record, round(time.monotonic() - t, 1), proposal, tuple(queued))


def _queue_follow_ups(session: Session, request: RetestRequest, record: RetestRecord, run_id: int) -> list[str]:
    """Queue what a finished run calls for (`run_retest`); a line for each retest queued.

    Retests propose only once replicated and only when all of a claim's protocols agree
    (`claims.status_rules`), so the weekly job replicates a failed run before it proposes
    from it and runs the claim's other protocols (C4 has two, C5 three).
    """
    key, protocol, out = request.claim_key, request.protocol, []
    if record.status != SUCCEEDED:
        return out
    due = replication_due(session, key, protocol)
    if due is not None and due.latest is not None and due.latest.id == run_id:
        if queue_replication(session, key, protocol, run_id, actor=request.actor) is not None:
            out.append(f"retest {protocol} for {key}: run {run_id} says inconsistent; its replication on new seeds "
                       "is queued as the claim's next retest")
    if not assess_strength(record.strength)[0]:
        return out
    missing = protocols_without_strong_run(session, key)
    served = ", ".join(serving_protocols(missing))  # the whole family: they share the claim's hint
    for other in missing:
        why = (f"{key} is tested by several protocols ({served}): {other} has no strong run yet, "
               "and retests propose only when all of them agree")
        if queue_retest(session, key, other, why, actor=request.actor) is not None:
            out.append(f"retest {other} for {key}: queued ({why})")
    return out


def to_record(result: RetestResult, reason: str | None = None) -> RetestRecord:
    """The record to store for an engine result (succeeded or failed)."""
    return RetestRecord(
        protocol=result.protocol,
        protocol_version=result.protocol_version,
        preset=result.preset,
        config=result.config.to_dict(),
        status=result.status,
        metrics=result.metrics.model_dump(mode="json"),
        verdict=result.verdict,
        effect_size=result.effect_size,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        decision_rule=result.decision_rule,
        summary=result.summary,
        environment=result.environment.model_dump(mode="json"),
        artifacts=result.artifacts.model_dump(mode="json") if result.artifacts else {},
        log=result.log,
        strength=_strength(result),
        reason=reason,
        started_at=result.started_at,
        finished_at=result.finished_at,
    )


def _strength(result: RetestResult) -> RunStrength:
    """How strong the run is, from its config and what the protocol said (claims.strength weighs it)."""
    if result.status != "succeeded":  # failed before deciding: nothing to weigh
        return RunStrength(preset=result.preset)
    cfg = result.config
    return RunStrength(
        preset=result.preset,
        rl_seeds=tuple(cfg.seeds),
        pretrain_seeds=() if cfg.base_model_dir else tuple(cfg.pretrain_seeds),  # a local model: one fixed prior, no draw
        interval=result.interval_over,  # the words, shown; the gate reads the kind
        interval_spans_seeds=result.interval_kind is IntervalKind.SEEDS,
        flags=result.flags,
        toy_world=cfg.base_model_dir is None,
        model_revision=model_revision(cfg.base_model_dir) if cfg.base_model_dir else "",
    )


def model_revision(model_dir: str | Path) -> str:
    """What identifies a local model (it stands for the prior of a real-model run): the Hub
    commit when the directory is a Hub snapshot (`.../snapshots/<commit>`), else the
    directory's name and a hash of its config.json and its weight files' names and sizes."""
    path = Path(model_dir)
    if path.parent.name == "snapshots" and len(path.name) == 40:
        return f"{path.parent.parent.name}@{path.name[:12]}"
    digest = hashlib.sha256()
    config = path / "config.json"
    digest.update(config.read_bytes() if config.is_file() else b"")
    for weights in sorted(path.glob("*.safetensors")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{path.name}@{digest.hexdigest()[:12]}"


def failed_start(protocol: str, preset: str, log: str, reason: str | None = None) -> RetestRecord:
    """The record of a retest that could not start (the engine failed to import or set up)."""
    now = utcnow()
    return RetestRecord(protocol=protocol, preset=preset, status="failed", log=log, reason=reason,
                        summary="the retest could not start", started_at=now, finished_at=now)


def replicated_config(session: Session, claim_key: str, protocol: str, cfg: RetestConfig,
                      rl_seeds: int | None = None) -> tuple[RetestConfig, str]:
    """`cfg` on the next block of seeds for a replication of `protocol` for the claim
    (`claims.replication.seed_block`: RL and pretraining seeds that no earlier standard or
    gpu run of it used), and a line saying so for the run's `reason`. `rl_seeds`: how many
    RL seeds (default: the config's); pretraining seeds as many as the config has."""
    toy = cfg.base_model_dir is None
    block = seed_block(session, claim_key, protocol, rl_seeds or len(cfg.seeds), len(cfg.pretrain_seeds),
                       toy_world=toy, preset=cfg.preset)
    cfg = dataclasses.replace(cfg, seeds=block.rl_seeds, pretrain_seeds=block.pretrain_seeds or cfg.pretrain_seeds)
    seeds = (f"pretraining seeds {list(block.pretrain_seeds)}, " if toy else "the same model, ") + \
        f"RL seeds {list(block.rl_seeds)}"
    return cfg, f"replication on new seeds ({seeds})"
