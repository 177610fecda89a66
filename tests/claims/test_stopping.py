"""The stopping aid: relevant papers probably left among a claim's unlabelled candidates (claims/stopping.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claims.stopping import MIN_LABELS, estimate_remaining


def test_no_estimate_below_ten_labels() -> None:
    assert estimate_remaining([True] * 3 + [False] * 6, 40) is None
    assert estimate_remaining([True] * 3 + [False] * 7, 40) is not None


def test_a_run_of_misses_after_the_finds_means_little_is_left() -> None:
    done = estimate_remaining([True, True, True, False, True] + [False] * 15, 30)
    busy = estimate_remaining([False] * 10 + [True, False, True, True, False, True, True, False, True, True], 30)
    assert done is not None and busy is not None
    assert done.expected < 1.5 and done.low == 0 and done.window_relevant == 0
    assert busy.expected > 5 and busy.window_relevant == 7  # still finding: many probably remain
    assert "remain unseen among the 30 unlabelled candidates" in done.sentence()
    assert "20 relevance labels so far (4 relevant)" in done.basis() and "last 10 labels found 0" in done.basis()


def test_a_rate_never_rises_down_the_list() -> None:
    late = estimate_remaining([False] * 8 + [True] * 4, 20)  # the finds came late: a constant rate, not a rising one
    assert late is not None and late.expected <= 20 * 5 / 13 + 0.5


def test_nothing_unseen_is_nothing_left() -> None:
    est = estimate_remaining([True] * 5 + [False] * 5, 0)
    assert est is not None and (est.expected, est.low, est.high) == (0.0, 0, 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=MIN_LABELS, max_size=60), st.integers(0, 200))
def test_the_estimate_stays_inside_what_is_possible(labels: list[bool], unseen: int) -> None:
    est = estimate_remaining(labels, unseen)
    assert est is not None
    assert 0 <= est.low <= est.high <= unseen
    assert 0 <= est.expected <= unseen
    assert est.relevant == sum(labels) and est.labelled == len(labels)
