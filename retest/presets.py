"""Run configurations and the named presets: smoke, standard, gpu.

A `RetestConfig` is plain frozen dataclasses, so it hashes (for the caches) and
serialises (into the run record) as it is. Budgets are for the 2-core CPU machine
this was written on; see docs/retest.md for the measured times.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retest.world import WorldConfig

LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo")
SCALE_REWARDS = ("group", "batch", "none")
CODE_VERSION = "1"  # bump when a change to the code invalidates cached models


@dataclass(frozen=True)
class ModelConfig:
    """A small Llama; the defaults give about 1.06M parameters."""

    layers: int = 4
    width: int = 128
    ffn: int = 512
    heads: int = 4
    max_len: int = 64


@dataclass(frozen=True)
class PretrainConfig:
    """Pretraining from scratch on the world's corpus (packed rows)."""

    steps: int = 600
    rows: int = 16  # rows per batch
    row_len: int = 64  # tokens per packed row: 64 was 4x faster than 256 (eager attention)
    lr: float = 3e-3  # 3e-3 with warm-up: a 1M model from scratch, stable here
    warmup: int = 30
    seed: int = 0


@dataclass(frozen=True)
class RLConfig:
    """GRPO through TRL; the options the claims are about are exposed."""

    steps: int = 60
    prompts_per_step: int = 8
    group_size: int = 8  # TRL num_generations
    lr: float = 1e-4  # 1e-6 does not move a model trained from scratch
    beta: float = 0.0  # KL coefficient; > 0 loads a reference model
    loss_type: str = "dapo"
    temperature: float = 1.0
    max_completion_length: int = 24
    checkpoint_every: int = 10
    use_vllm: bool = False
    # the optimizer options of the factorial (TRL's own names): reward scaling, clipping, inner epochs
    scale_rewards: str = "group"  # group | batch | none (Dr. GRPO: none)
    epsilon: float = 0.2  # lower clip
    epsilon_high: float | None = None  # upper clip (DAPO clip-higher); None = epsilon
    num_iterations: int = 1  # optimisation passes per generated batch (clipping acts only when > 1)
    reward: str = "correct"  # a name in retest.rewards.REWARDS
    # TRL 1.16 entropy control (GRPOConfig entropy_coef / use_adaptive_entropy / entropy_target, Skywork-OR1)
    entropy_coef: float = 0.0  # entropy bonus in the loss; with adaptive control, its starting value
    use_adaptive_entropy: bool = False  # raise/lower entropy_coef each step to hold entropy near entropy_target
    entropy_target: float = 0.2  # nats, mean per completion token

    def __post_init__(self) -> None:
        if self.scale_rewards not in SCALE_REWARDS:
            raise ValueError(f"scale_rewards {self.scale_rewards!r}: choose one of {SCALE_REWARDS}")
        if self.num_iterations < 1:
            raise ValueError("num_iterations must be at least 1")
        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"loss_type {self.loss_type!r}: choose one of {LOSS_TYPES}")
        if self.group_size < 2:
            raise ValueError("group_size must be at least 2 (GRPO compares within a group)")
        if self.checkpoint_every < 1 or self.steps < 1:
            raise ValueError("steps and checkpoint_every must be positive")


@dataclass(frozen=True)
class SFTConfig:
    """Supervised fine-tuning of a base model on (prompt, completion) pairs (`retest.sft`)."""

    steps: int = 60
    rows: int = 16
    row_len: int = 64
    lr: float = 3e-4
    seed: int = 0


@dataclass(frozen=True)
class EvalConfig:
    """Sampling for the measurements."""

    problems: int = 100  # held-out problems for pass@k
    samples: int = 32  # n per problem: pass@k for k = 1..n
    checkpoint_problems: int = 48  # per checkpoint: format shares and entropy
    checkpoint_samples: int = 8
    temperature: float = 1.0
    batch_size: int = 1024
    bootstrap: int = 1000


