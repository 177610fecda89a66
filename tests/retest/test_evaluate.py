"""The sampler seam: any `Sampler` (here the scripted `FakeSampler`) scored into `Sampled`."""

from __future__ import annotations

import pytest

from retest.lab import evaluate
from retest.sampler import FakeSampler, open_sampler
from retest.world import Problem, solve

P1 = Problem(1, 2, 3, "a+b*c")  # 1+2*3= 7
P2 = Problem(2, 4, 1, "a*b+c")  # 2*4+1= 9


def script(prompt: str, i: int) -> str:
    """For P1: A right, B right, C wrong, malformed. For P2: C right four times."""
    if prompt == P1.prompt:
        return ["2*3=6;1+6=7>7", "1+6=7>7", ">8", "seven"][i]
    return ">9"


def test_evaluate_counts_correct_samples_formats_and_entropy() -> None:
    out = evaluate(FakeSampler(script, entropy=0.25), [(P1.prompt, P1.answer), (P2.prompt, P2.answer)], 4, 1.0, 24)
    assert out.counts == (2, 4)
    assert out.formats[0] == {"A": 0.25, "B": 0.25, "C": 0.25, "other": 0.25}
    assert out.formats[1] == {"A": 0.0, "B": 0.0, "C": 1.0, "other": 0.0}
    assert out.entropy == (0.25, 0.25) and out.mean_entropy == 0.25
    assert out.accuracy(4) == 0.75 and out.mean_formats()["C"] == 0.625
    assert out.examples == ("2*3=6;1+6=7>7", "1+6=7>7", ">8", "seven")


def test_the_worlds_own_solutions_score_as_written() -> None:
    import random

    rng = random.Random(0)
    answers = {fmt: [solve(P2, fmt, correct, rng) for correct in (True, False)] for fmt in ("A", "B", "C")}
    out = evaluate(FakeSampler(lambda p, i: [s for pair in answers.values() for s in pair][i]),
                   [(P2.prompt, P2.answer)], 6, 1.0, 24)
    assert out.counts == (3,) and out.formats[0] == {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "other": 0.0}


def test_an_unknown_sampler_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        open_sampler("bogus", "/nonexistent")
