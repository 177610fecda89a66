"""An open-ended task beside the toy world's arithmetic, for C4b (entropy scheduling).

The task: write the target `T` as a sum of three digits 1-9. The prompt is ``15=`` and
any of the 61 ordered triples is right (``4+5+6``, ``9+1+5``, ...); targets 8-22 have
21-61 solutions each, so 64 samples can show many distinct valid solutions, or few
after a policy converges. Only the char tokenizer's characters are used.

The base model learns the task by continued pretraining (`Lab.sft`) of the world's base
on a corpus that mixes demonstrations (a uniform random solution per example, some
wrong) with the arithmetic corpus, so the arithmetic prior stays. `mixed_reward`
("open" in `retest.rewards.REWARDS`) scores both tasks: validity for an open prompt, the
right answer for an arithmetic one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from retest.world import WorldConfig, corpus, is_correct

_OPEN_PROMPT = re.compile(r"^(?:<bos>)?(\d+)=$")
_TRIPLE = re.compile(r"([1-9])\+([1-9])\+([1-9])")


@dataclass(frozen=True)
class OpenTask:
    """Targets, and how the continued-pretraining corpus teaches the task."""

    min_target: int = 8
    max_target: int = 22
    examples: int = 20_000  # open-task demonstrations in the continued-pretraining corpus
    arithmetic: int = 20_000  # arithmetic examples mixed in (the world's corpus), so the prior stays
    wrong: float = 0.2  # share of demonstrations with a wrong last digit
    seed: int = 0

    def __post_init__(self) -> None:
        if not 3 <= self.min_target <= self.max_target <= 27:
            raise ValueError("targets must satisfy 3 <= min_target <= max_target <= 27 (three digits 1-9)")

    @property
    def targets(self) -> list[int]:
        return list(range(self.min_target, self.max_target + 1))


def prompt(target: int) -> str:
    return f"{target}="


def target_of(prompt_text: str) -> int | None:
    """The target of an open-task prompt; None for an arithmetic prompt."""
    m = _OPEN_PROMPT.match(prompt_text)
    return int(m.group(1)) if m else None


def solutions(target: int) -> list[str]:
    """Every valid completion for `target`, in a fixed order."""
    return [f"{a}+{b}+{c}" for a, b, c in product(range(1, 10), repeat=3) if a + b + c == target]


def is_valid(completion: str, target: int) -> bool:
    m = _TRIPLE.fullmatch(completion.strip())
    return bool(m) and sum(int(x) for x in m.groups()) == target


def coverage(completions: Sequence[str], target: int) -> float:
    """Distinct valid solutions among `completions`, as a share of the most there could be
    (min of the number of completions and the number of solutions)."""
    distinct = {c.strip() for c in completions if is_valid(c, target)}
    return len(distinct) / min(len(completions), len(solutions(target)))


def validity(completions: Sequence[str], target: int) -> float:
    """pass@1: the share of completions that are valid."""
    return sum(is_valid(c, target) for c in completions) / max(1, len(completions))


def demonstrations(task: OpenTask) -> list[tuple[str, str]]:
    """(prompt, completion) demonstrations: a uniform solution per example, `wrong` of them off by one."""
    rng = random.Random(task.seed + 7)
    out = []
    for _ in range(task.examples):
        t = rng.choice(task.targets)
        a, b, c = (int(x) for x in rng.choice(solutions(t)).split("+"))
        if rng.random() < task.wrong:
            c = c + 1 if c < 9 else c - 1
        out.append((prompt(t), f"{a}+{b}+{c}"))
    return out


def pretraining_pairs(task: OpenTask, world: WorldConfig) -> list[tuple[str, str]]:
    """The continued-pretraining corpus: open demonstrations and arithmetic, shuffled."""
    arith = corpus(world)
    rng = random.Random(task.seed + 11)
    pairs = demonstrations(task) + rng.sample(arith, min(task.arithmetic, len(arith)))
    rng.shuffle(pairs)
    return pairs


def mixed_reward(completions: list[str], prompts: list[Any], answer: list[int], **_: Any) -> list[float]:
    """Open prompt: 1.0 for a valid sum; arithmetic prompt: 1.0 for the right answer."""
    out = []
    for c, p, a in zip(completions, prompts, answer):
        t = target_of(str(p))
        out.append(1.0 if (is_valid(c, t) if t is not None else is_correct(c, int(a))) else 0.0)
    return out

