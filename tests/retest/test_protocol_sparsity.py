"""C2 update-sparsity: the decision rule on hand-made sweeps, each verdict, flag and edge.

A hand-made sweep has three RL learning rates whose median |dw|/|w| sits at 1e-4, the
claim's regime and 1e-2; only the regime point's runs decide. Equal shares across seeds
give a zero-width interval, so a share can sit exactly on a threshold.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.protocols import PROTOCOLS
from retest.protocols.sparsity import CLAIMED, OVERLAP_MIN, RANK_MIN, REGIME, SPEC, decide_sparsity, sft_at
from retest.sweep import ArmRun, Overlap, Sweep

LRS = (1e-7, 1e-6, 1e-5)


def runs(arm: str, lr: float, p50: float, shares: list[float], rank: float = 1.0,
         magnitude: float = 0.2) -> list[ArmRun]:
    return [ArmRun(arm, lr, 0, i, share, 1.0, p50, rank, magnitude) for i, share in enumerate(shares)]


def pairs(arm: str, lr: float, jaccards: list[float], chance: float = 0.1) -> list[Overlap]:
    return [Overlap(arm, lr, 0, i, i + 1, j, chance) for i, j in enumerate(jaccards)]


def sweep(shares: tuple[float, ...] = (0.15, 0.15, 0.15), jaccard: tuple[float, ...] = (0.7, 0.7, 0.7),
          rank: float = 1.0, regime_p50: float = REGIME[1], magnitude: float = 0.2,
          sft: dict[float, tuple[float, float]] | None = None) -> Sweep:
    """RL at 1e-4 / `regime_p50` / 1e-2 (the middle one decides); SFT {lr: (p50, share)} if given."""
    rl = (runs("rl", LRS[0], 1e-4, [0.01] * 3) + runs("rl", LRS[1], regime_p50, list(shares), rank, magnitude)
          + runs("rl", LRS[2], 1e-2, [0.9] * 3))
    over = pairs("rl", LRS[1], list(jaccard)) + pairs("rl", LRS[0], [0.9, 0.9]) + pairs("rl", LRS[2], [0.9, 0.9])
    for lr, (p50, share) in (sft or {}).items():
        rl += runs("sft", lr, p50, [share] * 3)
    return Sweep(runs=tuple(rl), overlaps=tuple(over))


def verdict(**kw) -> str:  # type: ignore[no-untyped-def]
    return decide_sparsity(sweep(**kw)).verdict


def flags(**kw) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.split(":")[0] for f in decide_sparsity(sweep(**kw)).flags}


# --- the spec: thresholds, flags and version stated before any run ---


def test_spec_states_its_thresholds_flags_and_version() -> None:
    assert PROTOCOLS["update-sparsity"] is SPEC and SPEC.version == "3" and SPEC.measure is not None
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
    assert d.per_seed == (0.15, 0.15, 0.15) and d.interval_over.startswith("seeds")
    assert d.details["regime_lr"] == LRS[1] and d.details["parts"] == {"share": "inside", "overlap": "high",
                                                                         "rank": "full"}
    assert "15.0%" in d.finding and "Jaccard 0.70-0.70" in d.finding
    json.dumps(d.details)  # stored in the run's metrics


def test_share_edges_are_inside_and_just_beyond_is_inconsistent() -> None:
    assert verdict(shares=(0.05,) * 3) == "consistent" and verdict(shares=(0.30,) * 3) == "consistent"
    assert verdict(shares=(0.049,) * 3) == "inconsistent" and verdict(shares=(0.301,) * 3) == "inconsistent"
    assert verdict(shares=(0.92, 0.91, 0.93)) == "inconsistent"


def test_share_interval_across_an_edge_is_inconclusive() -> None:
    assert verdict(shares=(0.25, 0.35, 0.30)) == "inconclusive"
    assert verdict(shares=(0.03, 0.07, 0.05)) == "inconclusive"


def test_seeds_changing_different_sets_is_inconsistent_with_almost_identical() -> None:
    assert verdict(jaccard=(0.5, 0.5, 0.5)) == "consistent"  # the edge counts as high
    assert verdict(jaccard=(0.49, 0.3, 0.2)) == "inconsistent"
    assert verdict(jaccard=(0.6, 0.4, 0.6)) == "inconclusive"  # mixed pairs


def test_a_low_rank_visible_update_is_inconsistent_with_nearly_full_rank() -> None:
    assert verdict(rank=0.9) == "consistent" and verdict(rank=0.89) == "inconsistent"


# --- the regime, chosen by the rule before the run ---


def test_regime_band_edges_decide_and_outside_is_inconclusive_whatever_the_share() -> None:
    assert verdict(regime_p50=REGIME[0]) == "consistent" and verdict(regime_p50=REGIME[2]) == "consistent"
    for p50 in (4.9e-4, 3.1e-3):
        d = decide_sparsity(sweep(regime_p50=p50))
        assert d.verdict == "inconclusive" and d.flags[0].startswith("regime-outside-sweep")
    assert verdict(regime_p50=4.9e-4, shares=(0.9,) * 3) == "inconclusive"


def test_the_sweep_point_nearest_the_regime_centre_in_log_decides() -> None:
    s = Sweep(runs=tuple(runs("rl", 1e-6, 6e-4, [0.9] * 2) + runs("rl", 1e-5, 2.5e-3, [0.1] * 2)),
              overlaps=tuple(pairs("rl", 1e-6, [0.7]) + pairs("rl", 1e-5, [0.7])))
    d = decide_sparsity(s)  # log distance to 1.2e-3: 0.301 vs 0.319 decades
    assert d.details["regime_lr"] == 1e-6 and d.verdict == "inconsistent"


def test_one_seed_is_flagged_and_never_decides() -> None:
    s = Sweep(runs=tuple(runs("rl", 1e-6, 1.2e-3, [0.15])))
    d = decide_sparsity(s)
    assert d.verdict == "inconclusive" and any(f.startswith("one-seed") for f in d.flags)
    assert d.interval_over == "single run (no interval)"


def test_a_bracket_rate_with_fewer_seeds_deciding_is_flagged() -> None:
    # the standard sweep runs 2 seeds at the bracket rates, 3 at the middle: if a bracket rate is
    # nearest the regime, the decision rests on fewer runs than designed, and says so
    s = Sweep(runs=tuple(runs("rl", 1e-7, 1.2e-3, [0.15] * 2) + runs("rl", 1e-6, 1e-2, [0.9] * 3)),
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
    assert {f.split(":")[0] for f in decide_sparsity(low).flags} == {"below-bf16-resolution-everywhere"}
    assert {f.split(":")[0] for f in decide_sparsity(high).flags} == {"above-bf16-resolution-everywhere"}


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
@given(st.floats(1e-5, 1e-1, allow_nan=False))
def test_the_verdict_is_decisive_only_inside_the_regime_band(p50: float) -> None:
    inside = REGIME[0] <= p50 <= REGIME[2]
    assert verdict(regime_p50=p50) == ("consistent" if inside else "inconclusive")
