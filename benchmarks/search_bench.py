"""Evidence-search benchmark: ranking quality on the dev set, throughput, feedback re-ranking, arXiv API cost.

    HF_HUB_OFFLINE=1 python benchmarks/search_bench.py [--papers 5000] [--claims 1000] [--skip-throughput]

Prints figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEV = REPO.parent / "shared" / "eval" / "dev"
CORPUS = REPO / "claims" / "data" / "demo-corpus.jsonl"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality() -> None:
    """`claims eval search` on the dev set: the query's parts, BM25, simulated feedback."""
    import os

    from agent.evaluation import evaluate
    from claims.importer import import_bundled
    from claims.store import open_store

    labels = DEV / "labels.jsonl"
    if not labels.exists():
        print("quality: dev labels not found, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CLAIMS_HOME"] = tmp
        store = open_store(f"sqlite:///{tmp}/claims.db")
        import_bundled(store)
        print(f"\n== quality on the dev set ({DEV}) ==")
        print(f"{'query':34s} " + " ".join(f"{m:>12s}" for m in SHOWN))
        for name, ctx, ex in (("claim text", False, False), ("+ inquiry context", True, False),
                              ("+ exemplars", False, True), ("+ both (used)", True, True)):
            r = evaluate(store, DEV / "papers.jsonl", labels, simulate=10 if ctx and ex else 0,
                         use_context=ctx, use_exemplars=ex)
            print(f"{name:34s} " + " ".join(f"{r.mean[m]:12.3f}" for m in SHOWN))
        print(f"{'BM25 of the claim text':34s} " + " ".join(f"{r.bm25[m]:12.3f}" for m in SHOWN))
        assert r.feedback is not None
        print(f"{'+ both, after 10 simulated labels':34s} " + " ".join(f"{r.feedback[m]:12.3f}" for m in SHOWN))
        store.dispose()


SHOWN = ("recall@10", "recall@20", "recall@50", "precision@10", "mrr", "ap@50", "wss@95")


def synthetic(n: int, rng: random.Random, words: list[str], length: int) -> list[str]:
    return [" ".join(rng.choices(words, k=length)) for _ in range(n)]


def throughput(n_papers: int, n_claims: int) -> None:
    """Rank n_papers against n_claims: cold (embed everything) vs cached (vectors from SQLite)."""
    from sqlalchemy import select

    from agent.embeddings import embed_texts, from_blob, to_blob
    from agent.ranking import rank_papers
    from claims.models import Paper
    from claims.papers import PaperRecord, upsert_papers
    from claims.store import open_store

    rng = random.Random(0)
    words = [w for line in CORPUS.read_text().splitlines() for w in json.loads(line)["summary"].split()]
    papers = synthetic(n_papers, rng, words, 120)  # ~ a title plus an abstract
    claims = synthetic(n_claims, rng, words, 30)
    print(f"\n== ranking throughput: {n_papers} papers x {n_claims} claims (top 10, threshold 0.25) ==")
    embed_texts(["warm-up"])
    t0 = time.perf_counter()
    pv = embed_texts(papers)
    t_embed_p = time.perf_counter() - t0
    t0 = time.perf_counter()
    cv = embed_texts(claims)
    t_embed_c = time.perf_counter() - t0
    t0 = time.perf_counter()
    rank_papers(claims, papers, cv, pv, top_k=10, threshold=0.25)
    t_rank = time.perf_counter() - t0
    cold = t_embed_p + t_embed_c + t_rank
    print(f"cold:   embed papers {t_embed_p:6.1f}s  embed claims {t_embed_c:5.1f}s  rank {t_rank:5.2f}s  "
          f"total {cold:6.1f}s  {n_papers / cold:7.0f} papers/s")

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        with store.write() as s:
            upsert_papers(s, [PaperRecord(f"2601.{i:05d}", t[:80], t) for i, t in enumerate(papers)])
            for row, v in zip(s.scalars(select(Paper).order_by(Paper.arxiv_id)), pv):
                row.embedding, row.embedding_model = to_blob(v), "all-MiniLM-L6-v2"
        t0 = time.perf_counter()
        with store.read() as s:
            rows = s.execute(select(Paper.embedding).order_by(Paper.arxiv_id)).scalars().all()
        cached_pv = np.stack([from_blob(b) for b in rows])
        t_load = time.perf_counter() - t0
        store.dispose()
    t0 = time.perf_counter()
    rank_papers(claims, papers, cv, cached_pv, top_k=10, threshold=0.25)
    t_rank2 = time.perf_counter() - t0
    cached = t_load + t_embed_c + t_rank2
    print(f"cached: load vectors {t_load:6.2f}s  embed claims {t_embed_c:5.1f}s  rank {t_rank2:5.2f}s  "
          f"total {cached:6.1f}s  {n_papers / cached:7.0f} papers/s  ({cold / cached:.1f}x faster than cold)")
    claim_cache_and_feedback(claims, papers, pv, cv)
    print(f"peak resident memory {peak_mb():.0f} MB")


