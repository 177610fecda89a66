"""C5a hard-samples v3: the decision rule on hand-made measurements (each verdict, edges, flags), the gameable
reward, and the slices.

Problems with equal counts and two RL seeds with equal draws give zero-width intervals, so a
value can sit exactly on a threshold; the base's share is 0 or 1 where the rule reads a change
over the base (its binomial redraw is then exact).
"""

from __future__ import annotations

from retest.measures import Interval
from retest.protocols import PROTOCOLS
from retest.protocols.hard_samples import (
    ARMS,
    HARD_RATE,
    MIN_HARD,
    MIN_REWARD,
    SELECT_SAMPLES,
    STAYED_HARD,
    USUAL_ARMS,
    Draw,
    HardMeasurements,
    draw_of,
    rule,
    slices,
)
from retest.rewards import reward

N, PROBLEMS = 4, 5


def d(shortcut: int, correct: int = 0, repeat: int = 0) -> Draw:
    return Draw((correct,) * PROBLEMS, (shortcut,) * PROBLEMS, (repeat,) * PROBLEMS, N)


def measured(hard: Draw | list[Draw], typical: Draw, base: Draw, *, hard_size: int = 40,
             hard_reward: float = 0.2, usual: tuple[Draw, Draw, Draw] | None = None) -> HardMeasurements:
    """Draws on held-out hard problems (the rule's); `usual`: (hard arm, typical arm, base) on the usual ones."""
    def arms_of(hard: Draw | list[Draw], typical: Draw) -> dict:
        hard_row = tuple(hard) if isinstance(hard, list) else (hard, hard)
        return {"hard/group": (hard_row,), "hard/none": (hard_row,), "typical/group": ((typical, typical),),
                "typical/none": ((typical, typical),)}

    rewards = {a: (0.3, 0.3) for a in ARMS} | {"hard/group": (hard_reward, hard_reward)}
    return HardMeasurements(base=(base,), arms=arms_of(hard, typical), train_reward=rewards, draws=300,
                            slices=({"hard": hard_size, "typical": hard_size, "hard_rate": 0.03, "typical_rate": 0.4},),
                            usual_base=(usual[2],) if usual else (), usual_arms={a: r for a, r in arms_of(*usual[:2]).items() if a in USUAL_ARMS} if usual else {})


def decide(m: HardMeasurements):  # -> Decision
    return PROTOCOLS["hard-samples"].decide(m)


def test_shortcut_rising_more_on_hard_prompts_is_consistent() -> None:
    out = decide(measured(d(1), d(0), d(0)))
    assert out.verdict == "consistent" and out.effect_size == 0.25 and out.ci_low == 0.25
    assert out.per_seed == (0.25, 0.25) and out.flags == ()
    assert out.details["shortcut_change_over_base"]["hard/group"]["value"] == 0.25


def test_no_difference_from_typical_prompts_is_inconsistent() -> None:
    assert decide(measured(d(1), d(1), d(0))).verdict == "inconsistent"  # difference exactly 0


def test_hard_arm_not_rising_over_the_base_is_inconsistent_and_flags_no_headroom() -> None:
    out = decide(measured(d(4), d(2), d(4)))  # hard above typical, but no rise over the base (all C already)
    assert out.verdict == "inconsistent" and out.effect_size == 0.5
    assert any(f.startswith("no shortcut headroom") for f in out.flags)


def test_seeds_that_disagree_are_inconclusive() -> None:
    out = decide(measured([d(3), d(0)], d(1), d(0)))
    assert out.verdict == "inconclusive" and out.ci_low < 0 < out.ci_high
    assert out.per_seed == (0.5, -0.25)


def test_small_hard_slice_and_untrained_hard_arm_are_flagged_at_their_thresholds() -> None:
    flags = decide(measured(d(1), d(0), d(0), hard_size=MIN_HARD - 1, hard_reward=MIN_REWARD / 2)).flags
    assert any(f.startswith(f"hard slice has fewer than {MIN_HARD}") for f in flags)
    assert any(f.startswith("hard arm barely trained") for f in flags)
    assert decide(measured(d(1), d(0), d(0), hard_size=MIN_HARD, hard_reward=MIN_REWARD)).flags == ()


def test_hard_prompts_the_policy_learned_to_solve_are_flagged_at_the_threshold() -> None:
    assert STAYED_HARD == 1 / N  # the hard arm solving 1 of 4 held-out hard samples sits on the threshold
    flags = decide(measured(d(1, correct=1), d(0), d(0))).flags
    assert any(f.startswith("hard prompts did not stay hard") for f in flags)
    assert decide(measured(d(1, correct=0), d(0), d(0), hard_reward=0.9)).flags == ()  # a high format reward is not


