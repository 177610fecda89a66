"""Token routing: the RL model writes the first `t` tokens of a completion, the base model the rest.

The probe behind C1's "hybrid token-routing recovers ~91% of the gain without weight
updates": if RL only teaches *when* to reason (which format to open with), then letting
the RL model choose the opening tokens and the unchanged base model execute should
recover most of RL's pass@1 gain. In the toy world the format is fixed by the first two
characters (``>`` opens C, ``d*`` opens A, anything else B), so `t` = 1-3 routes the
format choice and little else.

`RoutedSampler` is a `retest.sampler.Sampler`: batched, two `generate` calls per batch
(the RL model for `t` tokens, then the base model continuing prompt + prefix with the
left padding and attention mask carried over). `t = 0` is the base model's sampler and
`t >= max_new_tokens` the RL model's: with the same seed they give the same samples
token for token. Each step keeps only its entropy (a (batch,) vector, `retest.sampler.generate`),
never the batch's full-vocabulary logits; both models stop at the finisher's stop tokens
(`retest.sampler.stop_ids`). Pure sampling: no protocol logic here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from retest.sampler import Sample, TransformersSampler, batched, decoded, generate


class RoutedSampler:
    """Sample with `prefix_model` for the first `prefix_tokens` tokens, then `model` to the end."""

    def __init__(self, prefix_model_dir: Path | str, model_dir: Path | str, prefix_tokens: int,
                 batch_size: int = 1024, device: str | None = None):
        if prefix_tokens < 0:
            raise ValueError(f"prefix_tokens must be >= 0, got {prefix_tokens}")
        self.finisher = TransformersSampler(model_dir, batch_size, device)
        self.router = TransformersSampler(prefix_model_dir, batch_size, self.finisher.device)
        self.tokenizer = self.finisher.tokenizer
        self.prefix_tokens = prefix_tokens
        self.batch_size = batch_size

    def sample(
        self, prompts: Sequence[str], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[Sample]]:
        """`n` routed samples for each prompt, in prompt order (batched like `TransformersSampler`)."""
        return batched(self._batch, prompts, n, temperature, max_new_tokens, seed, self.batch_size)

    def _batch(self, prompts: list[str], temperature: float, max_new_tokens: int) -> list[Sample]:
        import torch

        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.finisher.device)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        pad, stop = self.tokenizer.pad_token_id, self.finisher.stop
        stops = torch.tensor(stop, device=ids.device)
        parts, ents = [], []
        t = min(self.prefix_tokens, max_new_tokens)
        if t > 0:
            prefix, ent = generate(self.router.model, ids, mask, temperature, t, pad, stop)
            parts.append(prefix)
            ents.append(ent)
            # a row that ended inside the prefix is padded after its stop token: those positions are written as
            # that token and attended (a mask of zeros at the end reads as right padding to generate); the row's
            # continuation is cut at its first stop token (`decoded`), so what it attends to does not matter
            ids = torch.cat([ids, prefix.masked_fill(prefix == pad, stop[0])], dim=1)
            mask = torch.cat([mask, torch.ones_like(prefix)], dim=1)
        rest = max_new_tokens - sum(p.shape[1] for p in parts)
        if rest > 0 and not (t > 0 and bool(torch.isin(parts[0], stops).any(dim=1).all())):
            cont, ent = generate(self.finisher.model, ids, mask, temperature, rest, pad, stop)
            parts.append(cont)
            ents.append(ent)
        return decoded(self.tokenizer, torch.cat(parts, dim=1), torch.cat(ents, dim=1), stop)
