"""The typed results of a retest: one definition each, frozen, JSON round trip by pydantic.

- `Measurements`: what `retest.runner.measure` produces and the protocols' decision
  rules read (one base model, one GRPO run per seed).
- `RunMetrics`: the plot series stored with a run (`RetestRun.metrics`, documented in
  docs/retest.md); `retest.runner.plot_series` writes it, the UI reads it back with
  `RunMetrics.from_stored`.
- `Environment`: versions and hardware recorded with every run.

Pure: pydantic only, no numpy or torch, so the UI can import it cheaply.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

FORMAT_NAMES = ("A", "B", "C", "other")  # the solution formats of the toy world, "other" = malformed


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Stored(BaseModel):
    """Read back from the database: unknown keys (older rows) are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_stored(cls, data: Any) -> Any:
        """The model of a stored JSON object, or None when it does not fit."""
        try:
            return cls.model_validate(data or {})
        except ValidationError:
            return None


# --- measurements -------------------------------------------------------------------


SAMPLED_VERSION = "3"  # bump when a field's meaning changes: cached samples of another version are redrawn


class Sampled(_Frozen):
    """One model sampled n times on each held-out problem; tuples are in problem order.

    Entropies are in nats at the sampling temperature. `entropy` is pooled over tokens
    (a problem's summed token entropies over its summed tokens), so a longer completion
    of predictable characters does not read as "entropy falls" the way a mean of
    per-completion means did; `first_entropy` is the first token's (where the toy
    world's format is chosen), averaged over the problem's samples.
    """

    counts: tuple[int, ...]  # correct samples per problem (of n)
    formats: tuple[dict[str, float], ...]  # share of each of FORMAT_NAMES among a problem's samples
    entropy: tuple[float, ...]  # token entropy pooled over all tokens of a problem's samples
    first_entropy: tuple[float, ...] = ()  # first-token entropy, mean over a problem's samples
    tokens: tuple[int, ...] = ()  # generated tokens of a problem's samples (the pooling weights)
    format_correct: tuple[dict[str, float], ...] = ()  # share of a problem's samples in a format and correct
    seconds: float = 0.0
    samples_per_second: float | None = None
    examples: tuple[str, ...] = ()

    def format_column(self, fmt: str) -> list[float]:
        """The share of format `fmt` for each problem."""
        return [p.get(fmt, 0.0) for p in self.formats]

    def mean_formats(self) -> dict[str, float]:
        """The share of each format, averaged over problems."""
        return {f: sum(self.format_column(f)) / max(1, len(self.formats)) for f in FORMAT_NAMES}

    def format_accuracy(self) -> dict[str, float | None]:
        """Share correct among the samples of each format (None where a format was never drawn)."""
        out: dict[str, float | None] = {}
        for f in FORMAT_NAMES:
            drawn = sum(self.format_column(f))
            right = sum(p.get(f, 0.0) for p in self.format_correct)
            out[f] = right / drawn if drawn and self.format_correct else None
        return out

    @property
    def mean_entropy(self) -> float:
        """Token entropy pooled over every token of every sample (mean over problems without `tokens`)."""
        if len(self.tokens) == len(self.entropy) and sum(self.tokens):
            return sum(e * t for e, t in zip(self.entropy, self.tokens)) / sum(self.tokens)
        return sum(self.entropy) / max(1, len(self.entropy))

    @property
    def mean_first_entropy(self) -> float:
        """First-token entropy, mean over problems."""
        return sum(self.first_entropy) / max(1, len(self.first_entropy))

    def accuracy(self, n: int) -> float:
        """Share of all samples that are correct, for n samples per problem."""
        return sum(self.counts) / max(1, len(self.counts) * n)


class Checkpoint(_Frozen):
    """A GRPO checkpoint sampled on the checkpoint problems (step 0 is the base)."""

    step: int
    format_shares: dict[str, float]
    entropy: float
    accuracy: float


class TrainStats(_Frozen):
    """A GRPO run as `retest.rl.train_grpo` reports it; per-step lists from TRL's log."""

    seconds: float
    steps_per_second: float | None
    reward: tuple[float, ...]
    entropy: tuple[float, ...]
    kl: tuple[float, ...]
    epoch_at_end: float


class LayerSparsity(_Frozen):
    """The share of a layer group's parameters that the update changed."""

    parameters: int
    changed_fp32: float
    changed_bf16: float
    hidden_by_bf16: float  # changed in fp32, invisible after rounding to bf16


class WeightChange(_Frozen):
    """Base vs. RL weights of one seed (only for models this engine pretrained)."""

    sparsity: dict[str, LayerSparsity]  # layer group ("layer 0", "embed", ...) and "all"
    tensors: tuple[tuple[int, int], ...]  # (parameters changed as seen in bf16, size) per tensor
    ranks: dict[str, dict[str, Any]]  # weight name -> numerical and effective rank of its update
    relative_update: dict[str, float]  # quantiles p10, p50, p90 of |delta| / |w|, bf16_half_ulp


