"""C5a hard samples: does GRPO on prompts the base almost never solves induce shortcuts?

From the shared base (one per pretraining seed) a draw of `SELECT_SAMPLES` samples on
every training problem picks the **hard** slice (solved by at most 1 in 16) and a
**typical** slice of the same size (drawn at random from the rest, so both arms see the
same number of prompts and epochs). GRPO runs on each slice with group reward scaling
(GRPO's std normalisation, which multiplies the rare success of a hard group) and
without it (Dr. GRPO's "none"), three RL seeds each. Every model is sampled on the usual
held-out problems, and three things are counted per problem:

- pass@1 (in-distribution accuracy);
- the **shortcut** share: answer-only samples (format C, ``>23``), the computation-skipping
  format of this world;
- **repetition**: the share of samples that give the problem's most common wrong answer.

Intervals: `retest.measures.hierarchical_bootstrap` over pretraining seeds, RL seeds
and problems (arms paired by seed and problem); the base's single evaluation draw is
redrawn binomially inside the interval of changes over the base.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.measures import Interval, hierarchical_bootstrap
from retest.protocols.spec import Decision, ProtocolSpec

if TYPE_CHECKING:
    from retest.lab import Lab

HARD_RATE = 1 / 16  # a hard prompt: the base solves at most this share of its selection draw
SELECT_SAMPLES = 16  # samples per training problem in the selection draw
MAX_PROMPTS = 128  # each slice holds at most this many prompts (both slices the same size)
MIN_HARD = 16  # fewer hard problems than this (two GRPO steps' worth): flagged
MIN_REWARD = 0.005  # the hard arm's mean training reward below this (under 1 success in 200 completions): it barely trained
STAYED_HARD = 0.25  # the hard arm's mean training reward at or above this (4x the selection's 1/16): solved, not hard
HEADROOM = 0.9  # the base's shortcut share at or above this: shortcuts cannot rise much
SHORTCUT = "C"
ARMS = ("hard/group", "hard/none", "typical/group", "typical/none")  # slice / RLConfig.scale_rewards
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
    base: tuple[Draw, ...]  # one per pretraining seed
    arms: dict[str, tuple[tuple[Draw, ...], ...]]  # arm -> [pretraining seed][RL seed]
    slices: tuple[dict[str, float], ...] = ()  # per pretraining seed: sizes and base solve rates of the slices
    train_reward: dict[str, tuple[float, ...]] = field(default_factory=dict)  # arm -> mean reward of each run
    draws: int = DRAWS


def draw_of(texts: list[list[str]], answers: list[int]) -> Draw:
    """Counts of right, shortcut and repeated-wrong samples per problem."""
    from retest.world import classify_format, parse_answer

    correct, shortcut, repeat = [], [], []
    for samples, answer in zip(texts, answers):
        got = [parse_answer(s) for s in samples]
        wrong = Counter(g for g in got if g is not None and g != answer)
        correct.append(sum(g == answer for g in got))
        shortcut.append(sum(classify_format(s) == SHORTCUT for s in samples))
        repeat.append(max(wrong.values(), default=0))
    return Draw(tuple(correct), tuple(shortcut), tuple(repeat), len(texts[0]) if texts else 0)


def slices(train: list[tuple[str, int]], counts: tuple[int, ...], seed: int) -> tuple[list, list]:
    """(hard, typical): hard = solved by at most HARD_RATE of the selection draw; typical = as many others."""
    limit = HARD_RATE * SELECT_SAMPLES
    hard = [p for p, c in zip(train, counts) if c <= limit]
    rest = [p for p, c in zip(train, counts) if c > limit]
    rng = random.Random(seed)
    rng.shuffle(hard)
    hard = hard[:MAX_PROMPTS]
    return hard, rng.sample(rest, min(len(hard), len(rest)))


def measure(lab: Lab) -> HardMeasurements:
    """Select the slices on each base, run the four arms per seed, sample everything on held-out problems."""
    from retest.completions import draw
    from retest.rl import checkpoints

    cfg = lab.cfg
    train, held = lab.problems()
    held = held[: cfg.eval.problems]
    prompts, answers = [p for p, _ in held], [a for _, a in held]
    n = cfg.eval.samples
    pretrain_seeds = (None,) if cfg.base_model_dir else cfg.pretrain_seeds
    bases, infos = [], []
    arms: dict[str, list] = {a: [] for a in ARMS}
    rewards: dict[str, list[float]] = {a: [] for a in ARMS}
    arm_rl = {arm: dataclasses.replace(cfg.rl, scale_rewards=arm.split("/")[1]) for arm in ARMS}
    if cfg.preset == "smoke":
        arm_rl = {arm: dataclasses.replace(rl, steps=SMOKE_STEPS, checkpoint_every=SMOKE_STEPS)
                  for arm, rl in arm_rl.items()}
    base_dirs = {ps: lab.base(ps)[0] for ps in pretrain_seeds}
    chosen_of = {ps: lab.sample(base_dirs[ps], train, SELECT_SAMPLES, tag="c5a-select") for ps in pretrain_seeds}
    lab.build_all([lab.rl_block(base_dirs[ps], part, seed, arm_rl[arm]) for ps in pretrain_seeds
                   for arm, part in zip(ARMS, _arm_slices(train, chosen_of[ps].counts, ps)) for seed in cfg.seeds
                   if len(part) >= cfg.rl.prompts_per_step])
    for ps in pretrain_seeds:
        base_dir, _ = lab.base(ps)
        chosen = chosen_of[ps]
        hard, typical = slices(train, chosen.counts, 0 if ps is None else ps)
        if len(hard) < cfg.rl.prompts_per_step or len(typical) < len(hard):
            raise ValueError(f"hard slice has {len(hard)} problems (solved <= {HARD_RATE:.3f} of {SELECT_SAMPLES}) "
                             f"and typical {len(typical)}: need at least {cfg.rl.prompts_per_step} (one GRPO step) each")
        rate = dict(zip((p for p, _ in train), chosen.counts))
        infos.append({"hard": len(hard), "typical": len(typical),
                      "hard_rate": round(float(np.mean([rate[p] for p, _ in hard])) / SELECT_SAMPLES, 4),
                      "typical_rate": round(float(np.mean([rate[p] for p, _ in typical])) / SELECT_SAMPLES, 4),
                      "train_rate": round(float(np.mean(chosen.counts)) / SELECT_SAMPLES, 4)})
        bases.append(draw_of(draw(lab, base_dir, prompts, n, tag="c5a"), answers))
        for arm in ARMS:
            name, rl = arm.split("/")[0], arm_rl[arm]
            row = []
            for seed in cfg.seeds:
                run_dir, ts = lab.rl(base_dir, hard if name == "hard" else typical, seed, rl)
                row.append(draw_of(draw(lab, checkpoints(run_dir)[-1][1], prompts, n, tag="c5a"), answers))
                rewards[arm].append(round(float(np.mean(ts.reward)) if ts.reward else 0.0, 4))
            arms[arm].append(tuple(row))
    return HardMeasurements(base=tuple(bases), arms={a: tuple(r) for a, r in arms.items()}, slices=tuple(infos),
                            train_reward={a: tuple(r) for a, r in rewards.items()})


def _arm_slices(train: list[tuple[str, int]], counts: Any, ps: int | None) -> list[list[tuple[str, int]]]:
    """The training prompts of each arm, in `ARMS` order (hard, hard, typical, typical)."""
    hard, typical = slices(train, counts, 0 if ps is None else ps)
    return [hard if arm.startswith("hard") else typical for arm in ARMS]


# --- the decision -----------------------------------------------------------------------


def _share(runs: tuple[tuple[Draw, ...], ...], what: str) -> np.ndarray:
    """(P, R, N) share of samples per problem."""
    return np.array([[np.array(getattr(d, what)) / d.n for d in row] for row in runs], float)


def _base_share(m: HardMeasurements, what: str) -> np.ndarray:
    return np.array([np.array(getattr(d, what)) / d.n for d in m.base], float)  # (P, N)


def _j(i: Interval) -> dict[str, Any]:
    return {"value": round(i.estimate, 4), "low": round(i.low, 4), "high": round(i.high, 4), "per_seed": list(i.per_seed)}


def _over_base(m: HardMeasurements, arm: str, what: str) -> Interval:
    """Change of an arm over its base, the base's one evaluation draw redrawn binomially each time."""
    x, b = _share(m.arms[arm], what), _base_share(m, what)
    counts, n = np.rint(b * m.base[0].n), m.base[0].n

    def redraw(rng: np.random.Generator) -> np.ndarray:
        return x - (rng.binomial(n, counts / n) / n)[:, None, :]

    return hierarchical_bootstrap(x - b[:, None, :], draws=m.draws, redraw=redraw)


