"""Supervised fine-tuning of a base model on (prompt, completion) pairs, cached.

The same packed training loop as pretraining (`retest.model.pack`: position ids restart
per example, so the mask is block-diagonal), starting from a model directory instead
of from scratch, at a constant learning rate. Used for the SFT arms of the protocols
(SFT on the RL prompts, SFT on diverse demonstrations, search-then-distill). Runs are
cached under ``cache_dir/sft-<hash of base, config, pairs>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retest.cache import cached_build
from retest.model import pack
from retest.presets import SFTConfig, config_hash


def train_sft(base_dir: Path, pairs: list[tuple[str, str]], cfg: SFTConfig, out_dir: Path,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fine-tune the model in `base_dir` on `pairs` [(prompt, completion)]; save it to `out_dir`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer


    if not pairs:
        raise ValueError("SFT needs at least one (prompt, completion) pair")
    say = progress or (lambda _m: None)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    model.train()
    encoded = tokenizer([p + c for p, c in pairs], add_special_tokens=True)["input_ids"]
    sequences = [ids + [tokenizer.eos_token_id] for ids in encoded]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    batches, cursor, losses = None, 0, []
    t0 = time.monotonic()
    for step in range(cfg.steps):
        if batches is None or cursor + cfg.rows > len(batches[0]):
            order = torch.randperm(len(sequences), generator=gen).tolist()
            batches = pack([sequences[i] for i in order], cfg.row_len, tokenizer.bos_token_id)
            cursor = 0
        ids, pos, labels = (t[cursor : cursor + cfg.rows] for t in batches)
        cursor += cfg.rows
        out = model(input_ids=ids, position_ids=pos, labels=labels, use_cache=False)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(out.loss.item())
        if progress and (step + 1) % max(1, cfg.steps // 4) == 0:
            say(f"sft step {step + 1}/{cfg.steps} loss {losses[-1]:.3f}")
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return {"seconds": round(time.monotonic() - t0, 2), "examples": len(pairs),
            "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4)}


def ensure_sft(base_dir: Path, base_key: str, pairs: list[tuple[str, str]], cfg: SFTConfig, cache_dir: Path,
               progress: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any], bool]:
    """The cached SFT model for (base, config, pairs); returns (directory, stats, reused?)."""
    return cached_build(cache_dir, sft_name(base_key, pairs, cfg),
                        lambda out: train_sft(base_dir, pairs, cfg, out, progress))


def sft_name(base_key: str, pairs: list[tuple[str, str]], cfg: SFTConfig) -> str:
    """The cache entry of an SFT run (`ensure_sft`)."""
    return f"sft-{config_hash(base_key, cfg, [list(p) for p in pairs])}"