class SeedRun(_Frozen):
    """One GRPO run from the shared base, and what was measured on it."""

    seed: int
    pretrain_seed: int = 0  # the base model this run started from
    run_dir: str
    train: TrainStats
    checkpoints: tuple[Checkpoint, ...]
    final: Sampled  # the last checkpoint on the held-out problems
    weights: WeightChange | None = None


class Measurements(_Frozen):
    """Everything the protocols decide on: the base model and one `SeedRun` per seed."""

    samples: int  # n per problem: pass@k for k = 1..n
    bootstrap: int  # bootstrap draws for single-seed intervals
    base_model: dict[str, Any]  # pretraining stats (first base), or {"local_model": path}
    base: Sampled  # the first pretraining seed's base model
    base_by_seed: dict[int, Sampled] = {}  # pretraining seed -> its base model sampled
    runs: tuple[SeedRun, ...]

    def base_of(self, run: SeedRun) -> Sampled:
        """The base model sample a run started from."""
        return self.base_by_seed.get(run.pretrain_seed, self.base)

    @property
    def pretrain_seeds(self) -> tuple[int, ...]:
        return tuple(sorted({r.pretrain_seed for r in self.runs}))

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(r.seed for r in self.runs)

    @property
    def epochs(self) -> float:
        """Passes over the RL prompts by the end of the longest run."""
        return max((r.train.epoch_at_end for r in self.runs), default=0.0)


# --- stored with a run --------------------------------------------------------------


class Effect(_Stored):
    value: float
    low: float
    high: float
    interval_over: str  # "seeds", "... (hierarchical bootstrap)" or "<what> (bootstrap, single seed)"
    per_seed: tuple[float, ...] = ()  # the effect of each run, beside the interval


class RunMetrics(_Stored):
    """The plot series of a run (RetestRun.metrics); lists align with their x-axis.

    A failed run stores only `timings` (the series stay empty: the UI shows "no data").
    """

    toy_world: bool = True
    seeds: tuple[int, ...] = ()
    single_seed: bool = False
    k: tuple[int, ...] = ()
    passk_base: tuple[float, ...] = ()
    passk_base_low: tuple[float, ...] = ()
    passk_base_high: tuple[float, ...] = ()
    passk_rl: tuple[float, ...] = ()  # mean over seeds
    passk_rl_low: tuple[float, ...] = ()
    passk_rl_high: tuple[float, ...] = ()
    passk_rl_by_seed: tuple[tuple[float, ...], ...] = ()
    checkpoint_steps: tuple[int, ...] = ()
    format_shares: dict[str, tuple[float, ...]] = {}  # format -> share per checkpoint
    entropy: tuple[float, ...] = ()  # per checkpoint (samples)
    accuracy: tuple[float, ...] = ()  # per checkpoint
    format_shares_base: dict[str, float] = {}
    format_shares_final: dict[str, float] = {}
    entropy_base: float | None = None
    entropy_final: float | None = None
    train_steps: tuple[int, ...] = ()
    train_reward: tuple[float, ...] = ()  # per GRPO step, mean over seeds
    train_entropy: tuple[float, ...] = ()  # per GRPO step (policy), mean over seeds
    epochs: float | None = None
    sparsity: dict[str, LayerSparsity] = {}  # mean over seeds, per layer group and "all"
    sparsity_by_seed: tuple[LayerSparsity, ...] = ()  # "all" of each seed
    ranks: dict[str, dict[str, Any]] = {}
    relative_update: dict[str, float] = {}
    base_model: dict[str, Any] = {}
    grpo: tuple[dict[str, Any], ...] = ()  # TrainStats of each seed without the per-step lists
    effect: Effect | None = None
    details: dict[str, Any] = {}  # protocol-specific figures (docs/retest.md, per protocol)
    timings: dict[str, float] = {}

    @classmethod
    def from_stored(cls, data: Any) -> RunMetrics | None:
        return super().from_stored(data)  # type: ignore[no-any-return]


class Hardware(_Stored):
    machine: str | None = None
    processor: str | None = None
    cpu_threads: int | None = None
    gpu: str | None = None


class Environment(_Stored):
    """Versions, code revision and hardware of a run (RetestRun.environment)."""

    torch: str | None = None
    transformers: str | None = None
    trl: str | None = None
    python: str | None = None
    git_revision: str | None = None
    hardware: Hardware = Hardware()
    seeds: tuple[int, ...] = ()

    @classmethod
    def from_stored(cls, data: Any) -> Environment | None:
        return super().from_stored(data)  # type: ignore[no-any-return]
