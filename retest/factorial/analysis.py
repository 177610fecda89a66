"""Variance shares of a prior x optimizer grid: a mixed model with generalized confidence intervals.

One outcome is a set of runs ``(prior, optimizer, pretrain_seed, rl_seed, value)``. Pretraining
seeds are nested in priors (seed 0 of two priors are two different base models); every base
is crossed with every optimizer; RL seeds replicate a (base, optimizer) cell. The model::

    y = mu + P_i + O_j + PO_ij          (designed, fixed: the levels chosen are the question)
          + S_k(i)                      (base-to-base: pretraining seed, random, nested in prior)
          + SO_kj(i)                    (a base's own response to an optimizer, random)
          + e                           (RL seed, random)

The shares are those of the variance of one run drawn from the design (a prior and an
optimizer level, each equally likely, a fresh base and a fresh RL seed):
``v_prior = sum(P_i^2)/a``, ``v_optimizer = sum(O_j^2)/b``, ``v_interaction = sum(PO_ij^2)/(ab)``,
``v_pretrain_seed``, ``v_base_x_optimizer`` and ``v_residual`` the random components' variances;
each over their sum. A prior level with no effect has share 0 however much its bases differ.

Estimates: the ANOVA (method of moments) estimates from the expected mean squares, floored
at 0 (on a balanced table with no floor active they equal REML's). Unbalanced tables (a
missing RL seed, unequal numbers of bases per prior) use the unweighted-means analysis:
sums of squares of cell means scaled by the harmonic mean of the replicate counts, and
the residual's degrees of freedom are the runs less the cells (N - C): nothing is imputed.
A base that lacks an optimizer level is left out (noted), so the others stay crossed.

Intervals: generalized confidence intervals (Weerahandi 1993; Burdick, Borror & Montgomery,
*Design and Analysis of Gauge R&R Studies*, 2005; Krishnamoorthy & Mathew, *Statistical
Tolerance Regions*, 2009). Each random mean square gives a pivot ``SS / chi2(df)``; each
designed effect's sum of squares is a scaled noncentral chi-square whose noncentrality gets
its fiducial draw by inverting the noncentral CDF at a uniform draw (``scipy.special.chndtrinc``;
0 where the observed statistic is below the central quantile, so the share's interval
reaches 0 exactly when the effect's F test is not significant at 2.5%). The shares are
computed per draw; the interval is the equal-tailed percentile interval of those draws.
Nothing clamps an interval to contain the estimate. Coverage, measured by simulation:
docs/factorial.md and tests/retest/test_factorial_coverage.py.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from retest.factorial.results import OutcomeShares, Share

COMPONENTS = ("prior", "optimizer", "interaction", "pretrain_seed", "base_x_optimizer", "residual")
METHOD = ("mixed model: prior, optimizer, interaction designed; pretraining seeds (bases) nested in priors, "
          "base x optimizer and RL seeds random; ANOVA estimates, generalized confidence intervals")
DRAWS = 4000  # fiducial draws per outcome: the 2.5% and 97.5% percentiles move by < 0.005 between seeds

Row = tuple[Hashable, Hashable, Hashable, Hashable, float]  # prior, optimizer, pretrain_seed, rl_seed, value


class AnalysisError(ValueError):
    """The runs cannot be analysed (too few levels or seeds, a duplicate run, a bad value)."""


@dataclass(frozen=True)
class MeanSquares:
    """The (unweighted-means) ANOVA of one outcome: what the estimates and the draws need.

    ``ss`` and ``df`` per term: P, O, PO (designed), S (bases within priors), SO (base x
    optimizer within priors), E (RL seeds within cells). ``n`` is the harmonic mean of the
    RL seeds per cell, ``s`` the harmonic mean of the bases per prior, ``means[i, j]`` the
    (prior, optimizer) means over bases, ``bases[i]`` the number of bases of prior i.
    """

    ss: dict[str, float]
    df: dict[str, int]
    n: float
    s: float
    a: int
    b: int
    means: np.ndarray
    bases: np.ndarray
    priors: tuple[Hashable, ...]
    optimizers: tuple[Hashable, ...]
    notes: tuple[str, ...] = ()

    def coefficient(self, term: str) -> float:
        """What multiplies a designed term's sum of squared effects in its expected sum of squares."""
        return {"P": self.b * self.s * self.n, "O": self.a * self.s * self.n, "PO": self.s * self.n}[term]


