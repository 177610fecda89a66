"""The work of one grid job: build and measure a base model, or train and measure a cell.

Both are plain top-level functions of picklable arguments, so the local executor calls
them in-process and the Ray executor ships them to workers unchanged. Each writes its
outcome as JSON under ``cache_dir/factorial/`` (``bases/<key>.json``, ``cells/<key>.json``)
only when it finished, so a killed grid resumes after its finished jobs; the models
themselves sit in the retest cache (`retest.lab.Lab`), shared with the protocols.

Outcomes, on the first `problems` held-out problems sampled `samples` (>= 256) times:
``pass@1``, ``pass@256`` (unbiased estimator), ``reachable`` (share of problems with any
correct sample among all n), ``kl`` (Monte-Carlo KL(RL || base) on held-out prompts: the
mean over RL samples of log p_rl - log p_base of the whole completion, both models
scoring the same tokens), each also as ``<name>_gain`` over the cell's own base model.
``reachable_new`` / ``reachable_lost`` split the reachable set's change against the base.
``efficiency`` is the pass@1 gain per 1,000 rollouts (completions sampled while training),
the ScaleRL split: the ceiling is pass@256, the efficiency how fast pass@1 climbs.

The reach test: the base samples the first `reach_problems` held-out problems n times;
on the problems it never solved (``unreached``) it samples n more times with another
seed (``redraw``: how many a second look at the *same* model solves, the chance rate),
and each cell samples them n times (``reach``). `retest.factorial.reach` compares the two.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from retest.expert_iteration import ensure_expert_iteration
from retest.factorial.design import (
    BaseSpec,
    CellSpec,
    FactorialConfig,
    ei_config,
    family,
    optimizer_config,
    prior_config,
    rollouts,
)
from retest.lab import Lab
from retest.measures import pass_at_k
from retest.rl import checkpoints
from retest.sampler import close_sampler, open_sampler
from retest.world import is_correct

K = 256


def outcome_path(cache_dir: Path, kind: str, key: str) -> Path:
    return Path(cache_dir) / "factorial" / kind / f"{key}.json"


def read_outcome(cache_dir: Path, kind: str, key: str) -> dict[str, Any] | None:
    """A finished job's JSON, or None (missing or unreadable: the job runs again)."""
    path = outcome_path(cache_dir, kind, key)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write(cache_dir: Path, kind: str, key: str, data: dict[str, Any]) -> None:
    path = outcome_path(cache_dir, kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{time.monotonic_ns()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # atomic: a killed job leaves no half-written outcome


def _lab(fc: FactorialConfig, spec: BaseSpec, cache_dir: Path):  # -> Lab
    import dataclasses


    cfg = prior_config(fc, spec.mixture, spec.amount, spec.pretrain_seed)
    cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, problems=fc.problems, samples=fc.samples))
    return Lab(cfg, Path(cache_dir))


def sampled_outcomes(counts: list[int] | tuple[int, ...], n: int) -> dict[str, float]:
    """pass@1, pass@256 and the reachable share from correct counts per problem (of n)."""
    m = max(1, len(counts))
    return {
        "pass@1": sum(c / n for c in counts) / m,
        f"pass@{K}": sum(pass_at_k(n, c, K) for c in counts) / m,
        "reachable": sum(c > 0 for c in counts) / m,
    }


def build_base(fc: FactorialConfig, spec: BaseSpec, cache_dir: Path) -> dict[str, Any]:
    """Pretrain (or reuse) the base of `spec` and measure it; cached as bases/<key>.json."""
    done = read_outcome(cache_dir, "bases", spec.key(fc))
    if done is not None:
        return done
    _quiet()
    with _threads(fc):
        return _build_base(fc, spec, cache_dir)


def _build_base(fc: FactorialConfig, spec: BaseSpec, cache_dir: Path) -> dict[str, Any]:
    key = spec.key(fc)
    t0, c0 = time.monotonic(), time.process_time()
    lab = _lab(fc, spec, cache_dir)
    base_dir, stats = lab.base(spec.pretrain_seed, lab.cfg.world)
    _, held = lab.problems()
    # one draw serves both: the outcomes on the first `problems`, the reach test on the first `reach_problems`
    sampled = lab.sample(base_dir, held[: max(fc.problems, fc.reach_problems)], fc.samples, "factorial")
    counts = list(sampled.counts)
    unreached = [i for i, c in enumerate(counts[: fc.reach_problems]) if c == 0]
    redraw = solve_counts(lab.cfg.sampler, base_dir, [held[i] for i in unreached], fc, seed=1)
    out = {"key": key, "dir": str(base_dir), "counts": counts[: fc.problems],
           "outcomes": sampled_outcomes(counts[: fc.problems], fc.samples),
           "reach": {"problems": len(counts[: fc.reach_problems]), "unreached": unreached, "redraw": redraw},
           "format_shares": sampled.mean_formats(), "pretrain": {k: stats.get(k) for k in ("train_seconds", "loss_last")},
           "seconds": round(time.monotonic() - t0, 2), "cpu_seconds": round(time.process_time() - c0, 2)}
    _write(cache_dir, "bases", key, out)
    return out


def run_cell(fc: FactorialConfig, spec: CellSpec, cache_dir: Path, base: dict[str, Any]) -> dict[str, Any]:
    """GRPO from the cell's base with its optimizer and RL seed, then measure; cells/<key>.json."""
    done = read_outcome(cache_dir, "cells", spec.key(fc))
    if done is not None:
        return done
    _quiet()
    with _threads(fc):
        return _run_cell(fc, spec, cache_dir, base)


