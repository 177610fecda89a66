"""C2 update-sparsity: the decision rule on hand-made sweeps, each verdict, flag and edge.

A hand-made sweep has five RL learning rates whose median |dw|/|w| sits at 1e-4, the
regime's low end, its centre, its high end and 1e-2 (one base unless asked). The share is
read off the curve at the centre, with the band across the regime; overlap and rank at the
point nearest the centre. Equal shares across seeds give a zero-width interval, so a share
can sit exactly on a threshold.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.protocols import PROTOCOLS
from retest.protocols.sparsity import (
    CLAIMED,
    OVERLAP_MIN,
    RANK_MIN,
    REGIME,
    SPEC,
    decide_sparsity,
    nested_interval,
    sft_at,
)
from retest.sweep import ArmRun, Overlap, Sweep

LRS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4)  # median |dw|/|w| 1e-4, REGIME low, centre, high, 1e-2


def runs(arm: str, lr: float, p50: float, shares: list[float], rank: float = 1.0,
         magnitude: float = 0.2, base: int = 0) -> list[ArmRun]:
    return [ArmRun(arm, lr, base, i, share, 1.0, p50, rank, magnitude) for i, share in enumerate(shares)]


def pairs(arm: str, lr: float, jaccards: list[float], chance: float = 0.1, base: int = 0) -> list[Overlap]:
    return [Overlap(arm, lr, base, i, i + 1, j, chance) for i, j in enumerate(jaccards)]


def sweep(shares: tuple[float, ...] = (0.15, 0.15, 0.15), jaccard: tuple[float, ...] = (0.7, 0.7, 0.7),
          rank: float = 1.0, band: tuple[float, float] | None = None, magnitude: float = 0.2,
          sft: dict[float, tuple[float, float]] | None = None) -> Sweep:
    """RL at the five points; `shares` per seed at the centre, `band` the shares at the regime's ends
    (default: the centre's mean, a flat curve across the regime); SFT {lr: (p50, share)} if given."""
    mean = sum(shares) / len(shares)
    lo, hi = band or (mean, mean)
    rl = (runs("rl", LRS[0], 1e-4, [0.01] * 3) + runs("rl", LRS[1], REGIME[0], [lo] * 3)
          + runs("rl", LRS[2], REGIME[1], list(shares), rank, magnitude) + runs("rl", LRS[3], REGIME[2], [hi] * 3)
          + runs("rl", LRS[4], 1e-2, [0.9] * 3))
    over = pairs("rl", LRS[2], list(jaccard)) + [o for lr in LRS if lr != LRS[2] for o in pairs("rl", lr, [0.9, 0.9])]
    for lr, (p50, share) in (sft or {}).items():
        rl += runs("sft", lr, p50, [share] * 3)
    return Sweep(runs=tuple(rl), overlaps=tuple(over))


def verdict(**kw) -> str:  # type: ignore[no-untyped-def]
    return decide_sparsity(sweep(**kw)).verdict


def flags(**kw) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.split(":")[0] for f in decide_sparsity(sweep(**kw)).flags}


# --- the spec: thresholds, flags and version stated before any run ---


def test_spec_states_its_thresholds_flags_and_version() -> None:
    assert PROTOCOLS["update-sparsity"] is SPEC and SPEC.version == "4" and SPEC.measure is not None
    assert CLAIMED == (0.05, 0.30) and REGIME == (5e-4, 1.2e-3, 3e-3) and (OVERLAP_MIN, RANK_MIN) == (0.5, 0.9)
    names = {f.split(":")[0] for f in SPEC.validity_flags}
    assert names == {"regime-outside-sweep", "below-bf16-resolution-everywhere", "above-bf16-resolution-everywhere",
                     "one-seed", "fewer-seeds-at-regime", "not-rl-specific", "magnitude-explained"}
    listed = json.loads(json.dumps(SPEC.to_dict()))
    assert listed["thresholds"]["regime_centre"] == 1.2e-3 and listed["tests"] and listed["does_not_test"]


# --- each verdict ---


def test_inside_the_claimed_range_with_overlapping_full_rank_sets_is_consistent() -> None:
    d = decide_sparsity(sweep())
    assert d.verdict == "consistent" and d.effect_size == pytest.approx(0.15)
    assert d.per_seed == (0.15,) and d.interval_over.startswith("bases, then RL seeds")
    assert d.details["regime_lr"] == LRS[2] and d.details["parts"] == {"share": "inside", "overlap": "high",
                                                                         "rank": "full"}
    assert d.details["regime_band"] == {"low": 0.15, "high": 0.15} and d.details["band_spanned"] is True
    assert "15.0% [15.0%, 15.0%]" in d.finding and "Jaccard 0.70-0.70" in d.finding
    json.dumps(d.details)  # stored in the run's metrics


def test_share_edges_are_inside_and_just_beyond_is_inconsistent() -> None:
    assert verdict(shares=(0.05,) * 3) == "consistent" and verdict(shares=(0.30,) * 3) == "consistent"
    assert verdict(shares=(0.049,) * 3) == "inconsistent" and verdict(shares=(0.301,) * 3) == "inconsistent"
    assert verdict(shares=(0.92, 0.91, 0.93)) == "inconsistent"