def mean_squares(rows: Iterable[Row]) -> MeanSquares:
    """The ANOVA of one outcome's runs. Raises AnalysisError when the design cannot separate
    the components (one optimizer level; a single base per prior everywhere; no cell with two
    RL seeds), on a duplicate run or a non-finite value."""
    cells: dict[tuple[Hashable, Hashable, Hashable], list[float]] = {}
    seen: set[tuple[Hashable, Hashable, Hashable, Hashable]] = set()
    priors: list[Hashable] = []
    optimizers: list[Hashable] = []
    for prior, opt, seed, rl, value in rows:
        value = float(value)
        if not np.isfinite(value):
            raise AnalysisError(f"value {value} (prior {prior}, optimizer {opt}, pretrain seed {seed}, RL seed {rl})")
        if (prior, opt, seed, rl) in seen:
            raise AnalysisError(f"two runs of prior {prior}, optimizer {opt}, pretrain seed {seed}, RL seed {rl}")
        seen.add((prior, opt, seed, rl))
        priors += [prior] if prior not in priors else []
        optimizers += [opt] if opt not in optimizers else []
        cells.setdefault((prior, seed, opt), []).append(value)
    if not cells:
        raise AnalysisError("no runs")
    b = len(optimizers)
    if b < 2:
        raise AnalysisError("one optimizer level: the design needs 2 or more")
    notes: list[str] = []
    tables: dict[Hashable, list[list[list[float]]]] = {}  # prior -> bases -> optimizers -> values
    for prior in priors:
        seeds = list(dict.fromkeys(k for p, k, _ in cells if p == prior))
        for seed in seeds:
            missing = [o for o in optimizers if (prior, seed, o) not in cells]
            if missing:
                notes.append(f"prior {prior}, pretrain seed {seed} has no run with optimizer "
                             f"{', '.join(map(str, missing))}: that base is left out")
            else:
                tables.setdefault(prior, []).append([cells[prior, seed, o] for o in optimizers])
        if prior not in tables:
            notes.append(f"prior {prior} has no base with every optimizer: left out")
    kept = [p for p in priors if p in tables]
    if not kept:
        raise AnalysisError("no base has a run with every optimizer")
    a = len(kept)
    counts = [len(v) for p in kept for base in tables[p] for v in base]
    n = len(counts) / sum(1.0 / c for c in counts)
    bases = np.array([len(tables[p]) for p in kept])
    s = a / float((1.0 / bases).sum())
    ss = dict.fromkeys(("P", "O", "PO", "S", "SO", "E"), 0.0)
    df = {"P": a - 1, "O": b - 1, "PO": (a - 1) * (b - 1), "S": int((bases - 1).sum()),
          "SO": int((bases - 1).sum()) * (b - 1), "E": sum(counts) - len(counts)}
    means = np.zeros((a, b))
    for i, p in enumerate(kept):
        z = np.array([[np.mean(v) for v in base] for base in tables[p]])  # bases x optimizers
        ss["E"] += sum(float(((np.array(v) - np.mean(v)) ** 2).sum()) for base in tables[p] for v in base)
        rows_, cols, grand = z.mean(axis=1), z.mean(axis=0), z.mean()
        ss["S"] += b * n * float(((rows_ - grand) ** 2).sum())
        ss["SO"] += n * float(((z - rows_[:, None] - cols[None, :] + grand) ** 2).sum())
        means[i] = cols
    rows_, cols, grand = means.mean(axis=1), means.mean(axis=0), means.mean()
    ss["P"] = b * s * n * float(((rows_ - grand) ** 2).sum())
    ss["O"] = a * s * n * float(((cols - grand) ** 2).sum())
    ss["PO"] = s * n * float(((means - rows_[:, None] - cols[None, :] + grand) ** 2).sum())
    if df["S"] < 1:
        raise AnalysisError("every prior has a single pretraining seed: base-to-base variance cannot be told "
                            "from the prior (2 or more seeds under at least one prior)")
    if df["E"] < 1:
        raise AnalysisError("no (base, optimizer) cell has 2 or more RL seeds: RL-seed noise cannot be told "
                            "from base x optimizer")
    return MeanSquares(ss, df, n, s, a, b, means, bases, tuple(kept), tuple(optimizers), tuple(notes))


def components(m: MeanSquares) -> dict[str, float]:
    """Point estimates of the six variance components (method of moments, floored at 0)."""
    ms = {t: m.ss[t] / m.df[t] if m.df[t] else 0.0 for t in m.ss}
    v = {"residual": ms["E"],
         "base_x_optimizer": max(0.0, (ms["SO"] - ms["E"]) / m.n),
         "pretrain_seed": max(0.0, (ms["S"] - ms["SO"]) / (m.b * m.n))}
    for name, term, noise, levels in (("prior", "P", ms["S"], m.a), ("optimizer", "O", ms["SO"], m.b),
                                      ("interaction", "PO", ms["SO"], m.a * m.b)):
        v[name] = max(0.0, (m.ss[term] - m.df[term] * noise) / m.coefficient(term)) / levels
    return {c: v[c] for c in COMPONENTS}


def _noncentrality(t: np.ndarray, df: int, u: np.ndarray) -> np.ndarray:
    """The noncentrality lam with P(chi2'(df, lam) <= t) = u, 0 where even lam = 0 gives less than u."""
    from scipy import special

    with np.errstate(all="ignore"):
        lam = special.chndtrinc(t, df, u)
        lost = ~np.isfinite(lam)  # beyond cdflib's search range: the large-lam normal approximation
        if lost.any():
            root = np.sqrt(np.maximum(t[lost] - df + 1, 0.0)) - special.ndtri(u[lost])
            lam[lost] = np.maximum(root, 0.0) ** 2
    return np.maximum(lam, 0.0)


