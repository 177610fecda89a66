"""A stopping aid: how many relevant papers probably remain unseen among a claim's unlabelled candidates.

Screening reviewers ask when they may stop. Once a claim has `MIN_LABELS` (10) relevance
labels, the claim page estimates how many of its still unlabelled candidates are relevant,
from the rate at which relevant papers turned up while screening:

1. **Fit**: the labels in the order they were given (a reviewer reading down the ranked
   list) are the screening positions 1..n; a logistic regression of "relevant" on the
   log of the position gives the chance that the paper at position t is relevant. Rates
   only fall down a ranked list: a rising fit (the relevant ones happened to come late)
   is replaced by a constant rate. A weak prior keeps it finite when every label is the
   same: one pseudo label of each kind, weight 1/2 each, at the mean log position, and an
   L2 penalty of 1 on the slope (log position standardised).
2. **Sum**: the unseen candidates take the next positions, n+1..n+m, in their ranked
   order; the expected number of relevant papers among them is the sum of their fitted
   chances, and the range the 5th to 95th percentile of that sum (each an independent
   coin with its own chance: a Poisson-binomial distribution, computed exactly).

Unseen candidates are the claim's evidence rows with no relevance label and no stance
set by a reviewer. Replayed on the dev set (docs/search.md, "Active screening"), the
estimate errs high after 10 labels (the safe side for a stopping rule); its range held
the true count for 3 of 5 claims at 15 labels, 4 at 20 and all 5 at 30. The count of relevant finds among the
last `WINDOW` (10) labels is given beside it (a last window with none is the usual sign
that the rest is noise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.models import Evidence

MIN_LABELS = 10
WINDOW = 10
PRIOR_WEIGHT = 0.5
SLOPE_PENALTY = 1.0


@dataclass(frozen=True)
class Remaining:
    """The estimate for one claim, with its basis."""

    labelled: int
    relevant: int  # labels that say relevant
    unseen: int  # unlabelled candidates
    expected: float  # relevant papers expected among them
    low: int  # 5th percentile
    high: int  # 95th percentile
    window: int  # labels in the last window (WINDOW, or fewer)
    window_relevant: int  # of which relevant

    def sentence(self) -> str:
        """Plain text for the claim page."""
        about = f"about {self.expected:.1f}" if self.expected < 10 else f"about {self.expected:.0f}"
        return (f"{about} relevant papers (probably {self.low} to {self.high}) remain unseen among the "
                f"{self.unseen} unlabelled candidates.")

    def basis(self) -> str:
        return (f"Basis: how often the {self.labelled} relevance labels so far ({self.relevant} relevant) found a "
                f"relevant paper, fitted as a rate falling down the ranked list and carried over the unlabelled "
                f"candidates; the last {self.window} labels found {self.window_relevant} relevant.")


def _fit(x: np.ndarray, y: np.ndarray, slope: bool = True) -> tuple[float, float, float, float]:
    """(intercept, slope, mean, sd) of a penalised logistic fit of y on standardised x (Newton steps)."""
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    z = np.r_[(x - mu) / sd, 0.0, 0.0]
    t = np.r_[y, 1.0, 0.0]
    w = np.r_[np.ones(len(x)), PRIOR_WEIGHT, PRIOR_WEIGHT]
    a, b = 0.0, 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(a + b * z)))
        h = w * p * (1 - p)
        if slope:
            g = np.array([np.sum(w * (p - t)), np.sum(w * (p - t) * z) + SLOPE_PENALTY * b])
            hess = np.array([[h.sum(), (h * z).sum()], [(h * z).sum(), (h * z * z).sum() + SLOPE_PENALTY]])
            step = np.linalg.solve(hess, g)
        else:
            step = np.array([np.sum(w * (p - t)) / h.sum(), 0.0])
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    if b > 0:  # a rate that rises down a ranked list: keep the mean rate instead
        return _fit(x, y, slope=False)
    return a, b, mu, sd


def _percentiles(p: np.ndarray, qs: Sequence[float]) -> list[int]:
    """Percentiles of the number of successes of independent coins with probabilities p."""
    dist = np.zeros(len(p) + 1)
    dist[0] = 1.0
    for pi in p:
        dist[1:] = dist[1:] * (1 - pi) + dist[:-1] * pi
        dist[0] *= 1 - pi
    cdf = np.cumsum(dist)
    return [int(np.searchsorted(cdf, q - 1e-12)) for q in qs]


def estimate_remaining(labels: Sequence[bool], unseen: int) -> Remaining | None:
    """The estimate from the labels (True: relevant) in the order they were given and the unseen count.

    None below `MIN_LABELS` labels.
    """
    if len(labels) < MIN_LABELS:
        return None
    y = np.array([1.0 if r else 0.0 for r in labels])
    n = len(y)
    a, b, mu, sd = _fit(np.log(np.arange(1, n + 1)), y)
    u = np.log(np.arange(n + 1, n + 1 + unseen))
    p = 1.0 / (1.0 + np.exp(-(a + b * (u - mu) / sd)))
    low, high = _percentiles(p, (0.05, 0.95))
    last = y[-WINDOW:]
    return Remaining(n, int(y.sum()), unseen, round(float(p.sum()), 2), low, high, len(last), int(last.sum()))


def claim_remaining(session: Session, claim_id: int) -> tuple[int, Remaining | None]:
    """(labels so far, the estimate or None below `MIN_LABELS`) for one claim, from its evidence rows."""
    rows = session.execute(
        select(Evidence.id, Evidence.relevance_label, Evidence.stance_reviewed_by, Evidence.labelled_at)
        .where(Evidence.claim_id == claim_id)).all()
    labelled = sorted((r for r in rows if r.relevance_label is not None),
                      key=lambda r: (r.labelled_at is None, r.labelled_at or 0, r.id))
    unseen = sum(1 for r in rows if r.relevance_label is None and r.stance_reviewed_by is None)
    return len(labelled), estimate_remaining([r.relevance_label == "relevant" for r in labelled], unseen)