def test_share_interval_across_an_edge_is_inconclusive() -> None:
    assert verdict(shares=(0.25, 0.35, 0.30)) == "inconclusive"
    assert verdict(shares=(0.03, 0.07, 0.05)) == "inconclusive"


def test_a_band_reaching_across_the_30_percent_edge_is_inconclusive_whatever_the_centre() -> None:
    # the standard run's figures (issue 23): about 33% at the centre, 18-50% across the regime
    d = decide_sparsity(sweep(shares=(0.33,) * 3, band=(0.18, 0.50)))
    assert d.verdict == "inconclusive" and d.details["parts"]["share"] == "across an edge"
    assert d.details["regime_band"] == {"low": 0.18, "high": 0.5} and "18.0%-50.0% across the regime" in d.finding
    assert verdict(shares=(0.20,) * 3, band=(0.10, 0.35)) == "inconclusive"  # centre inside, band not
    assert verdict(shares=(0.20,) * 3, band=(0.10, 0.30)) == "consistent"  # the band's edge counts as inside
    assert verdict(shares=(0.40,) * 3, band=(0.31, 0.60)) == "inconsistent"  # all of it above 30%
    assert verdict(shares=(0.40,) * 3, band=(0.04, 0.60)) == "inconclusive"  # a band across the whole range


def test_the_share_is_interpolated_at_the_centre_not_taken_from_the_nearest_rate() -> None:
    # points at 4e-4 (10%) and 4e-3 (50%): the nearest rate in log (4e-4, 0.48 decades off) would read 10%;
    # the curve reads 10% + 40% x log10(3) = 29.1% at the centre and 13.9-45.0% across the regime
    s = Sweep(runs=tuple(runs("rl", 1e-6, 4e-4, [0.1] * 2) + runs("rl", 1e-5, 4e-3, [0.5] * 2)),
              overlaps=tuple(pairs("rl", 1e-6, [0.7]) + pairs("rl", 1e-5, [0.7])))
    d = decide_sparsity(s)
    assert d.details["regime_lr"] == 1e-6 and d.effect_size == pytest.approx(0.2908, abs=1e-4)
    assert d.details["regime_band"] == {"low": pytest.approx(0.1388, abs=1e-4), "high": pytest.approx(0.45, abs=1e-4)}
    assert d.verdict == "inconclusive"


def test_the_interval_resamples_bases_then_seeds_within_them() -> None:
    # two bases, seeds agreeing within each: a t interval over six runs as if independent would be
    # [18.5%, 41.5%]; the nested bootstrap draws both bases from one base a quarter of the time
    two = Sweep(runs=tuple(r for b, x in ((0, 0.2), (1, 0.4)) for lr, p50 in ((1e-7, 1e-4), (1e-6, 1.2e-3),
                                                                                 (1e-5, 1e-2))
                           for r in runs("rl", lr, p50, [x] * 3, base=b)))
    assert nested_interval(two) == pytest.approx((0.2, 0.4))
    d = decide_sparsity(two)
    assert d.per_seed == (0.2, 0.4) and d.effect_size == pytest.approx(0.3)
    one = Sweep(runs=tuple(r for lr, p50 in ((1e-7, 1e-4), (1e-6, 1.2e-3), (1e-5, 1e-2))
                           for r in runs("rl", lr, p50, [0.1, 0.15, 0.2, 0.25, 0.3])))
    lo, hi = nested_interval(one)
    assert 0.1 < lo < 0.2 < hi < 0.3  # seeds within one base: the bootstrap of their mean


def test_seeds_changing_different_sets_is_inconsistent_with_almost_identical() -> None:
    assert verdict(jaccard=(0.5, 0.5, 0.5)) == "consistent"  # the edge counts as high
    assert verdict(jaccard=(0.49, 0.3, 0.2)) == "inconsistent"
    assert verdict(jaccard=(0.6, 0.4, 0.6)) == "inconclusive"  # mixed pairs


def test_a_low_rank_visible_update_is_inconsistent_with_nearly_full_rank() -> None:
    assert verdict(rank=0.9) == "consistent" and verdict(rank=0.89) == "inconsistent"


# --- the regime, fixed by the rule before the run ---


def test_a_sweep_that_does_not_span_the_regime_is_inconclusive_whatever_the_share() -> None:
    def ends(low: float, high: float, share: float) -> Sweep:
        return Sweep(runs=tuple(runs("rl", 1e-7, low, [share] * 2) + runs("rl", 1e-6, 1.2e-3, [share] * 2)
                                + runs("rl", 1e-5, high, [share] * 2)),
                     overlaps=tuple(o for lr in (1e-7, 1e-6, 1e-5) for o in pairs("rl", lr, [0.7])))
    assert decide_sparsity(ends(REGIME[0], REGIME[2], 0.15)).verdict == "consistent"  # the ends count
    for low, high in ((5.1e-4, 1e-2), (1e-4, 2.9e-3)):
        for share in (0.15, 0.9):
            d = decide_sparsity(ends(low, high, share))
            assert d.verdict == "inconclusive" and d.flags[0].startswith("regime-outside-sweep")
            assert d.details["band_spanned"] is False


