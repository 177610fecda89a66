"""The decision rules on hand-made measurements: each verdict, and the thresholds' edges.

Two seeds with equal measurements give a zero-width interval over seeds, so a value
can sit exactly on a threshold; one seed gives the bootstrap path. Every boundary
case fails if its comparison is flipped (`<=` to `<`, `>=` to `>`) or a threshold moves.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.protocols import CLAIMED, DOMINANCE, PASSK_MARGIN, PROTOCOLS
from retest.results import LayerSparsity, Measurements, Sampled, SeedRun, TrainStats, WeightChange

N = 4  # samples per problem


def sampled(counts: list[int], formats: dict[str, float] | None = None, entropy: float = 0.5) -> Sampled:
    shares = {"A": 0.0, "B": 0.0, "C": 1.0, "other": 0.0} | (formats or {})
    return Sampled(counts=tuple(counts), formats=(shares,) * len(counts), entropy=(entropy,) * len(counts))


def weights(changed_bf16: float, tensors: tuple[tuple[int, int], ...] = ((1, 10),)) -> WeightChange:
    all_ = LayerSparsity(parameters=1000, changed_fp32=min(1.0, changed_bf16 + 0.5), changed_bf16=changed_bf16,
                         hidden_by_bf16=0.5)
    return WeightChange(sparsity={"layer 0": all_, "all": all_}, tensors=tensors, ranks={},
                        relative_update={"p10": 1e-4, "p50": 1e-3, "p90": 1e-2, "bf16_half_ulp": 2.0**-9})


def measured(base: Sampled, finals: list[Sampled], changes: list[WeightChange | None] | None = None,
             epochs: float = 0.5) -> Measurements:
    train = TrainStats(seconds=1.0, steps_per_second=1.0, reward=(0.2, 0.4), entropy=(0.5, 0.4), kl=(),
                       epoch_at_end=epochs)
    changes = changes or [None] * len(finals)
    runs = tuple(SeedRun(seed=i, run_dir=f"/runs/{i}", train=train, checkpoints=(), final=f, weights=w)
                 for i, (f, w) in enumerate(zip(finals, changes)))
    return Measurements(samples=N, bootstrap=300, base_model={}, base=base, runs=runs)


def decide(name: str, m: Measurements):  # -> Decision
    return PROTOCOLS[name].decide(m)


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


# --- format-collapse: the leading format's share reaches 0.6 within an epoch, entropy falls ---

BASE_FMT = {"A": 0.0, "B": 0.5, "C": 0.5}


def collapse(final_a: float, *, base_a: float = 0.0, entropy: float = 0.5, epochs: float = 1.0,
             base_entropy: float = 1.0) -> str:
    base = {"A": base_a, "B": (1 - base_a) / 2, "C": (1 - base_a) / 2}
    rest = (1 - final_a) / 2
    m = measured(sampled([2], base, base_entropy), [sampled([2], {"A": final_a, "B": rest, "C": rest}, entropy)] * 2,
                 epochs=epochs)
    return decide("format-collapse", m).verdict


def test_format_threshold_is_the_documented_one() -> None:
    assert DOMINANCE == 0.6


def test_format_dominance_exactly_at_threshold_within_one_epoch_is_consistent() -> None:
    assert collapse(0.6) == "consistent"
    assert collapse(0.9, epochs=0.3) == "consistent"


def test_format_just_under_dominance_is_inconclusive() -> None:
    assert collapse(0.59) == "inconclusive"


def test_format_collapse_after_more_than_one_epoch_is_inconclusive() -> None:
    assert collapse(0.9, epochs=1.01) == "inconclusive"


def test_format_entropy_must_fall() -> None:
    assert collapse(0.9, entropy=1.0) == "inconclusive"  # unchanged: neither falls nor rises
    assert collapse(0.9, entropy=1.2) == "inconsistent"  # rises


def test_format_no_gain_is_inconsistent() -> None:
    assert collapse(0.7, base_a=0.7) == "inconsistent"  # the leader gained exactly 0


def test_format_share_under_half_is_inconsistent_and_exactly_half_is_not() -> None:
    assert collapse(0.45) == "inconsistent"
    assert collapse(0.5) == "inconclusive"


def test_format_one_seed_bootstraps_over_problems() -> None:
    base = Sampled(counts=(1, 1), formats=({"A": 0.1, "B": 0.4, "C": 0.5, "other": 0.0},) * 2, entropy=(1.0, 1.1))
    final = Sampled(counts=(2, 2), formats=({"A": 0.9, "B": 0.1, "C": 0.0, "other": 0.0},) * 2, entropy=(0.2, 0.3))
    d = decide("format-collapse", measured(base, [final]))
    assert d.verdict == "consistent" and d.interval_over == "problems (bootstrap, single seed)"
    assert d.effect_size == pytest.approx(0.8)


# --- update-sparsity: the bf16 changed fraction's interval inside 5%-30% ---


def sparse(*fractions: float) -> str:
    m = measured(sampled([1]), [sampled([2])] * len(fractions), [weights(f) for f in fractions])
    return decide("update-sparsity", m).verdict


def test_sparsity_thresholds_are_the_documented_ones() -> None:
    assert CLAIMED == (0.05, 0.30)


def test_sparsity_inside_the_claimed_range_is_consistent_edges_included() -> None:
    assert sparse(0.15, 0.15) == "consistent"
    assert sparse(0.05, 0.05) == "consistent"
    assert sparse(0.30, 0.30) == "consistent"


def test_sparsity_wholly_outside_is_inconsistent() -> None:
    assert sparse(0.31, 0.31) == "inconsistent"
    assert sparse(0.94, 0.94) == "inconsistent"
    assert sparse(0.049, 0.049) == "inconsistent"


def test_sparsity_interval_across_an_edge_is_inconclusive() -> None:
    assert sparse(0.25, 0.35) == "inconclusive"
    assert sparse(0.03, 0.07) == "inconclusive"


def test_sparsity_one_seed_bootstraps_over_weight_tensors() -> None:
    m = measured(sampled([1]), [sampled([2])], [weights(0.1, tensors=((10, 100), (20, 200), (5, 50)))])
    d = decide("update-sparsity", m)
    assert d.verdict == "consistent" and d.interval_over == "weight tensors (bootstrap, single seed)"
    assert (d.ci_low, d.ci_high) == pytest.approx((0.1, 0.1))


def test_sparsity_needs_the_weights() -> None:
    with pytest.raises(ValueError, match="weights"):
        decide("update-sparsity", measured(sampled([1]), [sampled([2])]))


# --- properties over many hand-made measurements ---


@settings(max_examples=80, deadline=None)
@given(st.floats(0.0, 1.0, allow_nan=False))
def test_sparsity_with_agreeing_seeds_is_consistent_exactly_inside_the_claimed_range(fraction: float) -> None:
    lo, hi = CLAIMED
    assert sparse(fraction, fraction) == ("consistent" if lo <= fraction <= hi else "inconsistent")


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


def test_format_collapse_onto_an_already_dominant_prior_is_flagged() -> None:
    def fmt(a: float) -> Sampled:
        return sampled([2] * 20, {"A": a, "C": 1.0 - a}, entropy=0.5)

    dominated = decide("format-collapse", measured(fmt(DOMINANCE), [fmt(0.9)] * 2))
    assert dominated.flags and "prior already dominated" in dominated.flags[0]
    open_prior = decide("format-collapse", measured(fmt(0.2), [fmt(0.9)] * 2))
    assert open_prior.flags == ()
