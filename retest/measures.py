"""The measurements: pure functions of samples and weights (numpy; scipy for the t quantile of `seed_interval`).

pass@k (unbiased estimator) with bootstrap intervals over problems, format shares,
token entropy, update sparsity in fp32 and as seen after rounding to bf16, and the
numerical and effective rank of weight updates. Each is tested against a brute-force
or hand-made case in tests/retest/test_measures.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from `c` correct of `n` samples: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    # product form, numerically stable: prod_{i=n-c+1}^{n} (1 - k / i)
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_table(correct: Sequence[int], n: int) -> np.ndarray:
    """(problems, n) array: pass@k for k = 1..n of each problem."""
    return np.array([[pass_at_k(n, c, k) for k in range(1, n + 1)] for c in correct])


def bootstrap_mean_ci(values: np.ndarray, draws: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over the first axis (problems).

    `values` may be (problems,) or (problems, m): then one interval per column,
    returned as two arrays.
    """
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(draws, len(values)))
    means = values[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def seed_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): a Student t interval over seeds (scipy's quantile; zero width for one seed)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf((1 + level) / 2, len(v) - 1)) * float(v.std(ddof=1)) / math.sqrt(len(v))
    return mean, mean - half, mean + half


class IntervalKind(str, Enum):
    """What an interval resamples, as the proposal gate reads it (`RunStrength.interval_spans_seeds`).

    The words of `Interval.over` are for people; this is the fact the rules read.
    """

    SEEDS = "seeds"  # resamples runs (pretraining or RL seeds): the spread between runs is inside it
    ONE_DRAW = "one draw"  # resamples within one run's draw only (its problems), or no interval at all


def interval_kind(p: int, r: int) -> IntervalKind:
    """The kind of a hierarchical interval over `p` pretraining seeds and `r` RL seeds."""
    return IntervalKind.SEEDS if p * r > 1 else IntervalKind.ONE_DRAW


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval, what the interval resamples (in words, `over`, and as a
    `kind`), and the per-run values beside it. `kind` defaults to ONE_DRAW: an interval not
    stated to span seeds never lets a run propose."""

    estimate: float
    low: float
    high: float
    over: str
    per_seed: tuple[float, ...] = ()
    kind: IntervalKind = IntervalKind.ONE_DRAW


def hierarchical_resample(
    shape: tuple[int, int, int],
    draws: int,
    stat: Callable[[np.ndarray, np.ndarray, np.ndarray, Any], Any],
    seed: int = 0,
    redraw: Callable[[np.random.Generator], Any] | None = None,
) -> np.ndarray:
    """`stat(ip, ir, jn, data)` over `draws` hierarchical resamples of (pretraining seeds, RL seeds, problems).

    The one resampling kernel of the retest intervals: each draw resamples pretraining seeds
    `ip` (P,), then RL seeds within each `ir` (P, R), then one set of problems `jn` (N,) for
    every run (the problems are shared, so runs and arms stay paired); index a (P, R, N, ...)
    array as ``x[ip[:, None], ir][:, :, jn]``. `redraw(rng)`, if given, is called first in each
    draw and its result passed as `data` (None without it): the caller's way to put the noise
    of a single evaluation draw into the interval. Returns the stats stacked, (draws, ...).
    """
    p, r, n = shape
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(draws):
        data = redraw(rng) if redraw is not None else None
        ip = rng.integers(0, p, size=p)
        ir = rng.integers(0, r, size=(p, r))
        jn = rng.integers(0, n, size=n)
        out.append(stat(ip, ir, jn, data))
    return np.array(out, dtype=float)


def hierarchical_bootstrap(
    values: np.ndarray,
    draws: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    redraw: Callable[[np.random.Generator], np.ndarray] | None = None,
) -> Interval:
    """Percentile interval of the grand mean of `values` (pretraining seeds, RL seeds, problems).

    Resampled by `hierarchical_resample`: pretraining seeds, then RL seeds within each, then
    problems (one set of problem indices for all runs: the problems are shared, so runs stay
    paired). `redraw(rng)`, if given, returns a fresh (P, R, N) array for the draw: the
    caller's way to put the noise of a single evaluation draw (the base model's, say) into
    the interval. `per_seed` holds each run's mean over problems. With one pretraining seed
    and one RL seed only problems are resampled, and `over` and `kind` (ONE_DRAW) say so.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 3 or 0 in v.shape:
        raise ValueError(f"values must be (pretraining seeds, RL seeds, problems), got shape {v.shape}")
    p, r, n = v.shape
    stats_ = hierarchical_resample(
        (p, r, n), draws, lambda ip, ir, jn, x: (v if x is None else x)[ip[:, None], ir][:, :, jn].mean(), seed, redraw)
    lo, hi = np.quantile(stats_, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(v.mean()), float(lo), float(hi), interval_over(p, r), tuple(
        round(float(x), 4) for x in v.mean(axis=2).ravel()), interval_kind(p, r))


def interval_over(p: int, r: int) -> str:
    """What a hierarchical interval over `p` pretraining seeds and `r` RL seeds resamples, in words."""
    levels = [name for name, size in (("pretraining seeds", p), ("RL seeds", r)) if size > 1] + ["problems"]
    return ", ".join(levels) + (" (hierarchical bootstrap)" if p * r > 1 else " (bootstrap, single seed)")


