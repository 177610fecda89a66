"""Variance shares of a balanced prior x optimizer grid, with hierarchical-bootstrap intervals.

The data of one outcome is an array ``y[prior, pretrain_seed, optimizer, rl_seed]``:
pretraining seeds are nested in the prior (each is its own base model), every base is
crossed with every optimizer, and RL seeds are the replicates of a (base, optimizer) cell.
The sums of squares of a balanced nested ANOVA add up exactly::

    SS_total = SS_P + SS_S(P) + SS_O + SS_PO + SS_SO(P) + SS_E

- prior       = P + S(P): which base model (mixture and amount, and the pretraining seed
  nested in them; the nested part is also reported alone as `pretrain_seed`);
- optimizer   = O;
- interaction = PO + SO(P): how the optimizer's effect depends on the base;
- residual    = E: RL-seed noise within a cell.

Each term's share is its sum of squares less what noise alone puts there (df x the
residual mean square), floored at 0, over SS_total; the residual takes the rest, so
the four shares add up to 1 and a term with no effect gets a share near 0 (an
omega-squared-style correction). Intervals resample pretraining seeds within each prior
and RL seeds within each cell (the chosen prior and optimizer levels are fixed), and
recompute the shares. Shares describe these levels: other levels give other shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retest.factorial.results import OutcomeShares, Share

TERMS = ("prior", "optimizer", "interaction", "residual", "pretrain_seed")


@dataclass(frozen=True)
class Decomposition:
    """Sums of squares and degrees of freedom of the balanced nested design."""

    ss: dict[str, float]
    df: dict[str, int]

    @property
    def total(self) -> float:
        return float(sum(self.ss.values()))


def decompose(y: np.ndarray) -> Decomposition:
    """The nested ANOVA of ``y[prior, pretrain_seed, optimizer, rl_seed]`` (balanced)."""
    y = np.asarray(y, dtype=float)
    if y.ndim != 4 or min(y.shape) < 1:
        raise ValueError(f"need y[prior, pretrain_seed, optimizer, rl_seed], got shape {y.shape}")
    a, s, b, n = y.shape
    mu = y.mean()
    m_p = y.mean(axis=(1, 2, 3))  # (a,)
    m_o = y.mean(axis=(0, 1, 3))  # (b,)
    m_po = y.mean(axis=(1, 3))  # (a, b)
    m_ps = y.mean(axis=(2, 3))  # (a, s)
    m_cell = y.mean(axis=3)  # (a, s, b)
    ss = {
        "P": s * b * n * float(((m_p - mu) ** 2).sum()),
        "O": a * s * n * float(((m_o - mu) ** 2).sum()),
        "PO": s * n * float(((m_po - m_p[:, None] - m_o[None, :] + mu) ** 2).sum()),
        "S(P)": b * n * float(((m_ps - m_p[:, None]) ** 2).sum()),
        "SO(P)": n * float(((m_cell - m_ps[:, :, None] - m_po[:, None, :] + m_p[:, None, None]) ** 2).sum()),
        "E": float(((y - m_cell[..., None]) ** 2).sum()),
    }
    df = {"P": a - 1, "O": b - 1, "PO": (a - 1) * (b - 1), "S(P)": a * (s - 1), "SO(P)": a * (s - 1) * (b - 1),
          "E": a * s * b * (n - 1)}
    return Decomposition(ss, df)


def shares(y: np.ndarray) -> dict[str, float] | None:
    """Noise-corrected variance shares (prior, optimizer, interaction, residual; + pretrain_seed).

    None when the outcome does not vary at all (every value the same).
    """
    d = decompose(y)
    total = d.total
    if total <= 1e-12:
        return None
    ms_e = d.ss["E"] / d.df["E"] if d.df["E"] else 0.0

    def corrected(*terms: str) -> float:
        return max(0.0, sum(d.ss[t] for t in terms) - sum(d.df[t] for t in terms) * ms_e)

    prior, opt, inter = corrected("P", "S(P)"), corrected("O"), corrected("PO", "SO(P)")
    return {
        "prior": prior / total,
        "optimizer": opt / total,
        "interaction": inter / total,
        "residual": max(0.0, total - prior - opt - inter) / total,
        "pretrain_seed": min(prior, corrected("S(P)")) / total,
    }


def ranges(y: np.ndarray) -> dict[str, float]:
    """Spread (max - min of the means) across optimizers at each prior, averaged over priors,
    and across priors at each optimizer, averaged over optimizers."""
    m_po = np.asarray(y, dtype=float).mean(axis=(1, 3))  # (prior, optimizer)
    return {
        "across_optimizers": float((m_po.max(axis=1) - m_po.min(axis=1)).mean()),
        "across_priors": float((m_po.max(axis=0) - m_po.min(axis=0)).mean()),
    }


def resample(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One hierarchical draw: pretraining seeds within each prior, RL seeds within each cell.

    Drawing k of k with replacement shrinks the spread by (k-1)/k on average, so each
    level's deviations are widened by sqrt(k/(k-1)) (the usual correction; without it the
    residual's interval sat below its estimate).
    """
    a, s, b, n = y.shape
    ks = rng.integers(0, s, size=(a, s))
    out = y[np.arange(a)[:, None], ks]  # (a, s, b, n)
    if s > 1:
        cell = out.mean(axis=3, keepdims=True)  # (a, s, b, 1)
        po = cell.mean(axis=1, keepdims=True)
        out = out - cell + po + np.sqrt(s / (s - 1)) * (cell - po)
    rs = rng.integers(0, n, size=(a, s, b, n))
    out = np.take_along_axis(out, rs, axis=3)
    if n > 1:
        cell = out.mean(axis=3, keepdims=True)
        out = cell + np.sqrt(n / (n - 1)) * (out - cell)
    return out


