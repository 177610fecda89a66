"""Learning from reviewers: a per-claim logistic-regression re-ranker.

Features of a paper for a claim: its embedding (384 numbers) and three ranking signals
(the claim cosine, the expanded dense score, BM25 scaled to the claim's best). Trained
per claim on:

- positives: the claim's exemplar papers (origin and anchors) and the papers reviewers
  marked relevant;
- negatives: the papers marked irrelevant and, so that a model exists from the first
  label on, `PSEUDO_NEGATIVES` papers from the bottom of the base ranking (unlabelled).

scikit-learn's `LogisticRegression` (balanced class weights, L2). The final order is the
reciprocal-rank fusion of the base ranking and the model's, so that one label moves
papers without throwing away what the query knew. A model's version (`MODEL_TAG`, the
label counts and a hash of the labels) is recorded with each ranking it made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MODEL_TAG = "lr1"
PSEUDO_NEGATIVES = 30
RRF_K = 60


@dataclass(frozen=True)
class Reranked:
    """A re-ranked row: the order scores, and whether a model made it (else the base order)."""

    order: np.ndarray
    trained: bool


def features(paper_vectors: np.ndarray, cosine: np.ndarray, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """(papers x 387) feature matrix of one claim's row of scores."""
    lex = lexical / max(float(lexical.max()), 1e-9)
    return np.hstack([paper_vectors, cosine[:, None], dense[:, None], lex[:, None]]).astype(np.float32)


def model_version(positives: Sequence[str], negatives: Sequence[str]) -> str:
    """`lr1-<p>p<n>n-<hash>`: what the model was trained on."""
    digest = hashlib.sha1(("+".join(sorted(positives)) + "|" + "-".join(sorted(negatives))).encode()).hexdigest()[:8]
    return f"{MODEL_TAG}-{len(positives)}p{len(negatives)}n-{digest}"


def _rank_of(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def rerank(feats: np.ndarray, base: np.ndarray, positives: Sequence[int], negatives: Sequence[int],
           labelled: int) -> Reranked:
    """Re-rank one claim's papers from labels; `base` is the base order score row.

    `positives` / `negatives` index rows of `feats`; `labelled` is how many reviewer
    labels there are (no model without at least one: the base order stands).
    """
    pos = sorted(set(positives))
    neg = sorted(set(negatives) - set(pos))
    if labelled == 0 or not pos:
        return Reranked(base, False)
    from sklearn.linear_model import LogisticRegression

    known = set(pos) | set(neg)
    bottom = [int(i) for i in np.argsort(base, kind="stable") if int(i) not in known][:PSEUDO_NEGATIVES]
    neg_all = neg + bottom
    if not neg_all:
        return Reranked(base, False)
    x = feats[pos + neg_all]
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg_all))]
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    clf.fit(x, y)
    learned = clf.decision_function(feats)
    fused = 1.0 / (RRF_K + 1 + _rank_of(base)) + 1.0 / (RRF_K + 1 + _rank_of(learned))
    return Reranked(fused, True)
