"""Between the retest engine and the claims store: an engine result as a stored record.

`retest/` knows nothing of the database and `claims/` nothing of the engine; this is
the one place that reads a `retest.runner.RetestResult` field by field into a
`claims.retests.RetestRecord` (a renamed field fails the type check here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from claims.models import utcnow
from claims.retests import RetestRecord, RunStrength

if TYPE_CHECKING:
    from retest.runner import RetestResult


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
        interval=result.interval_over,
        interval_spans_seeds=spans_seeds(result.interval_over),
        flags=result.flags,
        toy_world=cfg.base_model_dir is None,
    )


def spans_seeds(interval_over: str) -> bool:
    """Whether an interval resamples runs (a t interval over seeds, a hierarchical bootstrap), not
    only the problems of one run."""
    return interval_over == "seeds" or ("seeds" in interval_over and "single seed" not in interval_over)


def failed_start(protocol: str, preset: str, log: str, reason: str | None = None) -> RetestRecord:
    """The record of a retest that could not start (the engine failed to import or set up)."""
    now = utcnow()
    return RetestRecord(protocol=protocol, preset=preset, status="failed", log=log, reason=reason,
                        summary="the retest could not start", started_at=now, finished_at=now)
