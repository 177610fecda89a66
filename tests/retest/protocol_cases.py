"""Hand-made measurements for the decision-rule tests (one test file per protocol).

Two seeds with equal measurements give a zero-width interval over seeds, so a value
can sit exactly on a threshold; one seed gives the bootstrap path. Every boundary
case fails if its comparison is flipped (`<=` to `<`, `>=` to `>`) or a threshold moves.
"""

from __future__ import annotations


from retest.protocols import PROTOCOLS
from retest.results import LayerSparsity, Measurements, Sampled, SeedRun, TrainStats, WeightChange

N = 4  # samples per problem


def sampled(counts: list[int], formats: dict[str, float] | None = None, entropy: float = 0.5) -> Sampled:
    shares = {"A": 0.0, "B": 0.0, "C": 1.0, "other": 0.0} | (formats or {})
    return Sampled(counts=tuple(counts), formats=(shares,) * len(counts), entropy=(entropy,) * len(counts))


def weights(changed_bf16: float, tensors: tuple[tuple[int, int], ...] = ((1, 10),)) -> WeightChange:
    all_ = LayerSparsity(parameters=1000, changed_fp32=min(1.0, changed_bf16 + 0.5), changed_bf16=changed_bf16,
                         hidden_by_bf16=0.5)
    return WeightChange(sparsity={"layer 0": all_, "all": all_}, tensors=tensors, ranks={},
                        relative_update={"p10": 1e-4, "p50": 1e-3, "p90": 1e-2, "bf16_half_ulp": 2.0**-9})


def measured(base: Sampled, finals: list[Sampled], changes: list[WeightChange | None] | None = None,
             epochs: float = 0.5) -> Measurements:
    train = TrainStats(seconds=1.0, steps_per_second=1.0, reward=(0.2, 0.4), entropy=(0.5, 0.4), kl=(),
                       epoch_at_end=epochs)
    changes = changes or [None] * len(finals)
    runs = tuple(SeedRun(seed=i, run_dir=f"/runs/{i}", train=train, checkpoints=(), final=f, weights=w)
                 for i, (f, w) in enumerate(zip(finals, changes)))
    return Measurements(samples=N, bootstrap=300, base_model={}, base=base, runs=runs)


def decide(name: str, m: Measurements):  # -> Decision
    return PROTOCOLS[name].decide(m)
