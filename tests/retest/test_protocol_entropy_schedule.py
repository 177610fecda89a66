"""C4b entropy-schedule: the decision rule on hand-made measurements, each verdict, edges, flags."""

from __future__ import annotations

import pytest

from retest.protocols import PROTOCOLS
from retest.protocols.entropy_schedule import MARGIN, PASS_MATCH, ScheduleMeasurements

N = 10  # targets


def measured(joint: float = 0.3, ordered: float | list[float] = 0.3, entropy: float | list[float] = 0.3,
             base: float = 0.6, valid: dict[str, float] | None = None, base_valid: float = 0.7,
             seeds: int = 2) -> ScheduleMeasurements:
    """Coverage of each arm at the given value on every target (a list varies it per target)."""
    cov = {"joint": joint, "ordered": ordered, "entropy": entropy}
    pass1 = {"joint": 0.9, "ordered": 0.9, "entropy": 0.9} | (valid or {})

    def rows(x: float | list[float]) -> list[list[list[float]]]:
        return [[x if isinstance(x, list) else [x] * N] * seeds]

    return ScheduleMeasurements(
        samples=64, targets=tuple(range(8, 8 + N)), base_coverage=[[base] * N], base_valid=[[base_valid] * N],
        coverage={a: rows(v) for a, v in cov.items()}, valid={a: rows(v) for a, v in pass1.items()}, draws=300)


def decide(m: ScheduleMeasurements):  # -> Decision
    return PROTOCOLS["entropy-schedule"].decide(m)


def test_a_scheduled_arm_above_joint_at_matched_pass1_is_consistent() -> None:
    d = decide(measured(ordered=0.31))
    assert d.verdict == "consistent" and d.details["lead_arm"] == "ordered"
    assert d.effect_size == pytest.approx(0.01) and d.ci_low > 0
    assert [f.split(":")[0] for f in d.flags] == ["entropy control never engaged"]  # entropy arm == joint here
    assert decide(measured(entropy=0.5)).details["lead_arm"] == "entropy"


def test_pass1_exactly_at_the_match_limit_still_counts_and_below_it_does_not() -> None:
    at = decide(measured(entropy=0.5, valid={"entropy": 0.9 - PASS_MATCH}))
    assert at.verdict == "consistent"
    below = decide(measured(entropy=0.5, valid={"entropy": 0.9 - PASS_MATCH - 0.01}))
    assert below.verdict == "inconclusive" and any("pass@1 not matched" in f for f in below.flags)


def test_no_arm_above_joint_is_inconsistent_and_the_margin_is_exclusive() -> None:
    assert decide(measured()).verdict == "inconsistent"  # all equal
    assert decide(measured(ordered=0.2, entropy=0.1)).verdict == "inconsistent"
    # an interval around 0 that reaches the margin: inconclusive
    spread = [0.3 - 2 * MARGIN, 0.3 + 2 * MARGIN] * (N // 2)
    d = decide(measured(ordered=spread))
    assert d.details["coverage_gain_vs_joint"]["ordered"]["high"] >= MARGIN and d.verdict == "inconclusive"
    small = [0.3 - MARGIN / 4, 0.3 + MARGIN / 4] * (N // 2)
    assert decide(measured(ordered=small, entropy=small)).verdict == "inconsistent"


def test_validity_flags_no_collapse_ceiling_and_unknown_task() -> None:
    d = decide(measured(joint=0.96, ordered=0.96, entropy=0.96, base=0.9, base_valid=0.1))
    text = " | ".join(d.flags)
    assert "no collapse" in text and "coverage ceiling" in text and "does not know the open task" in text
    assert decide(measured(joint=0.6, ordered=0.6, entropy=0.6, base=0.6)).flags[0].startswith("no collapse")


def test_an_entropy_arm_identical_to_joint_is_flagged_as_never_engaged() -> None:
    assert any(f.startswith("entropy control never engaged") for f in decide(measured(ordered=0.31)).flags)
    assert not any(f.startswith("entropy control") for f in decide(measured(entropy=0.31)).flags)


def test_a_problem_file_that_is_never_solved_is_flagged_no_signal_and_said_in_its_words() -> None:
    import dataclasses

    from retest.protocols.spec import NO_SIGNAL

    never = dataclasses.replace(measured(joint=0.0, ordered=0.0, entropy=0.0, base=0.0, base_valid=0.0,
                                         valid={"joint": 0.0, "ordered": 0.0, "entropy": 0.0}), task="problems")
    d = decide(never)
    assert any(f.startswith(NO_SIGNAL) for f in d.flags) and "does not know the problems" in " | ".join(d.flags)
    assert d.finding.startswith("coverage of held-out problems") and d.details["solutions"] == [1] * N
    # a model right some of the time: no such flag (the toy world's open task likewise)
    assert not any(f.startswith(NO_SIGNAL) for f in decide(dataclasses.replace(measured(), task="problems")).flags)
    assert not any(f.startswith(NO_SIGNAL) for f in decide(measured()).flags)

