"""Between the retest engine and the claims store: an engine result as a stored record.

`retest/` knows nothing of the database and `claims/` nothing of the engine; this is
the one place that reads a `retest.runner.RetestResult` field by field into a
`claims.retests.RetestRecord` (a renamed field fails the type check here). It also
turns a config into a replication's (`replicated_config`: the next block of seeds,
`claims.replication`), for `claims retest run --replicate` and the weekly job.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from claims.models import utcnow
from claims.replication import seed_block
from claims.retests import RetestRecord, RunStrength
from retest.measures import IntervalKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from retest.presets import RetestConfig
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