@dataclass(frozen=True)
class Analysis:
    """The shares (with intervals) and the two ranges of one outcome."""

    shares: OutcomeShares | None
    ranges: dict[str, float]


def analyse(y: np.ndarray, draws: int = 1000, seed: int = 0, level: float = 0.95) -> Analysis:
    """Shares with percentile intervals over `draws` hierarchical resamples, and the ranges
    (with their intervals as ``<name>_low`` / ``<name>_high``)."""
    y = np.asarray(y, dtype=float)
    point = shares(y)
    rng_ = ranges(y)
    rng = np.random.default_rng(seed)
    q = [(1 - level) / 2, (1 + level) / 2]
    boot: dict[str, list[float]] = {t: [] for t in (*TERMS, *rng_)}
    for _ in range(draws):
        x = resample(y, rng)
        sh = shares(x)
        if sh is not None:
            for t in TERMS:
                boot[t].append(sh[t])
        for k, v in ranges(x).items():
            boot[k].append(v)
    out_ranges = dict(rng_)
    for k in rng_:
        lo, hi = np.quantile(boot[k], q)
        out_ranges[f"{k}_low"], out_ranges[f"{k}_high"] = float(lo), float(hi)
    if point is None:
        return Analysis(None, out_ranges)

    def share(t: str) -> Share:
        vals = boot[t] or [point[t]]
        lo, hi = np.quantile(vals, q)
        return Share(estimate=round(point[t], 4), low=round(float(min(lo, point[t])), 4),
                     high=round(float(max(hi, point[t])), 4))

    return Analysis(OutcomeShares(prior=share("prior"), optimizer=share("optimizer"),
                                  interaction=share("interaction"), residual=share("residual"),
                                  pretrain_seed=share("pretrain_seed")), out_ranges)


def to_array(rows: Sequence[tuple[int, int, int, int, float]], shape: tuple[int, int, int, int]) -> np.ndarray:
    """``y`` from (prior, pretrain_seed, optimizer, rl_seed, value) index rows; a missing RL
    seed takes its cell's mean (adds nothing to any sum of squares but the residual's df).

    Raises ValueError when a (base, optimizer) cell has no value at all.
    """
    y = np.full(shape, np.nan)
    for i, k, j, r, v in rows:
        y[i, k, j, r] = v
    if np.isnan(y).all(axis=3).any():
        raise ValueError("a (base, optimizer) cell has no finished RL seed")
    cell_means = np.nanmean(y, axis=3)
    return np.where(np.isnan(y), cell_means[..., None], y)