def claim_cache_and_feedback(claims: list[str], papers: list[str], pv: np.ndarray, cv: np.ndarray,
                             labelled: int = 100) -> None:
    """Cached claim query vectors (claims.query_embedding) and per-claim feedback re-ranking."""
    from agent.feedback import features, rerank
    from agent.queries import ClaimQuery, embed_queries
    from agent.ranking import BM25, fuse

    queries = [ClaimQuery(i, f"B{i}", t, "", (), ()) for i, t in enumerate(claims)]
    t0 = time.perf_counter()
    _, _, fresh = embed_queries(queries)
    t_embed = time.perf_counter() - t0
    t0 = time.perf_counter()
    embed_queries(queries, fresh)  # every vector served from the cache
    t_cached = time.perf_counter() - t0
    print(f"claim query vectors: computed {t_embed:5.1f}s, from the cache {t_cached:6.3f}s")
    lexical = BM25(papers).scores(claims[:labelled])
    dense = cv[:labelled] @ pv.T
    base = fuse(dense, lexical)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    feats = features(pv, papers)  # embeddings and TF-IDF, once a run
    t_feats = time.perf_counter() - t0
    t0 = time.perf_counter()
    for j in range(min(labelled, len(claims))):
        top = np.argsort(-base[j])[:20]
        rerank(feats, base[j], list(top[:2]), list(rng.choice(top[2:], 3, replace=False)), list(top[-5:]))
    t_fb = time.perf_counter() - t0
    print(f"feedback re-ranking: TF-IDF of {len(papers)} papers {t_feats:5.2f}s once, then {labelled} labelled "
          f"claims in {t_fb:5.2f}s ({1000 * t_fb / labelled:.0f} ms a claim: logistic regression and naive Bayes "
          "on 8 labels + 2 exemplars + 30 pseudo-negatives, scoring every paper)")


def api_cost(weekly_new_papers: int = 5000, delay: float = 3.0, per_claim_results: int = 200) -> None:
    """arXiv requests of a weekly run: one sweep for all claims vs one query per claim."""
    print(f"\n== arXiv API cost of a weekly run ({weekly_new_papers} new papers in the watched categories, "
          f"{delay:g}s between requests) ==")
    sweep = math.ceil(weekly_new_papers / 2000)
    print(f"{'claims':>7s} {'sweep requests':>15s} {'forced wait':>12s} {'per-claim requests':>19s} {'forced wait':>12s}")
    for n in (10, 100, 1000):
        per_claim = n * math.ceil(per_claim_results / 2000)
        print(f"{n:7d} {sweep:15d} {(sweep - 1) * delay:11.0f}s {per_claim:19d} {(per_claim - 1) * delay:11.0f}s")
    print("(a new claim costs one targeted query once, at backfill; anchors: one id lookup per 100 ids)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    quality()
    api_cost()
    if not args.skip_throughput:
        throughput(args.papers, args.claims)


if __name__ == "__main__":
    main()
