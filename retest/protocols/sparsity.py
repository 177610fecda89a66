"""C2 update-sparsity: does RL change only 5-30% of parameters, in nearly full-rank
subnetworks that are almost identical across seeds, at the claim's update size?

What a bf16 checkpoint shows as "changed" depends on the update's size against bf16's
spacing, so the share is read off a learning-rate sweep (`retest.sweep`), at the point
whose median relative update |dw|/|w| matches the claim's setting. That regime was
estimated before any run, from the claim's setting alone: 7B models trained at lr about
1e-6 for some 100-1,000 steps in bf16 checkpoints. Adam moves a weight about lr a step,
and by about lr * sqrt(T) over T steps when the gradient is mostly noise (RL's is), so
with median |w| of 0.01-0.02 the median |dw|/|w| is 1e-6 * sqrt(100..1000) / (0.02..0.01)
= 5e-4..3e-3, centre 1.2e-3 (checked on the toy: for the smoke preset's lr 3e-4, 16 steps and
median |w| 0.037 the rule gives 3.2e-2; measured 2.8e-2). The sweep's learning rate nearest that centre (in log)
is the regime; none within the band: inconclusive, flagged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retest.measures import seed_interval
from retest.protocols.spec import Decision, ProtocolSpec
from retest.sweep import ArmRun, Sweep, measure

CLAIMED = (0.05, 0.30)  # share of parameters changed, as seen in bf16
REGIME = (5e-4, 1.2e-3, 3e-3)  # low, centre, high of the claim setting's median |dw|/|w|
OVERLAP_MIN = 0.5  # "almost identical across seeds": Jaccard of two seeds' changed sets
RANK_MIN = 0.9  # "nearly full rank": mean numerical rank of the visible update / full rank
SAME_AS_SFT = 0.05  # RL and SFT shares this close at the same update size: not RL-specific
MAGNITUDE_MARGIN = 0.05  # the smallest-|w| set overlaps within this of a second seed's set
HALF_ULP = 2.0**-9  # bf16's half spacing relative to |w| (the lower end: 2^-9 to 2^-8)
EPS = 1e-9  # float slack: equal per-seed values sit on a threshold, not a rounding error beside it

THRESHOLDS = {
    "claimed_low": CLAIMED[0], "claimed_high": CLAIMED[1], "regime_low": REGIME[0], "regime_centre": REGIME[1],
    "regime_high": REGIME[2], "overlap_min": OVERLAP_MIN, "rank_min": RANK_MIN, "same_as_sft": SAME_AS_SFT,
    "magnitude_margin": MAGNITUDE_MARGIN, "bf16_half_ulp": HALF_ULP,
}

FLAGS = {
    "regime-outside-sweep": f"no learning rate of the sweep gave a median |dw|/|w| within {REGIME[0]:g}-{REGIME[2]:g} "
    "(the claim's setting): the verdict is inconclusive",
    "below-bf16-resolution-everywhere": "the median |dw|/|w| is below bf16's half ulp (2^-9) at every learning rate: "
    "the sweep never shows the dense side",
    "above-bf16-resolution-everywhere": "the median |dw|/|w| is above bf16's half ulp (2^-9) at every learning rate: "
    "the sweep never shows the sparse side",
    "one-seed": "fewer than two seeds at the regime: overlap across seeds is not measured (the verdict is inconclusive)",
    "fewer-seeds-at-regime": "the rate nearest the regime is a bracket rate of the sweep, run with fewer seeds than "
    "the middle rate: the decision rests on fewer runs than the sweep's design",
    "not-rl-specific": f"SFT on correct completions of the same prompts, at the same median |dw|/|w|, changes a "
    f"share within {SAME_AS_SFT} of RL's: the sparsity follows the update's size against bf16 precision, not RL",
    "magnitude-explained": f"the changed set overlaps the same number of smallest-|w| base weights at least as much "
    f"(within {MAGNITUDE_MARGIN}) as two seeds' changed sets overlap: the 'subnetwork' is where bf16's grid is finest",
}


def _flag(name: str) -> str:
    return f"{name}: {FLAGS[name]}"


def _gmean(xs: list[float]) -> float:
    return float(np.exp(np.mean(np.log(np.maximum(xs, 1e-30))))) if xs else float("nan")


def _arm_summary(s: Sweep, arm: str, lr: float) -> dict[str, Any] | None:
    runs = s.arm(arm, lr)
    if not runs:
        return None
    mean, lo, hi = seed_interval([r.changed_bf16 for r in runs])
    pairs = s.pairs(arm, lr)
    return {
        "share_bf16": round(mean, 4), "low": round(lo, 4), "high": round(hi, 4),
        "per_seed": [round(r.changed_bf16, 4) for r in runs],
        "share_fp32": round(float(np.mean([r.changed_fp32 for r in runs])), 4),
        "median_relative_update": float(f"{_gmean([r.p50 for r in runs]):.3g}"),
        "rank_fraction": [r.rank_fraction for r in runs],
        "jaccard": [p.jaccard for p in pairs],
        "jaccard_chance": round(float(np.mean([p.chance for p in pairs])), 4) if pairs else None,
        "magnitude_jaccard": round(float(np.mean([r.magnitude_jaccard for r in runs])), 4),
    }


def regime_lr(s: Sweep) -> tuple[float, float]:
    """(lr, its RL median |dw|/|w|): the sweep point nearest the regime's centre, in log."""
    p50 = {lr: _gmean([r.p50 for r in s.arm("rl", lr)]) for lr in s.lrs if s.arm("rl", lr)}
    if not p50:
        raise ValueError("update-sparsity needs RL runs in the sweep")
    lr = min(p50, key=lambda x: abs(math.log(p50[x] / REGIME[1])) if p50[x] > 0 else math.inf)
    return lr, p50[lr]


