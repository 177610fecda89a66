"""C4a label-free: can search without labels (tree search, then distil) improve the policy?

Three arms per (pretraining seed, RL seed), on the world's base model:

- ``truth``: GRPO with the ground-truth reward (the shared C1-C3 run: cached, reused);
- ``majority``: GRPO with the TTRL-style majority-vote reward (`retest.majority`: 1 for
  agreeing with the group's majority answer; the labels are never read);
- ``distill``: search then distil. For each search prompt the base draws `probe`
  completions; their most frequent first tokens (at most `branches`) are the tree's
  branches, and each branch is expanded into `leaves` completions with that first token
  forced. The majority answer over all leaves is the pseudo-label; SFT (`Lab.sft`) on
  the leaves that agree with it.

Measured on held-out problems with `samples` completions: pass@1, greedy accuracy,
maj@16 (over disjoint blocks of 16), reach@samples; and the pseudo-labels' precision.
Intervals: hierarchical bootstrap over pretraining seeds, RL seeds and problems.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.completions import draw, greedy
from retest.lab import answer_of
from retest.majority import agreement, maj_at_k, majority, reach
from retest.measures import hierarchical_bootstrap
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal
from retest.rl import checkpoints

if TYPE_CHECKING:
    from retest.lab import Lab

ARMS = ("truth", "majority", "distill")
METRICS = ("pass1", "greedy", "maj16", "reach")
MIN_GAIN = 0.02  # pass@1: a gain whose interval stays below this is no improvement
SAME_AS_TRUTH = 0.95  # majority reward equal to the true reward on more groups than this: not label-free in effect
PRECISE = 0.95  # pseudo-labels right on more than this share: distillation is supervised in effect
CEILING = 0.9  # base pass@1 at or above this: no room to improve
MIN_LEAVES = 50  # fewer agreeing leaves than this per run: too little to distil


@dataclass(frozen=True)
class C4aConfig:
    """Per-preset sizes of the C4a protocol (chosen by `cfg.preset`)."""

    samples: int = 64  # per held-out problem: pass@1, maj@16, reach@64
    problems: int = 100
    search_prompts: int = 256
    probe: int = 8  # base completions that choose the branches
    branches: int = 4  # most frequent first tokens expanded
    leaves: int = 8  # completions per branch
    group: int = 8  # group size for the majority reward's agreement with the truth on the base
    draws: int = 2000
    sft_steps: int | None = None  # distillation steps; None = the preset's `cfg.sft.steps`


def config_for(preset: str) -> C4aConfig:
    if preset == "smoke":
        return C4aConfig(samples=16, problems=48, search_prompts=48, probe=8, branches=3, leaves=4, draws=300,
                         sft_steps=30)
    if preset == "model-smoke":  # the gpu path at a size that only shows it runs
        return C4aConfig(samples=4, problems=4, search_prompts=4, probe=2, branches=2, leaves=2, group=2, draws=200,
                         sft_steps=2)
    return C4aConfig()


@dataclass(frozen=True)
class LabelFreeMeasurements:
    """Per held-out problem: base[metric] (P, N); arms[arm][metric] (P, R, N); search figures per run."""

    samples: int
    base: dict[str, list[list[float]]]
    arms: dict[str, dict[str, list[list[list[float]]]]]
    majority_right: list[float]  # per pretraining seed: share of base groups whose majority answer is right
    majority_same: list[float]  # ... whose majority reward equals the true reward on every completion
    pseudo_precision: list[list[float]]  # (P, R): share of search prompts whose pseudo-label is right
    leaves: list[list[int]]  # (P, R): agreeing leaves distilled
    draws: int = 2000
    extra: dict[str, Any] = field(default_factory=dict)


def _scores(lab: Lab, model_dir: Any, held: list[tuple[str, int]], c4: C4aConfig) -> dict[str, list[float]]:
    parse = answer_of(lab.cfg)  # the toy world's strict parse, or a real model's stated answer
    prompts = [p for p, _ in held]
    rows = draw(lab, model_dir, prompts, c4.samples, tag="c4a")
    greedy_rows = greedy(lab, model_dir, prompts)
    k = min(16, c4.samples)
    return {
        "pass1": [float(np.mean([parse(c) == a for c in r])) for r, (_, a) in zip(rows, held)],
        "greedy": [float(parse(g) == a) for g, (_, a) in zip(greedy_rows, held)],
        "maj16": [maj_at_k(r, a, k, parse) for r, (_, a) in zip(rows, held)],
        "reach": [reach(r, a, parse) for r, (_, a) in zip(rows, held)],
    }


def search(lab: Lab, base_dir: Any, prompts: list[str], c4: C4aConfig, seed: int) -> list[tuple[str, list[str]]]:
    """Branch on the first token: per prompt, [(first token, leaf completions)]; leaves include the token."""
    probes = draw(lab, base_dir, prompts, c4.probe, seed=seed, tag="c4a-probe")
    firsts = [[t for t, _ in Counter(c[:1] for c in row if c).most_common(c4.branches)] for row in probes]
    flat = [p + t for p, ts in zip(prompts, firsts) for t in ts]
    leaves = draw(lab, base_dir, flat, c4.leaves, seed=seed, tag="c4a-leaves")
    out, i = [], 0
    for ts in firsts:
        out.append([(t, [t + c for c in leaves[i + j]]) for j, t in enumerate(ts)])
        i += len(ts)
    return out


def measure(lab: Lab) -> LabelFreeMeasurements:
    cfg = lab.cfg
    c4 = config_for(cfg.preset)
    train, held = lab.problems()
    held = held[: c4.problems]
    search_set = train[: c4.search_prompts]
    parse = answer_of(cfg)
    rl_major = dataclasses.replace(cfg.rl, reward="majority-final" if cfg.problems_file else "majority")
    base: dict[str, list[list[float]]] = {k: [] for k in METRICS}
    arms: dict[str, dict[str, list]] = {a: {k: [] for k in METRICS} for a in ARMS}
    right, same, precision, n_leaves = [], [], [], []
    base_dirs = [lab.base(ps)[0] for ps in cfg.pretrain_seeds]
    lab.build_all([lab.rl_block(d, train, seed, rl) for d in base_dirs for seed in cfg.seeds
                   for rl in (cfg.rl, rl_major)])
    for ps in cfg.pretrain_seeds:
        base_dir, _ = lab.base(ps)
        for k, v in _scores(lab, base_dir, held, c4).items():
            base[k].append(v)
        groups = draw(lab, base_dir, [p for p, _ in search_set], c4.group, tag="c4a-groups")
        agree = [agreement(g, a, c4.group, parse) for g, (_, a) in zip(groups, search_set)]
        right.append(float(np.mean([x for x, _ in agree]))), same.append(float(np.mean([y for _, y in agree])))
        per: dict[str, dict[str, list]] = {a: {k: [] for k in METRICS} for a in ARMS}
        prec, nl = [], []
        for seed in cfg.seeds:
            finals = {}
            run, _ = lab.rl(base_dir, train, seed)
            finals["truth"] = checkpoints(run)[-1][1]
            run, _ = lab.rl(base_dir, train, seed, rl_major)
            finals["majority"] = checkpoints(run)[-1][1]
            tree = search(lab, base_dir, [p for p, _ in search_set], c4, seed)
            pairs, hits = [], 0
            for (p, a), branches in zip(search_set, tree):
                leaves = [leaf for _, ls in branches for leaf in ls]
                label = majority(leaves, parse)
                hits += label == a
                pairs += [(p, leaf) for leaf in leaves if label is not None and parse(leaf) == label]
            prec.append(hits / max(1, len(search_set))), nl.append(len(pairs))
            sft = dataclasses.replace(cfg.sft, seed=seed, steps=c4.sft_steps or cfg.sft.steps)
            finals["distill"] = lab.sft(base_dir, pairs, sft) if pairs else base_dir
            for arm in ARMS:
                for k, v in _scores(lab, finals[arm], held, c4).items():
                    per[arm][k].append(v)
        for arm in ARMS:
            for k in METRICS:
                arms[arm][k].append(per[arm][k])
        precision.append(prec), n_leaves.append(nl)
    return LabelFreeMeasurements(samples=c4.samples, base=base, arms=arms, majority_right=right, majority_same=same,
                                 pseudo_precision=precision, leaves=n_leaves, draws=c4.draws)


def decide(m: LabelFreeMeasurements) -> Decision:
    base = {k: np.asarray(m.base[k], float)[:, None, :] for k in METRICS}
    arm = {a: {k: np.asarray(m.arms[a][k], float) for k in METRICS} for a in ARMS}
    gains = {a: {k: hierarchical_bootstrap(arm[a][k] - base[k], draws=m.draws, seed=0) for k in METRICS}
             for a in ARMS}
    g = gains["distill"]["pass1"]
    if g.low > 0:
        verdict = "consistent"
    elif g.high < MIN_GAIN:
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    flags = []
    same, prec = float(np.mean(m.majority_same)), float(np.mean(m.pseudo_precision))
    if same > SAME_AS_TRUTH:
        flags.append(f"majority reward equals the true reward on {same:.2f} of groups (> {SAME_AS_TRUTH}): "
                     f"the label-free arm is not label-free in effect")
    if prec > PRECISE:
        flags.append(f"pseudo-labels right on {prec:.2f} of search prompts (> {PRECISE}): distillation is supervised "
                     f"in effect")
    base_p1 = float(base["pass1"].mean())
    if base_p1 >= CEILING:
        flags.append(f"ceiling: base pass@1 {base_p1:.2f} >= {CEILING}")
    truth = gains["truth"]["pass1"]
    if truth.high <= 0:
        flags.append(f"the ground-truth arm did not gain ({truth.estimate:+.3f} [{truth.low:+.3f}, {truth.high:+.3f}]):"
                     f" this setup cannot improve pass@1, so a label-free null is no test")
    if min(min(x) for x in m.leaves) < MIN_LEAVES:
        flags.append(f"distillation set too small: fewer than {MIN_LEAVES} agreeing leaves in a run")
    recovered = g.estimate / truth.estimate if truth.estimate > 0 else None

    def fig(a: str, k: str) -> str:
        x = gains[a][k]
        return f"{x.estimate:+.3f} [{x.low:+.3f}, {x.high:+.3f}]"

    finding = (f"pass@1 base {base_p1:.2f}; gain with true reward {fig('truth', 'pass1')}, majority-vote reward "
               f"{fig('majority', 'pass1')}, search-then-distil {fig('distill', 'pass1')}"
               + (f" ({recovered:.0%} of the true-reward gain)" if recovered is not None else "")
               + f"; distil greedy {fig('distill', 'greedy')}, maj@16 {fig('distill', 'maj16')}, "
               f"reach@{m.samples} {fig('distill', 'reach')}; pseudo-label precision {prec:.2f}")
    details = {
        "base": {k: round(float(base[k].mean()), 4) for k in METRICS},
        "arms": {a: {k: round(float(arm[a][k].mean()), 4) for k in METRICS} for a in ARMS},
        "gains": {a: {k: {"estimate": round(x.estimate, 4), "low": round(x.low, 4), "high": round(x.high, 4),
                          "per_seed": list(x.per_seed)} for k, x in gains[a].items()} for a in ARMS},
        "fraction_of_truth_gain": round(recovered, 4) if recovered is not None else None,
        "majority_right_on_base_groups": [round(x, 4) for x in m.majority_right],
        "majority_reward_equals_truth": [round(x, 4) for x in m.majority_same],
        "pseudo_label_precision": [[round(x, 4) for x in r] for r in m.pseudo_precision],
        "distilled_leaves": m.leaves, "samples": m.samples,
    }
    flags += no_signal([float(np.mean(x)) for x in m.base["pass1"]]
                       + [float(np.mean(run)) for a in ARMS for row in m.arms[a]["pass1"] for run in row])
    return Decision(verdict, g.estimate, g.low, g.high, g.over, finding, tuple(flags), g.per_seed, details,
                    interval_kind=g.kind)


SPEC = ProtocolSpec(
    name="label-free-search",
    version="1",
    claim_hint="C4",
    interval_days=28,
    description="Label-free self-improvement: GRPO with the true reward vs a majority-vote reward (TTRL-style, "
    "no labels) vs search-then-distil (branch on the first token, majority pseudo-label, SFT on agreeing "
    "leaves); pass@1, greedy accuracy, maj@16, reach@n and pseudo-label precision on held-out problems.",
    decision_rule=f"Effect: held-out pass@1 of search-then-distil minus the base's, 95% hierarchical-bootstrap "
    f"interval (pretraining seeds, RL seeds, problems). consistent if the interval is above 0; inconsistent if its "
    f"upper bound is below +{MIN_GAIN}; else inconclusive. The majority-reward and true-reward arms are reported "
    f"beside it (with the share of the true-reward gain recovered).",
    decide=decide,
    measure=measure,
    thresholds={"min_gain": MIN_GAIN, "same_as_truth": SAME_AS_TRUTH, "pseudo_precision": PRECISE,
                "base_ceiling": CEILING, "min_leaves": MIN_LEAVES},
    validity_flags=(
        NO_SIGNAL,
        f"majority reward equals ground truth on >{SAME_AS_TRUTH:.0%} of groups: the label-free arm is not "
        "label-free in effect",
        f"pseudo-labels right on >{PRECISE:.0%} of search prompts: distillation is supervised in effect",
        f"ceiling: base pass@1 >= {CEILING}",
        "the ground-truth arm did not gain (interval <= 0): a label-free null is no test",
        f"distillation set too small: fewer than {MIN_LEAVES} agreeing leaves in a run",
    ),
    tests="Whether a tree search over the base's own samples (first-token branches, majority pseudo-labels) "
    "followed by distillation raises held-out pass@1 without labels, beside TTRL-style majority-reward GRPO and "
    "true-reward GRPO, in a toy world, with intervals over seeds.",
    does_not_test="Full MCTS (one level of branching, no value estimates or rollouts deeper than one token), "
    "process-level rewards, iterated self-improvement rounds, real model sizes or tasks without a majority answer.",
)
