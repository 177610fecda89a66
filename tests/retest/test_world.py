"""The toy world: deterministic corpus, the chosen mixture, answers and formats."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retest.world import FORMATS, Problem, WorldConfig, classify_format, corpus, is_correct, solve, split


def test_same_config_same_corpus_and_split() -> None:
    cfg = WorldConfig(corpus_size=500)
    assert corpus(cfg) == corpus(WorldConfig(corpus_size=500))
    assert corpus(cfg) != corpus(WorldConfig(corpus_size=500, seed=1))
    train, held = split(cfg)
    assert len(held) == 200 and not {p.prompt for p in train} & {p.prompt for p in held}


def test_corpus_follows_the_mixture_and_error_rates() -> None:
    cfg = WorldConfig(corpus_size=20_000, mixture={"A": 0.6, "B": 0.3, "C": 0.1})
    answers = {p.prompt: p.answer for p in split(cfg)[0]}
    rows = corpus(cfg)
    shares = Counter(classify_format(c) for _, c in rows)
    assert shares["A"] / len(rows) == pytest.approx(0.6, abs=0.02)
    assert shares["C"] / len(rows) == pytest.approx(0.1, abs=0.02)
    wrong_c = [not is_correct(c, answers[p]) for p, c in rows if classify_format(c) == "C"]
    assert sum(wrong_c) / len(wrong_c) == pytest.approx(0.6, abs=0.05)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.sampled_from(["a+b*c", "a*b+c"]),
       st.sampled_from(FORMATS), st.booleans())
def test_solutions_parse_back(a: int, b: int, c: int, template: str, fmt: str, correct: bool) -> None:
    p = Problem(a, b, c, template)
    text = solve(p, fmt, correct, random.Random(0))
    assert classify_format(text) == fmt
    assert is_correct(text, p.answer) == correct


def test_bad_mixture_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="summing to 1"):
        WorldConfig(mixture={"A": 0.5, "B": 0.5, "C": 0.5})


def test_malformed_completions() -> None:
    assert classify_format("12") == "other" and not is_correct("", 3)
    assert classify_format("1=2=3=4>5") == "other"
