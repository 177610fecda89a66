"""C1 passk-boundary v2: the decision rule on hand-made measurements, each verdict, edges and flags."""

from __future__ import annotations

import numpy as np
import pytest

from retest.measures import Interval
from retest.protocols import PASSK_MARGIN, PROTOCOLS
from retest.protocols.passk import (
    C1Measurements,
    RECOVERY_MIN,
    crossover,
    passk_curve,
    hard_slice,
    ratio_interval,
    rule,
    split_gain,
)
from retest.results import Sampled
from retest.world import WorldConfig, parse

from .protocol_cases import measured, sampled

N = 4  # samples per problem on the shared problems (protocol_cases)
K = 256  # samples per hard problem
HARD = 80  # hard-slice problems


def c1(base: Sampled, finals: list[Sampled], routed: list[Sampled], hard_base: list[int], hard_rl: list[list[int]],
       hard_redraw: list[int] | None = None, k: int = K, inside: list[list[int]] | None = None) -> C1Measurements:
    """`inside`: the inside arm's hard-slice counts per run (RL trained on the slice's distribution); RL's by default."""
    m = measured(base, finals)
    return C1Measurements(**dict(m), hard_samples=k, hard_prompts=tuple(f"p{i}" for i in range(len(hard_base))),
                          hard_base={0: tuple(hard_base)}, hard_base_redraw={0: tuple(hard_redraw or hard_base)},
                          hard_rl=tuple(tuple(h) for h in hard_rl), routed=tuple({1: r, 2: r, 3: r} for r in routed),
                          hard_inside_rl=tuple(tuple(h) for h in (inside or hard_rl)), inside_prompts=100)


