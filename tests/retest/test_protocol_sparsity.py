"""C2 update-sparsity: the decision rule on hand-made measurements, each verdict and edge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.protocols import CLAIMED

from .protocol_cases import decide, measured, sampled, weights


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
