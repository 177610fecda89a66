"""C3 format-collapse: does RL converge on one pretraining format within one epoch, while
SFT on demonstrations of every format keeps the breadth?

Two arms from each base model (one per pretraining seed), one run per RL seed:

- RL: GRPO on the training prompts for (at most) one epoch (`C3Config.epochs`), with
  checkpoints, so the epoch at which the leading format's share first reaches
  `DOMINANCE` is measured rather than assumed;
- SFT: `Lab.sft` on correct demonstrations of every training problem in all three
  formats (A, B, C equally), seeded by the RL seed.

Breadth is the per-problem entropy of the format shares (A, B, C among well-formed
samples, nats; log 3 = 1.10 at most), as a fraction of the base model's. Token entropy is
reported pooled over tokens and for the first token (where the format is chosen); the
rule uses the first token's. Intervals: hierarchical bootstrap over pretraining seeds,
RL seeds and problems (`retest.measures.hierarchical_bootstrap`), per-run values beside.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from retest.measures import hierarchical_bootstrap
from retest.protocols.spec import Decision, ProtocolSpec
from retest.results import Measurements, Sampled, SeedRun
from retest.world import FORMATS, solve, split

if TYPE_CHECKING:
    from retest.lab import Lab
    from retest.presets import RetestConfig, RLConfig

DOMINANCE = 0.8  # the leading format's share that counts as "a single dominant format"
EPOCHS = 1.0  # "within one epoch"
COVERAGE = 0.98  # a run must cover this much of an epoch for "no collapse within one epoch" to be tested
BREADTH_KEPT = 0.8  # the SFT arm keeps at least this fraction of the base model's format entropy
BREADTH_LOST = 0.5  # below this fraction the SFT arm did not preserve breadth
PRESENT = 0.10  # a format "is present" above this share (reported)
THIN_PRIOR = 0.2  # nats: a base whose format entropy is below this has no breadth to keep


@dataclass(frozen=True)
class C3Config:
    """C3's own run length: `epochs` of the RL prompts (None: reuse the shared GRPO runs)."""

    epochs: float | None
    checkpoints: int = 10  # checkpoints over the run (epoch to dominance is read from them)


def c3_config(preset: str) -> C3Config:
    # smoke reuses the shared 16-step runs (0.69 epochs): the tests' budget, flagged as short.
    # standard: one epoch of the 1,258 training prompts is 157 steps of 8 (about 25 s a seed).
    return {"standard": C3Config(epochs=EPOCHS)}.get(preset, C3Config(epochs=None))


def rl_config(cfg: RetestConfig, train_prompts: int) -> RLConfig:
    """The RL config of C3's runs: `epochs` of the prompts, at most, in whole steps."""
    c3 = c3_config(cfg.preset)
    if c3.epochs is None:
        return cfg.rl
    steps = max(1, math.floor(c3.epochs * train_prompts / cfg.rl.prompts_per_step))
    return dataclasses.replace(cfg.rl, steps=steps, checkpoint_every=max(1, math.ceil(steps / c3.checkpoints)))


