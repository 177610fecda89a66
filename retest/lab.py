"""The cached building blocks every protocol measures with: bases, GRPO and SFT runs, samples.

A `Lab` is one run's config, cache folder, progress callback and phase timings. Each
block is cached by the hash of what it depends on (`retest.cache.cached_build` for
models, a JSON file beside the model for samples), so protocols that need the same
base model or GRPO run share it, and a rerun resumes after its finished blocks.
`Lab.measurements()` is the shared set C1-C3 decide on: one base per pretraining seed,
one GRPO run per (pretraining seed, RL seed).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from retest.answers import final_answer, parse_final
from retest.measures import changed_mask, format_shares, relative_update, update_ranks, update_sparsity
from retest.model import base_name, ensure_base
from retest.parallel import Block, build_all, workers
from retest.presets import RetestConfig, RLConfig, SFTConfig, config_hash
from retest.results import (
    FORMAT_NAMES,
    SAMPLED_VERSION,
    Checkpoint,
    LayerSparsity,
    Measurements,
    Sampled,
    SeedRun,
    TrainStats,
    WeightChange,
)
from retest.rl import checkpoints, ensure_rl, rl_name
from retest.sampler import Sampler, close_sampler, open_sampler, rest_sampler
from retest.sft import ensure_sft, sft_name
from retest.world import WorldConfig, load_problems, parse, parse_answer, split

Problems = list[tuple[str, int]]  # (prompt, answer)


def evaluate(sampler: Sampler, problems: Problems, n: int, temperature: float, max_new_tokens: int,
             scorer: Callable[[str], tuple[str, int | None]] = parse) -> Sampled:
    """Sample n per problem [(prompt, answer)]: correct counts, format shares, entropies.

    Entropy is pooled over a problem's tokens (`Sampled`), first-token entropy averaged.
    `scorer` reads (format, answer) off a completion: the toy world's strict `parse`, or
    `retest.answers.parse_final` for a real model's problem file.
    """
    t0 = time.monotonic()
    rows = sampler.sample([p for p, _ in problems], n, temperature, max_new_tokens, seed=0)
    seconds = time.monotonic() - t0
    parsed = [[scorer(s.text) for s in samples] for samples in rows]
    tokens = tuple(sum(s.tokens for s in samples) for samples in rows)
    return Sampled(
        counts=tuple(sum(a == answer for _, a in ps) for (_, answer), ps in zip(problems, parsed)),
        formats=tuple(format_shares([f for f, _ in ps], FORMAT_NAMES) for ps in parsed),
        entropy=tuple(sum(s.entropy_sum for s in samples) / t if t else 0.0 for samples, t in zip(rows, tokens)),
        first_entropy=tuple(sum(s.first_entropy for s in samples) / max(1, len(samples)) for samples in rows),
        tokens=tokens,
        format_correct=tuple(format_shares([f if a == answer else "-" for f, a in ps], FORMAT_NAMES)
                             for (_, answer), ps in zip(problems, parsed)),
        seconds=round(seconds, 3),
        samples_per_second=round(len(problems) * n / seconds, 1) if seconds else None,
        examples=tuple(s.text for s in rows[0][:4]) if rows else (),
    )


def answer_of(cfg: RetestConfig) -> Callable[[str], int | None]:
    """The one answer parser of a config: a problem file's completions (a real model's text) by their
    stated final answer (`retest.answers.final_answer`), the toy world's by its strict parse."""
    if cfg.problems_file:
        return final_answer

    return parse_answer


def chat_prompts(model_dir: Path | str, rows: Problems) -> Problems:
    """Each prompt as a user turn through the model's chat template, the assistant's turn opened.

    A tokenizer without a chat template (a base model) leaves the prompts as written.
    """
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    if not tok.chat_template:
        return rows
    return [(tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True),
             a) for p, a in rows]


def scorer_of(cfg: RetestConfig) -> Callable[[str], tuple[str, int | None]]:
    """How a config's completions are scored: a problem file by its stated final answer, the toy world by format."""
    if cfg.problems_file:
        return parse_final
    return parse


