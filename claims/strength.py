"""Run strength: when a retest run is strong enough to back a proposal, and how it is shown.

A retest run *may propose* (is strong) only when it is strong enough to act on
(`assess_strength`): preset standard or gpu, at least 3 RL seeds, an interval that spans
seeds, no validity flag raised by its protocol (for example a ceiling that makes the
verdict automatic), and a prior that is a random effect: in the toy world at least 2
pretraining seeds (base models); for a real model (`toy_world` false: a local model
directory) its model revision stands for the prior, so RL seeds alone meet the rule and
the revision must be recorded. Smoke runs never propose: they are plumbing checks.
Weaker runs stay visible as runs, never as proposals. A strong run counts toward a status
proposal only once replicated on new seeds (`claims.replication`); the status rules
(`claims.status_rules`) read only strong runs; the CLI, reports and the app show the
reason (`describe_strength`).
"""

from __future__ import annotations

from typing import Any

from claims.retests import RunStrength

PROPOSING_PRESETS = ("standard", "gpu")
MIN_RL_SEEDS = 3
MIN_PRETRAIN_SEEDS = 2


def assess_strength(strength: RunStrength, presets: tuple[str, ...] = PROPOSING_PRESETS) -> tuple[bool, str]:
    """(may this run propose?, why): the rule in the module doc, pure. `presets`: the
    presets strong enough to propose (a factorial grid has its own: claims.factorial)."""
    problems = []
    if strength.preset not in presets:
        label = "smoke (plumbing check)" if strength.preset == "smoke" else repr(strength.preset or "unknown")
        problems.append(f"preset {label}, not {' or '.join(presets)}")
    if len(strength.rl_seeds) < MIN_RL_SEEDS:
        problems.append(f"{len(strength.rl_seeds)} RL seed(s), fewer than {MIN_RL_SEEDS}")
    if strength.toy_world and len(strength.pretrain_seeds) < MIN_PRETRAIN_SEEDS:
        problems.append(f"{len(strength.pretrain_seeds)} pretraining seed(s), fewer than {MIN_PRETRAIN_SEEDS}")
    if not strength.toy_world and not strength.model_revision:
        problems.append("a real model with no recorded model revision (the revision stands for the prior)")
    if not strength.interval_spans_seeds:
        problems.append(f"its interval does not span seeds ({strength.interval or 'unknown'})")
    if strength.flags:
        problems.append("validity flags: " + "; ".join(strength.flags))
    if problems:
        return False, "; ".join(problems)
    prior = (f"{len(strength.pretrain_seeds)} pretraining seeds" if strength.toy_world
             else f"real model {strength.model_revision}")
    return True, (f"preset {strength.preset}, {len(strength.rl_seeds)} RL seeds, {prior}, "
                  f"interval over {strength.interval}, no validity flags")


def run_label(preset: str) -> str:
    """How a run's preset is shown: smoke runs are plumbing checks, not evidence."""
    return "smoke (plumbing check)" if preset == "smoke" else f"{preset or 'unknown'} preset"


def describe_strength(strength: RunStrength) -> dict[str, Any]:
    """The strength of a run as the CLI, reports and UI show it (counts, flags, may_propose, why)."""
    ok, why = assess_strength(strength)
    return {"preset": strength.preset, "label": run_label(strength.preset),
            "rl_seeds": len(strength.rl_seeds), "rl_seed_ids": list(strength.rl_seeds),
            "pretrain_seeds": len(strength.pretrain_seeds), "pretrain_seed_ids": list(strength.pretrain_seeds),
            "interval": strength.interval, "interval_spans_seeds": strength.interval_spans_seeds,
            "flags": list(strength.flags), "toy_world": strength.toy_world,
            "model_revision": strength.model_revision, "may_propose": ok, "why": why,
            "counts": REPLICATION_NOTE if ok else "never (not strong)"}


REPLICATION_NOTE = ("once replicated: a strong run of the same protocol and claim on new seeds with the same verdict "
                    "(toy world: disjoint pretraining and RL seeds; real model: same revision, disjoint RL seeds; "
                    "`claims retest run --replicate`)")
