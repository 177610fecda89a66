"""C3 format-collapse: does RL converge on one pretraining format within one epoch, while
SFT on demonstrations of every format keeps the breadth?

Two arms from each base model (one per pretraining seed), one run per RL seed:

- RL: GRPO on the training prompts for (at most) one epoch (`C3Config.epochs`), with
  checkpoints, so the epoch at which the leading format's share first reaches
  `DOMINANCE` is measured rather than assumed;
- SFT: `Lab.sft` on correct demonstrations of every training problem, seeded by the RL
  seed, in two arms: formats A, B, C equally ("uniform", broader than the prior) and formats
  drawn by the corpus mixture ("prior", as broad as the prior and no broader).

The RL budget is swept by the checkpoints (a constant learning rate and no warm-up: the
checkpoint at step k is the model a budget of k steps gives); the time to dominance is the
step at which the leading format's share crosses `DOMINANCE`, linear between checkpoints,
stated with the learning rate and batch it holds for.

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
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal
from retest.results import Measurements, Sampled, SeedRun
from retest.rl import checkpoints
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
RISING = 0.05  # the leader's share rising by this much over the budget's last fifth: more budget could move it
DEMOS = ("uniform", "prior")  # the SFT arms' demonstrations: every format equally, or the corpus mixture


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
    demos: str = "uniform"  # "uniform" (A, B, C equally) | "prior" (formats drawn by the corpus mixture)


class FormatMeasurements(Measurements):
    """The shared measurement shape (so the format and entropy plots are stored) plus SFT arms."""

    sft: tuple[SftArm, ...] = ()
    rl_setting: dict[str, Any] = {}  # lr, batch, steps, steps_per_epoch of the RL runs: what the verdict holds for


def demonstrations(cfg: RetestConfig, seed: int, demos: str = "uniform") -> list[tuple[str, str]]:
    """Three correct solutions of every training problem, shuffled: one in each format
    ("uniform"), or in formats drawn by the corpus mixture ("prior")."""
    rng = random.Random(seed)
    train, _ = split(cfg.world)
    if demos == "uniform":
        pairs = [(p.prompt, solve(p, fmt, True, rng)) for p in train for fmt in FORMATS]
    elif demos == "prior":
        fmts, weights = list(cfg.world.mixture), list(cfg.world.mixture.values())
        pairs = [(p.prompt, solve(p, rng.choices(fmts, weights)[0], True, rng)) for p in train for _ in FORMATS]
    else:
        raise ValueError(f"demos must be one of {DEMOS}, got {demos!r}")
    rng.shuffle(pairs)
    return pairs


def measure(lab: Lab) -> FormatMeasurements:
    """Base, RL (with checkpoints) and SFT arms per (pretraining seed, RL seed), sampled."""
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
                      lab.sft_block(d, demonstrations(cfg, seed, demos), dataclasses.replace(cfg.sft, seed=seed))
                      for d in base_dirs for seed in cfg.seeds for demos in DEMOS]))
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
            for demos in () if cfg.base_model_dir else DEMOS:  # demonstrations exist only in the toy world
                sft_dir = lab.sft(base_dir, demonstrations(cfg, seed, demos), dataclasses.replace(cfg.sft, seed=seed))
                arms.append(SftArm(pretrain_seed=ps_id, seed=seed, model_dir=str(sft_dir), demos=demos,
                                   final=lab.sample(sft_dir, eval_p, cfg.eval.samples)))
    first = next(iter(bases))
    setting = {"lr": rl.lr, "batch": f"{rl.prompts_per_step} prompts x {rl.group_size} completions",
               "steps": rl.steps, "steps_per_epoch": round(len(train) / rl.prompts_per_step, 1)}
    return FormatMeasurements(samples=cfg.eval.samples, bootstrap=cfg.eval.bootstrap, base_model=base_stats,
                              base=bases[first], base_by_seed=bases, runs=tuple(runs), sft=tuple(arms),
                              rl_setting=setting)


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


def step_to_dominance(r: SeedRun, leader: str) -> float | None:
    """The RL budget (steps) at which `leader`'s share first reaches DOMINANCE, linear between the
    run's checkpoints (None: not within the run)."""
    pts = sorted((c.step, c.format_shares.get(leader, 0.0)) for c in r.checkpoints)
    for i, (step, share) in enumerate(pts):
        if share >= DOMINANCE:
            if i == 0:
                return float(step)
            s0, y0 = pts[i - 1]
            return round(s0 + (DOMINANCE - y0) / (share - y0) * (step - s0), 1)
    return None