def decide(m: HardMeasurements) -> Decision:
    def diff(what: str, scale: str) -> Interval:
        a, b = _share(m.arms[f"hard/{scale}"], what), _share(m.arms[f"typical/{scale}"], what)
        return hierarchical_bootstrap(a - b, draws=m.draws)

    s, rise, dpass, drep = diff("shortcut", "group"), _over_base(m, "hard/group", "shortcut"), \
        diff("correct", "group"), diff("repeat", "group")
    s_none, dpass_none = diff("shortcut", "none"), diff("correct", "none")
    if s.low > 0 and rise.low > 0:
        verdict = "consistent"
    elif s.high <= 0 or rise.high <= 0:
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    level = {a: {w: round(float(_share(m.arms[a], w).mean()), 4) for w in ("correct", "shortcut", "repeat")}
             for a in ARMS}
    base = {w: round(float(_base_share(m, w).mean()), 4) for w in ("correct", "shortcut", "repeat")}
    flags = []
    small = [int(i["hard"]) for i in m.slices if i["hard"] < MIN_HARD]
    if small:
        flags.append(f"hard slice has fewer than {MIN_HARD} problems ({', '.join(map(str, small))})")
    hard_reward = float(np.mean(m.train_reward.get("hard/group", (1.0,))))
    if hard_reward < MIN_REWARD:
        flags.append(f"hard arm barely trained: mean training reward {hard_reward:.3f} < {MIN_REWARD} "
                     f"(groups without a success carry no gradient), so it measures the base")
    if hard_reward >= STAYED_HARD:
        flags.append(f"hard prompts did not stay hard: the hard arm's mean training reward {hard_reward:.2f} >= "
                     f"{STAYED_HARD} (the base solved them <= {HARD_RATE:.3f}), so the rare-success regime lasted a few steps")
    if base["shortcut"] >= HEADROOM:
        flags.append(f"no shortcut headroom: the base gives {base['shortcut']:.2f} answer-only samples (>= {HEADROOM})")
    finding = (
        f"answer-only share after GRPO on hard prompts {level['hard/group']['shortcut']:.2f} vs typical "
        f"{level['typical/group']['shortcut']:.2f} (base {base['shortcut']:.2f}): hard minus typical {s.estimate:+.3f} "
        f"[{s.low:+.3f}, {s.high:+.3f}], change over base {rise.estimate:+.3f} [{rise.low:+.3f}, {rise.high:+.3f}]; "
        f"held-out pass@1 hard {level['hard/group']['correct']:.2f} vs typical {level['typical/group']['correct']:.2f} "
        f"(base {base['correct']:.2f}; {dpass.estimate:+.3f} [{dpass.low:+.3f}, {dpass.high:+.3f}]); repeated wrong "
        f"answer {drep.estimate:+.3f} [{drep.low:+.3f}, {drep.high:+.3f}]; without reward scaling the shortcut "
        f"difference is {s_none.estimate:+.3f} [{s_none.low:+.3f}, {s_none.high:+.3f}]"
    )
    details = {
        "arms": level, "base": base, "slices": [dict(i) for i in m.slices],
        "shortcut_hard_minus_typical": {"group": _j(s), "none": _j(s_none)},
        "shortcut_change_over_base": {a: _j(_over_base(m, a, "shortcut")) for a in ARMS},
        "pass1_hard_minus_typical": {"group": _j(dpass), "none": _j(dpass_none)},
        "pass1_change_over_base": {a: _j(_over_base(m, a, "correct")) for a in ARMS},
        "repeat_hard_minus_typical": {"group": _j(drep), "none": _j(diff("repeat", "none"))},
        "train_reward": {k: list(v) for k, v in m.train_reward.items()},
    }
    return Decision(verdict, s.estimate, s.low, s.high, s.over, finding, tuple(flags), s.per_seed, details)


