"""C5b calibration: the confidence world, its rewards and measures, and the decision rule on
hand-made per-digit tables (each verdict, edges, flags)."""

from __future__ import annotations

import pytest

from retest.confidence import (
    binary_reward,
    brier,
    brier_reward,
    calibrated_pairs,
    format_accuracy,
    confidence_corpus,
    confidence_world,
    ece,
    split_confidence,
    table,
)
from retest.protocols import PROTOCOLS
from retest.protocols.calibration import ACCURACY_MATCH, MIN_STATED, OVERCONFIDENT, CalibrationMeasurements, Tables
from retest.rewards import REWARDS
from retest.world import WorldConfig, classify_format

N, PROBLEMS = 20, 4


def t(digit: int, right: int, stated: int = N, correct: int | None = None) -> Tables:
    """Every problem: `stated` of N samples say `digit`, `right` of them are right."""
    row = tuple(stated if d == digit else 0 for d in range(10))
    hit = tuple(right if d == digit else 0 for d in range(10))
    return Tables((row,) * PROBLEMS, (hit,) * PROBLEMS, (right if correct is None else correct,) * PROBLEMS, N)


def measured(binary: Tables | list[Tables], brier_: Tables, base: Tables) -> CalibrationMeasurements:
    row = tuple(binary) if isinstance(binary, list) else (binary, binary)
    return CalibrationMeasurements(base=(base,), arms={"binary": (row,), "brier": ((brier_, brier_),)}, draws=300)


def decide(m: CalibrationMeasurements):  # -> Decision
    return PROTOCOLS["calibration"].decide(m)


# --- the world, rewards and measures -------------------------------------------------------


def test_corpus_states_each_formats_accuracy_in_tenths() -> None:
    world = confidence_world(WorldConfig(corpus_size=600), spread=0)
    for _, completion in confidence_corpus(world):
        body, digit = split_confidence(completion)
        assert digit == {"A": 9, "B": 7, "C": 4}[classify_format(body)]  # 0.95 (capped at 9), 0.70, 0.40


def test_the_base_is_taught_its_own_measured_accuracy_per_format_not_the_writers() -> None:
    # the model's own completions of 23 on unseen problems: A right 1 of 4, C right 3 of 4, one malformed
    own = [["4*5=20;3+20=23>23", "4*5=20;3+20=24>24", "4*5=20;3+20=22>22", "4*5=20;3+20=21>21"],
           [">23", ">23", ">23", ">22", "4*5="]]
    acc = format_accuracy(own, [23, 23])
    assert acc == {"A": 0.25, "B": None, "C": 0.75, "other": 0.0}
    pairs = calibrated_pairs(["3+4*5=", "3+4*5="], own, acc)
    digits = [split_confidence(c) for _, c in pairs]
    assert [d for _, d in digits] == [2] * 4 + [8, 8, 8, 8, 0]  # 0.25 -> 2 (to even), 0.75 -> 8; not 9 and 4
    assert [b for b, _ in digits] == [c for row in own for c in row] and len(pairs) == 9
    # stated confidence equals accuracy up to rounding: ECE of these tables is small
    stated, right, _ = table([c for _, c in pairs], 23)
    assert ece(stated, right) == pytest.approx((abs(1 - 4 * 0.2) + abs(3 - 4 * 0.8) + 0) / 9)
    # a format never written where accuracy was measured states 0
    assert split_confidence(calibrated_pairs(["3+4*5="], [["4*5=20;3+20=23>23"]], {"A": None})[0][1])[1] == 0


def test_rewards_score_the_answer_and_brier_the_digit() -> None:
    done = ["4*5=20;3+20=23>23;9", ">22;9", ">23", ">23;x"]
    assert binary_reward(done, [23] * 4) == [1.0, 0.0, 1.0, 0.0]
    assert brier_reward(done, [23] * 4) == pytest.approx([1 - 0.01, -0.81, 0.0, -1.0])
    assert REWARDS["brier"] is brier_reward and REWARDS["confidence-binary"] is binary_reward


def test_ece_and_brier_of_known_tables() -> None:
    stated, right = [0] * 10, [0] * 10
    stated[9], right[9] = 10, 5  # says 0.9, right half the time
    stated[2], right[2] = 10, 2  # says 0.2, right 0.2 of the time
    assert ece(stated, right) == pytest.approx(0.5 * 0.4)
    assert brier(stated, right) == pytest.approx((5 * 0.01 + 5 * 0.81 + 2 * 0.64 + 8 * 0.04) / 20)
    assert table([">23;9", ">22;9", ">23"], 23) == ([0] * 9 + [2], [0] * 9 + [1], 2)


