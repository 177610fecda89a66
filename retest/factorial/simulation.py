"""Outcome tables with known variance components, to check the analysis's intervals.

`simulate_table` draws one table of runs from the model of `retest.factorial.analysis`
(designed prior, optimizer and interaction effects scaled to exactly the stated variances;
random bases, base x optimizer and RL-seed noise) and returns it with its true shares.
`coverage` analyses many such tables and counts how often each interval holds the truth.
Used by tests/retest/test_factorial_coverage.py and benchmarks/factorial_coverage.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from retest.factorial.analysis import COMPONENTS, Row, analyse

SCENARIOS: dict[str, dict[str, float]] = {
    # no designed prior effect, but bases differ a lot: the prior's share must be 0
    "null_prior": {"prior": 0.0, "optimizer": 0.09, "interaction": 0.0225, "pretrain_seed": 1.0,
                   "base_x_optimizer": 0.09, "residual": 0.25},
    # every component present, the prior the largest
    "all_on": {"prior": 1.0, "optimizer": 0.09, "interaction": 0.04, "pretrain_seed": 0.25,
               "base_x_optimizer": 0.04, "residual": 0.16},
}
"""Variances (not shares) of the six components; the shares are each over their sum."""


@dataclass(frozen=True)
class Design:
    """Levels and seeds of a simulated grid; `missing` drops each RL seed after the first
    with this probability (an unbalanced table: a cell keeps at least one run)."""

    priors: int = 4
    bases: int = 3
    optimizers: int = 4
    rl_seeds: int = 2
    missing: float = 0.0


def _effects(rng: np.random.Generator, shape: tuple[int, ...], variance: float) -> np.ndarray:
    """Effects summing to 0 over each axis whose mean square is exactly `variance`."""
    x = rng.normal(size=shape)
    for axis in range(len(shape)):
        x = x - x.mean(axis=axis, keepdims=True)
    ms = float((x**2).mean())
    return x * np.sqrt(variance / ms) if variance > 0 and ms > 0 else np.zeros(shape)


def simulate_table(rng: np.random.Generator, variances: dict[str, float],
                   design: Design = Design()) -> tuple[list[Row], dict[str, float]]:
    """One table of runs and its true shares."""
    a, s, b, n = design.priors, design.bases, design.optimizers, design.rl_seeds
    prior = _effects(rng, (a,), variances["prior"])
    opt = _effects(rng, (b,), variances["optimizer"])
    inter = _effects(rng, (a, b), variances["interaction"]) if a > 1 else np.zeros((a, b))
    sd = {k: np.sqrt(variances[k]) for k in ("pretrain_seed", "base_x_optimizer", "residual")}
    rows: list[Row] = []
    for i in range(a):
        for k in range(s):
            base = sd["pretrain_seed"] * rng.normal()
            for j in range(b):
                cell = sd["base_x_optimizer"] * rng.normal()
                for r in range(n):
                    if r and design.missing and rng.uniform() < design.missing:
                        continue
                    value = 0.5 + prior[i] + opt[j] + inter[i, j] + base + cell + sd["residual"] * rng.normal()
                    rows.append((f"p{i}", f"o{j}", k, r, float(value)))
    total = sum(variances[c] for c in COMPONENTS)
    return rows, {c: variances[c] / total for c in COMPONENTS}


@dataclass(frozen=True)
class Coverage:
    """How often each component's interval held its true share, over `tables` tables."""

    tables: int
    covered: dict[str, float]  # share of tables whose interval holds the truth
    below: dict[str, float]  # share where the truth lay below the interval
    above: dict[str, float]
    median_estimate: dict[str, float]
    seconds: float


def coverage(variances: dict[str, float], tables: int, design: Design = Design(), draws: int = 2000,
             seed: int = 0, level: float = 0.95) -> Coverage:
    """Analyse `tables` simulated tables; count the intervals that hold the true shares."""
    rng = np.random.default_rng(seed)
    below = dict.fromkeys(COMPONENTS, 0)
    above = dict.fromkeys(COMPONENTS, 0)
    estimates: dict[str, list[float]] = {c: [] for c in COMPONENTS}
    t0 = time.perf_counter()
    for t in range(tables):
        rows, truth = simulate_table(rng, variances, design)
        shares = analyse(rows, draws=draws, seed=seed * 100_003 + t, level=level).shares
        assert shares is not None
        for c in COMPONENTS:
            got = getattr(shares, c)
            below[c] += truth[c] < got.low - 5e-5  # shares are rounded to 4 places
            above[c] += truth[c] > got.high + 5e-5
            estimates[c].append(got.estimate)
    return Coverage(tables=tables, covered={c: 1 - (below[c] + above[c]) / tables for c in COMPONENTS},
                    below={c: below[c] / tables for c in COMPONENTS}, above={c: above[c] / tables for c in COMPONENTS},
                    median_estimate={c: float(np.median(estimates[c])) for c in COMPONENTS},
                    seconds=time.perf_counter() - t0)
