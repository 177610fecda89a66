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
median |w| 0.037 the rule gives 3.2e-2; measured 2.8e-2).

The share is read off the measured curve (share against log median |dw|/|w|, linear between
the sweep's points) at the regime's centre, with its interval from a nested bootstrap (bases,
then RL seeds within each base), and over the whole band; a sweep that does not span the band
is inconclusive, and so is a band that reaches across an edge of the claimed range. Overlap and
rank are read at the sweep point nearest the centre (they cannot be interpolated).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retest.measures import IntervalKind, seed_interval
from retest.protocols.spec import Decision, ProtocolSpec
from retest.sweep import ArmRun, Sweep, measure

CLAIMED = (0.05, 0.30)  # share of parameters changed, as seen in bf16
REGIME = (5e-4, 1.2e-3, 3e-3)  # low, centre, high of the claim setting's median |dw|/|w|
OVERLAP_MIN = 0.5  # "almost identical across seeds": Jaccard of two seeds' changed sets
RANK_MIN = 0.9  # "nearly full rank": mean numerical rank of the visible update / full rank
SAME_AS_SFT = 0.05  # RL and SFT shares this close at the same update size: not RL-specific
MAGNITUDE_MARGIN = 0.05  # the smallest-|w| set overlaps within this of a second seed's set
HALF_ULP = 2.0**-9  # bf16's half spacing relative to |w| (the lower end: 2^-9 to 2^-8)
DRAWS = 2000  # nested bootstrap draws of the curve
EPS = 1e-9  # float slack: equal per-seed values sit on a threshold, not a rounding error beside it

THRESHOLDS = {
    "claimed_low": CLAIMED[0], "claimed_high": CLAIMED[1], "regime_low": REGIME[0], "regime_centre": REGIME[1],
    "regime_high": REGIME[2], "overlap_min": OVERLAP_MIN, "rank_min": RANK_MIN, "same_as_sft": SAME_AS_SFT,
    "magnitude_margin": MAGNITUDE_MARGIN, "bf16_half_ulp": HALF_ULP,
}

FLAGS = {
    "regime-outside-sweep": f"the sweep's RL median |dw|/|w| does not reach both ends of {REGIME[0]:g}-{REGIME[2]:g} "
    "(the claim's setting), so the share there would be extrapolated: the verdict is inconclusive",
    "below-bf16-resolution-everywhere": "the median |dw|/|w| is below bf16's half ulp (2^-9) at every learning rate: "
    "the sweep never shows the dense side",
    "above-bf16-resolution-everywhere": "the median |dw|/|w| is above bf16's half ulp (2^-9) at every learning rate: "
    "the sweep never shows the sparse side",
    "one-seed": "fewer than two seeds at the regime: overlap across seeds is not measured (the verdict is inconclusive)",
    "fewer-seeds-at-regime": "the rate nearest the regime's centre (where overlap and rank are read) is a bracket "
    "rate of the sweep, run with fewer seeds than the middle rate: those parts rest on fewer runs than designed",
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


Curve = list[tuple[float, float]]  # (log10 median |dw|/|w|, share changed in bf16) per learning rate, sorted


def rl_curve(runs: list[ArmRun]) -> Curve:
    """Per learning rate: the mean log10 median |dw|/|w| and the mean share of `runs`, sorted."""
    by_lr: dict[float, list[ArmRun]] = {}
    for r in runs:
        by_lr.setdefault(r.lr, []).append(r)
    return sorted((float(np.mean([math.log10(max(r.p50, 1e-30)) for r in rs])),
                   float(np.mean([r.changed_bf16 for r in rs]))) for rs in by_lr.values())


def share_at(curve: Curve, p50: float) -> float:
    """The curve, linear in log10 |dw|/|w|, at `p50` (held at its end value beyond the sweep)."""
    return float(np.interp(math.log10(p50), [x for x, _ in curve], [y for _, y in curve]))


def band_of(curve: Curve) -> tuple[float, float]:
    """(lowest, highest) share of the interpolated curve across the regime band REGIME[0]-REGIME[2]."""
    lo, hi = math.log10(REGIME[0]), math.log10(REGIME[2])
    ys = [share_at(curve, REGIME[0]), share_at(curve, REGIME[2])] + [y for x, y in curve if lo <= x <= hi]
    return min(ys), max(ys)


def spans_band(curve: Curve) -> bool:
    """Whether the sweep's RL curve reaches both ends of the regime band (no extrapolation)."""
    return bool(curve) and curve[0][0] <= math.log10(REGIME[0] * (1 + EPS)) and \
        curve[-1][0] >= math.log10(REGIME[2] * (1 - EPS))


def nested_interval(s: Sweep, draws: int = DRAWS, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the curve's share at the regime centre: each draw resamples the bases,
    then the RL seeds within each base at each learning rate, and re-reads the mean curve."""
    rl = [r for r in s.runs if r.arm == "rl"]
    bases = sorted({r.pretrain_seed for r in rl})
    lrs = sorted({r.lr for r in rl})
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(bases), (draws, len(bases)))  # the bases of each draw
    xs, ys = np.empty((draws, len(lrs))), np.empty((draws, len(lrs)))
    for k, lr in enumerate(lrs):
        cells = [[r for r in rl if r.pretrain_seed == b and r.lr == lr] for b in bases]
        width = max(len(c) for c in cells)
        count = np.array([len(c) for c in cells])
        share = np.array([[r.changed_bf16 for r in c] + [0.0] * (width - len(c)) for c in cells])
        logu = np.array([[math.log10(max(r.p50, 1e-30)) for r in c] + [0.0] * (width - len(c)) for c in cells])
        n = count[pick]  # (draws, bases): runs of that base at this rate
        j = np.floor(rng.random((draws, len(bases), width)) * np.maximum(n, 1)[..., None]).astype(int)
        keep = np.arange(width)[None, None, :] < n[..., None]
        total = np.maximum(keep.sum(axis=(1, 2)), 1)
        ys[:, k] = np.where(keep, share[pick[..., None], j], 0.0).sum(axis=(1, 2)) / total
        xs[:, k] = np.where(keep, logu[pick[..., None], j], 0.0).sum(axis=(1, 2)) / total
    centre = math.log10(REGIME[1])
    order = np.argsort(xs, axis=1)
    out = np.array([np.interp(centre, x[o], y[o]) for x, y, o in zip(xs, ys, order)])
    lo, hi = np.quantile(out, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def share_part(lo: float, hi: float, band: tuple[float, float]) -> str:
    """'inside' the claimed range (the centre's interval and the whole band), 'outside' (both wholly
    outside), else 'across an edge'."""
    def inside(a: float, b: float) -> bool:
        return a >= CLAIMED[0] - EPS and b <= CLAIMED[1] + EPS

    def outside(a: float, b: float) -> bool:
        return b < CLAIMED[0] - EPS or a > CLAIMED[1] + EPS

    if inside(lo, hi) and inside(*band):
        return "inside"
    if outside(lo, hi) and outside(*band) and (band[1] < CLAIMED[0]) == (hi < CLAIMED[0]):
        return "outside"
    return "across an edge"


def verdict_of(spanned: bool, parts: dict[str, str]) -> str:
    """The rule, on the parts: consistent, inconsistent or inconclusive."""
    if not spanned or parts["overlap"] == "none":
        return "inconclusive"
    if parts["share"] == "inside" and parts["overlap"] == "high" and parts["rank"] == "full":
        return "consistent"
    if parts["share"] == "outside" or parts["overlap"] == "low" or parts["rank"] == "low":
        return "inconsistent"
    return "inconclusive"


def decide_sparsity(s: Sweep) -> Decision:
    lr, p50 = regime_lr(s)
    rl: list[ArmRun] = s.arm("rl", lr)
    points = rl_curve([r for r in s.runs if r.arm == "rl"])
    spanned = spans_band(points)
    mean = share_at(points, REGIME[1])
    lo, hi = nested_interval(s)
    band = band_of(points)
    bases = sorted({r.pretrain_seed for r in s.runs if r.arm == "rl"})
    per_base = tuple(round(share_at(rl_curve([r for r in s.runs if r.arm == "rl" and r.pretrain_seed == b]),
                                    REGIME[1]), 4) for b in bases)
    shares = [r.changed_bf16 for r in rl]
    pairs = [p.jaccard for p in s.pairs("rl", lr)]
    ranks = [r.rank_fraction for r in rl]
    in_regime = REGIME[0] * (1 - EPS) <= p50 <= REGIME[2] * (1 + EPS)
    all_p50 = [_gmean([r.p50 for r in s.arm("rl", x)]) for x in s.lrs if s.arm("rl", x)]

    flags = []
    if not spanned:
        flags.append(_flag("regime-outside-sweep"))
    if all(x < HALF_ULP for x in all_p50):
        flags.append(_flag("below-bf16-resolution-everywhere"))
    if all(x > HALF_ULP for x in all_p50):
        flags.append(_flag("above-bf16-resolution-everywhere"))
    if not pairs:
        flags.append(_flag("one-seed"))
    elif len(rl) < max(len(s.arm("rl", x)) for x in s.lrs):
        flags.append(_flag("fewer-seeds-at-regime"))
    sft_matched = sft_at(s, REGIME[1])
    if sft_matched is not None and abs(sft_matched - mean) <= SAME_AS_SFT + EPS:
        flags.append(_flag("not-rl-specific"))
    magnitude = float(np.mean([r.magnitude_jaccard for r in rl]))
    if pairs and magnitude >= float(np.mean(pairs)) - MAGNITUDE_MARGIN - EPS:
        flags.append(_flag("magnitude-explained"))

    parts = {
        "share": share_part(lo, hi, band),
        "overlap": "none" if not pairs else "high" if min(pairs) >= OVERLAP_MIN
        else "low" if max(pairs) < OVERLAP_MIN else "mixed",
        "rank": "full" if min(ranks) >= RANK_MIN else "low" if max(ranks) < RANK_MIN else "mixed",
    }
    verdict = verdict_of(spanned, parts)

    sweep = {f"{x:g}": {"rl": _arm_summary(s, "rl", x), "sft": _arm_summary(s, "sft", x)} for x in s.lrs}
    sft_here = sweep[f"{lr:g}"]["sft"]
    pooled_chance = [p.chance for p in s.pairs("rl", lr)]
    curve = "; ".join(f"lr {x}: {v['rl']['share_bf16']:.1%} at {v['rl']['median_relative_update']:.1e}"
                      for x, v in sweep.items() if v["rl"])
    finding = (
        f"at the regime's centre (median |dw|/|w| {REGIME[1]:g}, interpolated on the sweep) RL changed "
        f"{mean:.1%} [{lo:.1%}, {hi:.1%}] of parameters as seen in bf16, {band[0]:.1%}-{band[1]:.1%} across the "
        f"regime {REGIME[0]:g}-{REGIME[2]:g} (claimed 5-30%; per base {', '.join(f'{x:.1%}' for x in per_base)}); "
        f"nearest point lr {lr:g} (median |dw|/|w| {p50:.1e}, per seed {', '.join(f'{x:.1%}' for x in shares)})"
        + (f", SFT at the same lr {sft_here['share_bf16']:.1%}" if sft_here else "")
        + (f" and {sft_matched:.1%} at the same update size" if sft_matched is not None else "")
        + (f"; two seeds' changed sets overlap Jaccard {min(pairs):.2f}-{max(pairs):.2f} (chance "
           f"{np.mean(pooled_chance):.2f}, smallest-|w| set {magnitude:.2f})" if pairs else "")
        + f"; visible update rank {min(ranks):.0%} of full or more; sweep {curve}"
    )
    details = {
        "regime_share": {"value": round(mean, 4), "low": round(lo, 4), "high": round(hi, 4),
                         "over": "bases, then RL seeds within each (nested bootstrap)", "per_base": list(per_base)},
        "regime_band": {"low": round(band[0], 4), "high": round(band[1], 4)}, "band_spanned": spanned,
        "curve": [{"median_relative_update": float(f"{10 ** x:.3g}"), "share_bf16": round(y, 4)} for x, y in points],
        "regime_lr": lr, "regime_median_relative_update": float(f"{p50:.3g}"), "in_regime": in_regime,
        "parts": parts, "sft_share_at_same_update": None if sft_matched is None else round(sft_matched, 4),
        "magnitude_jaccard": round(magnitude, 4), "sweep": sweep, "setting": dict(s.setting),
        "thresholds": THRESHOLDS,
    }
    spans = len(rl) > 1 or len(bases) > 1
    over = ("bases, then RL seeds within each (nested bootstrap of the interpolated curve)" if spans
            else "single run (no interval)")
    return Decision(verdict, mean, lo, hi, over, finding, tuple(flags), per_base, details,
                    interval_kind=IntervalKind.SEEDS if spans else IntervalKind.ONE_DRAW)


SPEC = ProtocolSpec(
    name="update-sparsity",
    version="4",
    claim_hint="C2",
    interval_days=28,
    description="Sweep GRPO's learning rate (and SFT on correct completions of the same prompts, same "
    "steps and learning rate) from a base rounded onto the bf16 grid, so that the median |dw|/|w| spans "
    "about 1e-4 to 1e-2; at each point measure the share of parameters changed as seen in bf16, the "
    "Jaccard overlap of two seeds' changed sets, and the rank of the visible update. Read the share off the "
    "measured curve at the claim's setting (7B, lr ~1e-6, bf16) and across its band.",
    decision_rule=f"Regime (fixed before the run): median |dw|/|w| {REGIME[0]:g}-{REGIME[2]:g}, centre {REGIME[1]:g}. "
    f"Effect: RL's share changed in bf16 read off the measured curve (share against log median |dw|/|w|, linear "
    f"between the sweep's learning rates) at the centre, 95% nested bootstrap (bases, then RL seeds within each); "
    f"the band: the curve's lowest and highest share across the regime. A sweep whose curve does not reach both "
    f"ends of the regime is inconclusive. Overlap and rank are read at the learning rate nearest the centre. "
    f"consistent if the centre's interval and the band lie within {CLAIMED[0]:.0%}-{CLAIMED[1]:.0%}, every pair "
    f"of seeds' changed sets has Jaccard >= {OVERLAP_MIN} and every run's visible update has rank >= "
    f"{RANK_MIN:.0%} of full (mean over weight matrices); inconsistent if the interval and the band lie wholly "
    f"on one side outside, or every pair's Jaccard < {OVERLAP_MIN}, or every run's rank < {RANK_MIN:.0%}; else "
    f"(a band or interval across an edge of the range, or one seed) inconclusive.",
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
