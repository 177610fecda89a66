"""Run a protocol end to end: its measurements (from the cached blocks of `retest.lab`), verdict.

Phases: ``pretrain`` (cached base per pretraining seed), ``grpo`` (cached run per seed
with checkpoints), ``sft``, ``sample`` (cached per model), ``measure`` and ``decide``. A crash inside a run
gives a `RetestResult` with status "failed" and the traceback in its log; Ctrl-C gives
status "interrupted" (the caller decides whether to go on). Finished phases stay
cached, so a rerun resumes after them.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from retest.lab import Lab
from retest.measures import IntervalKind, bootstrap_mean_ci, pass_at_k_table
from retest.presets import RetestConfig
from retest.presets import preset as load_preset
from retest.protocols import PROTOCOLS
from retest.protocols.spec import Decision
from retest.results import (
    FORMAT_NAMES,
    Effect,
    Environment,
    Hardware,
    LayerSparsity,
    Measurements,
    RunMetrics,
)

DEFAULT_CACHE = Path("~/.cache/claims-retest").expanduser()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Artifacts(BaseModel):
    """Where a run's files are: its folder, metrics.json, and the GRPO run directories."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    folder: str
    metrics: str
    runs: tuple[str, ...]


@dataclass(frozen=True)
class RetestResult:
    """What one protocol run gives back (the agent stores it as a RetestRun row)."""

    protocol: str
    protocol_version: str
    preset: str
    config: RetestConfig
    status: str = "failed"  # succeeded | failed | interrupted (Ctrl-C)
    metrics: RunMetrics = field(default_factory=RunMetrics)
    interval_over: str = ""  # what the effect's 95% interval resamples, in words ("RL seeds, problems (...)")
    interval_kind: IntervalKind = IntervalKind.ONE_DRAW  # the same as a fact: over seeds or within one draw
    flags: tuple[str, ...] = ()  # validity flags the protocol raised: conditions under which the verdict is no test
    verdict: str | None = None  # consistent | inconsistent | inconclusive; None when failed
    effect_size: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    decision_rule: str = ""
    summary: str = ""
    environment: Environment = field(default_factory=Environment)
    artifacts: Artifacts | None = None
    log: str = ""
    started_at: dt.datetime = field(default_factory=_now)  # naive UTC
    finished_at: dt.datetime | None = None


def environment(seeds: tuple[int, ...]) -> Environment:
    """Versions, code revision and hardware, recorded with every result."""
    import torch
    import transformers
    import trl

    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        rev = None
    cuda = torch.cuda.is_available()
    return Environment(
        torch=torch.__version__,
        transformers=transformers.__version__,
        trl=trl.__version__,
        python=platform.python_version(),
        git_revision=rev,
        hardware=Hardware(
            machine=platform.machine(),
            processor=platform.processor() or platform.machine(),
            cpu_threads=torch.get_num_threads(),
            gpu=torch.cuda.get_device_name(0) if cuda else None,
        ),
        seeds=seeds,
    )


def _r(x: Any) -> float:
    return round(float(x), 4)


def metrics_of(m: Any, d: Decision, effect: Effect, timings: dict[str, float], cfg: RetestConfig) -> RunMetrics:
    """The stored metrics: the plot series of the shared measurements, or a protocol's details."""
    if isinstance(m, Measurements):
        return plot_series(m, effect, timings).model_copy(update={"details": dict(d.details)})
    return RunMetrics(toy_world=cfg.base_model_dir is None, seeds=cfg.seeds, single_seed=len(cfg.seeds) == 1,
                      effect=effect, details=dict(d.details), timings=timings)


def plot_series(m: Measurements, effect: Effect, timings: dict[str, float]) -> RunMetrics:
    """The series behind the plots (stored as the run's metrics; docs/retest.md)."""
    import numpy as np

    n = m.samples
    base_tab = pass_at_k_table(m.base.counts, n)
    rl_tabs = [pass_at_k_table(r.final.counts, n) for r in m.runs]
    rl_tab = np.mean(rl_tabs, axis=0)
    b_lo, b_hi = bootstrap_mean_ci(base_tab, m.bootstrap)
    r_lo, r_hi = bootstrap_mean_ci(rl_tab, m.bootstrap)
    per_step = list(zip(*(r.checkpoints for r in m.runs)))  # step -> one Checkpoint per seed
    train = [r.train for r in m.runs]
    changes = [r.weights for r in m.runs if r.weights is not None]
    sparsity = {}
    if changes:
        for layer, first in changes[0].sparsity.items():
            layers = [c.sparsity[layer] for c in changes]
            sparsity[layer] = LayerSparsity(
                parameters=first.parameters,
                changed_fp32=float(np.mean([s.changed_fp32 for s in layers])),
                changed_bf16=float(np.mean([s.changed_bf16 for s in layers])),
                hidden_by_bf16=float(np.mean([s.hidden_by_bf16 for s in layers])),
            )
    finals = [r.final.mean_formats() for r in m.runs]
    return RunMetrics(
        toy_world=True,
        seeds=m.seeds,
        single_seed=len(m.runs) == 1,
        k=tuple(range(1, n + 1)),
        passk_base=tuple(base_tab.mean(0).round(4).tolist()),
        passk_base_low=tuple(np.round(b_lo, 4).tolist()),
        passk_base_high=tuple(np.round(b_hi, 4).tolist()),
        passk_rl=tuple(rl_tab.mean(0).round(4).tolist()),
        passk_rl_low=tuple(np.round(r_lo, 4).tolist()),
        passk_rl_high=tuple(np.round(r_hi, 4).tolist()),
        passk_rl_by_seed=tuple(tuple(t.mean(0).round(4).tolist()) for t in rl_tabs),
        checkpoint_steps=tuple(c.step for c in m.runs[0].checkpoints),
        format_shares={f: tuple(_r(np.mean([c.format_shares[f] for c in e])) for e in per_step) for f in FORMAT_NAMES},
        entropy=tuple(_r(np.mean([c.entropy for c in e])) for e in per_step),
        accuracy=tuple(_r(np.mean([c.accuracy for c in e])) for e in per_step),
        format_shares_base=m.base.mean_formats(),
        format_shares_final={f: _r(np.mean([s[f] for s in finals])) for f in FORMAT_NAMES},
        entropy_base=_r(m.base.mean_entropy),
        entropy_final=_r(np.mean([r.final.mean_entropy for r in m.runs])),
        train_steps=tuple(range(1, len(train[0].reward) + 1)),
        train_reward=tuple(_r(np.mean(x)) for x in zip(*(t.reward for t in train))),
        train_entropy=tuple(_r(np.mean(x)) for x in zip(*(t.entropy for t in train))),
        epochs=m.epochs,
        sparsity=sparsity,
        sparsity_by_seed=tuple(c.sparsity["all"] for c in changes),
        ranks=changes[0].ranks if changes else {},
        relative_update=changes[0].relative_update if changes else {},
        base_model=m.base_model,
        grpo=tuple(t.model_dump(exclude={"reward", "entropy", "kl"}) for t in train),
        effect=effect,
        timings=timings,
    )


