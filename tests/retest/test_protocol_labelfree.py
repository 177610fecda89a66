"""C4a label-free-search: the decision rule on hand-made measurements, each verdict, edges, flags."""

from __future__ import annotations

import pytest

from retest.protocols import PROTOCOLS
from retest.protocols.labelfree import ARMS, METRICS, MIN_GAIN, LabelFreeMeasurements

N = 20  # problems


def measured(base: float = 0.3, distill: float | list[float] = 0.4, truth: float = 0.5, majority: float = 0.35,
             same: float = 0.5, precision: float = 0.6, leaves: int = 500, seeds: int = 2) -> LabelFreeMeasurements:
    """Every metric of every problem at the given value; `distill` may vary per problem."""
    per_problem = distill if isinstance(distill, list) else [distill] * N
    value = {"truth": [truth] * N, "majority": [majority] * N, "distill": per_problem}
    return LabelFreeMeasurements(
        samples=16, base={k: [[base] * N] for k in METRICS},
        arms={a: {k: [[value[a]] * seeds] for k in METRICS} for a in ARMS},
        majority_right=[0.5], majority_same=[same], pseudo_precision=[[precision] * seeds],
        leaves=[[leaves] * seeds], draws=300)


def decide(m: LabelFreeMeasurements):  # -> Decision
    return PROTOCOLS["label-free-search"].decide(m)


def test_distillation_gain_above_zero_is_consistent() -> None:
    d = decide(measured(distill=0.4))
    assert d.verdict == "consistent" and d.flags == ()
    assert d.effect_size == pytest.approx(0.1) and d.ci_low == pytest.approx(0.1)
    assert d.per_seed == pytest.approx((0.1, 0.1)) and "50%" in d.finding  # 0.1 of the true arm's 0.2


def test_no_gain_is_inconsistent_and_a_gain_at_the_margin_is_not() -> None:
    assert decide(measured(distill=0.3)).verdict == "inconsistent"  # gain exactly 0
    assert decide(measured(distill=0.2)).verdict == "inconsistent"  # a loss
    # an interval around 0 whose upper bound stays below the margin
    d = decide(measured(distill=[0.29] * (N // 2) + [0.31] * (N // 2)))
    assert d.ci_low <= 0 and d.ci_high < MIN_GAIN and d.verdict == "inconsistent"
    # an interval from 0 up to above the margin: neither above 0 nor below the margin
    d = decide(measured(distill=[0.2] * (N // 2) + [0.42] * (N // 2)))
    assert d.ci_low <= 0 < MIN_GAIN < d.ci_high and d.verdict == "inconclusive"


def test_gain_exactly_at_the_margin_with_zero_width_is_consistent_not_inconsistent() -> None:
    d = decide(measured(distill=0.3 + MIN_GAIN))
    assert d.ci_high == pytest.approx(MIN_GAIN) and d.verdict == "consistent"


def test_validity_flags_name_each_condition() -> None:
    flags = decide(measured(same=0.96, precision=0.97, base=0.92, distill=0.95, truth=0.92, leaves=10)).flags
    text = " | ".join(flags)
    assert "not label-free in effect" in text and "supervised in effect" in text
    assert "ceiling" in text and "too small" in text and "ground-truth arm did not gain" in text
    assert len(flags) == 5
    # at the thresholds: not raised
    assert decide(measured(same=0.95, precision=0.95)).flags == ()


def test_single_seed_interval_is_over_problems() -> None:
    d = decide(measured(distill=[0.3] * (N // 2) + [0.5] * (N // 2), seeds=1))
    assert "single seed" in d.interval_over and d.ci_low < d.effect_size < d.ci_high
