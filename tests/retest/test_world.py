"""The toy world: deterministic corpus, the chosen mixture, answers and formats."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retest.world import FORMATS, Problem, WorldConfig, classify_format, corpus, is_correct, parse, solve, split


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


@pytest.mark.parametrize("text, expected", [
    ("2*3=6;1+6=7>7", ("A", 7)),
    ("2*3=6;6+1=7>7", ("A", 7)),  # a*b+c writes the product first
    ("2*3=5;1+5=6>6", ("A", 6)),  # a wrong step is a wrong answer, not malformed
    ("1+6=7>7", ("B", 7)),
    (">7", ("C", 7)),
    (" >7\n", ("C", 7)),  # surrounding whitespace
])
def test_whole_formats_parse(text: str, expected: tuple[str, int]) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", [
    "2*3=6;1+6=7",  # cut before the answer: the old last-number fall-back scored it 7
    "2*3=6;1+6=7>",  # cut after the arrow
    "1+6=7",  # B cut before the answer
    "7",  # a bare number
    "2*3=6>6",  # a product alone
    ">7>7",  # run on
    ">7;",  # trailing junk
    ">-7",  # the world has no negative answers
    "1*6=6;1+6=7;7+0=7>7",  # three steps
])
def test_anything_but_a_whole_format_is_other_and_wrong(text: str) -> None:
    assert parse(text) == ("other", None)
    assert classify_format(text) == "other" and not is_correct(text, 7)


@pytest.mark.parametrize("text, fmt", [
    ("2*3=6;1+5=7>7", "A"),  # the chain does not link (6 is not an addend)
    ("2*3=6;1+6=7>8", "A"),  # the answer is not the sum
    ("1+6=7>8", "B"),  # the answer is not the sum
])
def test_a_completion_that_contradicts_itself_keeps_its_format_and_is_wrong(text: str, fmt: str) -> None:
    assert parse(text) == (fmt, None)
    assert not is_correct(text, 7) and not is_correct(text, 8)


def test_a_problem_files_held_out_rows_are_a_seeded_shuffle(tmp_path) -> None:
    import dataclasses
    import json

    from retest.lab import Lab
    from retest.presets import preset

    rows = [{"prompt": f"q{i}", "answer": i} for i in range(50)]
    path = tmp_path / "problems.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    cfg = dataclasses.replace(preset("smoke"), base_model_dir=str(tmp_path), problems_file=str(path),
                              chat_template=False)  # no tokenizer here: the split alone is under test
    train, held = Lab(cfg, tmp_path).problems()
    assert len(held) == 10 and len(train) == 40 and not {p for p, _ in held} & {p for p, _ in train}
    assert held != [(f"q{i}", i) for i in range(10)]  # not the file's first rows
    assert Lab(cfg, tmp_path).problems() == (train, held)  # the same seed, the same split
    other = dataclasses.replace(cfg, world=dataclasses.replace(cfg.world, seed=1))
    assert Lab(other, tmp_path).problems()[1] != held