def test_one_seed_is_flagged_and_never_decides() -> None:
    s = Sweep(runs=tuple(runs("rl", 1e-6, 1.2e-3, [0.15])))
    d = decide_sparsity(s)
    assert d.verdict == "inconclusive" and any(f.startswith("one-seed") for f in d.flags)
    assert d.interval_over == "single run (no interval)"


def test_a_bracket_rate_with_fewer_seeds_deciding_is_flagged() -> None:
    # the standard sweep runs 2 seeds at the bracket rates, 3 at the middle: if a bracket rate is
    # nearest the regime, the decision rests on fewer runs than designed, and says so
    s = Sweep(runs=tuple(runs("rl", 1e-8, 4e-4, [0.15] * 3) + runs("rl", 1e-7, 1.2e-3, [0.15] * 2)
                         + runs("rl", 1e-6, 3e-3, [0.15] * 3)),
              overlaps=tuple(pairs("rl", 1e-7, [0.7]) + pairs("rl", 1e-6, [0.9, 0.9])))
    d = decide_sparsity(s)
    assert d.details["regime_lr"] == 1e-7 and d.verdict == "consistent"
    assert [f.split(":")[0] for f in d.flags] == ["fewer-seeds-at-regime"]
    assert "fewer-seeds-at-regime" not in flags()  # every rate ran 3 seeds


# --- the other validity flags ---


def test_a_sweep_that_does_not_cross_bf16_resolution_is_flagged() -> None:
    assert "below-bf16-resolution-everywhere" not in flags() and "above-bf16-resolution-everywhere" not in flags()
    low = Sweep(runs=tuple(runs("rl", 1e-6, 1.2e-3, [0.15] * 2)), overlaps=tuple(pairs("rl", 1e-6, [0.7])))
    high = Sweep(runs=tuple(runs("rl", 1e-6, 2.5e-3, [0.15] * 2)), overlaps=tuple(pairs("rl", 1e-6, [0.7])))
    assert {f.split(":")[0] for f in decide_sparsity(low).flags} == {"regime-outside-sweep",
                                                                      "below-bf16-resolution-everywhere"}
    assert {f.split(":")[0] for f in decide_sparsity(high).flags} == {"regime-outside-sweep",
                                                                       "above-bf16-resolution-everywhere"}


def test_sft_as_sparse_at_the_same_update_size_flags_not_rl_specific() -> None:
    # SFT at 6e-4 and 2.4e-3: interpolated in log at 1.2e-3 gives the mean share
    same = {1e-7: (6e-4, 0.10), 1e-6: (2.4e-3, 0.20)}
    assert sft_at(sweep(sft=same), 1.2e-3) == pytest.approx(0.15)
    assert "not-rl-specific" in flags(sft=same)
    assert "not-rl-specific" in flags(sft={1e-7: (6e-4, 0.20), 1e-6: (2.4e-3, 0.20)})  # 0.05 apart: the edge
    assert "not-rl-specific" not in flags(sft={1e-7: (6e-4, 0.6), 1e-6: (2.4e-3, 0.9)})  # SFT denser
    assert sft_at(sweep(sft={1e-7: (2e-3, 0.5), 1e-6: (5e-3, 0.9)}), 1.2e-3) is None  # never that small
    d = decide_sparsity(sweep(sft=same))
    assert d.verdict == "consistent" and "SFT at the same lr 20.0%" in d.finding  # a flag, not a verdict


def test_a_changed_set_predicted_by_weight_magnitude_is_flagged() -> None:
    assert "magnitude-explained" in flags(magnitude=0.65)  # within 0.05 of the seeds' 0.70
    assert "magnitude-explained" not in flags(magnitude=0.64)


# --- properties over many hand-made sweeps ---


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 1.0, allow_nan=False))
def test_agreeing_seeds_in_the_regime_are_consistent_exactly_inside_the_claimed_range(share: float) -> None:
    lo, hi = CLAIMED
    assert verdict(shares=(share,) * 3) == ("consistent" if lo <= share <= hi else "inconsistent")


@settings(max_examples=40, deadline=None)
@given(st.floats(1e-5, 1e-3, allow_nan=False))
def test_the_verdict_is_decisive_only_when_the_sweep_reaches_the_regimes_low_end(low: float) -> None:
    s = Sweep(runs=tuple(runs("rl", 1e-7, low, [0.15] * 2) + runs("rl", 1e-6, 1.2e-3, [0.15] * 2)
                         + runs("rl", 1e-5, 1e-2, [0.15] * 2)),
              overlaps=tuple(o for lr in (1e-7, 1e-6, 1e-5) for o in pairs("rl", lr, [0.7])))
    assert decide_sparsity(s).verdict == ("consistent" if low <= REGIME[0] else "inconclusive")
