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
    ("The answer is 24", None),  # no stated answer: no guess from the last number
    ("Let me compute 12*2 = 24 and then", None),  # truncated mid-solution
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
