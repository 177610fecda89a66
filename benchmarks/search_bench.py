"""Evidence-search benchmark: ranking quality on the dev set, throughput, arXiv API cost.

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
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEV = REPO.parent / "shared" / "eval" / "dev"
CORPUS = REPO / "claims" / "data" / "demo-corpus.jsonl"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality() -> None:
    """recall@10 and MRR of the labelled papers per claim, ranking among all dev papers."""
    from agent.corpus import read_corpus
    from agent.embeddings import embed_texts, paper_text
    from agent.ranking import BM25, dense_scores, order_scores
    from claims.document import parse_document  # the lead's parser: the bundled claims as imported

    labels_path = DEV / "labels.jsonl"
    if not labels_path.exists():
        print("quality: dev labels not found, skipped")
        return
    labels: dict[str, set[str]] = defaultdict(set)
    for line in labels_path.read_text().splitlines():
        row = json.loads(line)
        labels[row["claim"]].add(row["paper"])
    papers = read_corpus(DEV / "papers.jsonl")
    ids = [p.arxiv_id for p in papers]
    texts = [paper_text(p.title, p.summary) for p in papers]
    doc = parse_document((REPO / "claims" / "data" / "rl-prior-vs-optimizer.txt").read_text())
    claims = {f"C{i}": f.text for i, f in enumerate(doc.findings, 1)}
    keys = [k for k in claims if k in labels]
    pv = embed_texts(texts)
    lexical_index = BM25(texts)
    variants = {
        "claim text": [claims[k] for k in keys],
        "claim + inquiry question": [f"{claims[k]} {doc.question}" for k in keys],
    }
    print("\n== quality on the dev set (%d papers, %d claims, %d labels) ==" % (len(ids), len(keys),
                                                                              sum(len(labels[k]) for k in keys)))
    print(f"{'query':28s} {'method':8s} {'recall@10':>9s} {'MRR':>6s}")
    for name, queries in variants.items():
        dense = dense_scores(embed_texts(queries), pv)
        lexical = lexical_index.scores(queries)
        for method in ("dense", "lexical", "hybrid"):
            order = order_scores(method, dense, lexical)
            recalls, rrs = [], []
            for row, k in zip(order, keys):
                ranked = [ids[i] for i in np.argsort(-row, kind="stable")]
                recalls.append(len(labels[k] & set(ranked[:10])) / len(labels[k]))
                rrs.append(next(1 / (r + 1) for r, pid in enumerate(ranked) if pid in labels[k]))
            print(f"{name:28s} {method:8s} {np.mean(recalls):9.3f} {np.mean(rrs):6.3f}")


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
    print(f"peak resident memory {peak_mb():.0f} MB")


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
