"""Label-free signals for C4a: majority votes over a model's own answers.

- `majority`: the most common parsed answer of a set of completions (ties go to the
  answer seen first; completions without an answer do not vote).
- `majority_reward`: a TRL reward function (`RLConfig.reward = "majority"`) that gives 1
  to a completion whose answer equals its group's majority answer (TTRL-style): the
  dataset's `answer` column is never read, so the reward uses no labels.
  Groups: TRL 1.16 draws prompts with `RepeatSampler(mini_repeat_count=num_generations)`
  (trl/trainer/grpo_trainer.py `_get_train_sampler`) and normalises rewards over
  `rewards.view(-1, num_generations)`, so the completions of one prompt are a contiguous
  run of `group_size` in the batch a reward function sees (one process). We group by
  contiguous runs of the same prompt, which is that grouping without knowing the size.
- `maj_at_k`, `reach`: majority-vote accuracy and "any sample correct" per problem.

Every function reads answers with `parse`: the toy world's strict `parse_answer` by
default, `retest.answers.final_answer` for a real model's text (`retest.lab.answer_of`;
the reward ``majority-final``, `retest.rewards.majority_final_reward`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from retest.world import parse_answer

Parse = Callable[[str], "int | None"]


def majority(completions: Sequence[str], parse: Parse = parse_answer) -> int | None:
    """The most common answer among `completions` (first seen wins a tie); None if none parse."""
    answers = [a for a in (parse(c) for c in completions) if a is not None]
    return Counter(answers).most_common(1)[0][0] if answers else None


def groups(prompts: Sequence[Any]) -> list[range]:
    """Index ranges of contiguous runs of equal prompts (TRL's groups of one prompt)."""
    out, start = [], 0
    for i in range(1, len(prompts) + 1):
        if i == len(prompts) or prompts[i] != prompts[start]:
            out.append(range(start, i))
            start = i
    return out


def majority_reward(completions: list[str], prompts: list[Any] | None = None, parse: Parse = parse_answer,
                    **_: Any) -> list[float]:
    """1.0 when a completion's answer equals its group's majority answer, else 0.0 (no labels)."""
    prompts = prompts if prompts is not None else [None] * len(completions)
    rewards = [0.0] * len(completions)
    for g in groups(prompts):
        label = majority([completions[i] for i in g], parse)
        for i in g:
            rewards[i] = 1.0 if label is not None and parse(completions[i]) == label else 0.0
    return rewards


def maj_at_k(completions: Sequence[str], answer: int, k: int, parse: Parse = parse_answer) -> float:
    """Share of the disjoint blocks of `k` completions whose majority answer is right."""
    blocks = [completions[i : i + k] for i in range(0, len(completions) - k + 1, k)]
    if not blocks:
        raise ValueError(f"need at least k={k} completions, got {len(completions)}")
    return sum(majority(b, parse) == answer for b in blocks) / len(blocks)


def reach(completions: Sequence[str], answer: int, parse: Parse = parse_answer) -> float:
    """1.0 if any completion is right (reach@n), else 0.0."""
    return float(any(parse(c) == answer for c in completions))


def agreement(completions: Sequence[str], answer: int, group: int, parse: Parse = parse_answer) -> tuple[float, float]:
    """Over disjoint groups of `group` completions: (share whose majority answer is right,
    share where the majority reward equals the ground-truth reward on every completion)."""
    blocks = [completions[i : i + group] for i in range(0, len(completions) - group + 1, group)]
    right = same = 0
    for b in blocks:
        label = majority(b, parse)
        right += label == answer
        same += all((parse(c) == label and label is not None) == (parse(c) == answer) for c in b)
    return right / max(1, len(blocks)), same / max(1, len(blocks))