def rise_at_end(r: SeedRun, leader: str) -> float:
    """How much `leader`'s share rose over the last fifth of the run's steps (checkpoint shares, linear)."""
    pts = sorted((c.step, c.format_shares.get(leader, 0.0)) for c in r.checkpoints)
    if len(pts) < 2:
        return 0.0
    last = pts[-1][0]
    earlier = float(np.interp(0.8 * last, [p for p, _ in pts], [y for _, y in pts]))
    return pts[-1][1] - earlier


def budget_sweep(m: Measurements, leader: str) -> list[dict[str, float]]:
    """The leader's share at each checkpoint step, mean over runs that have it: the budget sweep."""
    steps = sorted({c.step for r in m.runs for c in r.checkpoints})
    return [{"step": st, "leader_share": round(float(np.mean([c.format_shares.get(leader, 0.0) for r in m.runs
                                                              for c in r.checkpoints if c.step == st])), 4)}
            for st in steps]


def run_setting(m: Measurements) -> dict[str, Any]:
    """The learning rate and batch the verdict holds for (stored by `measure`; else unknown)."""
    rl = dict(getattr(m, "rl_setting", {}) or {})
    return {"lr": rl.get("lr", float("nan")), "batch": rl.get("batch", "unknown"),
            "steps_per_epoch": rl.get("steps_per_epoch"), "steps": rl.get("steps")}


def sft_half(rl_kept: dict[str, Any], arms: list[dict[str, Any]]) -> tuple[bool, bool]:
    """(keeps breadth, loses it): every SFT arm's breadth has lower bound >= BREADTH_KEPT and above RL's
    upper bound / some arm's upper bound is below BREADTH_LOST."""
    yes = bool(arms) and all(k["low"] >= BREADTH_KEPT and k["low"] > rl_kept["high"] for k in arms)
    return yes, any(k["high"] < BREADTH_LOST for k in arms)


