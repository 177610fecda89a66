"""Ranking: BM25 against its formula, candidate selection rules, the real embedder."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agent.embeddings import embed_texts
from agent.ranking import BM25, fuse, rank_papers, tokenize, top_candidates

DOCS = ["reinforcement learning sparse updates", "tree search self improvement", "sparse sparse attention",
        "policy gradient", "reward models"]


def test_bm25_matches_the_formula() -> None:
    scores = BM25(DOCS).scores(["sparse updates"])[0]
    docs = [tokenize(d) for d in DOCS]
    avgdl = sum(map(len, docs)) / len(docs)

    def idf(t: str) -> float:
        df = sum(t in x for x in docs)
        return math.log((len(docs) - df + 0.5) / (df + 0.5))

    def term(t: str, d: list[str]) -> float:
        tf = d.count(t)
        return idf(t) * tf * 2.5 / (tf + 1.5 * (1 - 0.75 + 0.75 * len(d) / avgdl))

    expected = [term("sparse", d) + term("updates", d) for d in docs]
    assert np.allclose(scores, expected, rtol=1e-5)
    assert scores[1] == 0 and scores[0] > scores[2] > 0
    reference = __import__("rank_bm25").BM25Okapi(docs).get_scores(["sparse", "updates"])
    assert np.allclose(scores, reference, rtol=1e-5)  # the same numbers as rank_bm25


def test_embeddings_are_unit_vectors_and_rank_by_meaning() -> None:
    v = embed_texts(["RL only updates a sparse subnetwork of the model",
                     "Reinforcement learning fine-tunes small subnetworks",
                     "A recipe for sourdough bread"])
    assert v.dtype == np.float32 and v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_rank_papers_hybrid_keeps_threshold_and_window() -> None:
    claims = ["RL updates sparse subnetworks"]
    papers = ["Reinforcement learning fine-tunes small sparse subnetworks", "Sourdough bread baking",
              "Sparse subnetworks in RL fine-tuning, revisited"]
    cv, pv = embed_texts(claims), embed_texts(papers)
    hits = rank_papers(claims, papers, cv, pv, top_k=5, threshold=0.3)[0]
    assert {h.paper for h in hits} == {0, 2} and [h.rank for h in hits] == [1, 2]
    masked = rank_papers(claims, papers, cv, pv, top_k=5, threshold=0.3, allowed=np.array([[True, True, False]]))[0]
    assert [h.paper for h in masked] == [0]


def test_fusion_rewards_agreement() -> None:
    dense = np.array([[0.9, 0.8, 0.1]])
    lexical = np.array([[1.0, 5.0, 0.0]])
    fused = fuse(dense, lexical)[0]
    assert fused[2] < min(fused[0], fused[1])


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float32, (3, 12), elements=st.floats(-1, 1, width=32)),
    arrays(np.float32, (3, 12), elements=st.floats(-1, 1, width=32)),
    st.integers(0, 15),
    st.floats(-1, 1, width=32),  # float32, like the scores
)
def test_top_candidates_rules(order: np.ndarray, score: np.ndarray, k: int, threshold: float) -> None:
    result = top_candidates(order, score, k, threshold)
    for row, hits in enumerate(result):
        assert len(hits) == min(k, int((score[row] >= threshold).sum()))
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(h.score >= threshold for h in hits)
        keys = [order[row, h.paper] for h in hits]
        assert keys == sorted(keys, reverse=True)
        if hits and len(hits) < (score[row] >= threshold).sum():
            left = [order[row, i] for i in range(12) if score[row, i] >= threshold and i not in {h.paper for h in hits}]
            assert max(left) <= min(keys)