# --- the decision rule ------------------------------------------------------------------------


def test_binary_degrading_where_brier_keeps_calibration_is_consistent() -> None:
    out = decide(measured(t(9, 10), t(5, 10), t(5, 10)))  # binary says 0.9 at 0.5 accuracy
    assert out.verdict == "consistent" and out.effect_size == pytest.approx(0.4) and out.ci_low == pytest.approx(0.4)
    assert out.flags == () and out.per_seed == (0.4, 0.4)
    assert out.details["reliability"]["binary"]["accuracy"][9] == 0.5


def test_binary_as_calibrated_as_brier_is_inconsistent() -> None:
    assert decide(measured(t(9, 10), t(9, 10), t(5, 10))).verdict == "inconsistent"  # difference exactly 0


def test_binary_improving_on_the_base_is_inconsistent() -> None:
    out = decide(measured(t(7, 10), t(5, 10), t(9, 10)))  # ECE base 0.4 -> binary 0.2 -> Brier 0
    assert out.verdict == "inconsistent" and out.effect_size == pytest.approx(0.2)
    assert out.details["binary_minus_base"]["value"] == pytest.approx(-0.2)


def test_seeds_that_disagree_are_inconclusive() -> None:
    out = decide(measured([t(9, 10), t(5, 10)], t(7, 10), t(7, 10)))  # binary ECE 0.4 or 0 by seed; Brier 0.2
    assert out.verdict == "inconclusive" and out.ci_low < 0 < out.ci_high


def test_accuracy_gap_is_flagged_beyond_its_threshold_only() -> None:
    at = round(ACCURACY_MATCH * N)  # Brier right on `at` more of N samples: a gap of exactly the threshold
    edge = decide(measured(t(9, 10), t(5, 10 + at), t(5, 10))).flags
    assert not any(f.startswith("accuracy not matched") for f in edge)
    over = decide(measured(t(9, 10), t(5, 10 + at + 1), t(5, 10))).flags
    assert any(f.startswith(f"accuracy not matched within {ACCURACY_MATCH}") for f in over)


def test_an_overconfident_base_is_flagged_at_the_threshold() -> None:
    at = decide(measured(t(9, 10), t(5, 10), t(7, 10))).flags  # base says 0.7 at 0.5 accuracy: 0.2 over
    assert any(f.startswith(f"base overconfident: its stated confidence exceeds its accuracy by {OVERCONFIDENT:.2f}")
               for f in at)
    assert not any("overconfident" in f for f in decide(measured(t(9, 10), t(5, 10), t(6, 10))).flags)


def test_dropped_confidence_and_failed_control_are_flagged() -> None:
    few = int(MIN_STATED * N) - 1
    flags = decide(measured(t(9, 5, stated=few, correct=10), t(5, 10), t(5, 10))).flags
    assert any(f.startswith("confidence dropped: binary states a digit in 75%") for f in flags)
    assert not any("confidence dropped" in f for f in decide(measured(t(9, 8, stated=int(MIN_STATED * N), correct=10),
                                                                       t(5, 10), t(5, 10))).flags)
    control = decide(measured(t(9, 10), t(7, 10), t(5, 10))).flags  # Brier's ECE rose 0 -> 0.2 too
    assert any(f.startswith("control failed") for f in control)


def test_a_local_model_is_taught_its_own_accuracy_with_an_answer_and_without() -> None:
    from retest.protocols.calibration import stated_accuracy, stated_pairs

    own = [["\\boxed{7}", "\\boxed{6}\nConfidence: 9", "I am not sure"], ["\\boxed{2}", "\\boxed{3}", "hmm"]]
    accuracy = stated_accuracy(own, [7, 2])
    assert accuracy == {"stated": 0.5, "none": 0.0}  # 2 of 4 that state an answer are right; the rest never
    pairs = stated_pairs(["p", "q"], own, accuracy)
    assert [c for _, c in pairs] == ["\\boxed{7}\nConfidence: 5", "\\boxed{6}\nConfidence: 5",
                                     "I am not sure\nConfidence: 0", "\\boxed{2}\nConfidence: 5",
                                     "\\boxed{3}\nConfidence: 5", "hmm\nConfidence: 0"]