def verdict_of(collapsed: bool, no_collapse: bool, kept_yes: bool, kept_no: bool) -> str:
    """inconsistent if either half fails, consistent if both hold, else inconclusive."""
    return "inconsistent" if no_collapse or kept_no else "consistent" if collapsed and kept_yes else "inconclusive"


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
    by_demos = {d: [(p, a) for p, a in sft_items if getattr(a, "demos", "uniform") == d] for d in DEMOS}
    sft_kept_by = {d: kept(items) for d, items in by_demos.items() if items}
    sft_kept = sft_kept_by.get("uniform")
    # the budget sweep: each run's checkpoints (step / last step x the run's epochs)
    run_epochs = [r.train.epoch_at_end for r in m.runs]
    to_dom_steps = [step_to_dominance(r, leader) for r in m.runs]
    last = [max((c.step for c in r.checkpoints), default=0) for r in m.runs]
    to_dom = [None if st is None else round(st / n * r.train.epoch_at_end, 3) if n else 0.0
              for st, n, r in zip(to_dom_steps, last, m.runs)]
    rising = [rise_at_end(r, leader) for r in m.runs]
    short, long_ = min(run_epochs) < COVERAGE, max(run_epochs) > EPOCHS + 0.01

    collapsed = share.low >= DOMINANCE and first_tok["high"] < 0 and not long_
    no_collapse = (share.high < DOMINANCE and not short) or first_tok["low"] > 0
    kept_yes, kept_no = sft_half(rl_kept, list(sft_kept_by.values()))
    verdict = verdict_of(collapsed, no_collapse, kept_yes, kept_no)

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
    if verdict != "consistent" and max(rising, default=0.0) >= RISING - 1e-9:
        flags.append(f"budget-bound: the leading format's share was still rising at the end of the budget (by "
                     f"{max(rising):.2f} over its last fifth, >= {RISING}): at this lr and batch more steps, or a "
                     f"larger lr or smaller batch (more updates an epoch), could move the verdict")
    if min(base_breadth.values()) < THIN_PRIOR:
        flags.append(f"base breadth too small: format entropy {min(base_breadth.values()):.2f} nats "
                     f"(< {THIN_PRIOR}), so breadth kept is not measurable")

    pooled = change(rl_items, "entropy")
    epochs_txt = ", ".join("not reached" if e is None else f"{e:.2f}" for e in to_dom)
    sft_sh_by = {d: _mean_shares([a.final for _, a in items]) for d, items in by_demos.items() if items}
    sft_sh = sft_sh_by.get("uniform")
    named = {"uniform": "demonstrations of all three formats equally", "prior": "demonstrations in the prior's mixture"}
    sft_txt = ("; SFT on " + ", on ".join(
        f"{named[d]} keeps {k['value']:.2f} [{k['low']:.2f}, {k['high']:.2f}] of the base's format entropy "
        f"({_present(sft_sh_by[d])} formats above {PRESENT:.0%})" for d, k in sft_kept_by.items())
        + f" vs RL {rl_kept['value']:.2f} [{rl_kept['low']:.2f}, {rl_kept['high']:.2f}] ({_present(rl_sh)})"
        if sft_kept_by else "; no SFT arm")
    setting = run_setting(m)
    steps_txt = ", ".join("not reached" if st is None else f"{st:.0f}" for st in to_dom_steps)
    finding = (f"format {leader} went from {base_sh[leader]:.2f} to {share.estimate:.2f} "
               f"[{share.low:.2f}, {share.high:.2f}] of samples in {max(run_epochs):.2f} epochs at lr "
               f"{setting['lr']:g}, batch {setting['batch']} (step at which it first reached {DOMINANCE}, per run: "
               f"{steps_txt}; epochs {epochs_txt}); first-token entropy "
               f"{first_tok['value']:+.3f} [{first_tok['low']:+.3f}, {first_tok['high']:+.3f}] nats, pooled "
               f"token entropy {pooled['value']:+.3f} [{pooled['low']:+.3f}, {pooled['high']:+.3f}]{sft_txt}")
    details = {
        "leader": leader, "predicted_leader": predicted, "leader_is_predicted": leader == predicted,
        "base_format_accuracy": {f: (None if any(a is None for a in acc[f]) else round(float(np.mean(acc[f])), 4))
                                 for f in FORMATS},
        "format_shares": {"base": base_sh, "rl": rl_sh, "sft": sft_sh, "sft_prior": sft_sh_by.get("prior")},
        "rl_share_by_format": {f: _iv(_grid(m, rl_items, lambda r, b, f=f: r.final.format_column(f)), m)
                               for f in FORMATS},
        "formats_present": {"base": _present(base_sh), "rl": _present(rl_sh),
                            "sft": _present(sft_sh) if sft_sh else None,
                            "sft_prior": _present(sft_sh_by["prior"]) if "prior" in sft_sh_by else None,
                            "above": PRESENT},
        "breadth_base": {str(k): round(v, 4) for k, v in base_breadth.items()},
        "breadth_kept": {"rl": rl_kept, "sft": sft_kept, "sft_prior": sft_kept_by.get("prior")},
        "epochs_run": run_epochs, "epochs_to_dominance": to_dom, "steps_to_dominance": to_dom_steps,
        "budget_sweep": budget_sweep(m, leader), "rise_over_last_fifth": [round(x, 4) for x in rising],
        "setting": setting,
        "entropy_rule_uses": "first token",
        "entropy": {
            "base": {"pooled": round(float(np.mean([b.mean_entropy for b in bases])), 4),
                     "first_token": round(float(np.mean([b.mean_first_entropy for b in bases])), 4)},
            "rl_change": {"pooled": pooled, "first_token": first_tok},
            "sft_change": ({"pooled": change(sft_items, "entropy"), "first_token": change(sft_items, "first_entropy")}
                           if sft_items else None),
        },
        "accuracy": {"base": round(float(base_acc), 4), "rl": round(float(rl_acc), 4)} | {
            "sft" if d == "uniform" else f"sft_{d}": round(float(np.mean([a.final.accuracy(m.samples)
                                                                         for _, a in by_demos[d]])), 4)
            if by_demos[d] else None for d in DEMOS},
        "halves": {"rl_collapses": "yes" if collapsed else "no" if no_collapse else "undecided",
                   "sft_keeps_breadth": "yes" if kept_yes else "no" if kept_no else "undecided"},
    }
    flags += no_signal(s.accuracy(m.samples) for s in (*bases, *(r.final for r in m.runs)))
    return Decision(verdict, share.estimate, share.low, share.high, share.over, finding, tuple(flags),
                    per_seed=share.per_seed, details=details, interval_kind=share.kind)


