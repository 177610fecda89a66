"""A real model's completions (the gpu preset's problem file) are scored by their stated final answer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from retest.answers import final_answer, final_answer_reward
from retest.lab import evaluate, scorer_of
from retest.presets import preset
from retest.sampler import FakeSampler


@pytest.mark.parametrize(("text", "answer"), [
    ("so the total is \\boxed{42}.", 42),
    ("first \\boxed{3}, no wait: \\boxed{ 1,024 }", 1024),  # the last box, thousands separators
    ("48/2 = 24\n#### 24", 24),
    ("#### -7\n", -7),
    ("So the answer is 24.", 24),  # a final number stated as the answer, at the very end
    ("Answer: **-3**", -3),
    ("The answer is 24 apples, or maybe", None),  # not at the end: cut off
    ("Let me compute 12*2 = 24 and then", None),  # truncated mid-solution
    ("Let me compute 12*2 = 24", None),  # the last number is no stated answer
    ("\\boxed{}", None),
    ("#### 12 apples", None),  # the GSM8K marker ends its line with the number alone
])
def test_final_answer_is_read_strictly(text: str, answer: int | None) -> None:
    assert final_answer(text) == answer


def test_the_reward_and_the_evaluation_agree_on_a_problem_file() -> None:
    assert final_answer_reward(["\\boxed{5}", "5", "#### 6"], [5, 5, 5]) == [1.0, 0.0, 0.0]
    cfg = SimpleNamespace(problems_file="problems.jsonl")  # a config with a problem file (checked elsewhere)
    texts = ["Thinking... \\boxed{7}", "it is 7", "#### 7", "\\boxed{8}"]
    out = evaluate(FakeSampler(lambda p, i: texts[i]), [("3+4?", 7)], 4, 1.0, 64, scorer_of(cfg))
    assert out.counts == (2,)  # boxed and #### count; a bare number and a wrong box do not
    toy = evaluate(FakeSampler(lambda p, i: texts[i]), [("3+4?", 7)], 4, 1.0, 64, scorer_of(preset("smoke")))
    assert toy.counts == (0,)  # the toy world's strict formats do not read free text
    assert preset("smoke").rl.reward == "correct"


def test_one_parser_reads_real_text_in_every_protocol_that_counts_answers() -> None:
    from retest.lab import answer_of
    from retest.majority import maj_at_k, reach
    from retest.protocols.hard_samples import draw_of

    local = SimpleNamespace(problems_file="problems.jsonl")
    texts = [["Thinking... \\boxed{7}", "#### 7", "So the answer is 7.", "\\boxed{8}"]]
    parse = answer_of(local)
    assert draw_of(texts, [7], parse).correct == (3,)  # C5a on a problem file
    assert draw_of(texts, [7]).correct == (0,)  # the toy world's parser: all zeros on real text
    assert maj_at_k(texts[0], 7, 4, parse) == 1.0 and reach(texts[0], 8, parse) == 1.0  # C4a's scores
    assert answer_of(preset("smoke")) is not parse  # the toy world keeps its strict parse


@pytest.mark.parametrize(("rates", "flagged"), [
    ([0.0, 0.0, 0.0], True), ([1.0, 1.0], True), ([0.0, 0.25], False), ([1.0, 0.0], False), ([], False)])
def test_no_signal_is_flagged_when_every_draw_scores_0_or_every_one_1(rates, flagged: bool) -> None:
    from retest.protocols.spec import NO_SIGNAL, no_signal

    out = no_signal(rates)
    assert bool(out) == flagged and all(f.startswith(NO_SIGNAL) for f in out)


@pytest.mark.parametrize(("text", "body", "digit"), [
    ("So \\boxed{7}.\nConfidence: 8", "So \\boxed{7}.", 8),
    ("The answer is 7.\n**Confidence:** 3.\n", "The answer is 7.", 3),
    ("\\boxed{7}\nConfidence: 75", "\\boxed{7}\nConfidence: 75", None),  # one digit, tenths
    ("Confidence: 9, and the answer is \\boxed{7}", "Confidence: 9, and the answer is \\boxed{7}", None),  # not last
    ("\\boxed{7}", "\\boxed{7}", None),
])
def test_a_stated_confidence_is_the_last_line_alone(text: str, body: str, digit: int | None) -> None:
    from retest.answers import split_confidence

    assert split_confidence(text) == (body, digit)


def test_the_real_text_calibration_rewards_read_answer_and_confidence() -> None:
    from retest.rewards import reward

    texts = ["The answer is 7.\nConfidence: 9", "The answer is 6.\nConfidence: 9", "The answer is 7."]
    # the answer before the confidence line is read ("the answer is 7." is no longer at the very end)
    assert reward("confidence-binary-final")(texts, [7, 7, 7]) == [1.0, 0.0, 1.0]
    assert reward("brier-final")(texts, [7, 7, 7]) == pytest.approx([1 - 0.1**2, -(0.9**2), 0.0])
