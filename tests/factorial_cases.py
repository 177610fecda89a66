"""Hand-made factorial grids (engine results) for the tests of storing, showing and proposing.

`make_result` builds a `retest.factorial.FactorialResult` the way the engine reports one:
every cell of priors x optimizers x pretraining seeds x RL seeds with its outcomes, and
variance shares per outcome that add up to 1. No training: they run in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from itertools import product

from retest.factorial import Cell, FactorialResult, OutcomeShares, Share

PRIORS = ("A-rich/short", "A-rich/long", "C-rich/long")
OPTIMIZERS = ("grpo", "dr_grpo", "dapo", "ppo_kl")


def shares(prior: float, optimizer: float, interaction: float, width: float = 0.1, pretrain_seed: float = 0.1,
           base_x_optimizer: float = 0.05) -> OutcomeShares:
    """The six shares of the mixed model (retest.factorial.analysis); the residual takes the rest."""
    residual = round(1.0 - prior - optimizer - interaction - pretrain_seed - base_x_optimizer, 6)

    def s(x: float) -> Share:
        return Share(estimate=x, low=max(0.0, x - width), high=min(1.0, x + width))

    return OutcomeShares(prior=s(prior), optimizer=s(optimizer), interaction=s(interaction), residual=s(residual),
                         pretrain_seed=s(pretrain_seed), base_x_optimizer=s(base_x_optimizer))


def make_result(preset: str = "full", executor: str = "local", status: str = "succeeded", rl_seeds: int = 3,
                pretrain_seeds: int = 2, flags: tuple[str, ...] = (), priors: tuple[str, ...] = PRIORS,
                optimizers: tuple[str, ...] = OPTIMIZERS, failed: int = 0, confounds: tuple[str, ...] = (),
                finished: dt.datetime = dt.datetime(2026, 11, 23, 6, 0)) -> FactorialResult:
    """A grid whose pass@256 depends mostly on the prior (shares 0.6 prior, 0.1 optimizer).

    `confounds` are stated in the config before the run (like the engine's presets);
    `flags` are raised while it ran. Both appear in the result's flags."""
    cells = []
    for i, (prior, opt, p, r) in enumerate(product(priors, optimizers, range(pretrain_seeds), range(rl_seeds))):
        pi, oi = priors.index(prior), optimizers.index(opt)
        p256 = 0.5 + 0.1 * pi + 0.02 * oi + 0.005 * r
        p1 = 0.2 + 0.02 * pi + 0.05 * oi + 0.004 * r
        outcomes = {"pass@1": p1, "pass@256": p256, "reachable": p256 - 0.05, "kl": 0.01 * (oi + 1),
                    "pass@1_gain": p1 - 0.15, "pass@256_gain": -0.01 * oi, "reachable_gain": -0.01, "kl_gain": 0.01}
        bad = i < failed
        cells.append(Cell(prior=prior, mixture=prior.split("/")[0], amount=prior.split("/")[1], optimizer=opt,
                          pretrain_seed=p, rl_seed=r, status="failed" if bad else "done",
                          outcomes={} if bad else outcomes, seconds=4.0, error="boom" if bad else None, key=f"k{i}"))
    return FactorialResult(
        preset=preset, executor=executor, status=status,
        levels={"mixture": sorted({p.split("/")[0] for p in priors}), "amount": sorted({p.split("/")[1] for p in priors}),
                "prior": list(priors), "optimizer": list(optimizers),
                "pretrain_seed": [str(i) for i in range(pretrain_seeds)], "rl_seed": [str(i) for i in range(rl_seeds)]},
        cells=cells,
        shares={"pass@1": shares(0.15, 0.55, 0.05), "pass@256": shares(0.6, 0.1, 0.05)},
        ranges={"pass@256": {"across_optimizers": 0.06, "across_priors": 0.2}},
        answer="Toy-world: the prior explains more of pass@256 than the optimizer (levels: ...).",
        flags=[*confounds, *flags], config={"preset": preset, "confounds": list(confounds)}, environment={"torch": "2.13.0", "cpu_threads": 2},
        started_at=finished - dt.timedelta(minutes=9), finished_at=finished, seconds=540.0,
    )
