"""The learning-rate sweep behind C2 (update sparsity): RL and SFT runs, their changed sets.

Why a sweep: whether a weight "changed" in a bf16 checkpoint depends on the size of its
update against bf16's spacing (half an ulp is 2^-9 to 2^-8 of |w|), so the visible
share is set by the learning rate before anything about RL enters. The sweep runs
GRPO at several learning rates (and SFT on correct completions of the same prompts,
same steps and learning rate) from one base model rounded onto the bf16 grid, as a
released bf16 checkpoint is, and measures each run's weights against that base:

- the share changed as seen in bf16 and in fp32, the median relative update |dw|/|w|;
- the numerical rank of each weight matrix's bf16-visible update (share of full rank);
- the Jaccard overlap of the bf16-changed sets of two seeds (and what chance gives);
- the overlap of a changed set with the same number of smallest-magnitude base
  weights: what bf16's grid alone would pick.

`measure(lab)` is I/O (training, loading weights); the rest is numpy on arrays.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.cache import cached_build
from retest.lab import load_weights
from retest.measures import changed_mask, numerical_rank, relative_update, to_bf16, update_sparsity
from retest.rl import checkpoints
from retest.world import solve, split

if TYPE_CHECKING:
    from retest.lab import Lab
    from retest.presets import RetestConfig


@dataclass(frozen=True)
class C2Config:
    """The sweep: learning rates (GRPO and SFT alike) and the RL/SFT seeds per learning rate."""

    lrs: tuple[float, ...]
    seeds: tuple[int, ...]  # RL seeds (the config's, so `--seeds N` applies); SFT seeds are the same numbers
    sft: bool = True
    bracket_seeds: int | None = None  # seeds at the rates either side of the middle one (None: all `seeds`)

    def seeds_at(self, lr: float) -> tuple[int, ...]:
        """The seeds run at `lr`: all at the middle rate (aimed at the claim's regime), the first
        `bracket_seeds` at the others (they place the regime on the curve; the decision reads the middle)."""
        middle = self.lrs[len(self.lrs) // 2]
        if self.bracket_seeds is None or lr == middle:
            return self.seeds
        return self.seeds[: self.bracket_seeds]


def c2_config(cfg: RetestConfig) -> C2Config:
    """Per preset. Adam moves every weight by about lr a step, so the median |dw|/|w| grows
    in proportion to lr (measured: standard lr 1e-4 -> 2.2e-2, smoke lr 3e-4 -> 2.8e-2);
    the rates below aim at a median of about 1e-4, 1.2e-3 (the claim's regime) and 1e-2. At standard
    the two bracket rates run 2 seeds (overlap still measured), saving 8 of 36 runs; if one of them
    turns out nearest the regime, `update-sparsity` flags the fewer seeds."""
    if cfg.preset == "smoke":  # one seed by default (`--seeds 2` measures the overlap)
        return C2Config(lrs=(1e-6, 1.3e-5, 1e-4), seeds=cfg.seeds)
    if cfg.preset == "standard":
        return C2Config(lrs=(5e-7, 5e-6, 5e-5), seeds=cfg.seeds, bracket_seeds=2)  # x pretraining seeds x (RL, SFT)
    # a real model (gpu preset): around its own learning rate (3 significant digits: 1e-6, not 1.0000000000000002e-06,
    # in the record and the log); seeds as configured
    lrs = tuple(float(f"{x:.3g}") for x in (cfg.rl.lr / 10, cfg.rl.lr, cfg.rl.lr * 10))
    return C2Config(lrs=lrs, seeds=cfg.seeds, sft=False)


@dataclass(frozen=True)
class ArmRun:
    """One trained model of the sweep measured against its base."""

    arm: str  # "rl" | "sft"
    lr: float
    pretrain_seed: int
    seed: int
    changed_bf16: float  # share of all parameters whose bf16 value changed
    changed_fp32: float
    p50: float  # median |dw| / |w|
    rank_fraction: float  # mean over weight matrices of numerical rank of the bf16-visible update / full rank
    magnitude_jaccard: float  # Jaccard of the changed set with the same number of smallest-|w| base weights
    run_dir: str = ""  # the trained model's folder (listed in the result's artifacts)


@dataclass(frozen=True)
class Overlap:
    """Jaccard of the bf16-changed sets of two runs from the same base at one learning rate."""

    arm: str  # "rl" (two RL seeds), "sft" (two SFT seeds), "rl-sft" (an RL and an SFT run)
    lr: float
    pretrain_seed: int
    a: int
    b: int
    jaccard: float
    chance: float  # expected Jaccard of independent random sets of the same sizes


@dataclass(frozen=True)
class Sweep:
    """What `update-sparsity` decides on: every run of the sweep and the overlaps of their sets."""

    runs: tuple[ArmRun, ...]
    overlaps: tuple[Overlap, ...] = ()
    setting: dict[str, Any] = dataclasses.field(default_factory=dict)  # preset, steps, learning rates

    def arm(self, arm: str, lr: float) -> list[ArmRun]:
        return [r for r in self.runs if r.arm == arm and r.lr == lr]

    def pairs(self, arm: str, lr: float) -> list[Overlap]:
        return [o for o in self.overlaps if o.arm == arm and o.lr == lr]

    @property
    def lrs(self) -> tuple[float, ...]:
        return tuple(sorted({r.lr for r in self.runs}))


# --- pure measurements on weights --------------------------------------------------------


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / |a | b| of two boolean masks (1.0 for two empty sets)."""
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 1.0


def chance_jaccard(p: float, q: float) -> float:
    """Expected Jaccard of independent random subsets holding shares p and q of the same items."""
    union = p + q - p * q
    return p * q / union if union > 0 else 1.0


def flat_mask(base: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> np.ndarray:
    """All parameters' bf16-changed flags, in one vector (sorted parameter names)."""
    return np.concatenate([changed_mask(base[k], new[k], "bf16").ravel() for k in sorted(base)])


def smallest_magnitude(base: dict[str, np.ndarray], count: int) -> np.ndarray:
    """A mask of the `count` base weights of smallest |w| (same order as `flat_mask`)."""
    mags = np.concatenate([np.abs(np.asarray(base[k], np.float32)).ravel() for k in sorted(base)])
    out = np.zeros(mags.size, bool)
    if count > 0:
        out[np.argpartition(mags, min(count, mags.size) - 1)[:count]] = True
    return out


def visible_rank_fraction(base: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> float:
    """Mean over 2-D weights (not embeddings) of rank(bf16(new) - bf16(base)) / full rank."""
    fractions = []
    for name, b in base.items():
        b = np.asarray(b)
        if b.ndim != 2 or "embed" in name:
            continue
        delta = to_bf16(np.asarray(new[name], np.float32)).astype(np.float64) - to_bf16(b.astype(np.float32))
        fractions.append(numerical_rank(delta) / min(b.shape) if np.any(delta) else 0.0)
    return float(np.mean(fractions)) if fractions else 0.0


def measure_run(arm: str, lr: float, pretrain_seed: int, seed: int, base: dict[str, np.ndarray],
                new: dict[str, np.ndarray], run_dir: str = "") -> tuple[ArmRun, np.ndarray]:
    """The run's figures and its bf16-changed mask (kept for the overlaps)."""
    mask = flat_mask(base, new)
    share = update_sparsity(base, new)["all"]
    run = ArmRun(
        arm=arm, lr=lr, pretrain_seed=pretrain_seed, seed=seed,
        changed_bf16=round(float(share["changed_bf16"]), 6), changed_fp32=round(float(share["changed_fp32"]), 6),
        p50=float(relative_update(base, new)["p50"]),
        rank_fraction=round(visible_rank_fraction(base, new), 4),
        magnitude_jaccard=round(jaccard(mask, smallest_magnitude(base, int(mask.sum()))), 4), run_dir=run_dir,
    )
    return run, mask


def overlaps(arm: str, lr: float, pretrain_seed: int, masks: dict[int, np.ndarray],
             other: dict[int, np.ndarray] | None = None) -> list[Overlap]:
    """Jaccard of every pair of seeds (within `masks`, or across `masks` x `other`)."""
    def one(a: int, b: int, x: np.ndarray, y: np.ndarray) -> Overlap:
        return Overlap(arm, lr, pretrain_seed, a, b, round(jaccard(x, y), 4),
                       round(chance_jaccard(float(x.mean()), float(y.mean())), 4))

    if other is not None:
        return [one(a, b, masks[a], other[b]) for a in masks for b in other]
    keys = sorted(masks)
    return [one(a, b, masks[a], masks[b]) for i, a in enumerate(keys) for b in keys[i + 1:]]


# --- the runs (I/O) ----------------------------------------------------------------------


def bf16_grid_base(lab: Lab, base_dir: Path) -> Path:
    """The base model with every weight rounded to bf16 (kept in fp32), cached: a released
    bf16 checkpoint sits on that grid, so a weight reads as changed only if its update
    crosses half an ulp (an fp32 base would show changes from tiny updates near a tie)."""
    def build(out: Path) -> dict[str, Any]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).to(torch.float32))
        model.save_pretrained(out)
        AutoTokenizer.from_pretrained(str(base_dir)).save_pretrained(out)
        return {"from": base_dir.name}

    path, _, _ = cached_build(lab.cache_dir, f"bf16grid-{base_dir.name}", build)
    return path


def sft_pairs(train: list[tuple[str, int]], cfg: RetestConfig) -> list[tuple[str, str]]:
    """Correct completions, in formats drawn by the corpus mixture, for as many RL prompts and
    completions as the GRPO run sees (steps x prompts a step x group size)."""
    rng = random.Random(cfg.world.seed + 7)
    by_prompt = {p.prompt: p for p in split(cfg.world)[0]}
    prompts = [p for p, _ in train]
    rng.shuffle(prompts)
    prompts = prompts[: cfg.rl.steps * cfg.rl.prompts_per_step]
    fmts, weights = list(cfg.world.mixture), list(cfg.world.mixture.values())
    return [(p, solve(by_prompt[p], rng.choices(fmts, weights)[0], True, rng))
            for p in prompts for _ in range(cfg.rl.group_size)]


def measure(lab: Lab, c2: C2Config | None = None) -> Sweep:
    """GRPO (and SFT) at each learning rate of the sweep (`c2_config` of the preset unless given),
    per pretraining seed and seed, measured against the bf16-grid base."""
    from transformers.utils import logging as hf_logging


    hf_logging.disable_progress_bar()  # per-phase progress is ours; no weight-loading bars
    cfg = lab.cfg
    c2 = c2 or c2_config(cfg)
    train, _ = lab.problems()
    local = bool(cfg.base_model_dir)
    runs: list[ArmRun] = []
    found: list[Overlap] = []
    pairs = sft_pairs(train, cfg) if c2.sft and not local else []
    blocks = []  # every run of the sweep, trained side by side before the measuring loop
    for ps in ((None,) if local else cfg.pretrain_seeds):
        base_dir, _ = lab.base(ps)
        start = base_dir if local else bf16_grid_base(lab, base_dir)
        for lr in c2.lrs:
            for seed in c2.seeds_at(lr):
                blocks.append(lab.rl_block(start, train, seed, dataclasses.replace(cfg.rl, lr=lr)))
                if pairs:
                    blocks.append(lab.sft_block(start, pairs, dataclasses.replace(cfg.sft, steps=cfg.rl.steps,
                                                                                   lr=lr, seed=seed)))
    lab.build_all(blocks)
    for ps in ((None,) if local else cfg.pretrain_seeds):
        base_dir, _ = lab.base(ps)
        ps_id = 0 if ps is None else ps
        start = base_dir if local else bf16_grid_base(lab, base_dir)
        base_w = load_weights(start)
        for lr in c2.lrs:
            masks: dict[str, dict[int, np.ndarray]] = {"rl": {}, "sft": {}}
            for seed in c2.seeds_at(lr):
                run_dir, _ = lab.rl(start, train, seed, dataclasses.replace(cfg.rl, lr=lr))
                with lab.timed("measure"):
                    final = checkpoints(run_dir)[-1][1]
                    run, masks["rl"][seed] = measure_run("rl", lr, ps_id, seed, base_w, load_weights(final),
                                                          str(run_dir))
                runs.append(run)
                if pairs:
                    sft_cfg = dataclasses.replace(cfg.sft, steps=cfg.rl.steps, lr=lr, seed=seed)
                    sft_dir = lab.sft(start, pairs, sft_cfg)
                    with lab.timed("measure"):
                        run, masks["sft"][seed] = measure_run("sft", lr, ps_id, seed, base_w, load_weights(sft_dir),
                                                               str(sft_dir))
                    runs.append(run)
            with lab.timed("measure"):
                found += overlaps("rl", lr, ps_id, masks["rl"]) + overlaps("sft", lr, ps_id, masks["sft"])
                if masks["sft"]:
                    found += overlaps("rl-sft", lr, ps_id, masks["rl"], masks["sft"])
            lab.say(f"c2 lr {lr:g}: " + ", ".join(
                f"{r.arm} seed {r.seed} {r.changed_bf16:.1%} (|dw|/|w| {r.p50:.1e})"
                for r in runs if r.lr == lr and r.pretrain_seed == ps_id))
    setting = {"preset": cfg.preset, "steps": cfg.rl.steps, "lrs": list(c2.lrs), "seeds": list(c2.seeds),
               "seeds_per_lr": {f"{lr:g}": len(c2.seeds_at(lr)) for lr in c2.lrs},
               "shared_lr": cfg.rl.lr, "sft_tokens_per_step": cfg.sft.rows * cfg.sft.row_len, "bf16_grid_base": not local}
    return Sweep(runs=tuple(runs), overlaps=tuple(found), setting=setting)