def _run_cell(fc: FactorialConfig, spec: CellSpec, cache_dir: Path, base: dict[str, Any]) -> dict[str, Any]:
    key = spec.key(fc)
    t0, c0 = time.monotonic(), time.process_time()
    lab = _lab(fc, spec.base, cache_dir)
    base_dir = Path(base["dir"])
    train, held = lab.problems()
    if family(spec.optimizer) == "expert_iteration":
        run_dir, ei, _ = ensure_expert_iteration(base_dir, base_dir.name, train, ei_config(fc, spec.optimizer),
                                                 spec.rl_seed, Path(cache_dir))
        train_seconds, reward_tail = ei["seconds"], ei["kept_share"][-1]  # the last round's verified share
    else:
        run_dir, stats = lab.rl(base_dir, train, spec.rl_seed, optimizer_config(fc, spec.optimizer))
        train_seconds, reward_tail = stats.seconds, sum(stats.reward[-4:]) / max(1, len(stats.reward[-4:]))
    final = checkpoints(run_dir)[-1][1]
    sampled = lab.sample(final, held[: fc.problems], fc.samples, "factorial")
    outcomes = sampled_outcomes(sampled.counts, fc.samples)
    prompts = [p for p, _ in held[: fc.kl_problems]]
    outcomes["kl"] = kl_to_base(final, base_dir, prompts, fc.kl_samples, lab.cfg.rl.max_completion_length,
                                seed=spec.rl_seed)
    for name in ("pass@1", f"pass@{K}", "reachable"):
        outcomes[f"{name}_gain"] = outcomes[name] - base["outcomes"][name]
    outcomes["kl_gain"] = outcomes["kl"]  # the base's KL to itself is 0
    m = max(1, len(sampled.counts))
    outcomes["reachable_new"] = sum(c > 0 and b == 0 for c, b in zip(sampled.counts, base["counts"])) / m
    outcomes["reachable_lost"] = sum(c == 0 and b > 0 for c, b in zip(sampled.counts, base["counts"])) / m
    spent = rollouts(fc, spec.optimizer)
    outcomes["efficiency"] = outcomes["pass@1_gain"] / (spent / 1000)
    unreached = base.get("reach", {}).get("unreached", [])
    reach = solve_counts(lab.cfg.sampler, final, [held[i] for i in unreached], fc, seed=2)
    out = {"key": key, "outcomes": {k: round(float(v), 6) for k, v in outcomes.items()},
           "rollouts": spent, "reach": reach, "counts": list(sampled.counts),
           "train_seconds": train_seconds, "reward_tail": reward_tail, "seconds": round(time.monotonic() - t0, 2),
           "cpu_seconds": round(time.process_time() - c0, 2)}
    _write(cache_dir, "cells", key, out)
    return out


def solve_counts(sampler: str, model_dir: Path, problems: list[tuple[str, int]], fc: FactorialConfig,
                 seed: int) -> list[int]:
    """Correct samples of each problem among `fc.samples`, drawn with `seed` (the reach test's
    draws; `Lab.sample` always draws with seed 0)."""
    if not problems:
        return []

    s = open_sampler(sampler, model_dir, fc.base.eval.batch_size)
    try:
        rows = s.sample([p for p, _ in problems], fc.samples, fc.base.eval.temperature,
                        fc.base.rl.max_completion_length, seed=seed)
    finally:
        close_sampler(s)
    return [sum(is_correct(x.text, a) for x in xs) for (_, a), xs in zip(problems, rows)]


def kl_to_base(rl_dir: Path, base_dir: Path, prompts: list[str], n: int, max_new_tokens: int, seed: int) -> float:
    """Monte-Carlo KL(RL || base) in nats per completion: sample n completions per prompt
    from the RL model at temperature 1 (top-k/top-p off, so the samples follow p_rl), score
    the same tokens (EOS included) with both models, average log p_rl - log p_base."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(rl_dir))
    tok.padding_side = "left"
    rl = AutoModelForCausalLM.from_pretrained(str(rl_dir)).eval()
    base = AutoModelForCausalLM.from_pretrained(str(base_dir)).eval()
    enc = tok([p for p in prompts for _ in range(n)], return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    with torch.inference_mode():
        seq = rl.generate(**enc, do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=max_new_tokens,
                          pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        width = enc["input_ids"].shape[1]
        new = seq[:, width:]
        is_eos = (new == tok.eos_token_id).int()
        keep = (is_eos.cumsum(dim=1) - is_eos) == 0  # up to and including the first EOS
        mask = torch.cat([enc["attention_mask"], keep.long()], dim=1)
        pos = (mask.cumsum(dim=1) - 1).clamp(min=0)

        def logp(model: Any) -> Any:
            logits = model(input_ids=seq, attention_mask=mask, position_ids=pos, use_cache=False).logits
            lp = torch.log_softmax(logits[:, width - 1 : -1].float(), dim=-1)
            return (lp.gather(-1, new.unsqueeze(-1)).squeeze(-1) * keep).sum(dim=1)

        return float((logp(rl) - logp(base)).mean())


@contextmanager
def _threads(fc: FactorialConfig) -> Iterator[None]:
    """A job computes on the CPUs it asked for (Ray gives a task OMP_NUM_THREADS=num_cpus;
    the local executor runs it in this process, whose thread count is restored after): more
    threads than cores made torch's threads wait on each other on a loaded 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(fc.num_cpus)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _quiet() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
