"""Active screening, replayed: a reviewer screens in the ranker's order and the ranker learns as labels come in.

The labels file stands in for the reviewer. For one claim:

1. the order starts as the base ranking (agent/queries.py, the hybrid);
2. the reviewer screens the next `batch` unscreened papers of the current order and
   labels each from the file (relevant or not);
3. the feedback model re-trains on every label so far and re-orders the unscreened rest;
   back to 2.

The replay stops when every relevant paper has been screened: what follows cannot move
any figure (recall is 1 from there on). The figures of that screening order, beside the
same figures of a fixed order (BM25, the static ranking) where "screened" means "read
down the list":

- recall after k papers screened, at `CURVE_AT`;
- `screened_for_95`: papers screened until 95% of the relevant ones were found (all of
  them below 20, as ceil(0.95 n));
- `wss@95`: work saved over sampling at 95% recall, (N - screened_for_95) / N - 0.05,
  N the papers ranked (the claim's exemplars are known, not ranked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CURVE_AT = (10, 20, 50, 100)
FIGURES = tuple(f"recall@{k}" for k in CURVE_AT) + ("screened_for_95", "wss@95")

# (features, base row, exemplar rows, rows marked relevant, rows marked not relevant) -> scores of every row
Reranker = Callable[[Any, np.ndarray, Sequence[int], Sequence[int], Sequence[int]], np.ndarray]


def figures(order: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """Screening figures of one order of paper ids (screened first to last) against the relevant set."""
    found = np.cumsum([p in relevant for p in order]) if len(order) else np.zeros(0)
    total = max(len(relevant), 1)
    out: dict[str, float] = {}
    for k in CURVE_AT:
        out[f"recall@{k}"] = round(float(found[:k][-1] / total), 4) if len(order) else 0.0
    need = int(np.ceil(0.95 * len(relevant)))
    reach = np.flatnonzero(found >= need) if need else np.array([], dtype=np.int64)
    screened = int(reach[0] + 1) if len(reach) else (0 if not need else len(order))
    out["screened_for_95"] = screened
    out["wss@95"] = round((len(order) - screened) / max(len(order), 1) - 0.05, 4)
    return out


def mean_figures(rows: list[dict[str, float]]) -> dict[str, float]:
    """The mean of each figure over claims (`screened_for_95` to one decimal)."""
    if not rows:
        return {k: 0.0 for k in FIGURES}
    out = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in FIGURES}
    out["screened_for_95"] = round(out["screened_for_95"], 1)
    return out


def curve(order: Sequence[str], relevant: set[str]) -> np.ndarray:
    """Recall after each paper screened."""
    return np.cumsum([p in relevant for p in order]) / max(len(relevant), 1)


def screen(feats: Any, base: np.ndarray, keep: np.ndarray, exemplars: Sequence[int], is_relevant: np.ndarray,
           rerank: Reranker, batch: int = 1) -> list[int]:
    """Replay a screening (see the module doc); the row indexes of `keep` in screening order.

    `keep` masks the rows that may be screened (not the exemplars); `is_relevant` is the
    reviewer's answer per row.
    """
    batch = max(1, int(batch))
    todo = int((is_relevant & keep).sum())
    screened: list[int] = []
    seen = np.zeros(len(base), dtype=bool)
    pos: list[int] = []
    neg: list[int] = []
    scores = base
    while todo > 0:
        candidates = [int(j) for j in np.argsort(-scores, kind="stable") if keep[j] and not seen[j]]
        if not candidates:
            break
        for j in candidates[:batch]:
            screened.append(j)
            seen[j] = True
            if is_relevant[j]:
                pos.append(j)
                todo -= 1
            else:
                neg.append(j)
        if todo > 0:
            scores = rerank(feats, base, list(exemplars), pos, neg)
    rest = [int(j) for j in np.argsort(-scores, kind="stable") if keep[j] and not seen[j]]
    return screened + rest


@dataclass
class ActiveReport:
    """Per claim and mean: the screening figures of active screening, the static ranking and BM25."""

    batch: int
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    curve: dict[str, list[float]] = field(default_factory=dict)  # method -> mean recall after k screened

    def means(self, method: str) -> dict[str, float]:
        return mean_figures([row[method] if method != "active" else {k: row[k] for k in FIGURES}
                             for row in self.claims.values()])

    def to_json(self) -> dict[str, Any]:
        """`{batch, mean, static, bm25, claims: {key: {relevant, <figures>, static, bm25}}, curve}`."""
        return {"batch": self.batch, "mean": self.means("active"), "static": self.means("static"),
                "bm25": self.means("bm25"), "claims": self.claims, "curve": self.curve}