def draw_components(m: MeanSquares, draws: int = DRAWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Fiducial (generalized pivotal) draws of the six variance components."""
    rng = np.random.default_rng(seed)

    def pivot(term: str) -> np.ndarray:  # the draws of E[MS_term]
        return m.ss[term] / rng.chisquare(m.df[term], draws)

    r_e, r_so, r_s = pivot("E"), pivot("SO"), pivot("S")
    v = {"residual": r_e,
         "base_x_optimizer": np.maximum(r_so - r_e, 0.0) / m.n,
         "pretrain_seed": np.maximum(r_s - r_so, 0.0) / (m.b * m.n)}
    for name, term, noise, levels in (("prior", "P", r_s, m.a), ("optimizer", "O", r_so, m.b),
                                      ("interaction", "PO", r_so, m.a * m.b)):
        u = rng.uniform(size=draws)
        if m.df[term] == 0:
            v[name] = np.zeros(draws)
            continue
        quiet = noise <= 1e-12 * max(m.ss[term], 1e-300)  # no noise at all: the effects are known
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = _noncentrality(np.where(quiet, 0.0, m.ss[term] / noise), m.df[term], u)
        effects = np.where(quiet, m.ss[term], lam * noise) / m.coefficient(term)
        v[name] = effects / levels
    return {c: v[c] for c in COMPONENTS}


def to_shares(v: dict[str, np.ndarray] | dict[str, float]) -> dict[str, np.ndarray]:
    """Each component over the sum of all six (0 where the sum is 0)."""
    total = sum(np.asarray(v[c], dtype=float) for c in COMPONENTS)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {c: np.where(total > 0, np.asarray(v[c], dtype=float) / total, 0.0) for c in COMPONENTS}


def ranges_of(means: np.ndarray) -> dict[str, np.ndarray]:
    """Spread (max - min) across optimizers at each prior, averaged over priors, and across
    priors at each optimizer, averaged over optimizers; ``means[..., prior, optimizer]``."""
    return {"across_optimizers": (means.max(axis=-1) - means.min(axis=-1)).mean(axis=-1),
            "across_priors": (means.max(axis=-2) - means.min(axis=-2)).mean(axis=-1)}


@dataclass(frozen=True)
class Analysis:
    """One outcome: shares with intervals (None when it does not vary), ranges, notes."""

    shares: OutcomeShares | None
    ranges: dict[str, float]
    components: dict[str, float] = field(default_factory=dict)  # the variance estimates, in the outcome's units^2
    notes: tuple[str, ...] = ()
    df: dict[str, int] = field(default_factory=dict)


def analyse(rows: Sequence[Row], draws: int = DRAWS, seed: int = 0, level: float = 0.95) -> Analysis:
    """Shares with `level` generalized confidence intervals, and the ranges of one outcome.

    The ranges' intervals (``<name>_low``, ``<name>_high``) are basic (reflected) intervals
    from the ranges of (prior, optimizer) means redrawn around the observed ones with the
    drawn base and cell variances (noise widens max - min, the reflection undoes that to
    first order; floored at 0): descriptive, not coverage-checked.
    Raises AnalysisError when the runs cannot be analysed (see `mean_squares`).
    """
    m = mean_squares(rows)
    point = ranges_of(m.means)
    out_ranges = {k: float(v) for k, v in point.items()}
    if sum(m.ss.values()) <= 1e-12 * max(1.0, float(np.abs(m.means).max()) ** 2):
        return Analysis(None, out_ranges, notes=m.notes, df=dict(m.df))
    v = components(m)
    drawn = draw_components(m, draws, seed)
    q = [(1 - level) / 2, (1 + level) / 2]
    rng = np.random.default_rng(seed + 1)
    base_sd = np.sqrt(drawn["pretrain_seed"][:, None] / m.bases[None, :])  # (draws, a)
    cell_sd = np.sqrt((drawn["base_x_optimizer"] + drawn["residual"] / m.n)[:, None] / m.bases[None, :])
    redrawn = (m.means[None] + (base_sd * rng.normal(size=base_sd.shape))[:, :, None]
               + cell_sd[:, :, None] * rng.normal(size=(draws, m.a, m.b)))
    for k, vals in ranges_of(redrawn).items():  # basic interval: noise widens max - min, so reflect
        lo, hi = np.quantile(vals, q)
        out_ranges[f"{k}_low"] = max(0.0, 2 * out_ranges[k] - float(hi))
        out_ranges[f"{k}_high"] = 2 * out_ranges[k] - float(lo)
    est, dist = to_shares(v), to_shares(drawn)

    def share(c: str) -> Share:
        lo, hi = np.quantile(dist[c], q)
        return Share(estimate=round(float(est[c]), 4), low=round(float(lo), 4), high=round(float(hi), 4))

    return Analysis(OutcomeShares(**{c: share(c) for c in COMPONENTS}), out_ranges, v, m.notes, dict(m.df))
