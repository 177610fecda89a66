"""Reward functions by name (`RLConfig.reward`): the one table GRPO picks its reward from.

Every reward is named here, explicitly: nothing is added to `REWARDS` by importing a
module, so which rewards exist never depends on what was imported first (a spawned
training worker that unpickles `retest.rl.ensure_rl` sees the same table as the parent).
Each function is a plain TRL reward: it takes TRL's keyword arguments (`prompts`,
`completions` and the dataset's columns, e.g. `answer`) and returns one float per
completion.

| name | function | used by |
| --- | --- | --- |
| ``correct`` | `correctness_reward` | the toy world (C1-C3, C4a) |
| ``format-credit`` | `format_credit_reward` | C5a, hard samples: a gameable reward |
| ``final-answer`` | `retest.answers.final_answer_reward` | a real model's problem file (gpu preset) |
| ``confidence-binary`` | `retest.confidence.binary_reward` | C5b, the binary arm |
| ``brier`` | `retest.confidence.brier_reward` | C5b, the RLCR arm |
| ``confidence-binary-final`` | `binary_final_reward` | C5b on a problem file, the binary arm |
| ``brier-final`` | `brier_final_reward` | C5b on a problem file, the RLCR arm |
| ``majority`` | `retest.majority.majority_reward` | C4a, label-free RL |
| ``majority-final`` | `majority_final_reward` | C4a on a problem file (real text) |
| ``open`` | `retest.openworld.mixed_reward` | C4b, the open-ended task |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retest.answers import final_answer, final_answer_reward, judge_stated
from retest.confidence import binary_reward, brier_reward, rlcr
from retest.majority import majority_reward
from retest.openworld import mixed_reward
from retest.world import classify_format, is_correct

Reward = Callable[..., list[float]]


def correctness_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """1.0 for a completion whose answer is right, else 0.0 (TRL reward function)."""
    return [1.0 if is_correct(c, int(a)) else 0.0 for c, a in zip(completions, answer)]


FORMAT_CREDIT = 0.5  # a well-formed completion's share of the reward, right or wrong


def format_credit_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """0.5 for a well-formed completion (an A, B or C shape), plus 0.5 when its answer is right (TRL reward).

    The usual "format + accuracy" sum (each half of the maximum): gameable, since a wrong
    answer-only guess (``>7``) earns the format half, so a shortcut can pay when it is wrong.
    """
    return [FORMAT_CREDIT * (classify_format(c) != "other") + (1 - FORMAT_CREDIT) * is_correct(c, int(a))
            for c, a in zip(completions, answer)]


def majority_final_reward(completions: list[str], prompts: list[Any] | None = None, **_: Any) -> list[float]:
    """`retest.majority.majority_reward` over a real model's stated answers (`retest.answers.final_answer`)."""
    return majority_reward(completions, prompts, parse=final_answer)


def binary_final_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """1 for a right stated answer before the confidence line (`retest.answers.judge_stated`), else 0; the digit is free."""
    return [1.0 if judge_stated(c, int(a))[0] else 0.0 for c, a in zip(completions, answer)]


def brier_final_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """RLCR (`retest.confidence.rlcr`) on a real completion's stated answer and confidence digit."""
    return [rlcr(*judge_stated(c, int(a))[:2]) for c, a in zip(completions, answer)]


REWARDS: dict[str, Reward] = {
    "correct": correctness_reward,
    "format-credit": format_credit_reward,
    "final-answer": final_answer_reward,
    "confidence-binary": binary_reward,
    "brier": brier_reward,
    "confidence-binary-final": binary_final_reward,
    "brier-final": brier_final_reward,
    "majority": majority_reward,
    "majority-final": majority_final_reward,
    "open": mixed_reward,
}
"""Reward functions by name (`RLConfig.reward`), all of them, written out above."""


def reward(name: str) -> Reward:
    """The reward function called `name`; a ValueError naming the choices for an unknown one."""
    if name not in REWARDS:
        raise ValueError(f"unknown reward {name!r}: choose one of {sorted(REWARDS)}")
    return REWARDS[name]
