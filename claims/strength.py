"""Run strength: when a retest run is strong enough to back a proposal, and how it is shown.

A retest run *may propose* only when it is strong enough to act on (`assess_strength`):
preset standard or gpu, at least 3 RL seeds and 2 pretraining seeds, an interval that
spans seeds, and no validity flag raised by its protocol (for example a ceiling that
makes the verdict automatic). Smoke runs never propose: they are plumbing checks.
Weaker runs stay visible as runs, never as proposals. The status rules
(`claims.status_rules`) read only runs that pass; the CLI, reports and the app show
the reason (`describe_strength`).
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
    if len(strength.pretrain_seeds) < MIN_PRETRAIN_SEEDS:
        problems.append(f"{len(strength.pretrain_seeds)} pretraining seed(s), fewer than {MIN_PRETRAIN_SEEDS}")
    if not strength.interval_spans_seeds:
        problems.append(f"its interval does not span seeds ({strength.interval or 'unknown'})")
    if strength.flags:
        problems.append("validity flags: " + "; ".join(strength.flags))
    if problems:
        return False, "; ".join(problems)
    return True, (f"preset {strength.preset}, {len(strength.rl_seeds)} RL seeds, {len(strength.pretrain_seeds)} "
                  f"pretraining seeds, interval over {strength.interval}, no validity flags")


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
            "flags": list(strength.flags), "toy_world": strength.toy_world, "may_propose": ok, "why": why}
