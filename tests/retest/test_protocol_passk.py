"""C1 passk-boundary: the decision rule on hand-made measurements, each verdict and edge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.protocols import PASSK_MARGIN

from .protocol_cases import N, decide, measured, sampled


# --- passk-boundary: pass@1 gain interval > 0 and pass@n difference interval <= +0.02 ---

PROBLEMS = 50  # one problem of 50 moves a pass@k mean by exactly 0.02


def test_passk_thresholds_are_the_documented_ones() -> None:
    assert PASSK_MARGIN == 0.02 and 1 / PROBLEMS == PASSK_MARGIN


def test_passk_consistent_when_rl_sharpens_without_new_solutions() -> None:
    # base: every problem 1 of 4 correct; RL: 3 of 4. pass@1 up 0.5, pass@4 the same (1.0)
    m = measured(sampled([1] * PROBLEMS), [sampled([3] * PROBLEMS)] * 2)
    d = decide("passk-boundary", m)
    assert d.verdict == "consistent" and d.interval_over == "seeds"
    assert (d.effect_size, d.ci_low, d.ci_high) == (0.0, 0.0, 0.0)


def test_passk_pass_at_n_gain_exactly_at_the_margin_is_still_consistent() -> None:
    # RL solves one base-unsolved problem every time: pass@1 +0.02, pass@4 +0.02 (= the margin)
    m = measured(sampled([0] * PROBLEMS), [sampled([N] + [0] * (PROBLEMS - 1))] * 2)
    d = decide("passk-boundary", m)
    assert d.ci_high == PASSK_MARGIN and d.verdict == "consistent"


def test_passk_pass_at_n_gain_beyond_the_margin_is_inconsistent() -> None:
    m = measured(sampled([0] * PROBLEMS), [sampled([N, N] + [0] * (PROBLEMS - 2))] * 2)
    d = decide("passk-boundary", m)
    assert d.ci_low == pytest.approx(2 * PASSK_MARGIN) and d.verdict == "inconsistent"


def test_passk_no_pass_at_1_gain_is_inconsistent() -> None:
    same = sampled([2] * PROBLEMS)
    assert decide("passk-boundary", measured(same, [same] * 2)).verdict == "inconsistent"  # gain exactly 0
    worse = sampled([1] * PROBLEMS)
    assert decide("passk-boundary", measured(same, [worse] * 2)).verdict == "inconsistent"


def test_passk_seeds_that_disagree_are_inconclusive() -> None:
    base = sampled([2] * PROBLEMS)
    d = decide("passk-boundary", measured(base, [sampled([3] * PROBLEMS), sampled([1] * PROBLEMS)]))
    assert d.verdict == "inconclusive"


def test_passk_one_seed_bootstraps_over_problems() -> None:
    base = sampled([1, 2] * 20)
    d = decide("passk-boundary", measured(base, [sampled([3, 4] * 20)]))
    assert d.verdict == "consistent" and d.interval_over == "problems (bootstrap, single seed)"
    # pass@1 up on half the problems, all lost on the other half: the pass@1 interval straddles 0
    mixed = decide("passk-boundary", measured(base, [sampled([3, 0] * 20)]))
    assert mixed.verdict == "inconclusive" and mixed.effect_size == pytest.approx(-0.5)

@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, N), min_size=2, max_size=30))
def test_passk_rl_that_changes_nothing_is_never_consistent(counts: list[int]) -> None:
    same = sampled(counts)
    for seeds in (1, 2):
        assert decide("passk-boundary", measured(same, [same] * seeds)).verdict != "consistent"

# --- validity flags: when a verdict could not have come out the other way ---


def test_passk_ceiling_is_flagged_exactly_when_the_base_leaves_no_room_at_large_k() -> None:
    # every problem solved at least once in 4 by the base: pass@4 = 1.0, "no gain at large k" is automatic
    at_ceiling = decide("passk-boundary", measured(sampled([1] * PROBLEMS), [sampled([3] * PROBLEMS)] * 2))
    assert at_ceiling.verdict == "consistent" and at_ceiling.flags and "ceiling" in at_ceiling.flags[0]
    # one base-unsolved problem in 50: pass@4 = 0.98 = 1 - margin, still no room beyond the margin
    edge = decide("passk-boundary", measured(sampled([0] + [1] * (PROBLEMS - 1)), [sampled([3] * PROBLEMS)] * 2))
    assert edge.flags
    # two unsolved: pass@4 = 0.96; RL could now show a gain beyond the margin, so the test is live
    live = decide("passk-boundary", measured(sampled([0, 0] + [1] * (PROBLEMS - 2)), [sampled([3] * PROBLEMS)] * 2))
    assert live.flags == ()
