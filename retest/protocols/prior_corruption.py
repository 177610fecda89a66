"""C5c prior-corruption: does RL lose problems the base reaches, even as it fails to exceed the base?

Reuses C1's measurements as they are (`retest.protocols.passk.measure`: the same bases,
GRPO runs and 256-sample draws on the hard slice, cached), so it costs nothing after C1.

A problem is *reached* at k = K when any of its K samples is right. Reach at K is itself
a noisy draw: a problem the base solves once in 300 is reached by one draw of 256 and
missed by the next. So a loss counts only beyond that noise, measured on matched
sampler seeds: the base is drawn twice on the slice (sampler seeds 1 and 2), every RL
run once with seed 1, and the base's seed-2 draw is the reference both arms are read
against (a model and its base drawn with one seed share their random numbers, so a loss
read base-seed-1 against RL-seed-1 and its chance level read seed 1 against seed 2 would
compare unlike noise):

- *lost* (per run): reached by the reference draw, not by the RL model (seed 1);
- *lost by chance*: reached by the reference draw, not by the base's own seed-1 draw;
- the effect, **excess loss**: lost minus lost by chance, the share of slice problems RL
  lost beyond what the base's own draw with the same seed loses. With RL equal to its
  base it is exactly 0. The reverse (reached only by RL, beyond the base's same-seed
  gain) is reported beside it; their difference, the net reach change, is RL's reach
  minus the base's on the seed-1 draws (C1's reach difference).

Interval: `retest.measures.hierarchical_bootstrap` over pretraining seeds, RL seeds and
problems; the base's noise is in the effect itself (its second draw).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retest.measures import Interval, hierarchical_bootstrap
from retest.protocols import passk
from retest.protocols.passk import C1Measurements, base_grid, grid, signal_rates
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal

MARGIN = passk.PASSK_MARGIN  # RL's net reach may exceed the base's by this much and still "fail to exceed it"
MIN_REACHED = 10  # slice problems the base reaches: fewer, and there is little to lose
NULL_MAX = 0.10  # the base's own redraw loses this share or more: reach at K too unstable to read losses
MIN_SAMPLES = passk.MIN_SAMPLES
MIN_RUNS = passk.MIN_RUNS
DRAWS = 2000


def _j(i: Interval) -> dict[str, Any]:
    return {"estimate": round(i.estimate, 4), "low": round(i.low, 4), "high": round(i.high, 4), "per_seed": list(i.per_seed)}


def figures(m: C1Measurements) -> dict[str, Any]:
    """Lost, gained and their chance levels per (pretraining seed, RL seed, problem), matched seeds (pure).

    The reference is the base's seed-2 draw; RL's draw and the base's chance draw both use seed 1.
    """
    ref = base_grid(m, lambda ps: np.asarray(m.hard_base_redraw[ps]) > 0) > 0  # (P, 1, N), seed 2
    b1 = base_grid(m, lambda ps: np.asarray(m.hard_base[ps]) > 0) > 0  # seed 1, as RL's
    rl = grid(m, lambda i, _r: np.asarray(m.hard_rl[i]) > 0) > 0  # (P, R, N), seed 1
    lost = (ref & ~rl).astype(float)
    gained = (~ref & rl).astype(float)
    lost_null = np.broadcast_to((ref & ~b1).astype(float), lost.shape)
    gained_null = np.broadcast_to((~ref & b1).astype(float), lost.shape)
    return {
        "excess_loss": hierarchical_bootstrap(lost - lost_null, DRAWS, 0),
        "excess_gain": hierarchical_bootstrap(gained - gained_null, DRAWS, 0),
        "net_reach": hierarchical_bootstrap(gained - gained_null - (lost - lost_null), DRAWS, 0),
        "lost": [int(x) for x in lost.sum(axis=2).ravel()],
        "gained": [int(x) for x in gained.sum(axis=2).ravel()],
        "lost_by_chance": [int(x) for x in (ref & ~b1).sum(axis=2).ravel()],  # per base, not per run
        "gained_by_chance": [int(x) for x in (~ref & b1).sum(axis=2).ravel()],
        "base_reached": float(ref.sum(axis=2).mean()), "null_loss": float((ref & ~b1).mean()),
        "reference_seed": 2, "compared_seed": 1,
        "hard_problems": len(m.hard_prompts), "hard_samples": m.hard_samples, "runs": len(m.runs),
    }


def flags_of(f: dict[str, Any]) -> tuple[str, ...]:
    """The validity flags raised by these figures (each stated in SPEC.validity_flags)."""
    out = []
    if f["base_reached"] < MIN_REACHED:
        out.append(f"too few reached problems: the base reaches {f['base_reached']:.0f} of the slice "
                   f"(< {MIN_REACHED}): little to lose")
    if f["null_loss"] >= NULL_MAX:
        out.append(f"unstable reach: the base's own redraw loses {f['null_loss']:.2f} of the slice "
                   f"(>= {NULL_MAX})")
    if f["hard_samples"] < MIN_SAMPLES:
        out.append(f"few samples: {f['hard_samples']} per hard problem (< {MIN_SAMPLES})")
    if f["runs"] < MIN_RUNS:
        out.append(f"few runs: {f['runs']} (< {MIN_RUNS}); the interval is not one over seeds")
    return tuple(out)


def rule(excess_loss: Interval, net_reach: Interval) -> str:
    """The verdict from the excess loss and the net reach change."""
    if excess_loss.low > 0 and net_reach.high <= MARGIN:
        return "consistent"
    if excess_loss.high <= 0 or net_reach.low > MARGIN:
        return "inconsistent"
    return "inconclusive"


def decide(m: C1Measurements) -> Decision:
    f = figures(m)
    e, net, g = f["excess_loss"], f["net_reach"], f["excess_gain"]
    verdict = rule(e, net)
    K, N = f["hard_samples"], f["hard_problems"]
    finding = (
        f"on {N} hard problems RL lost {e.estimate:+.3f} [{e.low:+.3f}, {e.high:+.3f}] of them beyond chance "
        f"(reached by the base's reference draw at k = {K}, not after RL: {np.mean(f['lost']):.1f} per run, against "
        f"{np.mean(f['lost_by_chance']):.1f} lost by the base's own draw on RL's sampler seed) and gained {g.estimate:+.3f} "
        f"[{g.low:+.3f}, {g.high:+.3f}] beyond chance; net reach {net.estimate:+.3f} [{net.low:+.3f}, {net.high:+.3f}]"
    )
    details = {"excess_loss": _j(e), "excess_gain": _j(g), "net_reach": _j(net),
               **{k: v for k, v in f.items() if k not in ("excess_loss", "excess_gain", "net_reach")}}
    return Decision(verdict, e.estimate, e.low, e.high, e.over, finding, flags_of(f) + no_signal(signal_rates(m)),
                    e.per_seed, details, interval_kind=e.kind)


SPEC = ProtocolSpec(
    name="prior-corruption",
    version="2",  # 2: the chance level on matched sampler seeds (issue 23)
    claim_hint="C5",
    interval_days=28,
    description="RL can corrupt the prior even as it fails to exceed it: on C1's hard slice (same bases, GRPO "
    "runs and 256-sample draws), does RL lose problems the base reaches at k = 256, beyond the losses of "
    "redrawing the base itself, while its net reach does not exceed the base's?",
    decision_rule=f"Effect: excess loss, the share of hard-slice problems reached at k = K by the base's reference "
    f"draw (sampler seed 2) but not by RL's draw (seed 1), minus the share reached by the reference but not by the "
    f"base's own draw on RL's seed (1): matched seeds, exactly 0 when RL equals its base; 95% hierarchical-bootstrap interval "
    f"over pretraining seeds, RL seeds and problems. consistent if its interval lies above 0 and RL's net reach "
    f"change (reached only by RL minus only by the base) has its interval at or below +{MARGIN}; inconsistent if "
    f"the excess loss's interval lies at or below 0 or the net reach change's lies above +{MARGIN}; else "
    f"inconclusive.",
    decide=decide,
    measure=passk.measure,
    thresholds={"net_reach_margin": MARGIN, "excess_loss_min": 0.0, "min_reached": MIN_REACHED,
                "null_max": NULL_MAX, "min_samples": MIN_SAMPLES, "min_runs": MIN_RUNS},
    validity_flags=(
        NO_SIGNAL,
        f"too few reached problems: the base reaches fewer than {MIN_REACHED} slice problems",
        f"unstable reach: the base's own redraw loses >= {NULL_MAX} of the slice",
        f"few samples: fewer than {MIN_SAMPLES} per hard problem",
        f"few runs: fewer than {MIN_RUNS} runs",
    ),
    tests="Whether RL loses problems its base reaches at k = 256 (beyond redraw noise) while not reaching more "
    "than the base: the corruption half of C5, on C1's hard slice and runs.",
    does_not_test="Corruption of anything but reach (calibration and shortcuts are C5a/C5b); reach beyond 256 "
    "samples; why problems are lost (formats are in C1's details).",
)