SPEC = ProtocolSpec(
    name="hard-samples",
    version="2",  # 2: the "did not stay hard" flag (added after the first standard run: hard arm reward 0.61)
    claim_hint="C5",
    interval_days=28,
    description="Select training prompts the base solves at most 1 in 16 times (hard) and as many others "
    "(typical), GRPO the base on each with and without group reward scaling, and compare on the usual "
    "held-out problems: do hard prompts push the policy onto the computation-skipping answer-only "
    "format (and repeated wrong answers) more than typical prompts do?",
    decision_rule="Effect: answer-only (format C) share after GRPO with group reward scaling on the hard "
    "slice minus that on the typical slice, 95% hierarchical-bootstrap interval (pretraining seeds, RL "
    "seeds, problems). consistent if that interval lies above 0 and the hard arm's own change over the "
    "base lies above 0 (hard prompts raise the shortcut, beyond typical ones); inconsistent if either "
    "interval lies at or below 0; else inconclusive. Pass@1, repetition and the arms without reward "
    f"scaling are reported beside. Flagged when the hard slice has fewer than {MIN_HARD} problems, when "
    f"the hard arm's mean training reward is under {MIN_REWARD} (it barely trained) or at least {STAYED_HARD} "
    f"(the prompts did not stay hard), and when the base already gives >= {HEADROOM} answer-only samples.",
    decide=decide,
    measure=measure,
    thresholds={"hard_rate": HARD_RATE, "select_samples": SELECT_SAMPLES, "max_prompts": MAX_PROMPTS,
                "min_hard": MIN_HARD, "min_reward": MIN_REWARD, "stayed_hard": STAYED_HARD, "headroom": HEADROOM, "shortcut_difference": 0.0},
    validity_flags=(
        f"hard slice has fewer than {MIN_HARD} problems",
        f"hard arm barely trained: mean training reward < {MIN_REWARD}",
        f"hard prompts did not stay hard: the hard arm's mean training reward >= {STAYED_HARD}",
        f"no shortcut headroom: the base gives >= {HEADROOM} answer-only samples",
    ),
    tests="Whether GRPO on prompts the base almost never solves raises the share of answer-only "
    "(computation-skipping) completions and repeated wrong answers on the usual problems more than "
    "GRPO on as many typical prompts does, with and without group reward scaling, and what it does to "
    "in-distribution pass@1.",
    does_not_test="Shortcuts other than skipping the worked steps (reward hacking of a checker, "
    "length exploits); hard prompts beyond 1/16 base success; difficulty curricula or data mixes; "
    "long training (a few epochs of each slice); models beyond the toy world's tiny Llama.",
)