def sft_at(s: Sweep, p50: float) -> float | None:
    """SFT's bf16-visible share at RL's median |dw|/|w| (interpolated in log over the sweep), or
    None when SFT's updates never span that size."""
    pts = sorted((math.log10(max(_gmean([r.p50 for r in s.arm("sft", lr)]), 1e-30)),
                  float(np.mean([r.changed_bf16 for r in s.arm("sft", lr)]))) for lr in s.lrs if s.arm("sft", lr))
    x = math.log10(max(p50, 1e-30))
    if not pts or not pts[0][0] <= x <= pts[-1][0]:
        return None
    return float(np.interp(x, [p[0] for p in pts], [p[1] for p in pts]))


def decide_sparsity(s: Sweep) -> Decision:
    lr, p50 = regime_lr(s)
    rl: list[ArmRun] = s.arm("rl", lr)
    shares = [r.changed_bf16 for r in rl]
    mean, lo, hi = seed_interval(shares)
    pairs = [p.jaccard for p in s.pairs("rl", lr)]
    ranks = [r.rank_fraction for r in rl]
    in_regime = REGIME[0] * (1 - EPS) <= p50 <= REGIME[2] * (1 + EPS)
    all_p50 = [_gmean([r.p50 for r in s.arm("rl", x)]) for x in s.lrs if s.arm("rl", x)]

    flags = []
    if not in_regime:
        flags.append(_flag("regime-outside-sweep"))
    if all(x < HALF_ULP for x in all_p50):
        flags.append(_flag("below-bf16-resolution-everywhere"))
    if all(x > HALF_ULP for x in all_p50):
        flags.append(_flag("above-bf16-resolution-everywhere"))
    if not pairs:
        flags.append(_flag("one-seed"))
    elif len(rl) < max(len(s.arm("rl", x)) for x in s.lrs):
        flags.append(_flag("fewer-seeds-at-regime"))
    sft_matched = sft_at(s, p50)
    if sft_matched is not None and abs(sft_matched - mean) <= SAME_AS_SFT + EPS:
        flags.append(_flag("not-rl-specific"))
    magnitude = float(np.mean([r.magnitude_jaccard for r in rl]))
    if pairs and magnitude >= float(np.mean(pairs)) - MAGNITUDE_MARGIN - EPS:
        flags.append(_flag("magnitude-explained"))

    parts = {
        "share": "inside" if lo >= CLAIMED[0] - EPS and hi <= CLAIMED[1] + EPS
        else "outside" if hi < CLAIMED[0] - EPS or lo > CLAIMED[1] + EPS else "across an edge",
        "overlap": "none" if not pairs else "high" if min(pairs) >= OVERLAP_MIN
        else "low" if max(pairs) < OVERLAP_MIN else "mixed",
        "rank": "full" if min(ranks) >= RANK_MIN else "low" if max(ranks) < RANK_MIN else "mixed",
    }
    if not in_regime or not pairs:
        verdict = "inconclusive"
    elif parts["share"] == "inside" and parts["overlap"] == "high" and parts["rank"] == "full":
        verdict = "consistent"
    elif parts["share"] == "outside" or parts["overlap"] == "low" or parts["rank"] == "low":
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"

    sweep = {f"{x:g}": {"rl": _arm_summary(s, "rl", x), "sft": _arm_summary(s, "sft", x)} for x in s.lrs}
    sft_here = sweep[f"{lr:g}"]["sft"]
    pooled_chance = [p.chance for p in s.pairs("rl", lr)]
    curve = "; ".join(f"lr {x}: {v['rl']['share_bf16']:.1%} at {v['rl']['median_relative_update']:.1e}"
                      for x, v in sweep.items() if v["rl"])
    finding = (
        f"at lr {lr:g} (median |dw|/|w| {p50:.1e}; the claim's regime {REGIME[0]:g}-{REGIME[2]:g}) RL changed "
        f"{mean:.1%} [{lo:.1%}, {hi:.1%}] of parameters as seen in bf16 (claimed 5-30%; per seed "
        f"{', '.join(f'{x:.1%}' for x in shares)})"
        + (f", SFT at the same lr {sft_here['share_bf16']:.1%}" if sft_here else "")
        + (f" and {sft_matched:.1%} at the same update size" if sft_matched is not None else "")
        + (f"; two seeds' changed sets overlap Jaccard {min(pairs):.2f}-{max(pairs):.2f} (chance "
           f"{np.mean(pooled_chance):.2f}, smallest-|w| set {magnitude:.2f})" if pairs else "")
        + f"; visible update rank {min(ranks):.0%} of full or more; sweep {curve}"
    )
    details = {
        "regime_lr": lr, "regime_median_relative_update": float(f"{p50:.3g}"), "in_regime": in_regime,
        "parts": parts, "sft_share_at_same_update": None if sft_matched is None else round(sft_matched, 4),
        "magnitude_jaccard": round(magnitude, 4), "sweep": sweep, "setting": dict(s.setting),
        "thresholds": THRESHOLDS,
    }
    over = f"seeds (t interval over {len(rl)} runs at lr {lr:g})" if len(rl) > 1 else "single run (no interval)"
    return Decision(verdict, mean, lo, hi, over, finding, tuple(flags), tuple(round(x, 4) for x in shares), details)


