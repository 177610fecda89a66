"""Token routing: the prefix model writes the first t tokens, the other model the rest (tiny real models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retest.model import build_tokenizer
from retest.routing import RoutedSampler
from retest.sampler import TransformersSampler

PROMPTS = ["3+4*5=", "2*2+1=", "9+1*1="]
MAX = 8


def _save(model, out: Path) -> Path:
    model.save_pretrained(out)
    build_tokenizer().save_pretrained(out)
    return out


def _llama(seed: int, tie: bool = True):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(build_tokenizer()), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                      tie_word_embeddings=tie, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                      attn_implementation="eager")
    return LlamaForCausalLM(cfg)


def _always(token: str, out: Path) -> Path:
    """A model that writes `token` at every step, whatever came before (logit 30 above the rest)."""
    import torch

    model = _llama(0, tie=False)
    tid = build_tokenizer().convert_tokens_to_ids(token)
    with torch.no_grad():
        for layer in model.model.layers:  # the residual stream is the current token's embedding alone
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.fill_(1.0)  # every token the same: RMSNorm gives all-ones
        model.lm_head.weight.zero_()
        model.lm_head.weight[tid] = 30.0 / model.config.hidden_size
    return _save(model, out)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("routing")
    return {"base": _save(_llama(1), root / "base"), "rl": _save(_llama(2), root / "rl"),
            "gt": _always(">", root / "gt"), "seven": _always("7", root / "seven"),
            "eos": _always("<eos>", root / "eos")}


def _texts(rows) -> list[list[str]]:
    return [[s.text for s in row] for row in rows]


def test_no_routed_tokens_is_the_base_model_and_all_of_them_the_rl_model(models) -> None:
    # random tiny models: real sampling noise. Same seed, same batches: the same samples token for token
    base = _texts(TransformersSampler(models["base"], 64).sample(PROMPTS, 16, 1.0, MAX, seed=5))
    rl = _texts(TransformersSampler(models["rl"], 64).sample(PROMPTS, 16, 1.0, MAX, seed=5))
    assert base != rl
    assert _texts(RoutedSampler(models["rl"], models["base"], 0, 64).sample(PROMPTS, 16, 1.0, MAX, seed=5)) == base
    for t in (MAX, MAX + 3):
        assert _texts(RoutedSampler(models["rl"], models["base"], t, 64).sample(PROMPTS, 16, 1.0, MAX, seed=5)) == rl


def test_the_first_t_tokens_come_from_the_prefix_model_and_the_rest_from_the_other(models) -> None:
    sampler = RoutedSampler(models["gt"], models["seven"], 1, 16)
    for t in (1, 2, 3):
        sampler.prefix_tokens = t
        rows = sampler.sample(PROMPTS, 8, 1.0, MAX, seed=0)
        assert {s.text for row in rows for s in row} == {">" * t + "7" * (MAX - t)}
        assert all(s.tokens == MAX for row in rows for s in row)  # every generated token counted


def test_a_completion_that_ends_inside_the_prefix_is_not_continued(models) -> None:
    rows = RoutedSampler(models["eos"], models["seven"], 2, 16).sample(PROMPTS, 4, 1.0, MAX, seed=0)
    assert {s.text for row in rows for s in row} == {""} and all(s.tokens == 1 for row in rows for s in row)


def test_batches_smaller_than_the_work_give_every_prompt_its_samples(models) -> None:
    rows = RoutedSampler(models["gt"], models["seven"], 1, 5).sample(PROMPTS, 7, 1.0, MAX, seed=0)
    assert [len(r) for r in rows] == [7, 7, 7]
    with pytest.raises(ValueError, match="prefix_tokens"):
        RoutedSampler(models["gt"], models["seven"], -1)


def test_rows_that_end_inside_the_prefix_raise_no_right_padding_warning(models) -> None:
    # finished rows are EOS-filled after the prefix; a zero mask there read as right padding to
    # generate, which warned the user to pad left ("For correct generation results ...")
    import logging

    from transformers.utils import logging as hf_logging

    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = hf_logging.get_logger("transformers.generation.utils")
    handler = Catch()
    logger.addHandler(handler)
    try:
        rows = RoutedSampler(models["rl"], models["base"], 3, 64).sample(PROMPTS, 32, 1.0, MAX, seed=1)
    finally:
        logger.removeHandler(handler)
    assert any(s.tokens <= 3 for row in rows for s in row)  # some rows did end inside the prefix
    assert any(s.tokens > 3 for row in rows for s in row)  # and others went on
    assert not [m for m in seen if "right-padding" in m]
