"""The real-model path on the CPU with a tiny random Qwen2 chat model (tests/retest/tiny_chat.py).

Samplers stop where the model's generation config says, keep no full-vocabulary logits,
and give the entropies of the distribution they sampled from.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retest.routing import RoutedSampler
from retest.sampler import TransformersSampler, stop_ids

PROMPT = "<|im_start|>user\nWhat is 1 + 2 * 3?<|im_end|>\n<|im_start|>assistant\n"
MAX = 6


def test_the_stop_tokens_are_the_generation_configs(tiny_chat, ends_turn: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_chat[0]))
    assert stop_ids(tiny_chat[0], tok) == tok.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    # a model that ends its turn at once: one token, no text, in every sampler
    for sampler in (TransformersSampler(ends_turn, 8), RoutedSampler(ends_turn, ends_turn, 0, 8),
                    RoutedSampler(ends_turn, tiny_chat[0], 1, 8)):
        rows = sampler.sample([PROMPT, "hello"], 3, 1.0, MAX, seed=0)
        assert {(s.text, s.tokens) for r in rows for s in r} == {("", 1)}, sampler


def test_greedy_completions_stop_at_the_end_of_the_turn(tiny_chat, ends_turn: Path, tmp_path: Path) -> None:
    from retest.completions import greedy
    from retest.lab import Lab
    from retest.presets import preset

    lab = Lab(preset("model-smoke", model_dir=ends_turn, problems_file=tiny_chat[1]), tmp_path)
    assert greedy(lab, ends_turn, [PROMPT]) == [""]


def test_no_full_vocabulary_logits_are_asked_for_or_kept(tiny_chat) -> None:
    import torch

    sampler = RoutedSampler(tiny_chat[0], tiny_chat[0], 2, 16)
    vocab = sampler.finisher.model.config.vocab_size
    asked: list[dict] = []
    for part in (sampler.router, sampler.finisher):
        real = part.model.generate

        def spy(*args, _real=real, **kwargs):
            asked.append(kwargs)
            out = _real(*args, **kwargs)
            asked[-1] = {**kwargs, "returned": out}
            return out

        part.model.generate = spy
    rows = sampler.sample([PROMPT], 16, 1.0, MAX, seed=0)
    assert len(asked) == 2 and sum(len(r) for r in rows) == 16
    for call in asked:
        assert not call.get("output_logits") and not call.get("output_scores"), call
        out = call["returned"]  # the token ids alone: (batch, length), nothing of vocabulary size
        assert isinstance(out, torch.Tensor) and out.dim() == 2 and out.numel() < 16 * vocab


def test_entropies_are_those_of_the_distribution_sampled_from(tiny_chat) -> None:
    import torch

    from retest.sampler import generate

    sampler = TransformersSampler(tiny_chat[0], 8)
    enc = sampler.tokenizer([PROMPT] * 8, return_tensors="pt")  # one prompt: no padding
    for temperature in (1.0, 0.5):
        torch.manual_seed(0)
        new, ent = generate(sampler.model, enc["input_ids"], enc["attention_mask"], temperature, MAX,
                            sampler.tokenizer.pad_token_id, sampler.stop)
        assert ent.shape == new.shape
        with torch.no_grad():
            logits = sampler.model(torch.cat([enc["input_ids"], new], dim=1)).logits.float()
        start = enc["input_ids"].shape[1] - 1
        logp = torch.log_softmax(logits[:, start : start + new.shape[1]] / temperature, dim=-1)
        want = -(logp.exp() * logp).sum(-1)
        for i in range(new.shape[0]):  # up to and with the first stop token (later steps are padding)
            stop_at = next((j + 1 for j, t in enumerate(new[i].tolist()) if t in sampler.stop), new.shape[1])
            assert torch.allclose(ent[i, :stop_at], want[i, :stop_at], atol=1e-4)


# --- the model-smoke preset: the gpu preset's path, every protocol, on the tiny chat model ---------------------


class CountingEngine(TransformersSampler):
    """A transformers sampler that swaps weights like the vLLM engine (`same_model`, `load`) and counts
    how many are opened and closed."""

    opened: list[str] = []
    closed: list[str] = []

    def __init__(self, model_dir, batch_size: int = 1024, device: str | None = None):
        super().__init__(model_dir, batch_size, device)
        CountingEngine.opened.append(str(model_dir))

    def same_model(self, model_dir) -> bool:  # vLLM's rule: GRPO's checkpoints must pass it
        from retest.sampler import model_signature

        return model_signature(model_dir) == model_signature(self.model_dir)

    def load(self, model_dir) -> None:
        from transformers import AutoModelForCausalLM

        self.model = AutoModelForCausalLM.from_pretrained(str(model_dir)).to(self.device).eval()
        self.model_dir = str(model_dir)

    def close(self) -> None:
        CountingEngine.closed.append(self.model_dir)


@pytest.fixture
def counting_engine():
    from retest.sampler import SAMPLERS

    SAMPLERS["test-counting"] = CountingEngine
    CountingEngine.opened, CountingEngine.closed = [], []
    yield "test-counting"
    SAMPLERS.pop("test-counting")


def test_a_chat_models_prompts_go_through_its_chat_template(tiny_chat, tmp_path: Path) -> None:
    import dataclasses
    import json

    from retest.lab import Lab
    from retest.presets import preset

    cfg = preset("model-smoke", model_dir=tiny_chat[0], problems_file=tiny_chat[1])
    written = {json.loads(line)["prompt"] for line in tiny_chat[1].read_text().splitlines()}
    train, held = Lab(cfg, tmp_path).problems()
    for prompt, _ in train + held:
        assert prompt.startswith("<|im_start|>user\n") and prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
        assert prompt.removeprefix("<|im_start|>user\n").split("<|im_end|>")[0] in written
    # a base model: the switch leaves the prompts as written
    raw_train, raw_held = Lab(dataclasses.replace(cfg, chat_template=False), tmp_path).problems()
    assert {p for p, _ in raw_train + raw_held} == written


LOCAL = ("passk-boundary", "update-sparsity", "format-collapse", "hard-samples", "calibration", "prior-corruption",
         "label-free-search", "entropy-schedule")


@pytest.fixture(scope="module")
def smoke_runs(tiny_chat, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """Every protocol that takes a local model, at model-smoke on the tiny chat model, through one cache:
    name -> (result, engines opened, engines closed); and the cache folder."""
    from retest.presets import preset
    from retest.runner import run_protocol
    from retest.sampler import SAMPLERS

    import dataclasses

    root = tmp_path_factory.mktemp("model-smoke")
    cfg = dataclasses.replace(preset("model-smoke", model_dir=tiny_chat[0], problems_file=tiny_chat[1]),
                              sampler="test-counting")
    SAMPLERS["test-counting"] = CountingEngine
    runs = {}
    try:
        for name in LOCAL:
            CountingEngine.opened, CountingEngine.closed = [], []
            result = run_protocol(name, config=cfg, cache_dir=root / "cache", artifacts_dir=root / "art", workers=1)
            runs[name] = (result, len(CountingEngine.opened), len(CountingEngine.closed))
    finally:
        SAMPLERS.pop("test-counting")
    return runs, root / "cache"


@pytest.mark.slow
@pytest.mark.parametrize("name", LOCAL)
def test_every_protocol_runs_at_model_smoke_and_flags_a_model_with_no_signal(smoke_runs, name: str) -> None:
    from retest.protocols.spec import NO_SIGNAL

    result, opened, closed = smoke_runs[0][name]
    assert result.status == "succeeded" and result.verdict, result.log[-3000:]
    assert result.preset == "model-smoke" and result.summary.startswith("Local-model result (model-smoke")
    # the random model never states a right answer: no verdict may stand unflagged, no figure reads "nan"
    assert result.verdict == "inconclusive" or result.flags, (result.verdict, result.summary)
    assert not re.search(r"\bnan\b", result.summary), result.summary
    if name != "update-sparsity":  # it samples nothing; its flags say the sweep never moved
        assert any(f.startswith(NO_SIGNAL) for f in result.flags), result.flags
    # one engine for the whole run, every draw through it, closed at the end (later runs find C1's draws cached)
    assert opened <= 1 and closed == opened, (opened, closed)
    if name in ("passk-boundary", "label-free-search"):  # many models drawn, each through the one engine
        assert opened == 1, result.log


def test_the_sweep_and_the_recovery_read_as_people_write_them(smoke_runs) -> None:
    sparsity, passk = smoke_runs[0]["update-sparsity"][0], smoke_runs[0]["passk-boundary"][0]
    assert sparsity.metrics.details["setting"]["lrs"] == [1e-6, 1e-5, 1e-4]  # around the preset's 1e-5
    assert "lr 1e-06" in sparsity.summary and "00000" not in sparsity.summary + sparsity.log
    assert "had no gain to recover" in passk.summary  # the random model gains nothing


def test_every_registered_protocol_is_run_at_model_smoke() -> None:
    from retest.protocols import PROTOCOLS

    assert set(LOCAL) == set(PROTOCOLS)  # a new protocol must run on a local model too


def test_calibration_on_a_local_model_asks_for_a_stated_confidence_and_says_when_none_is_stated(smoke_runs) -> None:
    from retest.answers import CONFIDENCE_SUFFIX

    result = smoke_runs[0]["calibration"][0]
    base = result.metrics.details["base_model"]
    assert base["prompt_suffix"] == CONFIDENCE_SUFFIX and base["measured_accuracy"]["none"] == 0.0
    assert any(f.startswith("confidence dropped") for f in result.flags)  # the random model states no digit:
    assert "ECE base n/a" in result.summary and "nan" not in result.summary  # no ECE, said so, stored as 0
    assert (result.effect_size, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)


def test_hard_samples_trains_nothing_when_the_base_solves_nothing(smoke_runs) -> None:
    result = smoke_runs[0]["hard-samples"][0]
    assert result.verdict == "inconclusive" and "no typical slice" in result.summary
    assert result.metrics.details["selection_rate"] == 0.0 and "phase grpo" not in result.log


@pytest.mark.parametrize(("name", "claim"), [("update-sparsity", "C2"), ("calibration", "C5")])
def test_the_cli_runs_a_protocol_at_model_smoke(smoke_runs, tiny_chat, home: Path, bundled_store, name: str,
                                               claim: str) -> None:
    import json

    from typer.testing import CliRunner

    from claims.cli import build_app

    (home / "cache").mkdir(parents=True, exist_ok=True)
    (home / "cache" / "retest").symlink_to(smoke_runs[1])  # trained above: cached, not retrained
    out = CliRunner().invoke(build_app(), ["retest", "run", name, "--claim", claim, "--preset",
                                           "model-smoke", "--model-dir", str(tiny_chat[0]), "--problems",
                                           str(tiny_chat[1]), "--format", "json"])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)
    assert record["status"] == "succeeded" and record["verdict"] and record["strength"]["may_propose"] is False
    if name == "calibration":  # on a local model now, flagged as the random model deserves
        assert any(f.startswith("no signal") for f in record["strength"]["flags"]), record["strength"]


def test_a_checkpoint_saved_again_by_transformers_is_the_same_model_for_one_engine(tiny_chat, tmp_path: Path) -> None:
    import json

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from retest.sampler import model_signature

    # GRPO saves each checkpoint's tokenizer again: transformers spells the same vocabulary otherwise
    # (a normalizer, a pre-tokenizer regex), which must not start a second vLLM engine
    AutoTokenizer.from_pretrained(str(tiny_chat[0])).save_pretrained(tmp_path / "ckpt")
    AutoModelForCausalLM.from_pretrained(str(tiny_chat[0]), dtype=torch.float32).save_pretrained(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "tokenizer.json").read_bytes() != (tiny_chat[0] / "tokenizer.json").read_bytes()
    assert model_signature(tmp_path / "ckpt") == model_signature(tiny_chat[0])
    tok = json.loads((tmp_path / "ckpt" / "tokenizer.json").read_text())  # another vocabulary: another model
    tok["model"]["vocab"]["!"], tok["model"]["vocab"]['"'] = tok["model"]["vocab"]['"'], tok["model"]["vocab"]["!"]
    (tmp_path / "ckpt" / "tokenizer.json").write_text(json.dumps(tok))
    assert model_signature(tmp_path / "ckpt") != model_signature(tiny_chat[0])