def format_shares(formats: Sequence[str], names: Sequence[str] = ("A", "B", "C", "other")) -> dict[str, float]:
    """The share of each format among samples (named formats always present)."""
    counts = Counter(formats)
    total = max(1, len(formats))
    return {name: counts.get(name, 0) / total for name in names}


def token_entropy(logits: np.ndarray) -> np.ndarray:
    """Entropy (nats) of softmax(logits) over the last axis, computed stably."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    finite = np.isfinite(x)
    ex = np.where(finite, np.exp(np.where(finite, x, 0.0)), 0.0)
    z = ex.sum(axis=-1, keepdims=True)
    p = ex / z
    logp = np.where(p > 0, np.where(finite, x, 0.0) - np.log(z), 0.0)
    return -(p * logp).sum(axis=-1)


def to_bf16(x: np.ndarray) -> np.ndarray:
    """`x` (float32) as it reads after rounding to bfloat16 (nearest, ties to even)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, out)


def changed_mask(base: np.ndarray, new: np.ndarray, view: str = "fp32", tol: float = 0.0) -> np.ndarray:
    """Where a parameter changed: |new - base| > tol, after rounding both to bf16 if asked."""
    if view == "bf16":
        base, new = to_bf16(base), to_bf16(new)
    elif view != "fp32":
        raise ValueError(f"view must be fp32 or bf16, got {view!r}")
    return np.abs(np.asarray(new, np.float64) - np.asarray(base, np.float64)) > tol


_LAYER = re.compile(r"layers\.(\d+)\.")


def layer_of(name: str) -> str:
    """Group a parameter name: 'layer 3', 'embed', 'norm' or 'head'."""
    m = _LAYER.search(name)
    if m:
        return f"layer {int(m.group(1))}"
    if "embed" in name:
        return "embed"
    if "lm_head" in name:
        return "head"
    return "norm"


def update_sparsity(
    base: Mapping[str, np.ndarray], new: Mapping[str, np.ndarray], tol: float = 0.0
) -> dict[str, dict[str, float]]:
    """Fraction of parameters changed, per layer group and 'all', in fp32 and bf16 view.

    Also the share of parameters whose update is real in fp32 but invisible after
    bf16 rounding ("hidden_by_bf16"): the part of any reported sparsity that is
    precision, not learning.
    """
    groups: dict[str, list[int]] = {}
    for name, b in base.items():
        n = np.asarray(new[name])
        b = np.asarray(b)
        m32 = changed_mask(b, n, "fp32", tol)
        m16 = changed_mask(b, n, "bf16", tol)
        acc = groups.setdefault(layer_of(name), [0, 0, 0, 0])
        acc[0] += b.size
        acc[1] += int(m32.sum())
        acc[2] += int(m16.sum())
        acc[3] += int((m32 & ~m16).sum())
    total = [sum(v[i] for v in groups.values()) for i in range(4)]
    out = {}
    for key, (size, c32, c16, hidden) in sorted(groups.items()) + [("all", total)]:
        out[key] = {
            "parameters": size,
            "changed_fp32": c32 / size if size else 0.0,
            "changed_bf16": c16 / size if size else 0.0,
            "hidden_by_bf16": hidden / size if size else 0.0,
        }
    return out


def numerical_rank(matrix: np.ndarray, rtol: float | None = None) -> int:
    """Rank with numpy's default tolerance (sigma_max * max(shape) * eps)."""
    m = np.asarray(matrix, dtype=np.float64)
    if rtol is None:
        return int(np.linalg.matrix_rank(m))
    s = np.linalg.svd(m, compute_uv=False)
    return int((s > rtol * s.max()).sum()) if s.size and s.max() > 0 else 0


def effective_rank(matrix: np.ndarray) -> float:
    """Roy & Vetterli's effective rank: exp of the entropy of normalised singular values."""
    s = np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def update_ranks(base: Mapping[str, np.ndarray], new: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Numerical and effective rank of the update of each 2-D weight (not embeddings)."""
    out = {}
    for name, b in base.items():
        b = np.asarray(b)
        if b.ndim != 2 or "embed" in name:
            continue
        delta = np.asarray(new[name], np.float64) - b
        out[name] = {
            "shape": list(b.shape),
            "full_rank": min(b.shape),
            "numerical_rank": numerical_rank(delta),
            "effective_rank": round(effective_rank(delta), 2),
        }
    return out


def relative_update(base: Mapping[str, np.ndarray], new: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Quantiles of |delta| / |w| over all parameters, beside bf16's half ulp (2^-9)."""
    rel = np.concatenate([
        (np.abs(np.asarray(new[k], np.float64) - np.asarray(b, np.float64)) / np.maximum(np.abs(b), 1e-12)).ravel()
        for k, b in base.items()
    ])
    q = np.quantile(rel, [0.1, 0.5, 0.9]) if rel.size else [0.0, 0.0, 0.0]
    return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]), "bf16_half_ulp": 2.0**-9}
