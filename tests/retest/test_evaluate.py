"""The sampler seam: any `Sampler` (here the scripted `FakeSampler`) scored into `Sampled`;
the transformers sampler's entropies checked against the model's own logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retest.lab import evaluate
from retest.sampler import FakeSampler, Sample, TransformersSampler, open_sampler
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
    assert out.entropy == (0.25, 0.25) and out.mean_entropy == 0.25 and out.first_entropy == (0.25, 0.25)
    assert out.tokens == (13 + 7 + 2 + 5, 4 * 2)  # one token per character
    # format accuracy: A and B right once each, C right 4 of 5 times
    assert out.format_accuracy() == {"A": 1.0, "B": 1.0, "C": 0.8, "other": 0.0}
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


def test_entropy_is_pooled_over_tokens_and_the_first_token_kept_apart() -> None:
    """A long predictable completion must not pull the problem's entropy down as one vote."""
    short = Sample(">7", entropy_sum=2.0, tokens=2, first_entropy=1.5)  # 1.0 a token
    long = Sample("2*3=6;1+6=7>7", entropy_sum=1.3, tokens=13, first_entropy=0.5)  # 0.1 a token
    out = evaluate(FakeSampler(lambda p, i: [short, long][i]), [(P1.prompt, P1.answer)], 2, 1.0, 24)
    assert out.entropy[0] == pytest.approx(3.3 / 15)  # pooled; the mean of means would be 0.55
    assert out.first_entropy[0] == pytest.approx(1.0) and out.tokens == (15,)
    assert out.mean_entropy == pytest.approx(3.3 / 15) and out.mean_first_entropy == pytest.approx(1.0)


def test_a_truncated_or_padded_completion_scores_wrong_and_malformed() -> None:
    texts = ["2*3=6;1+6=7", "2*3=6;1+6=7>7>7", "1+6=7>", "2*3=6;1+6=7>7"]  # cut, run on, cut, whole
    out = evaluate(FakeSampler(lambda p, i: texts[i]), [(P1.prompt, P1.answer)], 4, 1.0, 24)
    assert out.counts == (1,) and out.formats[0] == {"A": 0.25, "B": 0.0, "C": 0.0, "other": 0.75}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 1-layer model with the toy tokenizer: its logits are far from flat."""
    from retest.model import build_model, build_tokenizer
    from retest.presets import ModelConfig

    out = tmp_path_factory.mktemp("tiny")
    tok = build_tokenizer()
    model = build_model(ModelConfig(layers=1, width=32, ffn=64, heads=2), len(tok), seed=3)
    with __import__("torch").no_grad():
        model.lm_head.weight.mul_(20.0)  # sharpen: entropies well apart from log(vocab)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_transformers_sampler_entropies_are_those_of_the_logits_it_drew_from(tiny_model: Path) -> None:
    import torch

    from retest.measures import token_entropy

    sampler = TransformersSampler(tiny_model, batch_size=8, device="cpu")
    temperature = 0.7
    rows = sampler.sample([P1.prompt, "9*9+9="], 3, temperature, 6, seed=1)
    tok, model = sampler.tokenizer, sampler.model
    for prompt, samples in zip([P1.prompt, "9*9+9="], rows):
        for s in samples:
            prompt_ids = tok(prompt)["input_ids"]
            new_ids = tok(s.text, add_special_tokens=False)["input_ids"]
            if s.tokens > len(new_ids):
                new_ids = new_ids + [tok.eos_token_id]  # stopped at EOS: its step counts too
            assert s.tokens == len(new_ids) and 1 <= s.tokens <= 6
            with torch.no_grad():
                logits = model(torch.tensor([prompt_ids + new_ids])).logits[0].float() / temperature
            steps = logits[len(prompt_ids) - 1 : len(prompt_ids) - 1 + len(new_ids)].numpy()
            ent = token_entropy(steps)
            assert s.first_entropy == pytest.approx(float(ent[0]), abs=1e-4)
            assert s.entropy_sum == pytest.approx(float(ent.sum()), abs=1e-3)
            assert 0 < s.entropy < np.log(len(tok))