HALF = [8] * (HARD // 2) + [0] * (HARD // 2)  # the base reaches half the slice at k = 256 (8 of 256: every redraw)


def world(gain_to: int = 3, routed_to: int = 3, rl_reach: list[int] = HALF, runs: int = 3,
          inside: list[list[int]] | None = None) -> C1Measurements:
    """Base 1 of 4 right on 50 problems; RL `gain_to` of 4; routing `routed_to` of 4; the inside arm's reach per run."""
    base = sampled([1] * 50)
    return c1(base, [sampled([gain_to] * 50)] * runs, [sampled([routed_to] * 50)] * runs, HALF, [rl_reach] * runs,
              inside=inside)


def decide(m: C1Measurements):  # -> Decision
    return PROTOCOLS["passk-boundary"].decide(m)


def iv(est: float, low: float, high: float) -> Interval:
    return Interval(est, low, high, "test")


# --- the rule on its three inputs: every verdict and every edge ---


def test_rule_edges_are_the_stated_thresholds() -> None:
    up, flat = iv(0.1, 0.05, 0.15), iv(0.0, -0.01, 0.01)
    good = iv(0.9, 0.85, 0.95)
    edge = iv(0, 0, PASSK_MARGIN)
    assert rule(up, edge, edge, iv(0.9, RECOVERY_MIN, 1.0)) == "consistent"  # every edge included
    assert rule(up, iv(0, 0, PASSK_MARGIN + 1e-9), flat, iv(0.9, RECOVERY_MIN, 1.0)) == "inconclusive"
    assert rule(up, flat, iv(0, 0, PASSK_MARGIN + 1e-9), iv(0.9, RECOVERY_MIN, 1.0)) == "inconclusive"
    assert rule(up, edge, edge, iv(0.9, RECOVERY_MIN - 1e-9, 1.0)) == "inconclusive"
    # the recovery clearly below the claim's range, or reach clearly beyond the base's on either slice
    assert rule(up, flat, flat, iv(0.7, 0.6, RECOVERY_MIN - 1e-9)) == "inconsistent"
    assert rule(up, flat, flat, iv(0.7, 0.6, RECOVERY_MIN)) == "inconclusive"
    assert rule(up, iv(0.05, PASSK_MARGIN + 1e-9, 0.1), flat, good) == "inconsistent"
    assert rule(up, flat, iv(0.05, PASSK_MARGIN + 1e-9, 0.1), good) == "inconsistent"
    assert rule(up, iv(0.05, PASSK_MARGIN, 0.1), flat, good) == "inconclusive"
    assert rule(up, flat, iv(0.05, PASSK_MARGIN, 0.1), good) == "inconclusive"
    # RL that does not raise pass@1 has no gain to recover: never a verdict either way
    for gain in (iv(0.0, 0.0, 0.1), iv(-0.1, -0.2, -0.05)):
        assert rule(gain, flat, flat, good) == "inconclusive"
        assert rule(gain, iv(0.1, 0.05, 0.2), iv(0.1, 0.05, 0.2), iv(0.2, 0.1, 0.3)) == "inconclusive"


# --- decide on hand-made measurements: each verdict reachable ---


def test_consistent_when_routing_recovers_the_gain_and_rl_adds_no_reach() -> None:
    d = decide(world(gain_to=3, routed_to=3))
    assert d.verdict == "consistent" and d.flags == ()
    assert d.effect_size == pytest.approx(1.0) and d.per_seed == (1.0, 1.0, 1.0)
    assert d.details["hard_reach_diff"]["estimate"] == 0 and d.details["only_rl"] == [0, 0, 0]
    assert "(hierarchical bootstrap)" in d.interval_over and "RL seeds" in d.interval_over


def test_inconsistent_when_routing_recovers_too_little() -> None:
    d = decide(world(gain_to=3, routed_to=2))  # base 1, RL 3, routed 2 of 4: recovery 0.5
    assert d.verdict == "inconsistent" and d.effect_size == pytest.approx(0.5) and d.ci_high < RECOVERY_MIN


def test_inconsistent_when_rl_reaches_what_the_base_never_does() -> None:
    more = [8] * (HARD // 2 + 8) + [0] * (HARD // 2 - 8)  # 8 of 80 new problems: +0.10
    d = decide(world(rl_reach=more))
    assert d.verdict == "inconsistent" and d.details["only_rl"] == [8, 8, 8] and d.details["only_base"] == [0, 0, 0]
    assert d.details["hard_reach_diff"]["low"] > PASSK_MARGIN


def test_inconsistent_when_rl_trained_inside_the_slices_distribution_reaches_more() -> None:
    more = [8] * (HARD // 2 + 8) + [0] * (HARD // 2 - 8)  # the inside arm reaches 8 of 80 new problems: +0.10
    d = decide(world(inside=[more] * 3))  # RL trained outside adds none, routing recovers all: consistent without it
    assert d.verdict == "inconsistent" and d.details["hard_reach_diff"]["estimate"] == 0
    assert d.details["hard_reach_diff_inside"]["low"] > PASSK_MARGIN and d.details["only_rl_inside"] == [8, 8, 8]
    assert "inside the slice's distribution changed reach by +0.100" in d.finding


def test_inconclusive_when_the_inside_arm_runs_disagree_on_reach() -> None:
    more = [8] * (HARD // 2 + 8) + [0] * (HARD // 2 - 8)
    d = decide(world(inside=[more, HALF, HALF]))
    i = d.details["hard_reach_diff_inside"]
    assert i["low"] <= PASSK_MARGIN < i["high"] and d.verdict == "inconclusive"


def test_inconclusive_when_rl_gains_nothing() -> None:
    d = decide(world(gain_to=1, routed_to=1))
    assert d.verdict == "inconclusive" and any(f.startswith("small gain") for f in d.flags)
    # the recovery of no gain is undefined: stored as 0 [0, 0] and None in the details, never NaN
    assert (d.effect_size, d.ci_low, d.ci_high) == (0.0, 0.0, 0.0) and d.details["recovery"]["2"]["estimate"] is None


def test_runs_that_disagree_give_a_wide_interval_and_inconclusive() -> None:
    base = sampled([1] * 50)
    m = c1(base, [sampled([3] * 50)] * 3, [sampled([3] * 50), sampled([3] * 50), sampled([1] * 50)],
           HALF, [HALF] * 3)
    d = decide(m)
    assert d.per_seed == (1.0, 1.0, 0.0) and d.ci_low < RECOVERY_MIN <= d.ci_high and d.verdict == "inconclusive"


# --- validity flags: when the run could not have come out the other way ---


def test_ceiling_flag_when_the_base_reaches_the_whole_slice() -> None:
    base = sampled([1] * 50)
    m = c1(base, [sampled([3] * 50)] * 3, [sampled([3] * 50)] * 3, [8] * HARD, [[8] * HARD] * 3)
    d = decide(m)
    assert any(f.startswith("ceiling") for f in d.flags)
    # 12 of 80 unreached: below the ceiling, and enough hard problems for new reach to show
    live = [8] * (HARD - 12) + [0] * 12
    assert decide(c1(base, [sampled([3] * 50)] * 3, [sampled([3] * 50)] * 3, live, [live] * 3)).flags == ()
    few = [8] * (HARD - 9) + [0] * 9
    assert any(f.startswith("too few hard") for f in decide(c1(base, [sampled([3] * 50)] * 3,
                                                                  [sampled([3] * 50)] * 3, few, [few] * 3)).flags)


def test_floor_few_samples_and_few_runs_are_flagged() -> None:
    base = sampled([1] * 50)
    none = [0] * HARD
    d = decide(c1(base, [sampled([3] * 50)] * 3, [sampled([3] * 50)] * 3, none, [none] * 3))
    assert any(f.startswith("floor") for f in d.flags)
    d = decide(c1(base, [sampled([3] * 50)] * 3, [sampled([3] * 50)] * 3, HALF, [HALF] * 3, k=64))
    assert any(f.startswith("few samples") for f in d.flags)
    d = decide(c1(base, [sampled([3] * 50)] * 2, [sampled([3] * 50)] * 2, HALF, [HALF] * 2))
    assert any(f.startswith("few runs") for f in d.flags)


def test_spec_states_rule_thresholds_and_flags_before_the_run() -> None:
    spec = PROTOCOLS["passk-boundary"].to_dict()
    assert spec["version"] == "3" and spec["thresholds"]["recovery_min"] == RECOVERY_MIN
    assert spec["thresholds"]["min_samples"] == 256 and len(spec["validity_flags"]) == 7  # no signal among them
    assert "routing" in spec["tests"] and spec["does_not_test"]


# --- the pure figures ---


def test_passk_curve_is_the_unbiased_estimator() -> None:
    from retest.measures import pass_at_k_table

    counts = [0, 1, 5, 255, 256, 37]
    assert passk_curve(counts, 256) == pytest.approx(pass_at_k_table(counts, 256).mean(0), abs=1e-9)


def test_crossover_is_where_the_base_catches_up() -> None:
    assert crossover(np.array([0.1, 0.3, 0.6, 0.9]), np.array([0.4, 0.5, 0.6, 0.7])) == 3
    assert crossover(np.array([0.5, 0.9]), np.array([0.4, 0.5])) == 1  # RL never ahead
    assert crossover(np.array([0.1, 0.2]), np.array([0.4, 0.5])) is None  # the base never catches up


def test_ratio_interval_resamples_runs_and_problems() -> None:
    num = np.array([[[0.2, 0.4], [0.2, 0.4]]])  # one base, two runs, two problems
    den = np.array([[[0.4, 0.4], [0.4, 0.4]]])
    r = ratio_interval(num, den, draws=400)
    assert r.estimate == pytest.approx(0.75) and r.per_seed == (0.75, 0.75)
    assert r.low == pytest.approx(0.5) and r.high == pytest.approx(1.0)  # both problems drawn twice, at the ends


def test_gain_splits_into_format_selection_and_execution() -> None:
    # base: half A (acc 1.0), half C (acc 0.5): pass@1 0.75. RL: all A, still acc 1.0: the gain is all format
    base = Sampled(counts=(3,), formats=({"A": 0.5, "B": 0.0, "C": 0.5, "other": 0.0},),
                   entropy=(0.1,), format_correct=({"A": 0.5, "B": 0.0, "C": 0.25, "other": 0.0},))
    rl = Sampled(counts=(4,), formats=({"A": 1.0, "B": 0.0, "C": 0.0, "other": 0.0},),
                 entropy=(0.1,), format_correct=({"A": 1.0, "B": 0.0, "C": 0.0, "other": 0.0},))
    s = split_gain(base, rl)
    assert s["format_part"] == pytest.approx(0.25) and s["execution_part"] == pytest.approx(0.0)


def test_hard_slice_is_fixed_before_sampling_and_out_of_the_pretraining_range() -> None:
    w = WorldConfig()
    slice_ = hard_slice(w, 80)
    assert slice_ == hard_slice(w, 80) and len({p for p, _ in slice_}) == 80
    for prompt, answer in slice_:
        ops = [int(x) for x in prompt.rstrip("=").replace("*", "+").split("+")]
        assert any(o < w.min_operand or o > w.max_operand for o in ops)
        assert all(w.min_operand - 1 <= o <= w.max_operand + 1 for o in ops)
        assert eval(prompt.rstrip("=")) == answer  # noqa: S307 - digits and + * only
    assert parse(">5") == ("C", 5)
