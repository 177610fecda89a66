"""Named, versioned protocols: what claim each tests, and its decision rule.

Each protocol reads the same typed measurements (`retest.results.Measurements`, made
by `retest.runner.measure`), so
all three share one pretrained base and one GRPO run per seed. A decision turns a
measurement into a verdict (consistent / inconsistent / inconclusive) with an effect
size and a 95% interval: over seeds (t interval) when there are two or more, else a
bootstrap over held-out problems (or weight tensors), marked single-seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retest.measures import bootstrap_mean_ci, pass_at_k_table, seed_interval
from retest.results import Measurements


@dataclass(frozen=True)
class Decision:
    verdict: str
    effect_size: float
    ci_low: float
    ci_high: float
    interval_over: str  # "seeds" | "problems (bootstrap, single seed)" | ...
    finding: str  # one clause with the numbers
    flags: tuple[str, ...] = ()  # validity flags: conditions under which the verdict is not a test


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    version: str
    claim_hint: str
    interval_days: int
    description: str
    decision_rule: str
    decide: Callable[[Measurements], Decision]


def _interval(per_seed: list[float], single: Callable[[], tuple[float, float]], what: str) -> tuple[float, float, float, str]:
    mean, lo, hi = seed_interval(per_seed)
    if len(per_seed) >= 2:
        return mean, lo, hi, "seeds"
    lo, hi = single()
    return mean, float(lo), float(hi), f"{what} (bootstrap, single seed)"


# --- passk-boundary (C1) ---------------------------------------------------------

PASSK_MARGIN = 0.02


def decide_passk(m: Measurements) -> Decision:
    n, boot = m.samples, m.bootstrap
    b_tab = pass_at_k_table(m.base.counts, n)
    r_tabs = [pass_at_k_table(r.final.counts, n) for r in m.runs]
    d1 = [float(t[:, 0].mean() - b_tab[:, 0].mean()) for t in r_tabs]
    dn = [float(t[:, -1].mean() - b_tab[:, -1].mean()) for t in r_tabs]
    d1_m, d1_lo, d1_hi, over = _interval(d1, lambda: bootstrap_mean_ci(r_tabs[0][:, 0] - b_tab[:, 0], boot), "problems")
    dn_m, dn_lo, dn_hi, _ = _interval(dn, lambda: bootstrap_mean_ci(r_tabs[0][:, -1] - b_tab[:, -1], boot), "problems")
    if d1_lo > 0 and dn_hi <= PASSK_MARGIN:
        verdict = "consistent"
    elif d1_hi <= 0 or (d1_lo > 0 and dn_lo > PASSK_MARGIN):
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    finding = (
        f"RL changed pass@1 by {d1_m:+.3f} [{d1_lo:+.3f}, {d1_hi:+.3f}] and pass@{n} by "
        f"{dn_m:+.3f} [{dn_lo:+.3f}, {dn_hi:+.3f}] (base pass@1 {b_tab[:, 0].mean():.2f}, pass@{n} {b_tab[:, -1].mean():.2f})"
    )
    flags = ()
    base_top = float(b_tab[:, -1].mean())
    if base_top >= 1 - PASSK_MARGIN - 1e-9:  # RL cannot beat the base at k=n by more than the margin: automatic
        flags = (f"ceiling: the base already reaches pass@{n} {base_top:.2f} (>= {1 - PASSK_MARGIN:.2f}), "
                 f"so 'no gain at large k' cannot fail at this k",)
    return Decision(verdict, dn_m, dn_lo, dn_hi, over, finding, flags)


# --- format-collapse (C3) --------------------------------------------------------

DOMINANCE = 0.6


def decide_format(m: Measurements) -> Decision:
    finals = [r.final.mean_formats() for r in m.runs]
    base = m.base.mean_formats()
    mean_final = {f: float(np.mean([s[f] for s in finals])) for f in ("A", "B", "C")}
    top = max(mean_final, key=lambda f: mean_final[f])
    gains = [s[top] - base[top] for s in finals]
    ent = [r.final.mean_entropy - m.base.mean_entropy for r in m.runs]
    first = m.runs[0].final
    per_problem = np.asarray(first.format_column(top)) - np.asarray(m.base.format_column(top))
    g_m, g_lo, g_hi, over = _interval(gains, lambda: bootstrap_mean_ci(per_problem, m.bootstrap), "problems")
    e_per = np.asarray(first.entropy) - np.asarray(m.base.entropy)
    e_m, e_lo, e_hi, _ = _interval(ent, lambda: bootstrap_mean_ci(e_per, m.bootstrap), "problems")
    share_lo = base[top] + g_lo
    within_epoch = m.epochs <= 1.0
    if share_lo >= DOMINANCE and g_lo > 0 and e_hi < 0 and within_epoch:
        verdict = "consistent"
    elif g_hi <= 0 or base[top] + g_hi < 0.5 or e_lo > 0:
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    finding = (
        f"format {top} went from {base[top]:.2f} to {mean_final[top]:.2f} of samples (gain {g_m:+.2f} "
        f"[{g_lo:+.2f}, {g_hi:+.2f}]) in {m.epochs:.2f} epochs, mean token entropy changed "
        f"{e_m:+.3f} [{e_lo:+.3f}, {e_hi:+.3f}] nats"
    )
    flags = ()
    if base[top] >= DOMINANCE - 1e-9:  # the prior already has a dominant format: "collapse onto it" is not tested
        flags = (f"prior already dominated: format {top} is {base[top]:.2f} of the base model's samples "
                 f"(>= {DOMINANCE})",)
    return Decision(verdict, g_m, g_lo, g_hi, over, finding, flags)


# --- update-sparsity (C2) --------------------------------------------------------

CLAIMED = (0.05, 0.30)


def decide_sparsity(m: Measurements) -> Decision:
    changes = [r.weights for r in m.runs if r.weights is not None]
    if len(changes) != len(m.runs) or not changes:
        raise ValueError("update-sparsity needs the weights of every run (a base model this engine pretrained)")
    fr = [c.sparsity["all"].changed_bf16 for c in changes]
    fp32 = float(np.mean([c.sparsity["all"].changed_fp32 for c in changes]))
    tensors = np.asarray(changes[0].tensors, float)  # rows: (changed_bf16, size)

    def by_tensor() -> tuple[float, float]:
        rng = np.random.default_rng(0)
        idx = rng.integers(0, len(tensors), size=(m.bootstrap, len(tensors)))
        ratios = tensors[idx, 0].sum(1) / tensors[idx, 1].sum(1)
        lo, hi = np.quantile(ratios, [0.025, 0.975])
        return float(lo), float(hi)

    f_m, f_lo, f_hi, over = _interval(fr, by_tensor, "weight tensors")
    lo_c, hi_c = CLAIMED
    if f_lo >= lo_c and f_hi <= hi_c:
        verdict = "consistent"
    elif f_lo > hi_c or f_hi < lo_c:
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    p50 = changes[0].relative_update.get("p50", float("nan"))
    finding = (
        f"RL changed {f_m:.1%} [{f_lo:.1%}, {f_hi:.1%}] of parameters as seen in bf16 and {fp32:.1%} in fp32 "
        f"(claimed 5-30%); median relative update {p50:.1e} against bf16's half ulp 2^-9"
    )
    return Decision(verdict, f_m, f_lo, f_hi, over, finding)


PROTOCOLS: dict[str, ProtocolSpec] = {
    "passk-boundary": ProtocolSpec(
        name="passk-boundary",
        version="1",
        claim_hint="C1",
        interval_days=28,
        description="Pretrain a tiny model on a controlled prior, GRPO it, and compare pass@k "
        "for k = 1..n on held-out problems, base vs. RL: does RL raise pass@1 while the base "
        "matches or beats it at large k?",
        decision_rule=f"Effect: RL minus base pass@n (n = samples per problem), 95% interval. "
        f"consistent if the interval of the pass@1 gain lies above 0 and that of the pass@n "
        f"difference lies at or below +{PASSK_MARGIN}; inconsistent if RL does not raise pass@1 "
        f"(interval at or below 0) or raises pass@n beyond +{PASSK_MARGIN}; else inconclusive. "
        f"Flagged (never proposes) when the base already reaches pass@n >= {1 - PASSK_MARGIN:.2f}: "
        f"then 'no gain at large k' cannot fail.",
        decide=decide_passk,
    ),
    "format-collapse": ProtocolSpec(
        name="format-collapse",
        version="1",
        claim_hint="C3",
        interval_days=28,
        description="Measure the share of each pretraining solution format and the policy's token "
        "entropy at each GRPO checkpoint within the first epoch: does one format come to "
        "dominate, and does entropy fall?",
        decision_rule=f"Effect: gain in share of the format that leads after RL, 95% interval. "
        f"consistent if its share's lower bound reaches {DOMINANCE} within one epoch, the gain is "
        f"above 0 and entropy falls (interval below 0); inconsistent if the gain is at or below 0, "
        f"its share stays under 0.5, or entropy rises; else inconclusive. Flagged (never proposes) when "
        f"one format already holds >= {DOMINANCE} of the base model's samples.",
        decide=decide_format,
    ),
    "update-sparsity": ProtocolSpec(
        name="update-sparsity",
        version="1",
        claim_hint="C2",
        interval_days=28,
        description="Compare base and RL weights: the fraction of parameters that changed, per "
        "layer, in fp32 and as seen after bf16 rounding, and the numerical and effective rank "
        "of each weight update. Is it the claimed 5-30%?",
        decision_rule=f"Effect: fraction of parameters changed as seen in bf16, 95% interval. "
        f"consistent if the interval lies within {CLAIMED[0]:.0%}-{CLAIMED[1]:.0%}; inconsistent if "
        f"it lies wholly outside; else inconclusive.",
        decide=decide_sparsity,
    ),
}
