"""Run a protocol end to end: base model, GRPO per seed, sampling, measurements, verdict.

Phases: ``pretrain`` (cached base), ``grpo`` (cached run per seed with checkpoints),
``sample`` (cached per checkpoint), ``measure`` and ``decide``. A crash inside a run
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

from retest.measures import (
    bootstrap_mean_ci,
    changed_mask,
    format_shares,
    pass_at_k_table,
    relative_update,
    update_ranks,
    update_sparsity,
)
from retest.presets import RetestConfig, config_hash
from retest.presets import preset as load_preset
from retest.protocols import PROTOCOLS
from retest.results import (
    FORMAT_NAMES,
    Checkpoint,
    Effect,
    Environment,
    Hardware,
    LayerSparsity,
    Measurements,
    RunMetrics,
    Sampled,
    SeedRun,
    TrainStats,
    WeightChange,
)
from retest.sampler import Sampler
from retest.world import classify_format, is_correct, load_problems, split

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
    interval_over: str = ""  # what the effect's 95% interval resamples ("seeds", "problems (bootstrap, ...)")
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


def evaluate(sampler: Sampler, problems: list[tuple[str, int]], n: int, temperature: float,
             max_new_tokens: int) -> Sampled:
    """Sample n per problem [(prompt, answer)]: correct counts, format shares, entropy."""
    t0 = time.monotonic()
    rows = sampler.sample([p for p, _ in problems], n, temperature, max_new_tokens, seed=0)
    seconds = time.monotonic() - t0
    return Sampled(
        counts=tuple(sum(is_correct(s.text, answer) for s in samples) for (_, answer), samples in zip(problems, rows)),
        formats=tuple(format_shares([classify_format(s.text) for s in samples], FORMAT_NAMES) for samples in rows),
        entropy=tuple(sum(s.entropy for s in samples) / max(1, len(samples)) for samples in rows),
        seconds=round(seconds, 3),
        samples_per_second=round(len(problems) * n / seconds, 1) if seconds else None,
        examples=tuple(s.text for s in rows[0][:4]) if rows else (),
    )


def _evaluate(model_dir: Path, cfg: RetestConfig, problems: list[tuple[str, int]], n: int, tag: str) -> Sampled:
    """`evaluate` with the configured sampler, cached as JSON beside the model."""
    key = config_hash(cfg.eval, cfg.sampler, problems, n, cfg.rl.max_completion_length)
    cached = Path(model_dir) / f"eval-{tag}-{key}.json"
    if cached.exists():
        return Sampled.model_validate_json(cached.read_text())
    from retest.sampler import open_sampler

    sampler = open_sampler(cfg.sampler, model_dir, cfg.eval.batch_size)
    out = evaluate(sampler, problems, n, cfg.eval.temperature, cfg.rl.max_completion_length)
    cached.write_text(out.model_dump_json())
    return out


def _weights(model_dir: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    return load_file(str(Path(model_dir) / "model.safetensors"))


def _weight_change(base_w: dict[str, Any], new_w: dict[str, Any]) -> WeightChange:
    return WeightChange(
        sparsity={k: LayerSparsity.model_validate(v) for k, v in update_sparsity(base_w, new_w).items()},
        tensors=tuple((int(changed_mask(b, new_w[k], "bf16").sum()), int(b.size)) for k, b in base_w.items()),
        ranks=update_ranks(base_w, new_w),
        relative_update=relative_update(base_w, new_w),
    )


def measure(cfg: RetestConfig, cache_dir: Path, say: Callable[[str], None], timings: dict[str, float]) -> Measurements:
    """Every measurement the protocols read (one base, one GRPO run per seed)."""
    from transformers.utils import logging as hf_logging

    from retest.model import ensure_base
    from retest.rl import checkpoints, ensure_rl

    hf_logging.disable_progress_bar()  # per-phase progress is ours; no weight-loading bars
    t = time.monotonic()
    base_stats: dict[str, Any]
    if cfg.base_model_dir:
        base_dir, base_stats, reused = Path(cfg.base_model_dir), {"local_model": cfg.base_model_dir}, True
        if not cfg.problems_file:
            raise ValueError("the gpu preset needs problems_file (a JSONL of prompt/answer)")
        rows = load_problems(Path(cfg.problems_file))
        held_n = min(cfg.eval.problems, len(rows) // 5 or 1)
        train, held = rows[held_n:], rows[:held_n]
    else:
        say("phase pretrain: base model (cached by config hash)")
        base_dir, base_stats, reused = ensure_base(cfg.world, cfg.model, cfg.pretrain, cache_dir, say)
        tr, hd = split(cfg.world)
        train, held = [(p.prompt, p.answer) for p in tr], [(p.prompt, p.answer) for p in hd]
    timings["pretrain"] = round(time.monotonic() - t, 2)
    say(f"base model {'reused' if reused else 'pretrained'}: {base_dir}")

    eval_problems = held[: cfg.eval.problems]
    ckpt_problems = held[: cfg.eval.checkpoint_problems]
    t = time.monotonic()
    say("phase sample: base model")
    base_eval = _evaluate(base_dir, cfg, eval_problems, cfg.eval.samples, "final")
    timings["sample_base"] = round(time.monotonic() - t, 2)

    base_w = _weights(base_dir) if not cfg.base_model_dir else None
    runs = []
    for seed in cfg.seeds:
        t = time.monotonic()
        say(f"phase grpo: seed {seed} ({cfg.rl.steps} steps, loss {cfg.rl.loss_type}, lr {cfg.rl.lr})")
        run_dir, rl_stats, reused = ensure_rl(base_dir, base_dir.name, train, cfg.rl, seed, cache_dir, say)
        timings[f"grpo_seed{seed}"] = round(time.monotonic() - t, 2)
        say(f"grpo seed {seed} {'reused' if reused else 'trained'}: {run_dir}")
        t = time.monotonic()
        series = []
        ckpts = checkpoints(run_dir)
        for step, ckpt in ckpts:
            say(f"phase sample: seed {seed} checkpoint step {step}")
            ev = _evaluate(ckpt, cfg, ckpt_problems, cfg.eval.checkpoint_samples, "ckpt")
            series.append(Checkpoint(step=step, format_shares=ev.mean_formats(), entropy=ev.mean_entropy,
                                     accuracy=ev.accuracy(cfg.eval.checkpoint_samples)))
        final_dir = ckpts[-1][1]
        final = _evaluate(final_dir, cfg, eval_problems, cfg.eval.samples, "final")
        timings[f"sample_seed{seed}"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        weights = None
        if base_w is not None:
            say(f"phase measure: weights of seed {seed}")
            weights = _weight_change(base_w, _weights(final_dir))
        timings[f"measure_seed{seed}"] = round(time.monotonic() - t, 2)
        runs.append(SeedRun(seed=seed, run_dir=str(run_dir), train=TrainStats(**rl_stats),
                            checkpoints=tuple(series), final=final, weights=weights))
    return Measurements(samples=cfg.eval.samples, bootstrap=cfg.eval.bootstrap, base_model=base_stats,
                        base=base_eval, runs=tuple(runs))


def _r(x: Any) -> float:
    return round(float(x), 4)


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
) -> RetestResult:
    """Run protocol `name` with a preset (or an explicit `config`); never raises for a crash."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}: choose one of {', '.join(PROTOCOLS)}")
    spec = PROTOCOLS[name]
    cfg = config or load_preset(preset)
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
    try:
        result = replace(result, environment=environment(cfg.seeds))
        m = measure(cfg, Path(cache_dir), say, timings)
        say("phase decide")
        d = spec.decide(m)
        timings["total"] = round(time.monotonic() - t_start, 2)
        effect = Effect(value=d.effect_size, low=d.ci_low, high=d.ci_high, interval_over=d.interval_over)
        seeds_txt = "1 seed, interval over " + d.interval_over if len(cfg.seeds) == 1 else f"{len(cfg.seeds)} seeds"
        result = replace(
            result, metrics=plot_series(m, effect, timings), interval_over=d.interval_over, flags=d.flags,
            verdict=d.verdict, effect_size=d.effect_size,
            ci_low=d.ci_low, ci_high=d.ci_high,
            summary=(f"Toy-world result ({cfg.preset} preset, {seeds_txt}): {d.finding}; "
                     f"verdict {d.verdict} for {spec.claim_hint}."))
        result = replace(result, artifacts=_write_artifacts(Path(artifacts_dir), result, m), status="succeeded")
        say(result.summary)
    except KeyboardInterrupt:  # Ctrl-C: the caller decides whether to go on; never reported as a crash
        lines.append("interrupted (Ctrl-C)")
        result = replace(result, status="interrupted", verdict=None, metrics=RunMetrics(timings=timings),
                         summary=f"Toy-world retest {name} interrupted (Ctrl-C)")
    except Exception as exc:  # recorded, never raised: the weekly job goes on
        lines.append(traceback.format_exc())
        result = replace(result, status="failed", verdict=None, metrics=RunMetrics(timings=timings),
                         summary=f"Toy-world retest {name} failed: {type(exc).__name__}: {exc}")
    return replace(result, finished_at=_now(), log="\n".join(lines))


def _write_artifacts(folder: Path, result: RetestResult, m: Measurements) -> Artifacts:
    stamp = result.started_at.strftime("%Y%m%dT%H%M%S")
    out = folder / f"{result.protocol}-{result.preset}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(result.metrics.model_dump_json(indent=1))
    return Artifacts(folder=str(out), metrics=str(out / "metrics.json"), runs=tuple(r.run_dir for r in m.runs))
