"""C1 passk-boundary: does RL raise pass@1 while the base matches it at large k?"""

from __future__ import annotations

from collections.abc import Callable


from retest.measures import bootstrap_mean_ci, pass_at_k_table, seed_interval
from retest.protocols.spec import Decision, ProtocolSpec
from retest.results import Measurements


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


SPEC = ProtocolSpec(
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
)
