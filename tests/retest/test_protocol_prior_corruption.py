"""C5c prior-corruption: the decision rule on hand-made measurements, each verdict, edges and flags."""

from __future__ import annotations

from retest.measures import Interval
from retest.protocols import PROTOCOLS
from retest.protocols.passk import C1Measurements
from retest.protocols.prior_corruption import MARGIN, rule

from .protocol_cases import measured, sampled

HARD = 50
K = 256


def c5(base: list[int], redraw: list[int], rl: list[list[int]], k: int = K) -> C1Measurements:
    """`base` and `rl` are the sampler-seed-1 draws, `redraw` the base's seed-2 draw (the reference)."""
    m = measured(sampled([1] * 10), [sampled([3] * 10)] * len(rl))
    return C1Measurements(**dict(m), hard_samples=k, hard_prompts=tuple(f"p{i}" for i in range(len(base))),
                          hard_base={0: tuple(base)}, hard_base_redraw={0: tuple(redraw)},
                          hard_rl=tuple(tuple(r) for r in rl), routed=())


def decide(m: C1Measurements):  # -> Decision
    return PROTOCOLS["prior-corruption"].decide(m)


REACHED = [5] * 30 + [0] * 20  # the base reaches 30 of 50; its second draw the same 30


def iv(low: float, high: float) -> Interval:
    return Interval((low + high) / 2, low, high, "test")


def test_rule_edges() -> None:
    assert rule(iv(1e-9, 0.1), iv(-0.1, MARGIN)) == "consistent"
    assert rule(iv(0.0, 0.1), iv(-0.1, MARGIN)) == "inconclusive"  # a loss that may be nothing
    assert rule(iv(1e-9, 0.1), iv(-0.1, MARGIN + 1e-9)) == "inconclusive"
    assert rule(iv(-0.1, 0.0), iv(-0.1, 0.0)) == "inconsistent"  # no loss beyond chance
    assert rule(iv(0.05, 0.1), iv(MARGIN + 1e-9, 0.2)) == "inconsistent"  # RL exceeds the prior
    assert rule(iv(0.05, 0.1), iv(MARGIN, 0.2)) == "inconclusive"


def test_consistent_when_rl_loses_problems_the_base_reaches_and_gains_none() -> None:
    lossy = [5] * 20 + [0] * 30  # RL loses 10 of the base's 30, reaches nothing new
    d = decide(c5(REACHED, REACHED, [lossy] * 3))
    assert d.verdict == "consistent" and d.flags == ()
    assert d.effect_size == 10 / HARD and d.per_seed == (0.2, 0.2, 0.2)
    assert d.details["lost"] == [10, 10, 10] and d.details["lost_by_chance"] == [0] and d.details["gained"] == [0] * 3


def test_losses_the_base_redraw_also_shows_are_chance_not_corruption() -> None:
    lossy = [5] * 20 + [0] * 30
    d = decide(c5(REACHED, lossy, [lossy] * 3))  # the base's own second draw loses the same 10
    assert d.effect_size == 0 and d.verdict == "inconsistent"


def test_chance_level_is_read_on_the_sampler_seed_of_the_rl_draw() -> None:
    # RL identical to its base: drawn on the same sampler seed it reaches exactly what the base's seed-1 draw
    # reaches, 5 problems more than the base's seed-2 draw. Read against the matched base draw the excess loss
    # is exactly 0; a chance level from a different seed than RL's draw would call it -0.10 (a gain from noise).
    seed1 = [5] * 30 + [0] * 20
    seed2 = [5] * 25 + [0] * 25
    d = decide(c5(seed1, seed2, [seed1] * 3))
    assert (d.effect_size, d.ci_low, d.ci_high) == (0.0, 0.0, 0.0) and d.verdict == "inconsistent"
    assert d.details["net_reach"]["estimate"] == 0 and d.details["excess_gain"]["estimate"] == 0
    assert d.details["lost"] == [0, 0, 0] and d.details["lost_by_chance"] == [0]
    assert d.details["gained"] == [5, 5, 5] and d.details["gained_by_chance"] == [5]


def test_inconsistent_when_rl_exceeds_the_prior() -> None:
    more = [5] * 40 + [0] * 10  # 10 new problems, none lost
    d = decide(c5(REACHED, REACHED, [more] * 3))
    assert d.verdict == "inconsistent" and d.details["excess_gain"]["estimate"] == 0.2


def test_inconclusive_when_runs_disagree() -> None:
    lossy = [5] * 20 + [0] * 30
    d = decide(c5(REACHED, REACHED, [lossy, REACHED, REACHED]))
    assert d.ci_low <= 0 < d.ci_high and d.verdict == "inconclusive"


def test_flags() -> None:
    few = [5] * 9 + [0] * 41
    assert any(f.startswith("too few reached") for f in decide(c5(few, few, [few] * 3)).flags)
    shaky = [5] * 20 + [0] * 30  # the base's seed-1 draw misses 10 its reference draw reaches
    assert any(f.startswith("unstable reach") for f in decide(c5(shaky, REACHED, [REACHED] * 3)).flags)
    assert any(f.startswith("few samples") for f in decide(c5(REACHED, REACHED, [REACHED] * 3, k=64)).flags)
    assert any(f.startswith("few runs") for f in decide(c5(REACHED, REACHED, [REACHED] * 2)).flags)


def test_spec_reuses_c1_measurements() -> None:
    spec = PROTOCOLS["prior-corruption"]
    assert spec.claim_hint == "C5" and spec.measure is PROTOCOLS["passk-boundary"].measure
    assert spec.version == "2" and len(spec.validity_flags) == 5  # no signal among them
