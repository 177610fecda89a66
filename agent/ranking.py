"""Relevance ranking of papers against claims, all claims at once.

- dense: cosine similarity of all-MiniLM-L6-v2 embeddings, one matrix product
  (claims x 384) @ (384 x papers).
- lexical: Okapi BM25 (k1 1.5, b 0.75, rank_bm25's idf) as a sparse matrix product
  (claims x vocabulary) @ (vocabulary x papers); `rank_bm25` loops in Python per
  query term and paper, far too slow for 1,000 claims x 5,000 papers.
- hybrid: reciprocal-rank fusion of the two orders, 1/(60 + rank), the usual constant
  (not tuned). On the dev set it beat either alone on recall@10 (see docs/search.md).

The threshold always applies to the dense cosine (`score`), which stays comparable
across runs; `rank` is the method's order among the papers that pass it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

METHODS = ("dense", "lexical", "hybrid")
DEFAULT_METHOD = "hybrid"
RRF_K = 60
K1, B, EPSILON = 1.5, 0.75, 0.25
_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case words and numbers of two characters or more."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1]


class BM25:
    """BM25 over a fixed set of documents, scoring many queries in one sparse product."""

    def __init__(self, documents: list[str]):
        from scipy import sparse

        self.vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(documents), dtype=np.float32)
        for d, doc in enumerate(documents):
            counts: dict[int, int] = {}
            tokens = tokenize(doc)
            lengths[d] = len(tokens)
            for tok in tokens:
                col = self.vocab.setdefault(tok, len(self.vocab))
                counts[col] = counts.get(col, 0) + 1
            rows.extend([d] * len(counts))
            cols.extend(counts)
            tfs.extend(counts.values())
        n = max(len(documents), 1)
        tf = sparse.csr_matrix(
            (np.asarray(tfs, dtype=np.float32), (rows, cols)), shape=(len(documents), len(self.vocab))
        )
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(self.vocab)).astype(np.float32)
        # Robertson idf as rank_bm25's BM25Okapi computes it: words in over half the
        # documents would go negative and are floored at a quarter of the mean idf.
        idf = np.log((n - df + 0.5) / (df + 0.5))
        floor = EPSILON * float(idf.mean()) if len(idf) else 0.0
        self.idf = np.where(idf < 0, floor, idf).astype(np.float32)
        avgdl = float(lengths.mean()) if len(documents) else 1.0
        norm = K1 * (1 - B + B * lengths / max(avgdl, 1e-9))
        weights = tf.copy()
        row_of = np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))
        weights.data = self.idf[tf.indices] * tf.data * (K1 + 1) / (tf.data + norm[row_of])
        self.weights_t = weights.T.tocsr()  # vocabulary x documents

    def scores(self, queries: list[str]) -> np.ndarray:
        """(queries x documents) BM25 scores; repeated query words count repeatedly."""
        from scipy import sparse

        rows, cols = [], []
        for q, text in enumerate(queries):
            for tok in tokenize(text):
                col = self.vocab.get(tok)
                if col is not None:
                    rows.append(q)
                    cols.append(col)
        query = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(queries), len(self.vocab))
        )
        return np.asarray((query @ self.weights_t).todense(), dtype=np.float32)


def dense_scores(claim_vectors: np.ndarray, paper_vectors: np.ndarray) -> np.ndarray:
    """Cosine similarities (claims x papers) of unit vectors."""
    return claim_vectors @ paper_vectors.T


def ranks(scores: np.ndarray) -> np.ndarray:
    """0-based rank of each entry within its row, highest score first."""
    order = np.argsort(-scores, axis=1, kind="stable")
    out = np.empty_like(order)
    np.put_along_axis(out, order, np.arange(scores.shape[1])[None, :].repeat(scores.shape[0], 0), axis=1)
    return out


def fuse(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion of two score matrices."""
    return 1.0 / (RRF_K + 1 + ranks(dense)) + 1.0 / (RRF_K + 1 + ranks(lexical))


def order_scores(method: str, dense: np.ndarray | None, lexical: np.ndarray | None) -> np.ndarray:
    """The matrix whose row order is the method's ranking."""
    if method == "dense":
        assert dense is not None
        return dense
    if method == "lexical":
        assert lexical is not None
        return lexical
    if method == "hybrid":
        assert dense is not None and lexical is not None
        return fuse(dense, lexical)
    raise ValueError(f"unknown ranking method {method!r}; choose one of {', '.join(METHODS)}")


@dataclass(frozen=True)
class Hit:
    """One kept paper for one claim: its index among the papers ranked."""

    paper: int
    score: float  # dense cosine (lexical method: BM25 score)
    rank: int  # 1-based


def top_candidates(
    order: np.ndarray, score: np.ndarray, top_k: int, threshold: float, allowed: np.ndarray | None = None
) -> list[list[Hit]]:
    """Per row: the `top_k` best by `order` among allowed entries whose `score` passes `threshold`."""
    keep = score >= threshold
    if allowed is not None:
        keep &= allowed
    masked = np.where(keep, order, -np.inf)
    out: list[list[Hit]] = []
    k = min(top_k, masked.shape[1])
    for row, srow in zip(masked, score):
        if k <= 0:
            out.append([])
            continue
        idx = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
        idx = idx[np.argsort(-row[idx], kind="stable")]
        hits = [Hit(int(i), float(srow[i]), r) for r, i in enumerate((i for i in idx if np.isfinite(row[i])), 1)]
        out.append(hits)
    return out


def rank_papers(
    claim_texts: list[str],
    paper_texts: list[str],
    claim_vectors: np.ndarray | None,
    paper_vectors: np.ndarray | None,
    top_k: int,
    threshold: float,
    method: str = DEFAULT_METHOD,
    allowed: np.ndarray | None = None,
) -> list[list[Hit]]:
    """Rank every paper against every claim; the kept hits per claim, best first.

    `allowed` (claims x papers, bool) masks pairs out, e.g. papers outside a claim's window.
    """
    if not claim_texts or not paper_texts:
        return [[] for _ in claim_texts]
    dense = dense_scores(claim_vectors, paper_vectors) if method != "lexical" else None
    lexical = BM25(paper_texts).scores(claim_texts) if method != "dense" else None
    order = order_scores(method, dense, lexical)
    score = dense if dense is not None else lexical
    # Lexical only: BM25 has no absolute scale; keep any paper sharing a word.
    return top_candidates(order, score, top_k, threshold if dense is not None else 1e-6, allowed)
