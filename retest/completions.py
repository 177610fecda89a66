"""Raw completions of a model, cached: sampled texts (any seed) and greedy texts.

`Lab.sample` keeps only what C1-C3 read (correct counts, formats, entropy). Protocols
that vote over answers or count distinct solutions (C4) need the texts themselves:
`draw` samples them with the Lab's one engine (`Lab.engine`) and `greedy` decodes with argmax, each
cached as JSON beside the model (keyed by the sampling settings, the prompts, n and seed).
"""

from __future__ import annotations

import json
from pathlib import Path

from retest.lab import Lab
from retest.presets import config_hash
from retest.sampler import stop_ids


def draw(lab: Lab, model_dir: Path, prompts: list[str], n: int, seed: int = 0, tag: str = "draw") -> list[list[str]]:
    """`n` sampled completions per prompt (texts), at the eval temperature; cached."""
    cfg = lab.cfg
    key = config_hash(cfg.sampler, cfg.eval.temperature, cfg.rl.max_completion_length, prompts, n, seed)
    cached = Path(model_dir) / f"{tag}-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    lab.say(f"phase sample: {Path(model_dir).name} ({len(prompts)} prompts x {n}, seed {seed})")
    with lab.timed("sample"):
        rows = lab.engine(model_dir).sample(prompts, n, cfg.eval.temperature, cfg.rl.max_completion_length, seed=seed)
        texts = [[s.text for s in row] for row in rows]
    cached.write_text(json.dumps(texts))
    return texts


def greedy(lab: Lab, model_dir: Path, prompts: list[str], tag: str = "greedy") -> list[str]:
    """The argmax completion of each prompt (transformers `generate`, batched); cached."""
    cfg = lab.cfg
    key = config_hash(cfg.rl.max_completion_length, prompts)
    cached = Path(model_dir) / f"{tag}-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer


    lab.say(f"phase sample: greedy {Path(model_dir).name} ({len(prompts)} prompts)")
    with lab.timed("sample"):
        tok = AutoTokenizer.from_pretrained(str(model_dir))
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
        stop = stop_ids(model_dir, tok)  # the samplers' stop tokens (the generation config's EOS)
        out: list[str] = []
        step = cfg.eval.batch_size
        for start in range(0, len(prompts), step):
            enc = tok(prompts[start : start + step], return_tensors="pt", padding=True)
            with torch.inference_mode():
                gen = model.generate(**enc, do_sample=False, max_new_tokens=cfg.rl.max_completion_length,
                                     repetition_penalty=1.0, pad_token_id=tok.pad_token_id, eos_token_id=stop)
            out += tok.batch_decode(gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    cached.write_text(json.dumps(out))
    return out