SPEC = ProtocolSpec(
    name="update-sparsity",
    version="3",
    claim_hint="C2",
    interval_days=28,
    description="Sweep GRPO's learning rate (and SFT on correct completions of the same prompts, same "
    "steps and learning rate) from a base rounded onto the bf16 grid, so that the median |dw|/|w| spans "
    "about 1e-4 to 1e-2; at each point measure the share of parameters changed as seen in bf16, the "
    "Jaccard overlap of two seeds' changed sets, and the rank of the visible update. Decide at the point "
    "matching the claim's setting (7B, lr ~1e-6, bf16).",
    decision_rule=f"Regime (fixed before the run): the sweep's learning rate whose RL median |dw|/|w| is nearest "
    f"{REGIME[1]:g} in log, if within {REGIME[0]:g}-{REGIME[2]:g}; else inconclusive. Effect: RL's share changed "
    f"in bf16 there, 95% t interval over seeds. consistent if that interval lies within {CLAIMED[0]:.0%}-"
    f"{CLAIMED[1]:.0%}, every pair of seeds' changed sets has Jaccard >= {OVERLAP_MIN} and every run's "
    f"visible update has rank >= {RANK_MIN:.0%} of full (mean over weight matrices); inconsistent if the "
    f"interval lies wholly outside, or every pair's Jaccard < {OVERLAP_MIN}, or every run's rank < "
    f"{RANK_MIN:.0%}; else (or with one seed) inconclusive.",
    decide=decide_sparsity,
    measure=measure,
    thresholds=THRESHOLDS,
    validity_flags=tuple(_flag(k) for k in FLAGS),
    tests="Whether RL's bf16-visible share lies in 5-30% at the claim's update size, whether two seeds change "
    "nearly the same set (Jaccard), whether the visible update is nearly full rank, and whether the share and "
    "the set are explained by update size and bf16 precision (SFT at the same update size; the smallest-|w| set).",
    does_not_test="Real models (a toy-world 1M-parameter Llama), optimizers other than Adam, bf16 training "
    "itself (we train in fp32 from a bf16-grid base and read bf16), that finetuning the subnetwork alone "
    "recovers the full run, overlap across data sets or algorithms, and the regime estimate itself (its "
    "band is an argument, not a measurement).",
)
