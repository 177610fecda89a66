"""The grid's design: prior levels, optimizer levels, presets, and the cells they make.

Prior = pretraining mixture x amount of pretraining, with several pretraining seeds per
prior (the base model is a random effect nested in the prior). Optimizer = a level of
`OPTIMIZERS`: a TRL GRPO-family configuration (its loss, learning rate `TUNED_LR` and RL
budget `BUDGET`) or expert iteration (`retest.expert_iteration`, `FAMILY`). A cell is one
RL run: (prior, optimizer, pretraining seed, RL seed); its key is the hash of everything
it depends on, so the cell cache never confuses two configurations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from retest.expert_iteration import ExpertIterationConfig
from retest.presets import EvalConfig, ModelConfig, PretrainConfig, RetestConfig, RLConfig, config_hash
from retest.presets import preset as base_preset
from retest.world import WorldConfig

MIXTURES: dict[str, dict[str, float]] = {
    # format shares A (step by step) / B (compact) / C (answer only); wrong-share per format stays the world's
    "A-rich": {"A": 0.6, "B": 0.2, "C": 0.2},
    "default": {"A": 0.2, "B": 0.3, "C": 0.5},
    "C-rich": {"A": 0.05, "B": 0.15, "C": 0.8},
}
AMOUNTS: dict[str, float] = {"short": 0.5, "long": 1.0}  # fraction of the preset's pretraining steps

OPTIMIZERS: dict[str, dict[str, Any]] = {
    # TRL options (RLConfig fields). num_iterations > 1 reuses a generated batch, so the ratio
    # is off 1 and clipping acts; at equal optimizer steps those optimizers see fewer fresh samples.
    "grpo": dict(loss_type="grpo", scale_rewards="group", beta=0.0, epsilon=0.2, epsilon_high=None, num_iterations=1),
    "dr_grpo": dict(loss_type="dr_grpo", scale_rewards="none", beta=0.0, epsilon=0.2, epsilon_high=None,
                    num_iterations=1),
    "dapo": dict(loss_type="dapo", scale_rewards="group", beta=0.0, epsilon=0.2, epsilon_high=0.28, num_iterations=2),
    # PPO-clip with a KL term: token-level (batch-normalised) clipped loss, batch-scaled
    # advantages, two passes per batch, beta 0.04 (TRL loads a frozen reference model).
    "ppo_kl": dict(loss_type="bnpo", scale_rewards="batch", beta=0.04, epsilon=0.2, epsilon_high=None,
                   num_iterations=2),
    # GRPO at 4x the preset's RL budget (steps): the budget as a level of the optimizer
    "grpo_x4": dict(loss_type="grpo", scale_rewards="group", beta=0.0, epsilon=0.2, epsilon_high=None,
                    num_iterations=1),
    # expert iteration (rejection-sampling fine-tuning): sample k, keep the verified-correct, SFT on
    # them; no TRL options: its settings come from `ei_config`
    "expert_iter": {},
}
FAMILY: dict[str, str] = {"expert_iter": "expert_iteration"}  # every other level: "grpo" (TRL)
BUDGET: dict[str, int] = {"grpo_x4": 4}  # RL steps as a multiple of the preset's (others: 1)

TUNED_LR: dict[str, float] = {
    # Tuned once per optimizer: the smoke-size model (A-rich mixture, long pretraining,
    # pretraining seed 0, RL seed 0) at the weekly RL budget (16 steps of 8 x 8), each lr of
    # LR_SWEEP; kept: the highest mean training reward over the last 4 GRPO steps (ties: the
    # smaller). Reproduce with
    #   python benchmarks/factorial_bench.py lr-sweep
    # Measured (reward of the last 4 steps at 1e-4 / 3e-4 / 1e-3): grpo .766/.738/.250,
    # dr_grpo .738/.770/.305, dapo .715/.680/.301, ppo_kl .719/.730/.395: 1e-3 collapses
    # every optimizer; between 1e-4 and 3e-4 one seed separates them by .01-.04.
    # Used by weekly and full; gpu sets its own.
    "grpo": 1e-4,
    "dr_grpo": 3e-4,
    "dapo": 1e-4,
    "ppo_kl": 3e-4,
    "grpo_x4": 1e-4,  # grpo's (tuned at 16 steps; 1e-3 collapsed it there)
    # expert iteration's SFT lr, swept the same way after the weekly run (A-rich/long, pretraining seed 0,
    # RL seeds 0 and 1; criterion: the last round's verified share, its training reward): 1e-4 .756/.738,
    # 3e-4 .789/.787, 1e-3 .731/.723 (held-out pass@1 .446/.430, .460/.442, .388/.359)
    "expert_iter": 3e-4,
}
LR_SWEEP: tuple[float, ...] = (1e-4, 3e-4, 1e-3)


@dataclass(frozen=True)
class FactorialConfig:
    """One grid: the base RetestConfig (model, world, budgets) and the levels to cross."""

    preset: str
    base: RetestConfig
    mixtures: tuple[str, ...]
    amounts: tuple[str, ...]
    optimizers: tuple[str, ...]
    pretrain_seeds: tuple[int, ...]
    rl_seeds: tuple[int, ...]
    samples: int = 256  # n per problem: pass@256 and the reachable set need n >= 256
    problems: int = 32  # held-out problems sampled n times
    reach_problems: int = 64  # held-out problems of the reach test (the base sampled n times, twice)
    kl_problems: int = 16  # held-out prompts for the KL estimate
    kl_samples: int = 8  # RL samples per prompt scored by both models
    bootstrap: int = 1000
    num_cpus: float = 1.0  # per Ray task
    num_gpus: float = 0.0
    lr: dict[str, float] = field(default_factory=lambda: dict(TUNED_LR))
    confounds: tuple[str, ...] = ()  # stated before the run, copied into the result's flags

    def __post_init__(self) -> None:
        for name, pool in (("mixtures", MIXTURES), ("amounts", AMOUNTS), ("optimizers", OPTIMIZERS)):
            unknown = [x for x in getattr(self, name) if x not in pool]
            if unknown:
                raise ValueError(f"unknown {name} {unknown}: choose from {sorted(pool)}")
        if self.samples < 256:
            raise ValueError("samples must be at least 256 (pass@256 and the reachable set)")
        if not self.pretrain_seeds or not self.rl_seeds or not self.mixtures or not self.amounts:
            raise ValueError("need at least one mixture, amount, pretraining seed and RL seed")

    @property
    def priors(self) -> list[tuple[str, str]]:
        return [(m, a) for m in self.mixtures for a in self.amounts]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def prior_name(mixture: str, amount: str) -> str:
    return f"{mixture}/{amount}"


def prior_config(fc: FactorialConfig, mixture: str, amount: str, pretrain_seed: int) -> RetestConfig:
    """The RetestConfig of one base model: the mixture in the world, the amount in the steps."""
    world = dataclasses.replace(fc.base.world, mixture=dict(MIXTURES[mixture]))
    steps = max(1, round(fc.base.pretrain.steps * AMOUNTS[amount]))
    pre = dataclasses.replace(fc.base.pretrain, steps=steps, seed=pretrain_seed)
    return dataclasses.replace(fc.base, world=world, pretrain=pre)


def family(optimizer: str) -> str:
    """"grpo" (a TRL GRPOTrainer run) or "expert_iteration"."""
    return FAMILY.get(optimizer, "grpo")


def optimizer_config(fc: FactorialConfig, optimizer: str) -> RLConfig:
    """The RLConfig of a GRPO-family level: its TRL options, tuned learning rate and budget."""
    if family(optimizer) != "grpo":
        raise ValueError(f"{optimizer} is not a GRPO-family level (ei_config)")
    rl = fc.base.rl
    steps = rl.steps * BUDGET.get(optimizer, 1)
    every = rl.checkpoint_every * BUDGET.get(optimizer, 1)
    return dataclasses.replace(rl, **OPTIMIZERS[optimizer], lr=fc.lr[optimizer], steps=steps, checkpoint_every=every)


def ei_config(fc: FactorialConfig, optimizer: str = "expert_iter") -> ExpertIterationConfig:
    """Expert iteration at the preset's GRPO rollout budget: 2 rounds, each sampling half of
    GRPO's prompts (steps x prompts_per_step / 2) group_size times, 8 SFT steps a round."""
    rl = fc.base.rl
    return ExpertIterationConfig(rounds=2, prompts_per_round=max(1, rl.steps * rl.prompts_per_step // 2),
                                 samples=rl.group_size, sft_steps=8, lr=fc.lr[optimizer], temperature=rl.temperature,
                                 max_completion_length=rl.max_completion_length)


def optimizer_settings(fc: FactorialConfig, optimizer: str) -> RLConfig | ExpertIterationConfig:
    """What a level trains with (the cell's key hashes it)."""
    return ei_config(fc, optimizer) if family(optimizer) == "expert_iteration" else optimizer_config(fc, optimizer)


def rollouts(fc: FactorialConfig, optimizer: str) -> int:
    """Completions the level samples while it trains: the compute its efficiency is per."""
    cfg = optimizer_settings(fc, optimizer)
    if isinstance(cfg, ExpertIterationConfig):
        return cfg.rollouts
    return cfg.steps * cfg.prompts_per_step * cfg.group_size


@dataclass(frozen=True)
class BaseSpec:
    """One base model to build: a prior level and a pretraining seed."""

    mixture: str
    amount: str
    pretrain_seed: int

    def key(self, fc: FactorialConfig) -> str:
        pc = prior_config(fc, self.mixture, self.amount, self.pretrain_seed)
        return config_hash("factorial-base", pc.world, pc.model, pc.pretrain, _eval_part(fc))


@dataclass(frozen=True)
class CellSpec:
    """One GRPO run of the grid."""

    mixture: str
    amount: str
    optimizer: str
    pretrain_seed: int
    rl_seed: int

    @property
    def base(self) -> BaseSpec:
        return BaseSpec(self.mixture, self.amount, self.pretrain_seed)

    def key(self, fc: FactorialConfig) -> str:
        return config_hash("factorial-cell", self.base.key(fc), optimizer_settings(fc, self.optimizer), self.rl_seed)

    def label(self) -> str:
        return (f"{prior_name(self.mixture, self.amount)} x {self.optimizer} "
                f"(pretrain seed {self.pretrain_seed}, RL seed {self.rl_seed})")


def _eval_part(fc: FactorialConfig) -> list[Any]:
    return [fc.samples, fc.problems, fc.reach_problems, fc.kl_problems, fc.kl_samples, fc.base.eval.temperature,
            fc.base.rl.max_completion_length]


def bases(fc: FactorialConfig) -> list[BaseSpec]:
    return [BaseSpec(m, a, s) for m, a in fc.priors for s in fc.pretrain_seeds]


def cells(fc: FactorialConfig) -> list[CellSpec]:
    """Every cell, prior-major (cells of one base are adjacent)."""
    return [CellSpec(m, a, o, ps, rs) for m, a in fc.priors for ps in fc.pretrain_seeds
            for o in fc.optimizers for rs in fc.rl_seeds]


# --- presets ---------------------------------------------------------------------------


def _weekly() -> FactorialConfig:
    smoke = base_preset("smoke")
    return FactorialConfig(
        preset="weekly",
        base=dataclasses.replace(smoke, preset="factorial-weekly", eval=dataclasses.replace(smoke.eval, batch_size=2048)),
        mixtures=("A-rich", "C-rich"),
        amounts=("short", "long"),
        # levels that differ in more than the loss: the RL budget (grpo_x4: 64 steps against 16), the
        # loss, KL term and learning rate (ppo_kl: 3e-4 against 1e-4), and the family (expert_iter)
        optimizers=("grpo", "grpo_x4", "ppo_kl", "expert_iter"),
        pretrain_seeds=(0, 1, 2, 3),
        rl_seeds=(0, 1),
        problems=32,
        reach_problems=64,
        bootstrap=500,
        confounds=(
            "weekly: 2 mixtures (A-rich, C-rich; no default) x 2 amounts, 4 pretraining seeds and 2 RL seeds"
            " (full: 3 mixtures, 3 RL seeds): the prior's levels are the extremes, which inflates its share",
            "weekly: the smoke-size model (2 layers x 64) and world (operands 1-5); RL budgets of 1,024"
            " rollouts (grpo, ppo_kl, expert_iter) and 4,096 (grpo_x4)",
            "weekly: 32 held-out problems for the outcomes (pass@256 moves in steps of 1/32), 64 for the reach test",
            "ppo_kl takes 2 passes per generated batch at equal optimizer steps: half grpo's fresh samples per step",
            "learning rates tuned on one seed of one base (TUNED_LR): between 1e-4 and 3e-4 the sweep's"
            " differences were within seed noise",
        ),
    )


def _full() -> FactorialConfig:
    std = base_preset("standard")
    return FactorialConfig(
        preset="full",
        base=dataclasses.replace(std, preset="factorial-full"),
        mixtures=("A-rich", "default", "C-rich"),
        amounts=("short", "long"),
        optimizers=("grpo", "dr_grpo", "dapo", "ppo_kl"),
        pretrain_seeds=(0, 1),
        rl_seeds=(0, 1, 2),
        problems=100,
        kl_problems=32,
        confounds=(
            "optimizers at equal optimizer steps: dapo and ppo_kl take 2 passes per generated batch, so they"
            " see half the fresh samples of grpo and dr_grpo",
            "learning rates tuned on the smoke-size model (TUNED_LR), not retuned at this size",
        ),
    )


def _gpu() -> FactorialConfig:
    # A real small model pretrained here at GPU scale (8 layers x 512, ~25M parameters);
    # config only: validated in the tests, run where a GPU is present.
    std = base_preset("standard")
    base = dataclasses.replace(
        std,
        preset="factorial-gpu",
        world=WorldConfig(max_operand=9, corpus_size=200_000),
        model=ModelConfig(layers=8, width=512, ffn=2048, heads=8, max_len=64),
        pretrain=PretrainConfig(steps=4000, rows=256, row_len=64, lr=1e-3, warmup=200),
        rl=RLConfig(steps=200, prompts_per_step=16, group_size=16, lr=1e-5, checkpoint_every=50),
        eval=EvalConfig(problems=200, samples=256, batch_size=8192),
    )
    return FactorialConfig(
        preset="gpu",
        base=base,
        mixtures=("A-rich", "default", "C-rich"),
        amounts=("short", "long"),
        optimizers=("grpo", "dr_grpo", "dapo", "ppo_kl"),
        pretrain_seeds=(0, 1),
        rl_seeds=(0, 1, 2),
        problems=200,
        kl_problems=64,
        kl_samples=16,
        num_cpus=4,
        num_gpus=1,
        lr={k: 1e-5 for k in TUNED_LR},
        confounds=("gpu: learning rate 1e-5 for every optimizer, not tuned per optimizer at this size",),
    )


_BUILDERS = {"weekly": _weekly, "full": _full, "gpu": _gpu}


def factorial_preset(name: str) -> FactorialConfig:
    """The named grid; raises ValueError naming the choices."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown factorial preset {name!r}: choose one of {', '.join(_BUILDERS)}")
    return _BUILDERS[name]()


def tiny_config(rl_steps: int = 2, optimizers: tuple[str, ...] = ("grpo",)) -> FactorialConfig:
    """A few-second grid of a barely trained smoke-size model: for the tests and the
    executor benchmark (2 mixtures x 1 amount x the optimizers (grpo alone by default), one seed each)."""
    smoke = base_preset("smoke")
    base = dataclasses.replace(
        smoke,
        preset="factorial-tiny",
        world=dataclasses.replace(smoke.world, corpus_size=2_000),
        pretrain=dataclasses.replace(smoke.pretrain, steps=40, warmup=5),
        rl=dataclasses.replace(smoke.rl, steps=rl_steps, prompts_per_step=4, group_size=4, checkpoint_every=rl_steps),
    )
    return FactorialConfig(preset="tiny", base=base, mixtures=("A-rich", "C-rich"), amounts=("short",),
                           optimizers=optimizers, pretrain_seeds=(0,), rl_seeds=(0,), problems=4, reach_problems=8,
                           kl_problems=2,
                           kl_samples=4, bootstrap=50)