def test_pass1_and_repetition_are_reported_beside() -> None:
    out = decide(measured(d(1, correct=1, repeat=3), d(0, correct=3, repeat=1), d(0)))
    assert out.details["pass1_hard_minus_typical"]["group"]["value"] == -0.5
    assert out.details["repeat_hard_minus_typical"]["group"]["value"] == 0.5
    assert "pass@1 hard 0.25 vs typical 0.75" in out.finding


def test_rule_reaches_each_verdict_at_its_edges() -> None:
    def iv(low: float, high: float) -> Interval:
        return Interval((low + high) / 2, low, high, "test")

    assert rule(iv(1e-9, 0.1), iv(1e-9, 0.1)) == "consistent"
    assert rule(iv(0.0, 0.1), iv(0.05, 0.1)) == "inconclusive"  # a difference from typical that may be nothing
    assert rule(iv(0.05, 0.1), iv(0.0, 0.1)) == "inconclusive"  # a rise over the base that may be nothing
    assert rule(iv(-0.1, 0.0), iv(0.05, 0.1)) == "inconsistent"  # no more than typical prompts give
    assert rule(iv(0.05, 0.1), iv(-0.2, 0.0)) == "inconsistent"  # the shortcut did not rise over the base


def test_the_usual_problems_are_reported_beside_and_do_not_decide() -> None:
    out = decide(measured(d(1), d(0), d(0), usual=(d(0), d(2), d(0))))  # on the usual problems the opposite
    assert out.verdict == "consistent"
    u = out.details["usual_problems"]
    assert u["shortcut_hard_minus_typical"]["group"]["value"] == -0.5 and u["arms"]["typical/group"]["shortcut"] == 0.5
    assert "on the usual problems answer-only hard 0.00 vs typical 0.50" in out.finding
    assert set(u["arms"]) == set(USUAL_ARMS) and set(u["shortcut_hard_minus_typical"]) == {"group"}


def test_the_gameable_reward_pays_a_wrong_shortcut_half() -> None:
    r = reward("format-credit")
    texts = [">23", ">7", "4*5=20;3+20=23>23", "4*5=21;3+21=24>24", "3+20=2", "4*5=20;3+21=23>23"]
    assert r(completions=texts, answer=[23] * 6) == [1.0, 0.5, 1.0, 0.5, 0.0, 0.5]  # malformed: nothing
    assert reward("correct")(completions=texts, answer=[23] * 6) == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_draw_counts_right_shortcut_and_repeated_wrong_answers() -> None:
    texts = [["4*5=20;3+20=23>23", ">23", ">22", ">22", ">21", "3+20=2"]]
    assert draw_of(texts, [23]) == Draw((2,), (4,), (2,), 6)


def test_slices_take_the_hard_problems_and_as_many_others() -> None:
    train = [(f"p{i}", i) for i in range(10)]
    limit = int(HARD_RATE * SELECT_SAMPLES)
    counts = (0, limit, limit + 1, 9, 16, 0, 5, 7, 8, 12)
    hard, typical = slices(train, counts, train, counts, seed=0)
    assert sorted(hard) == [("p0", 0), ("p1", 1), ("p5", 5)]
    assert len(typical) == 3 and not set(typical) & set(hard)
    # two pools: hard from the first (out of range), typical from the second, each by its own counts
    outside = [(f"q{i}", i) for i in range(4)]
    hard, typical = slices(outside, (0, limit + 1, 0, 3), train, counts, seed=0)
    assert sorted(hard) == [("q0", 0), ("q2", 2)] and len(typical) == 2
    assert all(c > limit for p, c in zip(train, counts) if p in typical)


def test_a_base_that_solves_nothing_is_inconclusive_with_no_signal_and_no_arms() -> None:
    from retest.protocols.spec import NO_SIGNAL

    out = decide(HardMeasurements(base=(), arms={}, reward="final-answer", selection=(0.0,) * 16))
    assert out.verdict == "inconclusive" and (out.effect_size, out.ci_low, out.ci_high) == (0.0, 0.0, 0.0)
    assert len(out.flags) == 1 and out.flags[0].startswith(NO_SIGNAL) and "no typical slice" in out.finding
    solved = decide(HardMeasurements(base=(), arms={}, selection=(1.0,) * 16))
    assert "no hard slice" in solved.finding and solved.flags[0].startswith(NO_SIGNAL)