THRESHOLDS = {"dominance": DOMINANCE, "epochs": EPOCHS, "epoch_coverage": COVERAGE, "breadth_kept": BREADTH_KEPT,
              "breadth_lost": BREADTH_LOST, "format_present": PRESENT, "thin_prior_nats": THIN_PRIOR,
              "rising": RISING}

SPEC = ProtocolSpec(
    name="format-collapse",
    version="3",
    claim_hint="C3",
    interval_days=28,
    description="GRPO for one epoch of the training prompts (checkpoints measured: the budget sweep, and the "
    "step at which the leading format reaches dominance, at the stated lr and batch) and SFT on correct "
    "demonstrations in all three formats equally and in the prior's mixture, from the same base: does RL "
    "converge on one pretraining format within one epoch while SFT keeps the spread of formats?",
    decision_rule=f"Effect: share of the format leading after RL (95% hierarchical bootstrap over pretraining "
    f"seeds, RL seeds, problems). RL collapses if that share's lower bound is >= {DOMINANCE} after at most "
    f"{EPOCHS:g} epoch and first-token entropy falls (interval < 0); it does not if the share's upper bound "
    f"is < {DOMINANCE} after a run of >= {COVERAGE} epochs, or first-token entropy rises. SFT keeps breadth "
    f"if its per-problem format entropy, as a fraction of the base's, has lower bound >= {BREADTH_KEPT} and "
    f"above RL's upper bound, in both SFT arms (demonstrations uniform over the formats, and in the prior's "
    f"mixture); it does not if either arm's upper bound is < {BREADTH_LOST}. consistent: both halves hold; "
    f"inconsistent: either fails; else inconclusive. Time to dominance (steps, linear between checkpoints) and "
    f"the lr and batch are reported beside.",
    decide=decide_format,
    measure=measure,
    thresholds=THRESHOLDS,
    validity_flags=(
        NO_SIGNAL,
        f"prior already dominated: one format is >= {DOMINANCE} of the base model's samples (ceiling)",
        f"run shorter than one epoch: < {COVERAGE} epochs, 'no collapse within one epoch' untested (regime)",
        "run longer than one epoch: a collapse at the end is not 'within one epoch' (regime)",
        "RL did not learn: accuracy after RL at or below the base's",
        "no SFT arm: a local model has no toy-world formats to demonstrate",
        f"base breadth too small: base format entropy < {THIN_PRIOR} nats",
        f"budget-bound: the leading share rose by >= {RISING} over the budget's last fifth and the verdict is "
        "not consistent (more steps, a larger lr or a smaller batch could move it)",
    ),
    tests="Whether GRPO drives one of the pretraining formats to >= 0.8 of samples within one epoch (epoch "
    "of dominance read from checkpoints), with first-token entropy falling; and whether SFT on demonstrations "
    "of all formats keeps the base's spread of formats where RL loses it.",
    does_not_test="Real models and tasks (toy world, ~1M parameters); 'exploration breadth' beyond the three "
    "formats (diversity within a format); RL longer than one epoch (the budget sweep stops at one); other learning rates and batch sizes (stated, "
    "not swept); SFT arms matched to RL in accuracy.",
)