def load_weights(model_dir: Path) -> dict[str, Any]:
    """The model's parameters as numpy arrays (safetensors, one file or shards).

    bf16 tensors (a real model's checkpoint) come back as fp32, exactly: numpy has no bf16.
    """
    import torch
    from safetensors.torch import load_file

    out: dict[str, Any] = {}
    for shard in sorted(Path(model_dir).glob("*.safetensors")):
        for name, t in load_file(str(shard)).items():
            out[name] = (t.float() if t.dtype in (torch.bfloat16, torch.float16) else t).numpy()
    if not out:
        raise FileNotFoundError(f"no safetensors weights in {model_dir}")
    return out


def weight_change(base_w: dict[str, Any], new_w: dict[str, Any]) -> WeightChange:
    """Sparsity, ranks and relative size of the update from `base_w` to `new_w`."""
    return WeightChange(
        sparsity={k: LayerSparsity.model_validate(v) for k, v in update_sparsity(base_w, new_w).items()},
        tensors=tuple((int(changed_mask(b, new_w[k], "bf16").sum()), int(b.size)) for k, b in base_w.items()),
        ranks=update_ranks(base_w, new_w),
        relative_update=relative_update(base_w, new_w),
    )


class Lab:
    """Cached experiment blocks for one config: `base`, `rl`, `sft`, `sample`, `measurements`."""

    def __init__(self, cfg: RetestConfig, cache_dir: Path, say: Callable[[str], None] | None = None,
                 timings: dict[str, float] | None = None, workers: int | None = None):
        """`workers`: blocks trained side by side (`Settings.retest_workers`); None: the machine's
        default (`retest.parallel.workers`)."""
        self.cfg = cfg
        self.workers = workers
        self.cache_dir = Path(cache_dir)
        self.say = say or (lambda _m: None)
        self.timings = timings if timings is not None else {}
        self._shared: Measurements | None = None
        self._sampler: Sampler | None = None  # kept between models: one vLLM engine per run (`open_sampler`)

    def engine(self, model_dir: Path | str) -> Sampler:
        """The Lab's one sampler, serving `model_dir`: every draw of a run goes through it (a vLLM
        engine swaps in each checkpoint's weights, `retest.sampler.open_sampler`); `close` frees it."""
        self._sampler = open_sampler(self.cfg.sampler, model_dir, self.cfg.eval.batch_size, previous=self._sampler)
        return self._sampler

    def rest(self) -> None:
        """Free the engine's GPU memory until its next draw (before training or routing beside it)."""
        rest_sampler(self._sampler)

    def close(self) -> None:
        """Shut the engine down (the end of a run)."""
        close_sampler(self._sampler)
        self._sampler = None

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Add the seconds of the block to `timings[phase]`."""
        t = time.monotonic()
        try:
            yield
        finally:
            self.timings[phase] = round(self.timings.get(phase, 0.0) + time.monotonic() - t, 2)

    # --- problems and models -----------------------------------------------------------

    def problems(self, world: WorldConfig | None = None, suffix: str = "") -> tuple[Problems, Problems]:
        """(train, held_out) as (prompt, answer): the world's split, or the problem file's.

        A problem file is shuffled with the world seed before the held-out rows are taken; with
        `RetestConfig.chat_template` (the default) its prompts go through the model's chat template.
        `suffix` is appended to each problem file prompt, inside the user's turn (C5b's confidence request).
        """
        cfg = self.cfg
        if cfg.base_model_dir:
            if not cfg.problems_file:
                raise ValueError("a local model needs problems_file (a JSONL of prompt/answer)")
            rows = [(p + suffix, a) for p, a in load_problems(Path(cfg.problems_file))]
            if cfg.chat_template:
                rows = chat_prompts(cfg.base_model_dir, rows)
            random.Random(cfg.world.seed).shuffle(rows)
            held_n = min(cfg.eval.problems, len(rows) // 5 or 1)
            return rows[held_n:], rows[:held_n]
        tr, hd = split(world or cfg.world)
        return [(p.prompt, p.answer) for p in tr], [(p.prompt, p.answer) for p in hd]

    def base(self, pretrain_seed: int | None = None, world: WorldConfig | None = None) -> tuple[Path, dict[str, Any]]:
        """The base model (pretrained here and cached, or the config's local model)."""
        cfg = self.cfg
        if cfg.base_model_dir:
            return Path(cfg.base_model_dir), {"local_model": cfg.base_model_dir}

        seed = cfg.pretrain.seed if pretrain_seed is None else pretrain_seed
        pre = dataclasses.replace(cfg.pretrain, seed=seed)
        self.say(f"phase pretrain: base model, pretraining seed {seed} (cached by config hash)")
        with self.timed("pretrain"):
            path, stats, reused = ensure_base(world or cfg.world, cfg.model, pre, self.cache_dir, self.say)
        self.say(f"base model {'reused' if reused else 'pretrained'}: {path}")
        return path, stats

    def rl(self, base_dir: Path, prompts: Problems, seed: int, rl: RLConfig | None = None) -> tuple[Path, TrainStats]:
        """The cached GRPO run of (base, prompts, RL config, seed); checkpoints under it."""
        rest_sampler(self._sampler)  # a vLLM engine frees the GPU while GRPO trains
        rl = rl or self.cfg.rl
        self.say(f"phase grpo: seed {seed} ({rl.steps} steps, loss {rl.loss_type}, lr {rl.lr:.3g}, reward {rl.reward})")
        with self.timed("grpo"):
            run_dir, stats, reused = ensure_rl(base_dir, base_dir.name, prompts, rl, seed, self.cache_dir, self.say)
        self.say(f"grpo seed {seed} {'reused' if reused else 'trained'}: {run_dir}")
        return run_dir, TrainStats(**{k: stats[k] for k in TrainStats.model_fields})

    def sft(self, base_dir: Path, pairs: list[tuple[str, str]], cfg: SFTConfig | None = None) -> Path:
        """The cached SFT model of (base, pairs, config)."""
        rest_sampler(self._sampler)
        cfg = cfg or self.cfg.sft
        self.say(f"phase sft: {len(pairs)} examples, {cfg.steps} steps, seed {cfg.seed}")
        with self.timed("sft"):
            path, _, reused = ensure_sft(base_dir, base_dir.name, pairs, cfg, self.cache_dir, self.say)
        self.say(f"sft {'reused' if reused else 'trained'}: {path}")
        return path

    # --- independent blocks side by side (`retest.parallel`) ---------------------------

    def base_block(self, pretrain_seed: int) -> Block | None:
        """The pretraining of one base as a block (None with a local model: nothing to train)."""
        if self.cfg.base_model_dir:
            return None

        cfg = self.cfg
        pre = dataclasses.replace(cfg.pretrain, seed=pretrain_seed)
        return Block("pretrain", base_name(cfg.world, cfg.model, pre), f"base, pretraining seed {pretrain_seed}",
                     ensure_base, (cfg.world, cfg.model, pre, self.cache_dir))

    def rl_block(self, base_dir: Path, prompts: Problems, seed: int, rl: RLConfig | None = None,
                 base_key: str | None = None) -> Block:
        """The GRPO run `rl(base_dir, prompts, seed, rl)` would train (`retest.rl.ensure_rl` with
        `base_key`, the base directory's name by default), as a block."""
        rl = rl or self.cfg.rl
        key = base_key or base_dir.name
        return Block("grpo", rl_name(key, prompts, rl, seed), f"grpo seed {seed} (lr {rl.lr:g}, "
                     f"{rl.steps} steps, reward {rl.reward})", ensure_rl,
                     (base_dir, key, prompts, rl, seed, self.cache_dir))

    def sft_block(self, base_dir: Path, pairs: list[tuple[str, str]], cfg: SFTConfig | None = None) -> Block:
        """The SFT run `sft(base_dir, pairs, cfg)` would train, as a block."""
        cfg = cfg or self.cfg.sft
        return Block("sft", sft_name(base_dir.name, pairs, cfg), f"sft seed {cfg.seed} ({cfg.steps} steps, "
                     f"lr {cfg.lr:g})", ensure_sft, (base_dir, base_dir.name, pairs, cfg, self.cache_dir))

    def build_all(self, blocks: list[Block | None]) -> None:
        """Train independent blocks side by side where the machine gains from it; the next
        `base` / `rl` / `sft` call for each finds it built. Their wall time counts to their phase."""
        todo = [b for b in blocks if b is not None and not b.built(self.cache_dir)]
        if len(todo) < 2 or workers(self.workers) < 2:
            return  # built in order by the caller (a vLLM engine is not put to sleep for nothing)
        rest_sampler(self._sampler)
        for phase, seconds in build_all(todo, self.cache_dir, self.say, self.workers).items():
            self.timings[phase] = round(self.timings.get(phase, 0.0) + seconds, 2)

    def sample(self, model_dir: Path, problems: Problems, n: int, tag: str = "final") -> Sampled:
        """`evaluate` with the configured sampler, cached as JSON beside the model."""
        cfg = self.cfg
        key = config_hash(cfg.eval, cfg.sampler, problems, n, cfg.rl.max_completion_length, SAMPLED_VERSION)
        cached = Path(model_dir) / f"eval-{tag}-{key}.json"
        if cached.exists():
            return Sampled.model_validate_json(cached.read_text())
        self.say(f"phase sample: {Path(model_dir).name} ({len(problems)} problems x {n})")
        with self.timed("sample"):
            out = evaluate(self.engine(model_dir), problems, n, cfg.eval.temperature, cfg.rl.max_completion_length, scorer_of(cfg))
        cached.write_text(out.model_dump_json())
        return out

    def checkpoint_series(self, run_dir: Path, problems: Problems) -> tuple[Checkpoint, ...]:
        """Format shares, entropy and accuracy at every checkpoint of a GRPO run (step 0 the base)."""
        n = self.cfg.eval.checkpoint_samples
        series = []
        for step, ckpt in checkpoints(run_dir):
            ev = self.sample(ckpt, problems, n, "ckpt")
            series.append(Checkpoint(step=step, format_shares=ev.mean_formats(), entropy=ev.mean_entropy,
                                     accuracy=ev.accuracy(n)))
        return tuple(series)

    # --- the shared measurements of C1-C3 ------------------------------------------------

    def measurements(self) -> Measurements:
        """One base per pretraining seed, one GRPO run per (pretraining seed, RL seed), sampled."""
        if self._shared is None:
            self._shared = self._measure()
        return self._shared

    def _measure(self) -> Measurements:
        from transformers.utils import logging as hf_logging


        hf_logging.disable_progress_bar()  # per-phase progress is ours; no weight-loading bars
        cfg = self.cfg
        train, held = self.problems()
        eval_problems = held[: cfg.eval.problems]
        ckpt_problems = held[: cfg.eval.checkpoint_problems]
        pretrain_seeds = (None,) if cfg.base_model_dir else cfg.pretrain_seeds
        bases: dict[int, Sampled] = {}
        base_stats: dict[str, Any] = {}
        runs = []
        self.build_all([self.base_block(ps) for ps in pretrain_seeds if ps is not None])
        base_dirs = [self.base(ps)[0] for ps in pretrain_seeds]
        self.build_all([self.rl_block(d, train, seed) for d in base_dirs for seed in cfg.seeds])
        for ps in pretrain_seeds:
            base_dir, stats = self.base(ps)
            ps_id = 0 if ps is None else ps
            base_stats = base_stats or stats
            bases[ps_id] = self.sample(base_dir, eval_problems, cfg.eval.samples)
            base_w = None  # the fp32 base as the runs trained from it (their step 0), own or local model
            for seed in cfg.seeds:
                run_dir, train_stats = self.rl(base_dir, train, seed)
                series = self.checkpoint_series(run_dir, ckpt_problems)
                ckpts = checkpoints(run_dir)
                final_dir = ckpts[-1][1]
                final = self.sample(final_dir, eval_problems, cfg.eval.samples)
                self.say(f"phase measure: weights of seed {seed}")
                with self.timed("measure"):
                    base_w = base_w if base_w is not None else load_weights(ckpts[0][1])
                    weights = weight_change(base_w, load_weights(final_dir))
                runs.append(SeedRun(seed=seed, pretrain_seed=ps_id, run_dir=str(run_dir), train=train_stats,
                                    checkpoints=tuple(series), final=final, weights=weights))
        first = next(iter(bases))
        return Measurements(samples=cfg.eval.samples, bootstrap=cfg.eval.bootstrap, base_model=base_stats,
                            base=bases[first], base_by_seed=bases, runs=tuple(runs))
