"""The toy world: arithmetic problems with a verifiable answer and a chosen prior.

Why `a+b*c` / `a*b+c` with single digits: the answer is checked exactly, there are
enough problems (1,458) for a held-out split, and the solution can be written in
formats that differ in how reliably a small model gets it right. The corpus mixture
of those formats (and their share of wrong solutions) *is* the prior we control:

- ``A`` step by step: ``4*5=20;3+20=23>23`` (two intermediate results)
- ``B`` compact:      ``3+20=23>23`` (the product done in the head)
- ``C`` answer only:  ``>23``

A completion is scored only when it is one of these formats written out in full
(`parse`); anything else, a truncated one included, is "other" and wrong. Everything
is generated from `WorldConfig.seed`: the same config gives the same split and corpus.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("A", "B", "C")
TEMPLATES = ("a+b*c", "a*b+c")


@dataclass(frozen=True)
class Problem:
    """One problem: `prompt` is what the model sees, `answer` the verified result."""

    a: int
    b: int
    c: int
    template: str

    @property
    def prompt(self) -> str:
        return self.template.replace("a", str(self.a)).replace("b", str(self.b)).replace("c", str(self.c)) + "="

    @property
    def answer(self) -> int:
        return self.a + self.b * self.c if self.template == "a+b*c" else self.a * self.b + self.c


@dataclass(frozen=True)
class WorldConfig:
    """The prior: format mixture, share of wrong solutions per format, difficulty."""

    seed: int = 0
    min_operand: int = 1
    max_operand: int = 9  # difficulty: operands drawn from [min_operand, max_operand]
    held_out: int = 200
    corpus_size: int = 40_000
    mixture: dict[str, float] = field(default_factory=lambda: {"A": 0.2, "B": 0.3, "C": 0.5})
    wrong: dict[str, float] = field(default_factory=lambda: {"A": 0.05, "B": 0.3, "C": 0.6})

    def __post_init__(self) -> None:
        if set(self.mixture) != set(FORMATS) or abs(sum(self.mixture.values()) - 1) > 1e-6:
            raise ValueError(f"mixture must give shares for {FORMATS} summing to 1, got {self.mixture}")
        if any(not 0 <= w <= 1 for w in self.wrong.values()) or set(self.wrong) != set(FORMATS):
            raise ValueError(f"wrong must give a share in [0, 1] for each of {FORMATS}, got {self.wrong}")
        if not 1 <= self.min_operand <= self.max_operand:
            raise ValueError("need 1 <= min_operand <= max_operand")


def all_problems(config: WorldConfig) -> list[Problem]:
    """Every problem of the world, in a fixed order."""
    r = range(config.min_operand, config.max_operand + 1)
    return [Problem(a, b, c, t) for t in TEMPLATES for a in r for b in r for c in r]


def split(config: WorldConfig) -> tuple[list[Problem], list[Problem]]:
    """(train, held_out): a seeded shuffle of all problems."""
    problems = all_problems(config)
    random.Random(config.seed).shuffle(problems)
    n = min(config.held_out, len(problems) // 2)
    return problems[n:], problems[:n]


def _corrupt(value: int, rng: random.Random) -> int:
    return max(0, value + rng.choice([-3, -2, -1, 1, 2, 3, 10, -10]))


def solve(problem: Problem, fmt: str, correct: bool, rng: random.Random) -> str:
    """The completion of `problem` in format `fmt`; a wrong one slips in one step."""
    p, a, b, c = problem, problem.a, problem.b, problem.c
    if p.template == "a+b*c":
        inner, inner_text, outer_of = b * c, f"{b}*{c}", lambda x: f"{a}+{x}"
    else:
        inner, inner_text, outer_of = a * b, f"{a}*{b}", lambda x: f"{x}+{c}"
    if fmt == "A":
        mid = inner if correct or rng.random() < 0.5 else _corrupt(inner, rng)
        final = p.answer + (mid - inner)
        if not correct and final == p.answer:
            final = _corrupt(final, rng)
        return f"{inner_text}={mid};{outer_of(mid)}={final}>{final}"
    final = p.answer if correct else _corrupt(p.answer, rng)
    if fmt == "B":
        return f"{outer_of(inner)}={final}>{final}"
    return f">{final}"


def corpus(config: WorldConfig) -> list[tuple[str, str]]:
    """The pretraining corpus: (prompt, completion) pairs drawn by the mixture."""
    rng = random.Random(config.seed + 1)
    train, _ = split(config)
    fmts, weights = list(config.mixture), list(config.mixture.values())
    out = []
    for _ in range(config.corpus_size):
        p = rng.choice(train)
        fmt = rng.choices(fmts, weights)[0]
        correct = rng.random() >= config.wrong[fmt]
        out.append((p.prompt, solve(p, fmt, correct, rng)))
    return out


# A completion is one of the three formats written out in full, or it is malformed
# ("other", never correct): no fall-back to "the last number", so a completion cut off
# before its `>answer` (or with anything after it) scores wrong.
_NUM = r"(\d+)"
_FORMS = {
    "A": re.compile(rf"{_NUM}\*{_NUM}={_NUM};{_NUM}\+{_NUM}={_NUM}>{_NUM}"),
    "B": re.compile(rf"{_NUM}\+{_NUM}={_NUM}>{_NUM}"),
    "C": re.compile(rf">{_NUM}"),
}


def parse(completion: str) -> tuple[str, int | None]:
    """(format, answer) of a completion, strictly; ("other", None) unless it has a whole A, B or C shape.

    The format is the shape: A ``x*y=m;u+v=s>r``, B ``u+v=s>r``, C ``>r`` (surrounding
    whitespace aside). The answer `r` counts only when the completion agrees with itself:
    in A the product's result `m` is one of the sum's addends (the chain links) and
    `r == s`; in B `r == s`. A completion of the right shape that contradicts itself keeps
    its format and has no answer (wrong). The arithmetic of a step is not checked: a wrong
    step is a wrong answer.
    """
    text = completion.strip()
    for fmt, form in _FORMS.items():
        m = form.fullmatch(text)
        if m is None:
            continue
        n = [int(g) for g in m.groups()]
        if fmt == "A" and (n[2] not in (n[3], n[4]) or n[5] != n[6]):
            return fmt, None
        if fmt == "B" and n[2] != n[3]:
            return fmt, None
        return fmt, n[-1]
    return "other", None


def parse_answer(completion: str) -> int | None:
    """The answer of a well-formed completion (`parse`), else None."""
    return parse(completion)[1]


def classify_format(completion: str) -> str:
    """A, B or C by the completion's whole shape (`parse`); "other" when malformed or truncated."""
    return parse(completion)[0]


def is_correct(completion: str, answer: int) -> bool:
    """Whether a well-formed completion gives `answer`: a malformed one is wrong."""
    return parse_answer(completion) == answer


def load_problems(path: Path) -> list[tuple[str, int]]:
    """A problem file for real models: JSON lines with "prompt" and integer "answer"."""
    rows = []
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if "prompt" not in row or "answer" not in row:
                raise ValueError(f"{path}:{i}: need 'prompt' and 'answer'")
            rows.append((str(row["prompt"]), int(row["answer"])))
    return rows
