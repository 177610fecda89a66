"""Expert iteration (rejection-sampling fine-tuning): an optimizer family outside GRPO.

Each round: draw `prompts_per_round` training prompts (seeded), sample `samples` completions
of each from the current model at `temperature`, keep the verified-correct ones (the toy
world's exact check, `retest.world.is_correct`), and fine-tune the current model on them
(`retest.sft.train_sft`: `sft_steps` steps at `lr`). No reward model, no advantage, no
clipping: only "sample, keep what is right, imitate it" (STaR, ReST, RFT).

The run directory looks like a GRPO run's (``checkpoints/step-0000`` the base, then one
checkpoint per round, numbered by the SFT steps taken so far), so `retest.rl.checkpoints`
reads both. Cached under ``cache_dir/ei-<hash of base, config, seed, prompts>``.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retest.cache import cached_build
from retest.presets import SFTConfig, config_hash
from retest.sampler import TransformersSampler
from retest.sft import train_sft
from retest.world import is_correct


@dataclass(frozen=True)
class ExpertIterationConfig:
    """One expert-iteration run; `rollouts` = rounds x prompts_per_round x samples."""

    rounds: int = 2
    prompts_per_round: int = 64
    samples: int = 8  # completions per prompt (k)
    sft_steps: int = 8  # per round
    rows: int = 16  # SFT rows of `row_len` tokens a step
    row_len: int = 64
    lr: float = 1e-4
    temperature: float = 1.0
    max_completion_length: int = 24
    batch_size: int = 2048  # sampling batch

    def __post_init__(self) -> None:
        if min(self.rounds, self.prompts_per_round, self.samples, self.sft_steps) < 1:
            raise ValueError("rounds, prompts_per_round, samples and sft_steps must be positive")

    @property
    def rollouts(self) -> int:
        return self.rounds * self.prompts_per_round * self.samples

    @property
    def steps(self) -> int:
        return self.rounds * self.sft_steps


def kept_pairs(prompts: list[tuple[str, int]], completions: list[list[str]]) -> list[tuple[str, str]]:
    """The verified-correct (prompt, completion) pairs: rejection sampling's filter."""
    return [(p, c) for (p, a), cs in zip(prompts, completions) for c in cs if is_correct(c, int(a))]


def train_expert_iteration(base_dir: Path, prompts: list[tuple[str, int]], cfg: ExpertIterationConfig, seed: int,
                           out_dir: Path, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run `cfg.rounds` rounds of sample, filter, fine-tune from `base_dir`; checkpoints in out_dir."""
    say = progress or (lambda _m: None)
    root = out_dir / "checkpoints"
    # the base, as a GRPO run's step 0 (its measurements, cached beside it, stay behind)
    shutil.copytree(base_dir, root / "step-0000", ignore=shutil.ignore_patterns("eval-*", "done.json"))
    rng = random.Random(seed)
    current, kept_share, step, t0 = root / "step-0000", [], 0, time.monotonic()
    for r in range(cfg.rounds):
        batch = rng.sample(prompts, min(cfg.prompts_per_round, len(prompts)))
        sampler = TransformersSampler(current, batch_size=cfg.batch_size)
        rows = sampler.sample([p for p, _ in batch], cfg.samples, cfg.temperature, cfg.max_completion_length,
                              seed=seed * 1000 + r)
        del sampler
        pairs = kept_pairs(batch, [[s.text for s in ss] for ss in rows])
        kept_share.append(round(len(pairs) / (len(batch) * cfg.samples), 4))
        say(f"expert iteration round {r + 1}/{cfg.rounds}: kept {len(pairs)} of {len(batch) * cfg.samples}")
        if not pairs:  # nothing verified: the model stays as it is this round
            continue
        step += cfg.sft_steps
        target = root / f"step-{step:04d}"
        sft = SFTConfig(steps=cfg.sft_steps, rows=cfg.rows, row_len=cfg.row_len, lr=cfg.lr, seed=seed * 1000 + r)
        train_sft(current, pairs, sft, target)
        current = target
    return {"seconds": round(time.monotonic() - t0, 2), "rollouts": cfg.rollouts, "steps": step,
            "kept_share": kept_share}


def ei_name(base_key: str, prompts: list[tuple[str, int]], cfg: ExpertIterationConfig, seed: int) -> str:
    """The cache entry of an expert-iteration run."""
    return f"ei-{config_hash(base_key, cfg, seed, [list(p) for p in prompts])}"


def ensure_expert_iteration(base_dir: Path, base_key: str, prompts: list[tuple[str, int]],
                            cfg: ExpertIterationConfig, seed: int, cache_dir: Path,
                            progress: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any], bool]:
    """The cached expert-iteration run, trained first if needed: (run directory, stats, reused?)."""
    return cached_build(cache_dir, ei_name(base_key, prompts, cfg, seed),
                        lambda out: train_expert_iteration(base_dir, prompts, cfg, seed, out, progress))
