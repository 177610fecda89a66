"""C3 format-collapse: the decision rule on hand-made measurements, each verdict and edge."""

from __future__ import annotations

import pytest

from retest.protocols import DOMINANCE
from retest.results import Sampled

from .protocol_cases import decide, measured, sampled


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

def test_format_collapse_onto_an_already_dominant_prior_is_flagged() -> None:
    def fmt(a: float) -> Sampled:
        return sampled([2] * 20, {"A": a, "C": 1.0 - a}, entropy=0.5)

    dominated = decide("format-collapse", measured(fmt(DOMINANCE), [fmt(0.9)] * 2))
    assert dominated.flags and "prior already dominated" in dominated.flags[0]
    open_prior = decide("format-collapse", measured(fmt(0.2), [fmt(0.9)] * 2))
    assert open_prior.flags == ()
