"""C3 format-collapse: does RL collapse onto one pretraining format, with entropy falling?"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from retest.measures import bootstrap_mean_ci, seed_interval
from retest.protocols.spec import Decision, ProtocolSpec
from retest.results import Measurements


def _interval(per_seed: list[float], single: Callable[[], tuple[float, float]], what: str) -> tuple[float, float, float, str]:
    mean, lo, hi = seed_interval(per_seed)
    if len(per_seed) >= 2:
        return mean, lo, hi, "seeds"
    lo, hi = single()
    return mean, float(lo), float(hi), f"{what} (bootstrap, single seed)"


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


SPEC = ProtocolSpec(
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
)