@dataclass(frozen=True)
class RetestConfig:
    """Everything one run needs: `seeds` are the RL seeds, run on each of the `pretrain_seeds` bases."""

    preset: str
    world: WorldConfig = field(default_factory=WorldConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    rl: RLConfig = field(default_factory=RLConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seeds: tuple[int, ...] = (0,)
    pretrain_seeds: tuple[int, ...] = (0,)  # one base model per seed: the prior is a random effect
    sft: SFTConfig = field(default_factory=SFTConfig)
    sampler: str = "transformers"  # transformers | vllm
    base_model_dir: str | None = None  # gpu: a local HF model directory instead of pretraining
    problems_file: str | None = None  # gpu: JSONL of {"prompt", "answer"}
    # a local chat model's prompts go through its chat template (a user turn, then the assistant's opening);
    # False for a base model (`--no-chat-template`): the problem file's prompts as written
    chat_template: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> RetestConfig:
        """This config, after checking a local model and problem file (`check_local_inputs`).

        The gpu preset needs both; any preset given one needs the other. Raises ValueError
        with one line that says what to pass, before any work.
        """
        if self.preset in LOCAL_PRESETS or self.base_model_dir or self.problems_file:
            check_local_inputs(self.base_model_dir, self.problems_file, self.preset)
        return self

    def with_seeds(self, n: int) -> RetestConfig:
        if n < 1:
            raise ValueError("seeds must be at least 1")
        return dataclasses.replace(self, seeds=tuple(range(n)))


def config_hash(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (dataclasses allowed)."""
    norm = [dataclasses.asdict(p) if dataclasses.is_dataclass(p) and not isinstance(p, type) else p for p in parts]
    blob = json.dumps([CODE_VERSION, *norm], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _smoke() -> RetestConfig:
    # One seed, ~35 s alone on 2 cores: a 2-layer 64-wide model (~110k params).
    return RetestConfig(
        preset="smoke",
        world=WorldConfig(corpus_size=8_000, held_out=64, max_operand=5),
        model=ModelConfig(layers=2, width=64, ffn=256, heads=4),
        pretrain=PretrainConfig(steps=400, rows=32, row_len=64, lr=5e-3, warmup=20),
        rl=RLConfig(steps=16, prompts_per_step=8, group_size=8, lr=3e-4, checkpoint_every=4),
        eval=EvalConfig(problems=64, samples=16, checkpoint_problems=32, checkpoint_samples=8, bootstrap=500),
        seeds=(0,),
    )


def _standard() -> RetestConfig:
    # Three RL seeds on each of two ~1M-parameter bases (the prior is a random effect): the weekly
    # default. Rows of 64 tokens (64 a step, the same tokens as 16 rows of 256): shorter rows were
    # faster per token with eager attention (docs/retest.md); two bases took 957 s beside a CI run.
    return RetestConfig(
        preset="standard",
        pretrain=PretrainConfig(steps=500, rows=64, row_len=64, lr=3e-3, warmup=30),
        rl=RLConfig(steps=50, lr=1e-4, checkpoint_every=10),
        eval=EvalConfig(problems=100, samples=32),
        seeds=(0, 1, 2),
        pretrain_seeds=(0, 1),
    )


def _gpu() -> RetestConfig:
    # A real local model and problem file, vLLM sampling; `preset("gpu", model_dir, problems_file)`
    # (claims retest run --model-dir/--problems) sets and checks them. Completions up to 1,024
    # tokens (a reasoning model's solutions; rl.max_completion_length, also the sampling cap).
    return RetestConfig(
        preset="gpu",
        rl=RLConfig(steps=200, prompts_per_step=16, group_size=8, lr=1e-6, beta=0.0, reward="final-answer",
                    max_completion_length=1024, checkpoint_every=25, use_vllm=True),
        eval=EvalConfig(problems=200, samples=64, checkpoint_problems=64, checkpoint_samples=16),
        seeds=(0, 1, 2),
        sampler="vllm",
    )


def _model_smoke() -> RetestConfig:
    # The gpu preset's code path (a local model, its problem file, the stated-answer reward, the same
    # samplers) at sizes a 2-core CPU runs in seconds to minutes per protocol: `claims retest run ...
    # --preset model-smoke --model-dir DIR --problems FILE`. Transformers sampling (vLLM: set sampler).
    # Its verdicts test nothing (2 GRPO steps, 4 problems): it checks that the path runs end to end.
    return RetestConfig(
        preset="model-smoke",
        rl=RLConfig(steps=2, prompts_per_step=2, group_size=2, lr=1e-5, reward="final-answer",
                    max_completion_length=12, checkpoint_every=1),
        sft=SFTConfig(steps=2, rows=4, row_len=64, lr=1e-5),
        eval=EvalConfig(problems=4, samples=4, checkpoint_problems=2, checkpoint_samples=2, batch_size=64,
                        bootstrap=200),
        seeds=(0,),
    )


_BUILDERS = {"smoke": _smoke, "standard": _standard, "gpu": _gpu, "model-smoke": _model_smoke}
LOCAL_PRESETS = ("gpu", "model-smoke")
"""The presets that run a local model on its problem file (`--model-dir`, `--problems`), never the toy world."""
PRESETS: tuple[str, ...] = tuple(_BUILDERS)
"""The preset names, in order: the one list the CLI and the weekly job check against."""


def preset(name: str, model_dir: str | Path | None = None, problems_file: str | Path | None = None) -> RetestConfig:
    """The named preset, with a local model and problem file when given (checked: `validate`).

    Raises ValueError naming the choices, or saying what the gpu preset needs.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    cfg = _BUILDERS[name]()
    if model_dir is not None or problems_file is not None:
        cfg = dataclasses.replace(cfg, base_model_dir=str(model_dir) if model_dir is not None else None,
                                  problems_file=str(problems_file) if problems_file is not None else None)
    return cfg.validate()


# --- a local model and its problem file (the gpu preset) -------------------------------

MODEL_HELP = "--model-dir DIR (base_model_dir: a local Hugging Face model directory with config.json)"
PROBLEMS_HELP = '--problems FILE.jsonl (problems_file: JSON lines {"prompt": "...", "answer": <integer>})'
MIN_PROBLEMS = 2  # at least one held out and one to train on


def check_local_inputs(model_dir: str | Path | None, problems_file: str | Path | None, preset_name: str = "gpu") -> None:
    """Raise ValueError, one line saying what to pass, unless both inputs are usable.

    The model directory needs config.json, safetensors weights and a tokenizer; the
    problem file at least `MIN_PROBLEMS` rows, each a JSON object with a text "prompt"
    and an integer "answer".
    """
    if model_dir is None and problems_file is None:
        raise ValueError(f"the {preset_name} preset needs a local model and its problems: pass {MODEL_HELP} "
                         f"and {PROBLEMS_HELP}")
    if model_dir is None or problems_file is None:
        missing = MODEL_HELP if model_dir is None else PROBLEMS_HELP
        raise ValueError(f"give --model-dir and --problems together: pass {missing}")
    model = Path(model_dir)
    if not model.is_dir():
        raise ValueError(f"--model-dir {model} is not a directory: pass {MODEL_HELP}")
    if not (model / "config.json").is_file():
        raise ValueError(f"--model-dir {model} has no config.json: pass {MODEL_HELP}")
    if not any(model.glob("*.safetensors")):
        raise ValueError(f"--model-dir {model} has no *.safetensors weights: save the model with "
                         f"save_pretrained (safetensors) and pass {MODEL_HELP}")
    if not any((model / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")):
        raise ValueError(f"--model-dir {model} has no tokenizer (tokenizer.json): save the tokenizer beside the "
                         f"model and pass {MODEL_HELP}")
    _check_problems(Path(problems_file))


def _check_problems(path: Path) -> None:
    if not path.is_file():
        raise ValueError(f"--problems {path} is not a file: pass {PROBLEMS_HELP}")
    rows = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"--problems {path}: line {i} is not JSON ({exc.msg}): pass {PROBLEMS_HELP}") from None
            ok = (isinstance(row, dict) and isinstance(row.get("prompt"), str) and row["prompt"].strip()
                  and _is_integer(row.get("answer")))
            if not ok:
                raise ValueError(f"--problems {path}: line {i} needs a text \"prompt\" and an integer \"answer\": "
                                 f"pass {PROBLEMS_HELP}")
            rows += 1
    if rows < MIN_PROBLEMS:
        raise ValueError(f"--problems {path} has {rows} problem(s), at least {MIN_PROBLEMS} needed "
                         f"(held out and trained on): pass {PROBLEMS_HELP}")


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()
