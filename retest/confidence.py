"""The confidence world of C5b: completions that end in a stated confidence digit.

A completion is one of the toy world's formats followed by ``;d``, the writer's
confidence in tenths: ``4*5=20;3+20=23>23;9`` says "23, and I am 90% sure". Only the
char tokenizer's characters are used, so the tokenizer is unchanged. In the pretraining
corpus the digit is the format's corpus accuracy (A 0.95, B 0.70, C 0.40 by default)
rounded to tenths, moved by up to `ConfidenceWorld.spread` tenths at random: a base
pretrained on it states a confidence that tracks its format, the calibration prior. A tiny
model is less accurate than the writer, so that digit makes it overconfident by construction;
`calibrated_pairs` instead labels the model's own completions with its measured accuracy per
format, which C5b teaches before RL.

Two reward functions, named in `retest.rewards.REWARDS`:

- ``confidence-binary``: 1 for a right answer, else 0; the digit is ignored (a binary
  reward says nothing about confidence);
- ``brier`` (RLCR, Damani et al. 2025): correctness minus the Brier penalty
  ``(c - y)^2``; a completion that states no digit is penalised as if it had said the
  opposite of the truth (``y - 1``).

Calibration is read from per-digit tables: for each problem, how many samples state
digit d and how many of those are right (`table`); `ece` and `brier` work on sums of them.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retest.world import FORMATS, WorldConfig, all_problems, classify_format, corpus, parse_answer

DIGITS = 10  # confidence digit d means d / 10
_TAIL = re.compile(r"(.*);(\d)")


@dataclass(frozen=True)
class ConfidenceWorld(WorldConfig):
    """The toy world whose corpus states a confidence digit after each answer."""

    spread: int = 1  # the stated digit is the format's corpus accuracy in tenths, moved by up to this much


def confidence_world(world: WorldConfig, spread: int = 1) -> ConfidenceWorld:
    """The confidence world with the problems, mixture and difficulty of `world`."""
    base = {f.name: getattr(world, f.name) for f in dataclasses.fields(WorldConfig)}
    return ConfidenceWorld(**base, spread=spread)


def stated_digit(fmt: str, world: WorldConfig, rng: random.Random, spread: int) -> int:
    """The corpus writer's digit for a solution in format `fmt`."""
    centre = round(10 * (1 - world.wrong[fmt]))
    return min(DIGITS - 1, max(0, centre + rng.randint(-spread, spread)))


def confidence_corpus(world: WorldConfig) -> list[tuple[str, str]]:
    """The world's corpus with ``;d`` after each completion (`stated_digit`)."""
    spread = getattr(world, "spread", 1)
    rng = random.Random(world.seed + 2)
    out = []
    for prompt, completion in corpus(world):
        fmt = classify_format(completion)
        out.append((prompt, f"{completion};{stated_digit(fmt, world, rng, spread)}"))
    return out


def format_accuracy(completions: list[list[str]], answers: list[int]) -> dict[str, float | None]:
    """Per format (A, B, C, other): the share of a model's own completions in it that are right
    (None for a format it never wrote)."""
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    for texts, answer in zip(completions, answers):
        for c in texts:
            fmt = classify_format(c)
            seen[fmt] = seen.get(fmt, 0) + 1
            right[fmt] = right.get(fmt, 0) + (parse_answer(c) == answer)
    return {f: round(right[f] / seen[f], 4) if seen.get(f) else None for f in (*FORMATS, "other")}


def calibrated_pairs(prompts: list[str], completions: list[list[str]],
                     accuracy: dict[str, float | None]) -> list[tuple[str, str]]:
    """The model's own completions with ``;d`` appended, d its measured `accuracy` in that
    completion's format (`format_accuracy`, on problems it never saw) in tenths: SFT on them
    teaches a digit calibrated to the model itself, not to the corpus writer (whose 0.4-0.9 a
    tiny model does not reach). A format it never wrote on those problems states 0."""
    digit = {f: min(DIGITS - 1, max(0, round(DIGITS * a))) for f, a in accuracy.items() if a is not None}
    return [(p, f"{c.strip()};{digit.get(classify_format(c), 0)}") for p, texts in zip(prompts, completions)
            for c in texts]


def answers_of(world: WorldConfig) -> dict[str, int]:
    """prompt -> answer for every problem of the world."""
    return {p.prompt: p.answer for p in all_problems(world)}


def split_confidence(completion: str) -> tuple[str, int | None]:
    """(the solution, the stated digit or None): ``>23;7`` -> (">23", 7)."""
    text = completion.strip()
    m = _TAIL.fullmatch(text)
    return (m.group(1), int(m.group(2))) if m else (text, None)


def judge(completion: str, answer: int) -> tuple[bool, int | None, str]:
    """(right?, stated digit or None, format) of a confidence-world completion (strict parse)."""
    body, digit = split_confidence(completion)
    got = parse_answer(body)
    return got is not None and got == answer, digit, classify_format(body)


# --- rewards (TRL signature) ------------------------------------------------------------


def binary_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """1 for a right answer, else 0; the confidence digit plays no part."""
    return [1.0 if judge(c, int(a))[0] else 0.0 for c, a in zip(completions, answer)]


def brier_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """RLCR: y - (c - y)^2 with y the correctness and c the stated confidence; no digit: y - 1."""
    return [rlcr(*judge(c, int(a))[:2]) for c, a in zip(completions, answer)]


def rlcr(right: bool, digit: int | None) -> float:
    """The RLCR reward of one completion: y - (c - y)^2 (y its correctness, c = digit / 10); no digit: y - 1."""
    y = 1.0 if right else 0.0
    return y - 1.0 if digit is None else y - (digit / DIGITS - y) ** 2


# --- calibration ------------------------------------------------------------------------


def table(completions: list[str], answer: int,
          judged: Callable[[str, int], tuple[bool, int | None, str]] = judge) -> tuple[list[int], list[int], int]:
    """(samples stating digit d, of those right, right in all) for one problem's samples, each scored by
    `judged` (the confidence world's `judge`; a real model's: `retest.answers.judge_stated`)."""
    stated, right, total = [0] * DIGITS, [0] * DIGITS, 0
    for c in completions:
        ok, digit, _ = judged(c, answer)
        total += ok
        if digit is not None:
            stated[digit] += 1
            right[digit] += ok
    return stated, right, total


def ece(stated: np.ndarray, right: np.ndarray) -> float:
    """Expected calibration error over digit bins: sum_d |right_d - stated_d * d/10| / sum stated."""
    stated, right = np.asarray(stated, float), np.asarray(right, float)
    total = stated.sum()
    if total == 0:
        return float("nan")
    conf = np.arange(DIGITS) / DIGITS
    return float(np.abs(right - stated * conf).sum() / total)


def brier(stated: np.ndarray, right: np.ndarray) -> float:
    """Mean Brier score (c - y)^2 of the samples that state a digit."""
    stated, right = np.asarray(stated, float), np.asarray(right, float)
    total = stated.sum()
    if total == 0:
        return float("nan")
    conf = np.arange(DIGITS) / DIGITS
    return float((right * (1 - conf) ** 2 + (stated - right) * conf**2).sum() / total)
