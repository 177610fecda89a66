"""C4b entropy-schedule: does scheduling keep open-ended capability that joint RL lets collapse?

The world gets an open-ended task (`retest.openworld`: write T as a sum of three digits,
21-61 right answers per prompt) beside its arithmetic (one right answer). The base is the
world's base after continued pretraining on both. Three GRPO arms of equal length, each
per RL seed on each pretraining seed's base, all rewarded by `mixed_reward`:

- ``joint``: both tasks mixed in every batch, all steps;
- ``ordered``: the structured task (arithmetic) first for half the steps, then the open
  task (Omni-Thinker's structured-first schedule);
- ``entropy``: joint, with TRL 1.16's adaptive entropy control (GRPOConfig
  ``use_adaptive_entropy``, ``entropy_coef``, ``entropy_target``; Skywork-OR1). The bonus
  applies only while the logged entropy is at or below the target, and its coefficient
  grows by ``entropy_coef_delta`` (0.005) a step while it is: with the target (1.0 nats)
  above the entropy logged here (0.5-0.9), it is a rising entropy bonus from the start.

Measured on every open target with `samples` completions: coverage (distinct valid
solutions, as a share of min(samples, solutions)) and pass@1 (valid share); arithmetic
pass@1 on held-out problems beside. Intervals: hierarchical bootstrap over pretraining
seeds, RL seeds and targets, paired between arms.

A local model and its problem file (`measure_local`, gpu and model-smoke): one task, the
preset's reward (the stated final answer, `retest.answers`), the local model as the base (no
continued pretraining). "ordered" trains half the steps on one half of the training
problems, then on the other; coverage is whether a held-out problem's one right final answer
is among its samples (pass@n), pass@1 the share right. A model that never (or always) answers
right is flagged "no signal".
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.completions import draw
from retest.lab import Problems, answer_of
from retest.measures import hierarchical_bootstrap
from retest.openworld import OpenTask, coverage, pretraining_pairs, prompt, solutions, validity
from retest.presets import RLConfig, SFTConfig
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal
from retest.rl import checkpoints, ensure_rl
from retest.world import is_correct

if TYPE_CHECKING:
    from retest.lab import Lab

ARMS = ("joint", "ordered", "entropy")
SCHEDULED = ("ordered", "entropy")
MARGIN = 0.03  # coverage share: a scheduled arm "preserves" only if it could be this much above joint
PASS_MATCH = 0.05  # pass@1 may fall at most this much below joint's for coverage to count (matched pass@1)
CEILING = 0.95  # joint coverage at or above this: no room to show preservation
BASE_KNOWS = 0.2  # the base's open-task pass@1 below this: the base does not know the task
LEVEL = 0.975  # per scheduled arm (two arms, Bonferroni for a 95% family)


@dataclass(frozen=True)
class C4bConfig:
    """Per-preset sizes of the C4b protocol (chosen by `cfg.preset`)."""

    task: OpenTask = field(default_factory=OpenTask)
    midtrain: SFTConfig = field(default_factory=lambda: SFTConfig(steps=300, rows=16, row_len=64, lr=1e-3))
    samples: int = 64  # completions per open target
    arith_problems: int = 100
    arith_samples: int = 16
    entropy_coef: float = 0.005  # starting coefficient of TRL's adaptive entropy control (+0.005 a step)
    entropy_target: float = 1.0  # nats per token: above the 0.5-0.9 logged, so the bonus engages and rises
    draws: int = 2000
    rl_steps: int | None = None  # GRPO steps of every arm (ordered: half each); None = the preset's


def config_for(preset: str) -> C4bConfig:
    if preset == "smoke":
        return C4bConfig(task=OpenTask(examples=4000, arithmetic=4000),
                         midtrain=SFTConfig(steps=120, rows=32, row_len=64, lr=2e-3),
                         samples=32, arith_problems=32, arith_samples=8, draws=300, rl_steps=8)
    return C4bConfig()


@dataclass(frozen=True)
class ScheduleMeasurements:
    """Per-target figures: base (P, N); each arm (P, R, N); arithmetic pass@1 per run."""

    samples: int
    targets: tuple[int, ...]
    base_coverage: list[list[float]]
    base_valid: list[list[float]]
    coverage: dict[str, list[list[list[float]]]]
    valid: dict[str, list[list[list[float]]]]
    arith_base: list[float] = field(default_factory=list)
    arith: dict[str, list[list[float]]] = field(default_factory=dict)
    train_entropy: dict[str, list[float]] = field(default_factory=dict)  # TRL's last logged entropy per run
    draws: int = 2000
    task: str = "open"  # "open": the toy world's open task; "problems": a problem file's held-out problems


def _open_eval(lab: Lab, model_dir: Any, c4: C4bConfig,
               held: list[tuple[str, int]]) -> tuple[list[float], list[float], float]:
    targets = c4.task.targets
    rows = draw(lab, model_dir, [prompt(t) for t in targets], c4.samples, tag="open")
    arith = draw(lab, model_dir, [p for p, _ in held], c4.arith_samples, tag="arith")
    a_pass = float(np.mean([np.mean([is_correct(c, a) for c in row]) for row, (_, a) in zip(arith, held)]))
    return ([coverage(r, t) for r, t in zip(rows, targets)], [validity(r, t) for r, t in zip(rows, targets)], a_pass)


def _train_arms(lab: Lab, base_dir: Any, seed: int, joint: Problems, ordered: tuple[Problems, Problems],
                rls: tuple[RLConfig, RLConfig, RLConfig], ent: dict[str, list[float]],
                ordered_label: str) -> dict[str, Any]:
    """One RL seed's three arms on one base: each arm's final checkpoint; each arm's last entropy appended to `ent`.

    `joint` and `entropy` train on `joint` with `rls[0]` and `rls[1]`; `ordered` trains `rls[2]` (half the steps)
    on `ordered[0]`, then from its final checkpoint on `ordered[1]`.
    """
    rl_joint, rl_entropy, half = rls
    finals: dict[str, Any] = {}
    for arm, rl in (("joint", rl_joint), ("entropy", rl_entropy)):
        run, st = lab.rl(base_dir, joint, seed, rl)
        finals[arm] = checkpoints(run)[-1][1]
        ent[arm].append(st.entropy[-1] if st.entropy else 0.0)
    run1, _ = lab.rl(base_dir, ordered[0], seed, half)
    lab.say(f"phase grpo: seed {seed}, {ordered_label}")
    with lab.timed("grpo"):
        run2, st2, _ = ensure_rl(checkpoints(run1)[-1][1], f"{run1.name}-final", ordered[1], half, seed,
                                 lab.cache_dir, lab.say)
    finals["ordered"] = checkpoints(run2)[-1][1]
    ent["ordered"].append(st2["entropy"][-1] if st2.get("entropy") else 0.0)
    return finals


def measure(lab: Lab) -> ScheduleMeasurements:
    """Continued pretraining, three GRPO arms per (pretraining seed, RL seed), sampled."""
    cfg = lab.cfg
    if cfg.base_model_dir:
        return measure_local(lab)
    c4 = config_for(cfg.preset)
    train, held = lab.problems()
    held = held[: c4.arith_problems]
    open_prompts = [(prompt(t), t) for t in c4.task.targets]
    open_prompts = open_prompts * 8  # 8 copies of each target: a prompt set as large as the arithmetic one
    arith_prompts = train[: len(open_prompts)]
    # joint: the two tasks in equal shares (open prompts repeated to match), shuffled once
    joint = arith_prompts + open_prompts
    random.Random(0).shuffle(joint)
    steps = c4.rl_steps or cfg.rl.steps
    rl_joint = dataclasses.replace(cfg.rl, reward="open", steps=steps,
                                   checkpoint_every=min(steps, cfg.rl.checkpoint_every))
    half = dataclasses.replace(rl_joint, steps=max(1, steps // 2), checkpoint_every=max(1, steps // 2))
    rl_entropy = dataclasses.replace(rl_joint, use_adaptive_entropy=True, entropy_coef=c4.entropy_coef,
                                     entropy_target=c4.entropy_target)
    pairs = pretraining_pairs(c4.task, cfg.world)
    out: dict[str, Any] = {k: {a: [] for a in ARMS} for k in ("coverage", "valid", "arith")}
    ent: dict[str, list[float]] = {a: [] for a in ARMS}
    base_cov, base_val, arith_base = [], [], []
    world_bases = [lab.base(ps)[0] for ps in cfg.pretrain_seeds]
    lab.build_all([lab.sft_block(d, pairs, c4.midtrain) for d in world_bases])
    mid = [lab.sft(d, pairs, c4.midtrain) for d in world_bases]
    lab.build_all([lab.rl_block(d, prompts, seed, rl) for d in mid for seed in cfg.seeds
                   for prompts, rl in ((joint, rl_joint), (joint, rl_entropy), (arith_prompts, half))])
    firsts = [lab.rl(d, arith_prompts, seed, half)[0] for d in mid for seed in cfg.seeds]  # built just above
    lab.build_all([lab.rl_block(checkpoints(r)[-1][1], open_prompts, seed, half, base_key=f"{r.name}-final")
                   for r, seed in zip(firsts, [s for _ in mid for s in cfg.seeds])])
    for ps in cfg.pretrain_seeds:
        world_base, _ = lab.base(ps)
        base_dir = lab.sft(world_base, pairs, c4.midtrain)
        cov, val, ar = _open_eval(lab, base_dir, c4, held)
        base_cov.append(cov), base_val.append(val), arith_base.append(ar)
        per = {k: {a: [] for a in ARMS} for k in out}
        for seed in cfg.seeds:
            finals = _train_arms(lab, base_dir, seed, joint, (arith_prompts, open_prompts),
                                 (rl_joint, rl_entropy, half), ent, "ordered curriculum, open task after arithmetic")
            for arm in ARMS:
                cov, val, ar = _open_eval(lab, finals[arm], c4, held)
                per["coverage"][arm].append(cov), per["valid"][arm].append(val), per["arith"][arm].append(ar)
        for k in out:
            for a in ARMS:
                out[k][a].append(per[k][a])
    return ScheduleMeasurements(samples=c4.samples, targets=tuple(c4.task.targets), base_coverage=base_cov,
                                base_valid=base_val, coverage=out["coverage"], valid=out["valid"],
                                arith_base=arith_base, arith=out["arith"], train_entropy=ent, draws=c4.draws)


def measure_local(lab: Lab) -> ScheduleMeasurements:
    """The three arms on a local model and its problem file, each sampled `eval.samples` times per held-out problem.

    One task, so "ordered" trains half the steps on one half of the training problems, then half on the other;
    coverage is whether a problem's one right final answer is among the samples (pass@n), pass@1 the share right.
    """
    cfg, c4 = lab.cfg, C4bConfig()
    parse = answer_of(cfg)
    train, held = lab.problems()
    held = held[: cfg.eval.problems]
    first, second = train[: len(train) // 2], train[len(train) // 2 :]
    rl_joint = cfg.rl
    half = dataclasses.replace(rl_joint, steps=max(1, rl_joint.steps // 2),
                               checkpoint_every=max(1, min(rl_joint.checkpoint_every, rl_joint.steps // 2)))
    rl_entropy = dataclasses.replace(rl_joint, use_adaptive_entropy=True, entropy_coef=c4.entropy_coef,
                                     entropy_target=c4.entropy_target)
    base_dir, _ = lab.base()

    def scored(model_dir: Any) -> tuple[list[float], list[float]]:
        rows = draw(lab, model_dir, [p for p, _ in held], cfg.eval.samples, tag="c4b")
        right = [[parse(c) == a for c in row] for row, (_, a) in zip(rows, held)]
        return [float(any(r)) for r in right], [float(np.mean(r)) for r in right]

    lab.build_all([lab.rl_block(base_dir, prompts, seed, rl) for seed in cfg.seeds
                   for prompts, rl in ((train, rl_joint), (train, rl_entropy), (first, half))])
    base_cov, base_val = scored(base_dir)
    out: dict[str, dict[str, list[list[float]]]] = {k: {a: [] for a in ARMS} for k in ("coverage", "valid")}
    ent: dict[str, list[float]] = {a: [] for a in ARMS}
    for seed in cfg.seeds:
        finals = _train_arms(lab, base_dir, seed, train, (first, second), (rl_joint, rl_entropy, half), ent,
                             "ordered, the second half of the training problems")
        for arm in ARMS:
            cov, val = scored(finals[arm])
            out["coverage"][arm].append(cov), out["valid"][arm].append(val)
    return ScheduleMeasurements(samples=cfg.eval.samples, targets=tuple(range(len(held))), base_coverage=[base_cov],
                                base_valid=[base_val], coverage={a: [v] for a, v in out["coverage"].items()},
                                valid={a: [v] for a, v in out["valid"].items()}, train_entropy=ent,
                                draws=cfg.eval.bootstrap, task="problems")


def _iv(values: np.ndarray, m: ScheduleMeasurements, level: float = 0.95):  # -> Interval
    return hierarchical_bootstrap(values, draws=m.draws, seed=0, level=level)


def decide(m: ScheduleMeasurements) -> Decision:
    cov = {a: np.asarray(m.coverage[a], float) for a in ARMS}
    val = {a: np.asarray(m.valid[a], float) for a in ARMS}
    base_cov = np.asarray(m.base_coverage, float)[:, None, :]
    base_val = float(np.mean(m.base_valid))
    gain = {a: _iv(cov[a] - cov["joint"], m, LEVEL) for a in SCHEDULED}
    pdiff = {a: _iv(val[a] - val["joint"], m, LEVEL) for a in SCHEDULED}
    collapse = _iv(cov["joint"] - base_cov, m)
    matched = {a: pdiff[a].low >= -PASS_MATCH - 1e-9 for a in SCHEDULED}  # 1e-9: float rounding of differences
    preserved = [a for a in SCHEDULED if gain[a].low > 0 and matched[a]]
    if preserved:
        verdict = "consistent"
    elif all(gain[a].high < MARGIN for a in SCHEDULED):
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    lead = preserved[0] if len(preserved) == 1 else max(SCHEDULED, key=lambda a: gain[a].estimate)
    flags = []
    if collapse.high >= 0:
        flags.append(f"no collapse: joint RL did not reduce coverage (change {collapse.estimate:+.3f} "
                     f"[{collapse.low:+.3f}, {collapse.high:+.3f}]), so there was nothing to preserve")
    if float(cov["joint"].mean()) >= CEILING:
        flags.append(f"coverage ceiling: joint coverage {cov['joint'].mean():.2f} >= {CEILING}")
    if base_val < BASE_KNOWS:
        flags.append(f"base does not know the {'open task' if m.task == 'open' else 'problems'}: pass@1 "
                     f"{base_val:.2f} < {BASE_KNOWS}")
    if np.array_equal(cov["entropy"], cov["joint"]) and np.array_equal(val["entropy"], val["joint"]):
        flags.append("entropy control never engaged: the entropy arm's samples score as joint's on every target "
                     "(TRL's logged entropy stayed above entropy_target, so the bonus was never applied)")
    for a in SCHEDULED:
        if not matched[a]:
            flags.append(f"pass@1 not matched: {a}'s pass@1 minus joint's is {pdiff[a].estimate:+.3f} "
                         f"[{pdiff[a].low:+.3f}, {pdiff[a].high:+.3f}] (allowed down to -{PASS_MATCH})")
    flags += no_signal([base_val, *(float(x) for a in ARMS for x in val[a].mean(axis=2).ravel())])
    means = {a: (float(cov[a].mean()), float(val[a].mean())) for a in ARMS}
    arms_txt = ", ".join(f"{a} {c:.2f} (pass@1 {v:.2f})" for a, (c, v) in means.items())
    what = (f"open-task coverage of {m.samples} samples" if m.task == "open" else
            f"coverage of held-out problems (right final answer among {m.samples} samples)")
    finding = (f"{what}: base {base_cov.mean():.2f} (pass@1 {base_val:.2f}), "
               f"{arms_txt}; coverage minus joint: "
               + "; ".join(f"{a} {gain[a].estimate:+.3f} [{gain[a].low:+.3f}, {gain[a].high:+.3f}] "
                           f"(pass@1 {pdiff[a].estimate:+.3f})" for a in SCHEDULED))
    g = gain[lead]
    details = {
        "lead_arm": lead, "targets": list(m.targets), "solutions": [len(solutions(t)) if m.task == "open" else 1 for t in m.targets],
        "base": {"coverage": round(float(base_cov.mean()), 4), "pass1": round(base_val, 4),
                 "arith_pass1": [round(x, 4) for x in m.arith_base]},
        "arms": {a: {"coverage": round(means[a][0], 4), "pass1": round(means[a][1], 4),
                     "coverage_by_seed": [round(float(x), 4) for x in cov[a].mean(axis=2).ravel()],
                     "pass1_by_seed": [round(float(x), 4) for x in val[a].mean(axis=2).ravel()],
                     "arith_pass1_by_seed": [round(float(x), 4) for x in np.ravel(m.arith.get(a, []))],
                     "train_entropy_last": [round(x, 4) for x in m.train_entropy.get(a, [])]} for a in ARMS},
        "coverage_gain_vs_joint": {a: {"estimate": round(gain[a].estimate, 4), "low": round(gain[a].low, 4),
                                       "high": round(gain[a].high, 4), "per_seed": list(gain[a].per_seed)}
                                   for a in SCHEDULED},
        "pass1_diff_vs_joint": {a: {"estimate": round(pdiff[a].estimate, 4), "low": round(pdiff[a].low, 4),
                                    "high": round(pdiff[a].high, 4)} for a in SCHEDULED},
        "joint_coverage_change": {"estimate": round(collapse.estimate, 4), "low": round(collapse.low, 4),
                                  "high": round(collapse.high, 4)},
    }
    return Decision(verdict, g.estimate, g.low, g.high, f"{g.over}, {LEVEL:.1%} per arm", finding, tuple(flags),
                    g.per_seed, details, interval_kind=g.kind)


SPEC = ProtocolSpec(
    name="entropy-schedule",
    version="1",
    claim_hint="C4",
    interval_days=28,
    description="An open-ended task (write T as a sum of three digits; 21-61 right answers per prompt) beside "
    "the arithmetic: GRPO with both tasks joint, ordered (arithmetic first, then the open task) and joint with "
    "TRL's adaptive entropy control; coverage (distinct valid solutions among the samples) at matched pass@1. On a "
    "local model and its problem file: one task (ordered: one half of the training problems, then the other), "
    "coverage = a held-out problem's right final answer among the samples (pass@n).",
    decision_rule=f"Effect: coverage of the open task (distinct valid solutions as a share of the most possible) of "
    f"a scheduled arm (ordered, entropy) minus joint's, paired, {LEVEL:.1%} hierarchical-bootstrap interval per arm. "
    f"consistent if some scheduled arm's interval is above 0 while its pass@1 is at most {PASS_MATCH} below joint's "
    f"(interval's lower bound); inconsistent if both arms' upper bounds are below +{MARGIN}; else inconclusive. "
    f"The effect reported is the preserving arm's (or the larger estimate's).",
    decide=decide,
    measure=measure,
    thresholds={"margin": MARGIN, "pass1_match": PASS_MATCH, "coverage_ceiling": CEILING,
                "base_knows_task": BASE_KNOWS, "interval_level_per_arm": LEVEL},
    validity_flags=(
        NO_SIGNAL,
        "no collapse: joint RL did not reduce coverage below the base's (interval reaches 0): nothing to preserve",
        f"coverage ceiling: joint coverage >= {CEILING} of the possible",
        f"base does not know the open task: its pass@1 < {BASE_KNOWS}",
        f"pass@1 not matched: a scheduled arm's pass@1 more than {PASS_MATCH} below joint's",
        "entropy control never engaged: the entropy arm scores as joint on every target (the bonus never applied)",
    ),
    tests="Whether scheduling (structured task first, or TRL's adaptive entropy bonus) keeps more distinct valid "
    "solutions of an open-ended task than joint GRPO at matched pass@1, in a toy world, with intervals over seeds.",
    does_not_test="Creative or judged tasks, Omni-Thinker's BWT-guided ordering of many domains, real model sizes, "
    "longer training than one short GRPO run; arm lengths are equal in steps, not in open-task gradient.",
)