class SftArm(BaseModel):
    """One SFT model on the diverse demonstrations, sampled like the RL runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pretrain_seed: int = 0
    seed: int
    model_dir: str
    final: Sampled


class FormatMeasurements(Measurements):
    """The shared measurement shape (so the format and entropy plots are stored) plus SFT arms."""

    sft: tuple[SftArm, ...] = ()


def demonstrations(cfg: RetestConfig, seed: int) -> list[tuple[str, str]]:
    """A correct solution of every training problem in each of the three formats, shuffled."""
    rng = random.Random(seed)
    train, _ = split(cfg.world)
    pairs = [(p.prompt, solve(p, fmt, True, rng)) for p in train for fmt in FORMATS]
    rng.shuffle(pairs)
    return pairs


def measure(lab: Lab) -> FormatMeasurements:
    """Base, RL (with checkpoints) and SFT arms per (pretraining seed, RL seed), sampled."""
    from retest.rl import checkpoints

    cfg = lab.cfg
    train, held = lab.problems()
    eval_p, ckpt_p = held[: cfg.eval.problems], held[: cfg.eval.checkpoint_problems]
    rl = rl_config(cfg, len(train))
    bases: dict[int, Sampled] = {}
    runs, arms, base_stats = [], [], {}
    seeds_of_bases = (None,) if cfg.base_model_dir else cfg.pretrain_seeds
    base_dirs = [lab.base(ps)[0] for ps in seeds_of_bases]
    lab.build_all([lab.rl_block(d, train, seed, rl) for d in base_dirs for seed in cfg.seeds]
                  + ([] if cfg.base_model_dir else [
                      lab.sft_block(d, demonstrations(cfg, seed), dataclasses.replace(cfg.sft, seed=seed))
                      for d in base_dirs for seed in cfg.seeds]))
    for ps in seeds_of_bases:
        base_dir, stats = lab.base(ps)
        ps_id = 0 if ps is None else ps
        base_stats = base_stats or stats
        bases[ps_id] = lab.sample(base_dir, eval_p, cfg.eval.samples)
        for seed in cfg.seeds:
            run_dir, train_stats = lab.rl(base_dir, train, seed, rl)
            series = lab.checkpoint_series(run_dir, ckpt_p)
            final = lab.sample(checkpoints(run_dir)[-1][1], eval_p, cfg.eval.samples)
            runs.append(SeedRun(seed=seed, pretrain_seed=ps_id, run_dir=str(run_dir), train=train_stats,
                                checkpoints=tuple(series), final=final))
            if not cfg.base_model_dir:  # demonstrations exist only in the toy world's formats
                sft_dir = lab.sft(base_dir, demonstrations(cfg, seed), dataclasses.replace(cfg.sft, seed=seed))
                arms.append(SftArm(pretrain_seed=ps_id, seed=seed, model_dir=str(sft_dir),
                                   final=lab.sample(sft_dir, eval_p, cfg.eval.samples)))
    first = next(iter(bases))
    return FormatMeasurements(samples=cfg.eval.samples, bootstrap=cfg.eval.bootstrap, base_model=base_stats,
                              base=bases[first], base_by_seed=bases, runs=tuple(runs), sft=tuple(arms))


# --- the decision -------------------------------------------------------------------


def format_entropy(s: Sampled) -> np.ndarray:
    """Per problem: entropy (nats) of the A/B/C shares among well-formed samples (0 if none)."""
    out = []
    for shares in s.formats:
        x = np.array([shares.get(f, 0.0) for f in FORMATS])
        x = x / x.sum() if x.sum() > 0 else x
        out.append(float(-(x[x > 0] * np.log(x[x > 0])).sum()))
    return np.array(out)


def _grid(m: Measurements, items: list[tuple[int, Any]], value: Any) -> np.ndarray:
    """(pretraining seeds, runs per seed, problems) of `value(item, base)` for (pretrain_seed, item)."""
    rows = [[value(it, m.base_by_seed.get(ps, m.base)) for p, it in items if p == ps]
            for ps in sorted({p for p, _ in items})]
    return np.array(rows, dtype=float)


def _iv(x: np.ndarray, m: Measurements) -> dict[str, Any]:
    i = hierarchical_bootstrap(x, draws=m.bootstrap)
    return {"value": round(i.estimate, 4), "low": round(i.low, 4), "high": round(i.high, 4),
            "over": i.over, "per_seed": list(i.per_seed)}


def _present(shares: dict[str, float]) -> int:
    return sum(shares[f] > PRESENT for f in FORMATS)


def _mean_shares(samples: list[Sampled]) -> dict[str, float]:
    return {f: round(float(np.mean([s.mean_formats()[f] for s in samples])), 4) for f in (*FORMATS, "other")}


def decide_format(m: Measurements) -> Decision:
    rl_items = [(r.pretrain_seed, r) for r in m.runs]
    sft_items = [(a.pretrain_seed, a) for a in getattr(m, "sft", ())]
    bases = [m.base_by_seed.get(ps, m.base) for ps in m.pretrain_seeds] or [m.base]
    base_sh = _mean_shares(bases)
    rl_sh = _mean_shares([r.final for r in m.runs])
    leader = max(FORMATS, key=lambda f: rl_sh[f])
    acc = {f: [b.format_accuracy()[f] for b in bases] for f in FORMATS}
    predicted = max(FORMATS, key=lambda f: np.mean([a if a is not None else -1.0 for a in acc[f]]))
    share = hierarchical_bootstrap(_grid(m, rl_items, lambda r, b: r.final.format_column(leader)), draws=m.bootstrap)

    def change(items: list[tuple[int, Any]], field: str) -> dict[str, Any]:
        return _iv(_grid(m, items, lambda a, b: np.asarray(getattr(a.final, field)) - getattr(b, field)), m)

    base_breadth = {ps: float(format_entropy(b).mean()) for ps, b in m.base_by_seed.items()} or \
        {0: float(format_entropy(m.base).mean())}

    def kept(items: list[tuple[int, Any]]) -> dict[str, Any]:
        return _iv(_grid(m, [(p, (p, a)) for p, a in items],
                         lambda pa, b: format_entropy(pa[1].final) / max(base_breadth.get(pa[0], 0.0), 1e-9)), m)

    first_tok = change(rl_items, "first_entropy")
    rl_kept = kept(rl_items)
    sft_kept = kept(sft_items) if sft_items else None
    # epochs: from the checkpoints of each run (step / last step x the run's epochs)
    run_epochs = [r.train.epoch_at_end for r in m.runs]
    to_dom: list[float | None] = []
    for r in m.runs:
        last = max((c.step for c in r.checkpoints), default=0)
        hit = [c.step for c in r.checkpoints if c.format_shares.get(leader, 0.0) >= DOMINANCE]
        to_dom.append(round(min(hit) / last * r.train.epoch_at_end, 3) if hit and last else None)
    short, long_ = min(run_epochs) < COVERAGE, max(run_epochs) > EPOCHS + 0.01

    collapsed = share.low >= DOMINANCE and first_tok["high"] < 0 and not long_
    no_collapse = (share.high < DOMINANCE and not short) or first_tok["low"] > 0
    kept_yes = sft_kept is not None and sft_kept["low"] >= BREADTH_KEPT and sft_kept["low"] > rl_kept["high"]
    kept_no = sft_kept is not None and sft_kept["high"] < BREADTH_LOST
    verdict = ("inconsistent" if no_collapse or kept_no else "consistent" if collapsed and kept_yes
               else "inconclusive")

    flags = []
    if max(base_sh[f] for f in FORMATS) >= DOMINANCE:
        top = max(FORMATS, key=lambda f: base_sh[f])
        flags.append(f"prior already dominated: format {top} is {base_sh[top]:.2f} of the base model's samples "
                     f"(>= {DOMINANCE})")
    if short:
        flags.append(f"run shorter than one epoch: {min(run_epochs):.2f} epochs (< {COVERAGE}), so no collapse "
                     f"by then does not contradict 'within one epoch'")
    if long_:
        flags.append(f"run longer than one epoch: {max(run_epochs):.2f} epochs, so a collapse at the end is not "
                     f"'within one epoch'")
    rl_acc = np.mean([r.final.accuracy(m.samples) for r in m.runs]) if m.runs else 0.0
    base_acc = np.mean([b.accuracy(m.samples) for b in bases])
    if rl_acc <= base_acc:
        flags.append(f"RL did not learn: accuracy {base_acc:.2f} -> {rl_acc:.2f}")
    if not sft_items:
        flags.append("no SFT arm: demonstrations exist only for the toy world's formats")
    if min(base_breadth.values()) < THIN_PRIOR:
        flags.append(f"base breadth too small: format entropy {min(base_breadth.values()):.2f} nats "
                     f"(< {THIN_PRIOR}), so breadth kept is not measurable")

    pooled = change(rl_items, "entropy")
    epochs_txt = ", ".join("not reached" if e is None else f"{e:.2f}" for e in to_dom)
    sft_sh = _mean_shares([a.final for _, a in sft_items]) if sft_items else None
    sft_txt = (f"; SFT on demonstrations of all three formats keeps {sft_kept['value']:.2f} "
               f"[{sft_kept['low']:.2f}, {sft_kept['high']:.2f}] of the base's format entropy "
               f"({_present(sft_sh)} formats above {PRESENT:.0%}) vs RL {rl_kept['value']:.2f} "
               f"[{rl_kept['low']:.2f}, {rl_kept['high']:.2f}] ({_present(rl_sh)})"
               if sft_kept and sft_sh else "; no SFT arm")
    finding = (f"format {leader} went from {base_sh[leader]:.2f} to {share.estimate:.2f} "
               f"[{share.low:.2f}, {share.high:.2f}] of samples in {max(run_epochs):.2f} epochs (epoch at which it "
               f"first reached {DOMINANCE}, per run: {epochs_txt}); first-token entropy "
               f"{first_tok['value']:+.3f} [{first_tok['low']:+.3f}, {first_tok['high']:+.3f}] nats, pooled "
               f"token entropy {pooled['value']:+.3f} [{pooled['low']:+.3f}, {pooled['high']:+.3f}]{sft_txt}")
    details = {
        "leader": leader, "predicted_leader": predicted, "leader_is_predicted": leader == predicted,
        "base_format_accuracy": {f: (None if any(a is None for a in acc[f]) else round(float(np.mean(acc[f])), 4))
                                 for f in FORMATS},
        "format_shares": {"base": base_sh, "rl": rl_sh, "sft": sft_sh},
        "rl_share_by_format": {f: _iv(_grid(m, rl_items, lambda r, b, f=f: r.final.format_column(f)), m)
                               for f in FORMATS},
        "formats_present": {"base": _present(base_sh), "rl": _present(rl_sh),
                            "sft": _present(sft_sh) if sft_sh else None, "above": PRESENT},
        "breadth_base": {str(k): round(v, 4) for k, v in base_breadth.items()},
        "breadth_kept": {"rl": rl_kept, "sft": sft_kept},
        "epochs_run": run_epochs, "epochs_to_dominance": to_dom,
        "entropy_rule_uses": "first token",
        "entropy": {
            "base": {"pooled": round(float(np.mean([b.mean_entropy for b in bases])), 4),
                     "first_token": round(float(np.mean([b.mean_first_entropy for b in bases])), 4)},
            "rl_change": {"pooled": pooled, "first_token": first_tok},
            "sft_change": ({"pooled": change(sft_items, "entropy"), "first_token": change(sft_items, "first_entropy")}
                           if sft_items else None),
        },
        "accuracy": {"base": round(float(base_acc), 4), "rl": round(float(rl_acc), 4),
                     "sft": round(float(np.mean([a.final.accuracy(m.samples) for _, a in sft_items])), 4)
                     if sft_items else None},
        "halves": {"rl_collapses": "yes" if collapsed else "no" if no_collapse else "undecided",
                   "sft_keeps_breadth": "yes" if kept_yes else "no" if kept_no else "undecided"},
    }
    return Decision(verdict, share.estimate, share.low, share.high, share.over, finding, tuple(flags),
                    per_seed=share.per_seed, details=details)


THRESHOLDS = {"dominance": DOMINANCE, "epochs": EPOCHS, "epoch_coverage": COVERAGE, "breadth_kept": BREADTH_KEPT,
              "breadth_lost": BREADTH_LOST, "format_present": PRESENT, "thin_prior_nats": THIN_PRIOR}

SPEC = ProtocolSpec(
    name="format-collapse",
    version="2",
    claim_hint="C3",
    interval_days=28,
    description="GRPO for one epoch of the training prompts (checkpoints measured) and SFT on correct "
    "demonstrations in all three formats, from the same base: does RL converge on one pretraining format "
    "within one epoch while SFT keeps the spread of formats?",
    decision_rule=f"Effect: share of the format leading after RL (95% hierarchical bootstrap over pretraining "
    f"seeds, RL seeds, problems). RL collapses if that share's lower bound is >= {DOMINANCE} after at most "
    f"{EPOCHS:g} epoch and first-token entropy falls (interval < 0); it does not if the share's upper bound "
    f"is < {DOMINANCE} after a run of >= {COVERAGE} epochs, or first-token entropy rises. SFT keeps breadth "
    f"if its per-problem format entropy, as a fraction of the base's, has lower bound >= {BREADTH_KEPT} and "
    f"above RL's upper bound; it does not if the upper bound is < {BREADTH_LOST}. consistent: both hold; "
    f"inconsistent: either fails; else inconclusive.",
    decide=decide_format,
    measure=measure,
    thresholds=THRESHOLDS,
    validity_flags=(
        f"prior already dominated: one format is >= {DOMINANCE} of the base model's samples (ceiling)",
        f"run shorter than one epoch: < {COVERAGE} epochs, 'no collapse within one epoch' untested (regime)",
        "run longer than one epoch: a collapse at the end is not 'within one epoch' (regime)",
        "RL did not learn: accuracy after RL at or below the base's",
        "no SFT arm: a local model has no toy-world formats to demonstrate",
        f"base breadth too small: base format entropy < {THIN_PRIOR} nats",
    ),
    tests="Whether GRPO drives one of the pretraining formats to >= 0.8 of samples within one epoch (epoch "
    "of dominance read from checkpoints), with first-token entropy falling; and whether SFT on demonstrations "
    "of all formats keeps the base's spread of formats where RL loses it.",
    does_not_test="Real models and tasks (toy world, ~1M parameters); 'exploration breadth' beyond the three "
    "formats (diversity within a format); RL longer than one epoch; SFT arms matched to RL in accuracy.",
)