def run_protocol(
    name: str,
    preset: str = "smoke",
    seeds: int | None = None,
    cache_dir: Path = DEFAULT_CACHE,
    artifacts_dir: Path = Path("retest-artifacts"),
    progress: Callable[[str], None] | None = None,
    config: RetestConfig | None = None,
    workers: int | None = None,
) -> RetestResult:
    """Run protocol `name` with a preset (or an explicit `config`); never raises for a crash.

    `workers`: training runs built side by side (`Settings.retest_workers`; None: the
    machine's default, `retest.parallel.workers`)."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}: choose one of {', '.join(PROTOCOLS)}")
    spec = PROTOCOLS[name]
    cfg = (config or load_preset(preset)).validate()  # a gpu run without its model or problems stops here
    if seeds is not None:
        cfg = cfg.with_seeds(seeds)
    lines: list[str] = []
    t_start = time.monotonic()

    def say(msg: str) -> None:
        lines.append(f"{time.monotonic() - t_start:7.1f}s {msg}")
        if progress:
            progress(msg)

    result = RetestResult(protocol=name, protocol_version=spec.version, preset=cfg.preset, config=cfg,
                          decision_rule=spec.decision_rule)
    timings: dict[str, float] = {}
    lab: Lab | None = None
    kind = "Toy-world" if cfg.base_model_dir is None else "Local-model"  # what the summary says was run
    try:
        result = replace(result, environment=environment(cfg.seeds))
        lab = Lab(cfg, Path(cache_dir), say, timings, workers=workers)
        m = spec.measure(lab) if spec.measure else lab.measurements()
        say("phase decide")
        d = spec.decide(m)
        timings["total"] = round(time.monotonic() - t_start, 2)
        effect = Effect(value=d.effect_size, low=d.ci_low, high=d.ci_high, interval_over=d.interval_over,
                        per_seed=d.per_seed)
        pre = "" if cfg.base_model_dir else f" x {len(cfg.pretrain_seeds)} pretraining seed(s)"
        seeds_txt = f"{len(cfg.seeds)} RL seed(s){pre}, interval over {d.interval_over}"
        result = replace(
            result, metrics=metrics_of(m, d, effect, timings, cfg), interval_over=d.interval_over,
            interval_kind=d.interval_kind, flags=d.flags,
            verdict=d.verdict, effect_size=d.effect_size,
            ci_low=d.ci_low, ci_high=d.ci_high,
            summary=(f"{kind} result ({cfg.preset} preset, "
                     f"{seeds_txt}): {d.finding}; "
                     f"verdict {d.verdict} for {spec.claim_hint}."))
        result = replace(result, artifacts=_write_artifacts(Path(artifacts_dir), result, m), status="succeeded")
        say(result.summary)
    except KeyboardInterrupt:  # Ctrl-C: the caller decides whether to go on; never reported as a crash
        lines.append("interrupted (Ctrl-C)")
        result = replace(result, status="interrupted", verdict=None, metrics=RunMetrics(timings=timings),
                         summary=f"{kind} retest {name} interrupted (Ctrl-C)")
    except Exception as exc:  # recorded, never raised: the weekly job goes on
        lines.append(traceback.format_exc())
        result = replace(result, status="failed", verdict=None, metrics=RunMetrics(timings=timings),
                         summary=f"{kind} retest {name} failed: {type(exc).__name__}: {exc}")
    finally:
        if lab is not None:
            lab.close()  # the run's one sampling engine (a vLLM engine holds half the GPU)
    return replace(result, finished_at=_now(), log="\n".join(lines))


def _write_artifacts(folder: Path, result: RetestResult, m: Any) -> Artifacts:
    stamp = result.started_at.strftime("%Y%m%dT%H%M%S")
    out = folder / f"{result.protocol}-{result.preset}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(result.metrics.model_dump_json(indent=1))
    return Artifacts(folder=str(out), metrics=str(out / "metrics.json"), runs=tuple(r.run_dir for r in getattr(m, "runs", ())))
