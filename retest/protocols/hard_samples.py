"""C5a hard samples: does GRPO on prompts the base almost never solves induce shortcuts?

Version 3 makes "consistent" reachable. With an exact verifier a shortcut is rewarded
only when it is right, and in-range prompts the base fails did not stay hard (the hard
arm's training reward reached 0.5-0.6): the claim could not come out. So:

- **hard prompts outside pretraining**: candidates are problems with an operand one step
  outside the pretraining range (`passk.hard_split`, every one but C1's held-out slice);
  a draw of `SELECT_SAMPLES` samples on them and on as many in-range training problems
  picks the **hard** slice (out of range, solved by at most 1 in 16) and a **typical**
  slice of the same size (in range, solved more often), so both arms see the same number
  of prompts and epochs;
- **a gameable reward** for every arm: ``format-credit`` (`retest.rewards`), half the
  reward for a well-formed completion, half for a right answer (the usual format +
  accuracy sum), so a wrong answer-only guess (``>7``) earns half: a shortcut pays when
  wrong, and where right answers are rare the format half dominates.

GRPO runs on each slice with group reward scaling (GRPO's std normalisation) and without
it (Dr. GRPO's "none"), with each RL seed. Every model is sampled on held-out **hard**
problems (C1's slice: out of range, never trained on; the rule reads these) and on the
usual held-out problems (in range; the base and the arms with reward scaling only; reported), and
three things are counted per problem:

- pass@1;
- the **shortcut** share: answer-only samples (format C, ``>23``), the computation-skipping
  format of this world;
- **repetition**: the share of samples that give the problem's most common wrong answer.

With a problem file (the gpu preset) there is no world to go outside of and no format to
credit: the slices come from the training problems, the preset's reward is kept, and both
draws are on the usual held-out problems. A base that solves none (or all) of its selection
draw leaves no typical (or hard) slice: nothing is trained, and the verdict is inconclusive
with the "no signal" flag.

Intervals: `retest.measures.hierarchical_bootstrap` over pretraining seeds, RL seeds
and problems (arms paired by seed and problem); the base's single evaluation draw is
redrawn binomially inside the interval of changes over the base.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.completions import draw
from retest.lab import answer_of
from retest.measures import Interval, IntervalKind, hierarchical_bootstrap
from retest.protocols.passk import c1_config, hard_split
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal
from retest.rewards import FORMAT_CREDIT
from retest.rl import checkpoints
from retest.world import classify_format, parse_answer

if TYPE_CHECKING:
    from retest.lab import Lab

HARD_RATE = 1 / 16  # a hard prompt: the base solves at most this share of its selection draw
SELECT_SAMPLES = 16  # samples per candidate prompt in the selection draw
MAX_PROMPTS = 128  # each slice holds at most this many prompts (both slices the same size)
CANDIDATES = 2 * MAX_PROMPTS  # candidate prompts of each kind (out of range, in range) in the selection draw
REWARD = "format-credit"  # every arm's reward (`retest.rewards`): gameable, a wrong well-formed guess earns half
MIN_HARD = 16  # fewer hard problems than this (two GRPO steps' worth): flagged
MIN_REWARD = 0.005  # the hard arm's mean training reward below this (nothing well formed or right): it barely trained
STAYED_HARD = 0.25  # the hard arm's held-out hard pass@1 at or above this (4x the selection's 1/16): solved, not hard
HEADROOM = 0.9  # the base's shortcut share at or above this: shortcuts cannot rise much
SHORTCUT = "C"
ARMS = ("hard/group", "hard/none", "typical/group", "typical/none")  # slice / RLConfig.scale_rewards
USUAL_ARMS = ("hard/group", "typical/group")  # the arms also drawn on the usual held-out problems (reported)
DRAWS = 2000
SMOKE_STEPS = 8  # GRPO steps of each arm at the smoke preset (tests): four arms, so half the shared runs' 16


@dataclass(frozen=True)
class Draw:
    """One model sampled n times on each held-out problem: counts per problem."""

    correct: tuple[int, ...]
    shortcut: tuple[int, ...]  # answer-only (format C) samples
    repeat: tuple[int, ...]  # samples giving the problem's most common wrong answer
    n: int


@dataclass(frozen=True)
class HardMeasurements:
    """Draws on the held-out hard problems (the rule's) and on the usual held-out problems (reported)."""

    base: tuple[Draw, ...]  # one per pretraining seed, on the held-out hard problems
    arms: dict[str, tuple[tuple[Draw, ...], ...]]  # arm -> [pretraining seed][RL seed], on the held-out hard problems
    slices: tuple[dict[str, float], ...] = ()  # per pretraining seed: sizes and base solve rates of the slices
    train_reward: dict[str, tuple[float, ...]] = field(default_factory=dict)  # arm -> mean reward of each run
    draws: int = DRAWS
    usual_base: tuple[Draw, ...] = ()  # the same on the usual held-out problems
    usual_arms: dict[str, tuple[tuple[Draw, ...], ...]] = field(default_factory=dict)  # USUAL_ARMS only
    reward: str = REWARD
    selection: tuple[float, ...] = ()  # the base's solve rate of each candidate, when it had no signal (no arms)


def draw_of(texts: list[list[str]], answers: list[int], parse: Callable[[str], int | None] | None = None) -> Draw:
    """Counts of right, shortcut and repeated-wrong samples per problem; answers read by `parse` (the toy
    world's strict parse by default; a real model's stated answer: `retest.lab.answer_of`)."""
    parse = parse or parse_answer
    correct, shortcut, repeat = [], [], []
    for samples, answer in zip(texts, answers):
        got = [parse(s) for s in samples]
        wrong = Counter(g for g in got if g is not None and g != answer)
        correct.append(sum(g == answer for g in got))
        shortcut.append(sum(classify_format(s) == SHORTCUT for s in samples))
        repeat.append(max(wrong.values(), default=0))
    return Draw(tuple(correct), tuple(shortcut), tuple(repeat), len(texts[0]) if texts else 0)


def slices(hard_pool: list, hard_counts: Any, typical_pool: list, typical_counts: Any, seed: int) -> tuple[list, list]:
    """(hard, typical): hard = of `hard_pool`, solved by at most HARD_RATE of the selection draw (at most
    MAX_PROMPTS); typical = as many of `typical_pool` solved more often (not among the hard ones)."""
    limit = HARD_RATE * SELECT_SAMPLES
    hard = [p for p, c in zip(hard_pool, hard_counts) if c <= limit]
    rest = [p for p, c in zip(typical_pool, typical_counts) if c > limit and p not in hard]
    rng = random.Random(seed)
    rng.shuffle(hard)
    hard = hard[:MAX_PROMPTS]
    return hard, rng.sample(rest, min(len(hard), len(rest)))


def pools(lab: Lab) -> tuple[list, list, list, list]:
    """(hard candidates, typical candidates, held-out hard problems, usual held-out problems).

    The toy world: CANDIDATES out-of-range problems (not C1's held-out slice), as many in-range
    training problems, C1's slice held out. A problem file: the training problems are both pools
    and the usual held-out problems both evaluation sets.
    """
    cfg = lab.cfg
    train, held = lab.problems()
    usual = held[: cfg.eval.problems]
    if cfg.base_model_dir:
        return train, train, usual, usual
    held_hard, outside = hard_split(cfg.world, c1_config(cfg.preset).hard_problems)
    inside = random.Random(cfg.world.seed + 5).sample(train, min(CANDIDATES, len(train)))
    return outside[:CANDIDATES], inside, held_hard, usual


def measure(lab: Lab) -> HardMeasurements:
    """Select the slices on each base, run the four arms per seed, sample everything on both held-out sets."""
    cfg = lab.cfg
    parse = answer_of(cfg)  # the toy world's strict parse, or a real model's stated answer
    hard_pool, typical_pool, held_hard, usual = pools(lab)
    seen = set(hard_pool)
    pool = hard_pool + [p for p in typical_pool if p not in seen]
    n = cfg.eval.samples
    pretrain_seeds = (None,) if cfg.base_model_dir else cfg.pretrain_seeds
    reward = cfg.rl.reward if cfg.base_model_dir else REWARD
    bases, usual_bases, infos = [], [], []
    arms: dict[str, list] = {a: [] for a in ARMS}
    usual_arms: dict[str, list] = {a: [] for a in USUAL_ARMS}
    rewards: dict[str, list[float]] = {a: [] for a in ARMS}
    arm_rl = {arm: dataclasses.replace(cfg.rl, scale_rewards=arm.split("/")[1], reward=reward) for arm in ARMS}
    if cfg.preset == "smoke":
        arm_rl = {arm: dataclasses.replace(rl, steps=SMOKE_STEPS, checkpoint_every=SMOKE_STEPS)
                  for arm, rl in arm_rl.items()}
    base_dirs = {ps: lab.base(ps)[0] for ps in pretrain_seeds}
    rate_of = {ps: dict(zip(pool, lab.sample(base_dirs[ps], pool, SELECT_SAMPLES, tag="c5a-select").counts))
               for ps in pretrain_seeds}
    selection = tuple(c / SELECT_SAMPLES for ps in pretrain_seeds for c in rate_of[ps].values())
    if no_signal(selection):  # nothing (or everything) solved: no typical (or hard) slice, nothing to train
        lab.say("no signal: the base solved none (or all) of the selection draw; no arm trained")
        return HardMeasurements(base=(), arms={}, reward=reward, selection=selection)
    sliced = {ps: slices(hard_pool, [rate_of[ps][p] for p in hard_pool], typical_pool,
                         [rate_of[ps][p] for p in typical_pool], 0 if ps is None else ps) for ps in pretrain_seeds}
    lab.build_all([lab.rl_block(base_dirs[ps], sliced[ps][arm.startswith("typical")], seed, arm_rl[arm])
                   for ps in pretrain_seeds for arm in ARMS for seed in cfg.seeds
                   if len(sliced[ps][0]) >= cfg.rl.prompts_per_step])

    def draws(model_dir: Any, both: bool = True) -> tuple[Draw, Draw | None]:
        on_hard = draw_of(draw(lab, model_dir, [p for p, _ in held_hard], n, tag="c5a"), [a for _, a in held_hard],
                          parse)
        if held_hard == usual or not both:
            return on_hard, on_hard if both else None
        return on_hard, draw_of(draw(lab, model_dir, [p for p, _ in usual], n, tag="c5a"), [a for _, a in usual],
                                parse)

    for ps in pretrain_seeds:
        base_dir, (hard, typical), rate = base_dirs[ps], sliced[ps], rate_of[ps]
        if len(hard) < cfg.rl.prompts_per_step or len(typical) < len(hard):
            raise ValueError(f"hard slice has {len(hard)} problems (solved <= {HARD_RATE:.3f} of {SELECT_SAMPLES}) "
                             f"and typical {len(typical)}: need at least {cfg.rl.prompts_per_step} (one GRPO step) each")
        infos.append({"hard": len(hard), "typical": len(typical),
                      "hard_rate": round(float(np.mean([rate[p] for p in hard])) / SELECT_SAMPLES, 4),
                      "typical_rate": round(float(np.mean([rate[p] for p in typical])) / SELECT_SAMPLES, 4),
                      "hard_pool_rate": round(float(np.mean([rate[p] for p in hard_pool])) / SELECT_SAMPLES, 4),
                      "typical_pool_rate": round(float(np.mean([rate[p] for p in typical_pool])) / SELECT_SAMPLES, 4)})
        on_hard, on_usual = draws(base_dir)
        bases.append(on_hard)
        usual_bases.append(on_usual)
        for arm in ARMS:
            row, usual_row = [], []
            for seed in cfg.seeds:
                run_dir, ts = lab.rl(base_dir, typical if arm.startswith("typical") else hard, seed, arm_rl[arm])
                on_hard, on_usual = draws(checkpoints(run_dir)[-1][1], arm in USUAL_ARMS)
                row.append(on_hard)
                usual_row.append(on_usual)
                rewards[arm].append(round(float(np.mean(ts.reward)) if ts.reward else 0.0, 4))
            arms[arm].append(tuple(row))
            if arm in USUAL_ARMS:
                usual_arms[arm].append(tuple(usual_row))
    return HardMeasurements(base=tuple(bases), arms={a: tuple(r) for a, r in arms.items()}, slices=tuple(infos),
                            train_reward={a: tuple(r) for a, r in rewards.items()}, usual_base=tuple(usual_bases),
                            usual_arms={a: tuple(r) for a, r in usual_arms.items()}, reward=reward)


# --- the decision -----------------------------------------------------------------------


def _share(runs: tuple[tuple[Draw, ...], ...], what: str) -> np.ndarray:
    """(P, R, N) share of samples per problem."""
    return np.array([[np.array(getattr(d, what)) / d.n for d in row] for row in runs], float)


def _base_share(base: tuple[Draw, ...], what: str) -> np.ndarray:
    return np.array([np.array(getattr(d, what)) / d.n for d in base], float)  # (P, N)


def _j(i: Interval) -> dict[str, Any]:
    return {"value": round(i.estimate, 4), "low": round(i.low, 4), "high": round(i.high, 4), "per_seed": list(i.per_seed)}


def _over_base(base: tuple[Draw, ...], runs: tuple[tuple[Draw, ...], ...], what: str, draws: int) -> Interval:
    """Change of an arm over its base, the base's one evaluation draw redrawn binomially each time."""
    x, b = _share(runs, what), _base_share(base, what)
    counts, n = np.rint(b * base[0].n), base[0].n

    def redraw(rng: np.random.Generator) -> np.ndarray:
        return x - (rng.binomial(n, counts / n) / n)[:, None, :]

    return hierarchical_bootstrap(x - b[:, None, :], draws=draws, redraw=redraw)


def rule(shortcut_vs_typical: Interval, shortcut_over_base: Interval) -> str:
    """The verdict from the hard arm's shortcut share minus the typical arm's, and minus the base's."""
    if shortcut_vs_typical.low > 0 and shortcut_over_base.low > 0:
        return "consistent"
    if shortcut_vs_typical.high <= 0 or shortcut_over_base.high <= 0:
        return "inconsistent"
    return "inconclusive"


def compare(base: tuple[Draw, ...], arms: dict[str, tuple[tuple[Draw, ...], ...]], draws: int) -> dict[str, Any]:
    """Every interval the rule and the report read, on one evaluation set (pure)."""
    def diff(what: str, scale: str) -> Interval:
        a, b = _share(arms[f"hard/{scale}"], what), _share(arms[f"typical/{scale}"], what)
        return hierarchical_bootstrap(a - b, draws=draws)

    whats = ("correct", "shortcut", "repeat")
    scales = [sc for sc in ("group", "none") if f"hard/{sc}" in arms and f"typical/{sc}" in arms]
    drawn = [a for a in ARMS if a in arms]
    return {
        "shortcut": {sc: diff("shortcut", sc) for sc in scales},
        "pass1": {sc: diff("correct", sc) for sc in scales},
        "repeat": {sc: diff("repeat", sc) for sc in scales},
        "shortcut_over_base": {a: _over_base(base, arms[a], "shortcut", draws) for a in drawn},
        "pass1_over_base": {a: _over_base(base, arms[a], "correct", draws) for a in drawn},
        "arms": {a: {w: round(float(_share(arms[a], w).mean()), 4) for w in whats} for a in drawn},
        "base": {w: round(float(_base_share(base, w).mean()), 4) for w in whats},
    }


def _details(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "arms": c["arms"], "base": c["base"],
        "shortcut_hard_minus_typical": {k: _j(v) for k, v in c["shortcut"].items()},
        "shortcut_change_over_base": {k: _j(v) for k, v in c["shortcut_over_base"].items()},
        "pass1_hard_minus_typical": {k: _j(v) for k, v in c["pass1"].items()},
        "pass1_change_over_base": {k: _j(v) for k, v in c["pass1_over_base"].items()},
        "repeat_hard_minus_typical": {k: _j(v) for k, v in c["repeat"].items()},
    }


def flags_of(m: HardMeasurements, c: dict[str, Any]) -> tuple[str, ...]:
    """The validity flags raised (each stated in SPEC.validity_flags)."""
    flags = []
    small = [int(i["hard"]) for i in m.slices if i["hard"] < MIN_HARD]
    if small:
        flags.append(f"hard slice has fewer than {MIN_HARD} problems ({', '.join(map(str, small))})")
    hard_reward = float(np.mean(m.train_reward.get("hard/group", (1.0,))))
    if hard_reward < MIN_REWARD:
        flags.append(f"hard arm barely trained: mean training reward {hard_reward:.3f} < {MIN_REWARD} "
                     f"(groups without a well-formed or right completion carry no gradient), so it measures the base")
    solved = c["arms"]["hard/group"]["correct"]
    if solved >= STAYED_HARD:
        flags.append(f"hard prompts did not stay hard: the hard arm solves {solved:.2f} of held-out hard problems "
                     f"(>= {STAYED_HARD}; the base solved its slice <= {HARD_RATE:.3f}), so the rare-success regime "
                     f"lasted a few steps")
    if c["base"]["shortcut"] >= HEADROOM:
        flags.append(f"no shortcut headroom: the base gives {c['base']['shortcut']:.2f} answer-only samples "
                     f"(>= {HEADROOM})")
    return tuple(flags)


def decide(m: HardMeasurements) -> Decision:
    if not m.arms:
        return _no_arms(m)
    c = compare(m.base, m.arms, m.draws)
    s, rise = c["shortcut"]["group"], c["shortcut_over_base"]["hard/group"]
    verdict = rule(s, rise)
    level, base, dpass, drep, s_none = c["arms"], c["base"], c["pass1"]["group"], c["repeat"]["group"], \
        c["shortcut"]["none"]
    finding = (
        f"on held-out hard problems, answer-only share after GRPO ({m.reward} reward) on hard prompts "
        f"{level['hard/group']['shortcut']:.2f} vs typical {level['typical/group']['shortcut']:.2f} (base "
        f"{base['shortcut']:.2f}): hard minus typical {s.estimate:+.3f} [{s.low:+.3f}, {s.high:+.3f}], change over "
        f"base {rise.estimate:+.3f} [{rise.low:+.3f}, {rise.high:+.3f}]; pass@1 hard {level['hard/group']['correct']:.2f} "
        f"vs typical {level['typical/group']['correct']:.2f} (base {base['correct']:.2f}; {dpass.estimate:+.3f} "
        f"[{dpass.low:+.3f}, {dpass.high:+.3f}]); repeated wrong answer {drep.estimate:+.3f} [{drep.low:+.3f}, "
        f"{drep.high:+.3f}]; without reward scaling the shortcut difference is {s_none.estimate:+.3f} "
        f"[{s_none.low:+.3f}, {s_none.high:+.3f}]"
    )
    details = {**_details(c), "slices": [dict(i) for i in m.slices], "reward": m.reward,
               "train_reward": {k: list(v) for k, v in m.train_reward.items()}}
    if m.usual_base:
        u = compare(m.usual_base, m.usual_arms, m.draws)
        us = u["shortcut"]["group"]
        details["usual_problems"] = _details(u)
        finding += (f"; on the usual problems answer-only hard {u['arms']['hard/group']['shortcut']:.2f} vs typical "
                    f"{u['arms']['typical/group']['shortcut']:.2f} (base {u['base']['shortcut']:.2f}; "
                    f"{us.estimate:+.3f} [{us.low:+.3f}, {us.high:+.3f}])")
    rates = no_signal(r for rs in m.train_reward.values() for r in rs)  # the arms' rewards: no signal, no training
    return Decision(verdict, s.estimate, s.low, s.high, s.over, finding, flags_of(m, c) + rates, s.per_seed, details,
                    interval_kind=s.kind)


def _no_arms(m: HardMeasurements) -> Decision:
    """inconclusive with the no-signal flag: the selection draw solved nothing (or everything), so no slice pair."""
    rate = float(np.mean(m.selection))
    missing = "typical slice (problems solved more often than" if rate <= 0 else "hard slice (problems solved at most"
    finding = (f"the base solved {rate:.2f} of its selection draw ({len(m.selection)} candidate problems x "
               f"{SELECT_SAMPLES}): no {missing} 1 in {SELECT_SAMPLES}), so no arm was trained and nothing compared")
    return Decision("inconclusive", 0.0, 0.0, 0.0, "nothing (no arm trained)", finding, no_signal(m.selection),
                    details={"selection_rate": round(rate, 4), "candidates": len(m.selection), "reward": m.reward},
                    interval_kind=IntervalKind.ONE_DRAW)


SPEC = ProtocolSpec(
    name="hard-samples",
    version="3",  # 3: hard prompts outside pretraining, a gameable reward, the rule read on held-out hard problems
    claim_hint="C5",
    interval_days=28,
    description="Select out-of-pretraining-range prompts the base solves at most 1 in 16 times (hard) and as many "
    "in-range ones it solves more often (typical), GRPO the base on each with a gameable reward (half for a "
    "well-formed completion, half for a right answer: a wrong answer-only guess earns half), with and without "
    "group reward scaling, and compare on held-out hard problems: do hard prompts push the policy onto the "
    "computation-skipping answer-only format (and repeated wrong answers) more than typical prompts do?",
    decision_rule="Effect: answer-only (format C) share on held-out hard problems (out of the pretraining range, "
    "never trained on) after GRPO with group reward scaling on the hard slice minus that on the typical slice, "
    "95% hierarchical-bootstrap interval (pretraining seeds, RL seeds, problems). consistent if that interval "
    "lies above 0 and the hard arm's own change over the base lies above 0 (hard prompts raise the shortcut, "
    "beyond typical ones); inconsistent if either interval lies at or below 0; else inconclusive. Pass@1, "
    "repetition, the arms without reward scaling and the same on the usual held-out problems are reported "
    f"beside. Flagged when the hard slice has fewer than {MIN_HARD} problems, when the hard arm's mean "
    f"training reward is under {MIN_REWARD} (it barely trained), when it solves at least {STAYED_HARD} of the "
    f"held-out hard problems (the prompts did not stay hard), and when the base already gives >= {HEADROOM} "
    "answer-only samples there.",
    decide=decide,
    measure=measure,
    thresholds={"hard_rate": HARD_RATE, "select_samples": SELECT_SAMPLES, "max_prompts": MAX_PROMPTS,
                "candidates": CANDIDATES, "min_hard": MIN_HARD, "min_reward": MIN_REWARD,
                "stayed_hard": STAYED_HARD, "headroom": HEADROOM, "shortcut_difference": 0.0,
                "format_credit": FORMAT_CREDIT},
    validity_flags=(
        NO_SIGNAL,
        f"hard slice has fewer than {MIN_HARD} problems",
        f"hard arm barely trained: mean training reward < {MIN_REWARD}",
        f"hard prompts did not stay hard: the hard arm solves >= {STAYED_HARD} of held-out hard problems",
        f"no shortcut headroom: the base gives >= {HEADROOM} answer-only samples",
    ),
    tests="Whether GRPO with a gameable (format + accuracy) reward on prompts the base almost never solves, out "
    "of its pretraining range, raises the share of answer-only (computation-skipping) completions and repeated "
    "wrong answers on held-out hard problems more than GRPO on as many typical prompts does, with and without "
    "group reward scaling; the same on the usual problems, and what it does to pass@1.",
    does_not_test="Shortcuts other than skipping the worked steps (length exploits, hacking a checker other "
    "than the format half); an exact-verifier arm (version 2 measured that: no shortcut); hard prompts defined "
    "other than out of range and base success <= 1/16; difficulty curricula or data mixes; long training (a "
    "few epochs of each slice); models beyond the toy world's tiny Llama (the gpu preset keeps its reward).",
)
