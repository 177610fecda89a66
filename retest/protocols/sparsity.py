"""C2 update-sparsity: does RL change only 5-30% of the parameters?"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from retest.measures import seed_interval
from retest.protocols.spec import Decision, ProtocolSpec
from retest.results import Measurements


def _interval(per_seed: list[float], single: Callable[[], tuple[float, float]], what: str) -> tuple[float, float, float, str]:
    mean, lo, hi = seed_interval(per_seed)
    if len(per_seed) >= 2:
        return mean, lo, hi, "seeds"
    lo, hi = single()
    return mean, float(lo), float(hi), f"{what} (bootstrap, single seed)"


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


SPEC = ProtocolSpec(
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
)
