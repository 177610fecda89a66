"""Learning from reviewers: a per-claim re-ranker trained on relevance labels.

Two classifiers, each a well-worn choice for screening with few labels, trained per
claim on the same rows:

- logistic regression (scikit-learn, L2, C 1) over the paper's embedding (384 numbers):
  it finds papers whose meaning is near the relevant ones;
- multinomial naive Bayes (alpha 3) over TF-IDF of the title and abstract (words and
  word pairs, English stop words out): ASReview's default model, it finds papers that
  share the relevant ones' specific terms.

Training rows:

- positives: the papers reviewers marked relevant (weight 1) and the claim's exemplars
  (origin and anchor papers, weight `W_EXEMPLAR` 0.3: they are often the whole
  inquiry's anchors, shared by its claims, so they say less about this claim than a
  reviewer's label does);
- negatives: the papers marked not relevant and `PSEUDO_NEGATIVES` (30) unlabelled
  papers from the bottom of the base ranking, so that a model exists from the first
  label on.

Classes are balanced (each class carries half the weight, whatever its size).

The final order blends ranks: `(1 - w) / (61 + base rank) + w * mean(1 / (61 + model
rank))` over the two models, `w = labels / (labels + HALF_AT)`; the query's ranking
leads while labels are few, the models lead as labels grow (half and half at
`HALF_AT` = 5 labels). With no reviewer label the base order stands, so the unlabelled
ranking is the query's own.

Measured on the dev set with leave-one-claim-out choice of `W_EXEMPLAR` and `HALF_AT`
(docs/search.md, "Active screening"): both settings were round values inside a broad
plateau; a lower exemplar weight and a faster hand-over helped every held-out claim.

A model's version (`MODEL_TAG`, the label counts and a hash of the labels) is recorded
with each ranking it made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_TAG = "lrnb2"  # lr1: logistic regression on embeddings and scores, fused 1:1 with the base rank
PSEUDO_NEGATIVES = 30
W_EXEMPLAR = 0.3
HALF_AT = 5
RRF_K = 60
NB_ALPHA = 3.0  # ASReview's default smoothing


@dataclass(frozen=True)
class Reranked:
    """A re-ranked row: the order scores, and whether a model made it (else the base order)."""

    order: np.ndarray
    trained: bool


@dataclass(frozen=True)
class Features:
    """What the models see of every paper ranked in one run (shared by all claims)."""

    vectors: np.ndarray  # (papers x 384) unit embeddings
    tfidf: Any  # (papers x terms) scipy sparse TF-IDF


def features(paper_vectors: np.ndarray, texts: Sequence[str]) -> Features:
    """The feature rows of the papers of one run: their embeddings and TF-IDF of their texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2)).fit_transform(texts)
    except ValueError:  # no words at all (empty texts): a constant column
        from scipy import sparse

        tfidf = sparse.csr_matrix(np.ones((len(texts), 1), dtype=np.float32))
    return Features(np.asarray(paper_vectors, dtype=np.float32), tfidf)


def model_version(positives: Sequence[str], negatives: Sequence[str]) -> str:
    """`lrnb2-<p>p<n>n-<hash>`: what the model was trained on."""
    digest = hashlib.sha1(("+".join(sorted(positives)) + "|" + "-".join(sorted(negatives))).encode()).hexdigest()[:8]
    return f"{MODEL_TAG}-{len(positives)}p{len(negatives)}n-{digest}"


def _rank_of(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def rerank(feats: Features, base: np.ndarray, exemplars: Sequence[int], positives: Sequence[int],
           negatives: Sequence[int]) -> Reranked:
    """Re-rank one claim's papers from labels; `base` is the base order score row.

    `exemplars`, `positives` (marked relevant) and `negatives` (marked not relevant)
    index rows of `feats`. Without a reviewer label, or without any positive row, the
    base order stands.
    """
    labelled = set(positives) | set(negatives)
    pos = sorted(set(positives))
    ex = sorted(set(exemplars) - set(pos) - set(negatives))
    neg = sorted(set(negatives) - set(pos))
    if not labelled or not (pos or ex):
        return Reranked(base, False)
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    known = set(pos) | set(ex) | set(neg)
    bottom = [int(i) for i in np.argsort(base, kind="stable") if int(i) not in known][:PSEUDO_NEGATIVES]
    rows = pos + ex + neg + bottom
    if len(rows) == len(pos) + len(ex):
        return Reranked(base, False)
    y = np.r_[np.ones(len(pos) + len(ex)), np.zeros(len(neg) + len(bottom))]
    weight = np.r_[np.ones(len(pos)), np.full(len(ex), W_EXEMPLAR), np.ones(len(neg) + len(bottom))]
    for label in (0, 1):  # balance: each class carries half the total weight
        weight[y == label] *= weight.sum() / (2 * weight[y == label].sum())
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(feats.vectors[rows], y, sample_weight=weight)
    nb = MultinomialNB(alpha=NB_ALPHA).fit(feats.tfidf[rows], y, sample_weight=weight)
    log_p = nb.predict_log_proba(feats.tfidf)
    models = (_rank_of(lr.decision_function(feats.vectors)), _rank_of(log_p[:, 1] - log_p[:, 0]))
    w = len(labelled) / (len(labelled) + HALF_AT)
    blended = (1 - w) / (RRF_K + 1 + _rank_of(base)) + w * sum(1.0 / (RRF_K + 1 + r) for r in models) / len(models)
    return Reranked(blended, True)


def score_rows(feats: Features, base: np.ndarray, exemplars: Sequence[int], positives: Sequence[int],
               negatives: Sequence[int]) -> np.ndarray:
    """The re-ranked order scores of every row (agent/active.py's `Reranker`)."""
    return rerank(feats, base, exemplars, positives, negatives).order
