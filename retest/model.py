"""The tiny base model: a char tokenizer, a small Llama, pretraining, the cache.

The result is a normal Hugging Face model directory (config, safetensors,
tokenizer.json) that transformers, TRL and vLLM load as they would any model. Base
models are cached under ``cache_dir/base-<hash of world, model and pretrain config>``
(build-then-rename, `retest.cache`).

Traps measured on this machine (see shared notes): the tokenizer needs
``decoders.Fuse()`` (or decoding inserts spaces) and a ``<bos>`` post-processor (TRL
tokenises prompts with it, so we pretrain on ``<bos> prompt completion <eos>``);
batches are packed with position ids restarting per example and no attention mask,
which gives a block-diagonal mask: grouping by length or naive packing skewed the
prior towards one format.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retest.cache import cached_build
from retest.presets import ModelConfig, PretrainConfig, config_hash
from retest.world import WorldConfig, corpus

CHARS = "0123456789+-*=;>"
SPECIAL = ("<pad>", "<bos>", "<eos>")


def build_tokenizer():  # -> PreTrainedTokenizerFast
    """A character tokenizer with <bos> added in front of every encoded text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIAL + tuple(CHARS))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", vocab["<bos>"])]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>", unk_token="<pad>"
    )
    fast.padding_side = "left"
    return fast


def build_model(config: ModelConfig, vocab_size: int, seed: int):  # -> LlamaForCausalLM
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=config.width,
        intermediate_size=config.ffn,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        num_key_value_heads=config.heads,
        max_position_embeddings=config.max_len,
        tie_word_embeddings=True,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        attn_implementation="eager",  # faster than sdpa at this size here
    )
    return LlamaForCausalLM(cfg)


def pack(sequences: list[list[int]], row_len: int, bos_id: int) -> tuple[Any, Any, Any]:
    """Pack token lists into rows: (input_ids, position_ids, labels) tensors.

    Position ids restart at each example so the model sees a block-diagonal mask;
    the label of each example's first token is -100 (nothing predicts across examples).
    """
    import torch

    rows: list[list[int]] = []
    pos: list[list[int]] = []
    row: list[int] = []
    prow: list[int] = []
    for seq in sequences:
        if len(row) + len(seq) > row_len:
            pad = row_len - len(row)
            rows.append(row + [0] * pad)
            pos.append(prow + list(range(pad)))
            row, prow = [], []
        row += seq
        prow += list(range(len(seq)))
    if row:
        pad = row_len - len(row)
        rows.append(row + [0] * pad)
        pos.append(prow + list(range(pad)))
    ids = torch.tensor(rows)
    labels = ids.clone()
    labels[(ids == bos_id) | (ids == 0)] = -100
    return ids, torch.tensor(pos), labels


def pretrain(
    world: WorldConfig,
    model_cfg: ModelConfig,
    cfg: PretrainConfig,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Pretrain a base model from scratch and save it to `out_dir`; returns stats."""
    import torch

    say = progress or (lambda _m: None)
    t0 = time.monotonic()
    tokenizer = build_tokenizer()
    pairs = corpus(world)
    texts = [p + c for p, c in pairs]
    encoded = tokenizer(texts, add_special_tokens=True)["input_ids"]  # one batched call
    eos = tokenizer.eos_token_id
    sequences = [ids + [eos] for ids in encoded]
    corpus_s = time.monotonic() - t0

    model = build_model(model_cfg, len(tokenizer), cfg.seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.95))

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(cfg.seed)
    losses, tokens, batches, cursor = [], 0, None, 0
    t1 = time.monotonic()
    for step in range(cfg.steps):
        if batches is None or cursor + cfg.rows > len(batches[0]):
            # a fresh packing order for each pass over the corpus
            order = torch.randperm(len(sequences), generator=gen).tolist()
            batches = pack([sequences[i] for i in order], cfg.row_len, tokenizer.bos_token_id)
            cursor = 0
        ids, pos, labels = (t[cursor : cursor + cfg.rows] for t in batches)
        cursor += cfg.rows
        out = model(input_ids=ids, position_ids=pos, labels=labels, use_cache=False)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(out.loss.item())
        tokens += int((labels != -100).sum())
        if progress and (step + 1) % max(1, cfg.steps // 5) == 0:
            say(f"pretrain step {step + 1}/{cfg.steps} loss {losses[-1]:.3f}")
    train_s = time.monotonic() - t1

    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "corpus_examples": len(pairs),
        "corpus_seconds": round(corpus_s, 2),
        "train_seconds": round(train_s, 2),
        "tokens": tokens,
        "tokens_per_second": round(tokens / train_s, 1) if train_s else None,
        "loss_first": round(sum(losses[:10]) / max(1, len(losses[:10])), 4),
        "loss_last": round(sum(losses[-10:]) / max(1, len(losses[-10:])), 4),
        "losses": [round(x, 4) for x in losses[:: max(1, len(losses) // 50)]],
    }


def ensure_base(
    world: WorldConfig,
    model_cfg: ModelConfig,
    cfg: PretrainConfig,
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, dict[str, Any], bool]:
    """The cached base model directory, pretraining it first if needed.

    Returns (directory, pretraining stats, reused?).
    """
    return cached_build(cache_dir, base_name(world, model_cfg, cfg),
                        lambda out: pretrain(world, model_cfg, cfg, out, progress))


def base_name(world: WorldConfig, model_cfg: ModelConfig, cfg: PretrainConfig) -> str:
    """The cache entry of a pretrained base (`ensure_base`)."""
    return f"base-{config_hash(world, model_cfg, cfg)}"
