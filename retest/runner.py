"""Run a protocol end to end: base model, GRPO per seed, sampling, measurements, verdict.

Phases: ``pretrain`` (cached base), ``grpo`` (cached run per seed with checkpoints),
``sample`` (cached per checkpoint), ``measure`` and ``decide``. A crash (or Ctrl-C)
inside a run gives a `RetestResult` with status "failed" and the traceback in its
log; finished phases stay cached, so a rerun resumes after them.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retest.measures import bootstrap_mean_ci, format_shares, pass_at_k_table, relative_update, update_ranks, update_sparsity
from retest.measures import changed_mask
from retest.presets import RetestConfig, config_hash, preset as load_preset
from retest.protocols import PROTOCOLS
from retest.world import classify_format, is_correct, load_problems, split

DEFAULT_CACHE = Path("~/.cache/claims-retest").expanduser()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass
class RetestResult:
    """What one protocol run gives back; `to_record()` fills a RetestRun row."""

    protocol: str
    protocol_version: str
    preset: str
    config: dict[str, Any]
    status: str = "failed"
    metrics: dict[str, Any] = field(default_factory=dict)
    verdict: str | None = None
    effect_size: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    decision_rule: str = ""
    summary: str = ""
    environment: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    log: str = ""
    started_at: dt.datetime = field(default_factory=_now)
    finished_at: dt.datetime | None = None

    def to_record(self) -> dict[str, Any]:
        keys = ("protocol", "protocol_version", "preset", "config", "status", "metrics", "verdict",
                "effect_size", "ci_low", "ci_high", "decision_rule", "summary", "environment",
                "artifacts", "log", "started_at", "finished_at")
        return {k: getattr(self, k) for k in keys}


def environment(seeds: tuple[int, ...]) -> dict[str, Any]:
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
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl.__version__,
        "python": platform.python_version(),
        "git_revision": rev,
        "hardware": {
            "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(),
            "cpu_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if cuda else None,
        },
        "seeds": list(seeds),
    }


def _evaluate(model_dir: Path, cfg: RetestConfig, problems: list[tuple[str, int]], n: int, tag: str) -> dict[str, Any]:
    """Sample n per problem (cached as JSON beside the model): counts, formats, entropy."""
    key = config_hash(cfg.eval, cfg.sampler, problems, n, cfg.rl.max_completion_length)
    cached = Path(model_dir) / f"eval-{tag}-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    from retest.sampler import open_sampler

    sampler = open_sampler(cfg.sampler, model_dir, cfg.eval.batch_size)
    t0 = time.monotonic()
    rows = sampler.sample([p for p, _ in problems], n, cfg.eval.temperature, cfg.rl.max_completion_length, seed=0)
    seconds = time.monotonic() - t0
    out: dict[str, Any] = {"counts": [], "formats": [], "entropy": [], "seconds": round(seconds, 3),
                           "samples_per_second": round(len(problems) * n / seconds, 1) if seconds else None,
                           "examples": [s.text for s in rows[0][:4]] if rows else []}
    for (_, answer), samples in zip(problems, rows):
        out["counts"].append(sum(is_correct(s.text, answer) for s in samples))
        out["formats"].append(format_shares([classify_format(s.text) for s in samples]))
        out["entropy"].append(sum(s.entropy for s in samples) / max(1, len(samples)))
    cached.write_text(json.dumps(out))
    return out


def _weights(model_dir: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    return load_file(str(Path(model_dir) / "model.safetensors"))


def _mean_shares(per_problem: list[dict[str, float]]) -> dict[str, float]:
    names = per_problem[0].keys() if per_problem else ("A", "B", "C", "other")
    return {f: sum(p[f] for p in per_problem) / max(1, len(per_problem)) for f in names}


def measure(cfg: RetestConfig, cache_dir: Path, say: Callable[[str], None], timings: dict[str, float]) -> dict[str, Any]:
    """Every measurement the protocols read (one base, one GRPO run per seed)."""
    from transformers.utils import logging as hf_logging

    from retest.model import ensure_base
    from retest.rl import checkpoints, ensure_rl

    hf_logging.disable_progress_bar()  # per-phase progress is ours; no weight-loading bars
    t = time.monotonic()
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

    m: dict[str, Any] = {"seeds": list(cfg.seeds), "samples": cfg.eval.samples, "bootstrap": cfg.eval.bootstrap,
                         "base_counts": base_eval["counts"], "rl_counts": [], "base_model": base_stats,
                         "run_dirs": [], "checkpoints_by_seed": [], "train_by_seed": [],
                         "format_shares_final": [], "format_top_per_problem": [], "entropy_final": [],
                         "entropy_final_per_problem": [], "sparsity_by_seed": [], "tensor_changes": [],
                         "ranks_by_seed": [], "relative_update_by_seed": [], "sampling": {"base": base_eval["seconds"]}}
    m["format_shares_base"] = _mean_shares(base_eval["formats"])
    m["format_base_per_problem"] = {f: [p[f] for p in base_eval["formats"]] for f in m["format_shares_base"]}
    m["entropy_base"] = sum(base_eval["entropy"]) / max(1, len(base_eval["entropy"]))
    m["entropy_base_per_problem"] = base_eval["entropy"]
    base_w = _weights(base_dir) if not cfg.base_model_dir else None
    epochs = []
    for seed in cfg.seeds:
        t = time.monotonic()
        say(f"phase grpo: seed {seed} ({cfg.rl.steps} steps, loss {cfg.rl.loss_type}, lr {cfg.rl.lr})")
        run_dir, rl_stats, reused = ensure_rl(base_dir, base_dir.name, train, cfg.rl, seed, cache_dir, say)
        timings[f"grpo_seed{seed}"] = round(time.monotonic() - t, 2)
        say(f"grpo seed {seed} {'reused' if reused else 'trained'}: {run_dir}")
        m["run_dirs"].append(str(run_dir))
        m["train_by_seed"].append(rl_stats)
        epochs.append(rl_stats.get("epoch_at_end", 0.0))
        t = time.monotonic()
        series = []
        ckpts = checkpoints(run_dir)
        for step, ckpt in ckpts:
            say(f"phase sample: seed {seed} checkpoint step {step}")
            ev = _evaluate(ckpt, cfg, ckpt_problems, cfg.eval.checkpoint_samples, "ckpt")
            series.append({"step": step, "format_shares": _mean_shares(ev["formats"]),
                           "entropy": sum(ev["entropy"]) / max(1, len(ev["entropy"])),
                           "accuracy": sum(ev["counts"]) / max(1, len(ev["counts"]) * cfg.eval.checkpoint_samples)})
        final_dir = ckpts[-1][1]
        fe = _evaluate(final_dir, cfg, eval_problems, cfg.eval.samples, "final")
        timings[f"sample_seed{seed}"] = round(time.monotonic() - t, 2)
        m["checkpoints_by_seed"].append(series)
        m["rl_counts"].append(fe["counts"])
        m["format_shares_final"].append(_mean_shares(fe["formats"]))
        m["format_top_per_problem"].append({f: [p[f] for p in fe["formats"]] for f in m["format_shares_base"]})
        m["entropy_final"].append(sum(fe["entropy"]) / max(1, len(fe["entropy"])))
        m["entropy_final_per_problem"].append(fe["entropy"])
        m["sampling"][f"seed{seed}"] = fe["samples_per_second"]
        t = time.monotonic()
        if base_w is not None:
            say(f"phase measure: weights of seed {seed}")
            new_w = _weights(final_dir)
            m["sparsity_by_seed"].append(update_sparsity(base_w, new_w))
            m["tensor_changes"].append([[int(changed_mask(b, new_w[k], "bf16").sum()), int(b.size)] for k, b in base_w.items()])
            m["ranks_by_seed"].append(update_ranks(base_w, new_w))
            m["relative_update_by_seed"].append(relative_update(base_w, new_w))
        timings[f"measure_seed{seed}"] = round(time.monotonic() - t, 2)
    m["epochs"] = max(epochs) if epochs else 0.0
    m["relative_update"] = m["relative_update_by_seed"][0] if m["relative_update_by_seed"] else {}
    return m


def plot_series(m: dict[str, Any], cfg: RetestConfig) -> dict[str, Any]:
    """The JSON-able series behind the plots (documented in docs/retest.md)."""
    import numpy as np

    n = m["samples"]
    base_tab = pass_at_k_table(m["base_counts"], n)
    rl_tab = np.mean([pass_at_k_table(c, n) for c in m["rl_counts"]], axis=0)
    b_lo, b_hi = bootstrap_mean_ci(base_tab, cfg.eval.bootstrap)
    r_lo, r_hi = bootstrap_mean_ci(rl_tab, cfg.eval.bootstrap)
    steps = [c["step"] for c in m["checkpoints_by_seed"][0]]
    per_step = list(zip(*m["checkpoints_by_seed"]))  # step -> one entry per seed
    fmts = ("A", "B", "C", "other")
    train = m["train_by_seed"]
    sp = m["sparsity_by_seed"]
    sparsity = {}
    if sp:
        for layer in sp[0]:
            sparsity[layer] = {key: float(np.mean([s[layer][key] for s in sp])) for key in sp[0][layer]}
    return {
        "toy_world": True,
        "seeds": m["seeds"],
        "single_seed": len(m["seeds"]) == 1,
        "k": list(range(1, n + 1)),
        "passk_base": base_tab.mean(0).round(4).tolist(),
        "passk_base_low": np.round(b_lo, 4).tolist(),
        "passk_base_high": np.round(b_hi, 4).tolist(),
        "passk_rl": rl_tab.mean(0).round(4).tolist(),
        "passk_rl_low": np.round(r_lo, 4).tolist(),
        "passk_rl_high": np.round(r_hi, 4).tolist(),
        "passk_rl_by_seed": [pass_at_k_table(c, n).mean(0).round(4).tolist() for c in m["rl_counts"]],
        "checkpoint_steps": steps,
        "format_shares": {f: [round(float(np.mean([s["format_shares"][f] for s in e])), 4) for e in per_step] for f in fmts},
        "entropy": [round(float(np.mean([s["entropy"] for s in e])), 4) for e in per_step],
        "accuracy": [round(float(np.mean([s["accuracy"] for s in e])), 4) for e in per_step],
        "format_shares_base": m["format_shares_base"],
        "format_shares_final": {f: round(float(np.mean([s[f] for s in m["format_shares_final"]])), 4) for f in fmts},
        "entropy_base": round(m["entropy_base"], 4),
        "entropy_final": round(float(np.mean(m["entropy_final"])), 4),
        "train_steps": list(range(1, len(train[0]["reward"]) + 1)) if train else [],
        "train_reward": [round(float(np.mean(r)), 4) for r in zip(*(t["reward"] for t in train))],
        "train_entropy": [round(float(np.mean(r)), 4) for r in zip(*(t["entropy"] for t in train))],
        "epochs": m["epochs"],
        "sparsity": sparsity,
        "sparsity_by_seed": [s["all"] for s in sp],
        "ranks": m["ranks_by_seed"][0] if m["ranks_by_seed"] else {},
        "relative_update": m["relative_update"],
        "base_model": m["base_model"],
        "grpo": [{k: v for k, v in t.items() if k not in ("reward", "entropy", "kl")} for t in train],
    }


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

    result = RetestResult(protocol=name, protocol_version=spec.version, preset=cfg.preset, config=cfg.to_dict(),
                          decision_rule=spec.decision_rule)
    timings: dict[str, float] = {}
    try:
        result.environment = environment(cfg.seeds)
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        m = measure(cfg, cache_dir, say, timings)
        say("phase decide")
        d = spec.decide(m)
        metrics = plot_series(m, cfg)
        metrics["effect"] = {"value": d.effect_size, "low": d.ci_low, "high": d.ci_high, "interval_over": d.interval_over}
        timings["total"] = round(time.monotonic() - t_start, 2)
        metrics["timings"] = timings
        result.metrics = metrics
        result.verdict, result.effect_size, result.ci_low, result.ci_high = d.verdict, d.effect_size, d.ci_low, d.ci_high
        seeds_txt = "1 seed, interval over " + d.interval_over if len(cfg.seeds) == 1 else f"{len(cfg.seeds)} seeds"
        result.summary = (f"Toy-world result ({cfg.preset} preset, {seeds_txt}): {d.finding}; "
                          f"verdict {d.verdict} for {spec.claim_hint}.")
        result.artifacts = _write_artifacts(Path(artifacts_dir), result, m)
        result.status = "succeeded"
        say(result.summary)
    except (Exception, KeyboardInterrupt) as exc:  # recorded, never raised: the weekly job goes on
        result.status, result.verdict = "failed", None
        lines.append(traceback.format_exc())
        result.summary = f"Toy-world retest {name} failed: {type(exc).__name__}: {exc}"
        result.metrics = {"timings": timings, "toy_world": True}
    result.finished_at = _now()
    result.log = "\n".join(lines)
    return result


def _write_artifacts(folder: Path, result: RetestResult, m: dict[str, Any]) -> dict[str, Any]:
    stamp = result.started_at.strftime("%Y%m%dT%H%M%S")
    out = folder / f"{result.protocol}-{result.preset}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=1, default=str))
    return {"folder": str(out), "metrics": str(out / "metrics.json"), "runs": m["run_dirs"]}
