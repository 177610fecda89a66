"""Speed of the review app's page queries on a large database; prints figures.

Seeds a SQLite file with 1,000 claims, 50,000 evidence rows, 500 pending proposals
(plus 5,000 papers, 300 retest runs, one revision per claim) by bulk inserts, then
times, cold (caches cleared) and warm:
- each page query of ui.data (overview page, filtered overview, review queue page,
  claim page, the data-version fingerprint);
- a naive overview (load every claim with its evidence and proposals through the
  ORM, count in Python) as the baseline the ratios are taken against;
- a full AppTest render of the overview and of the review queue.

Usage: python benchmarks/ui_bench.py [--claims 1000] [--evidence 50000] [--pending 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

REPO = Path(__file__).resolve().parents[1]


def seed(url: str, n_claims: int, n_evidence: int, n_pending: int) -> None:
    from claims.models import Claim, ClaimRevision, Evidence, Inquiry, Paper, Proposal, RetestRun
    from claims.store import open_store

    rng = random.Random(0)
    store = open_store(url)
    now = dt.datetime(2026, 1, 1)
    statuses = ("unreviewed", "holds", "weakened", "contested", "overturned")
    stances = ("supports", "contradicts", "refines", "unrelated", "unjudged")
    per_claim = max(1, n_evidence // n_claims)
    n_papers = per_claim * 100
    with store.write() as s:
        s.execute(insert(Inquiry), [{"id": 1, "slug": "bench", "title": "Bench inquiry", "question": "?", "content_hash": "x"}])
        s.execute(insert(Claim), [
            {"id": i, "inquiry_id": 1, "key": f"C{i}", "position": i, "status": rng.choice(statuses),
             "text": f"Claim {i}: RL post-training sharpens what the base model knows about task {i % 37}.",
             "as_of": "~2025", "as_of_start": dt.date(2025, 1, 1), "as_of_end": dt.date(2025, 12, 31),
             "as_of_precision": "year", "status_since": now, "created_at": now, "last_checked_at": now}
            for i in range(1, n_claims + 1)])
        s.execute(insert(ClaimRevision), [
            {"claim_id": i, "revision": 1, "text": f"Claim {i}", "as_of": "~2025", "status": "unreviewed",
             "changed_at": now, "approved_by": "import"} for i in range(1, n_claims + 1)])
        s.execute(insert(Paper), [{"arxiv_id": f"2601.{i:05d}", "title": f"Paper {i}", "published": dt.date(2026, 1, 2)}
                                  for i in range(n_papers)])
        rows = []
        for c in range(1, n_claims + 1):
            for j, p in enumerate(rng.sample(range(n_papers), per_claim)):
                rows.append({"claim_id": c, "paper_id": f"2601.{p:05d}", "relevance": rng.random(), "rank": j,
                             "method": "dense", "stance": rng.choice(stances), "confidence": rng.random(),
                             "rationale": "because", "quote": "a sentence", "found_at": now + dt.timedelta(days=rng.randint(-30, 30))})
        for i in range(0, len(rows), 10_000):
            s.execute(insert(Evidence), rows[i:i + 10_000])
        s.execute(insert(RetestRun), [
            {"claim_id": rng.randint(1, n_claims), "protocol": "passk-boundary", "status": "succeeded",
             "verdict": rng.choice(("consistent", "inconsistent", "inconclusive")), "created_at": now,
             "metrics": {"entropy": [0.2, 0.1]}} for _ in range(300)])
        s.execute(insert(Proposal), [
            {"claim_id": rng.randint(1, n_claims), "inquiry_id": 1, "kind": "status", "proposed_status": "contested",
             "rationale": "new evidence", "fingerprint": f"b{i}", "state": "pending",
             "created_at": now + dt.timedelta(minutes=i)} for i in range(n_pending)])
    store.dispose()


def timed(fn, repeat: int, clear=None) -> float:  # type: ignore[no-untyped-def]
    """Median milliseconds of `fn()` over `repeat` runs (calling `clear()` before each when given)."""
    times = []
    for _ in range(repeat):
        if clear:
            clear()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def naive_overview(url: str) -> int:
    """The baseline: every claim with its evidence and proposals through the ORM, counted in Python."""
    from claims.models import Claim, Evidence, Proposal
    from claims.store import open_store

    store = open_store(url, migrate=False)
    with store.read() as s:
        claims = s.scalars(select(Claim)).all()
        evidence = s.scalars(select(Evidence)).all()
        pending = s.scalars(select(Proposal).options(selectinload(Proposal.evidence)).where(Proposal.state == "pending")).all()
        counts: dict[tuple[int, str], int] = {}
        for e in evidence:
            counts[(e.claim_id, e.stance)] = counts.get((e.claim_id, e.stance), 0) + 1
        n = len(claims) + len(pending)
    store.dispose()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=1000)
    ap.add_argument("--evidence", type=int, default=50_000)
    ap.add_argument("--pending", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="ui-bench-"))
    url = f"sqlite:///{tmp / 'claims.db'}"
    os.environ["CLAIMS_DATABASE_URL"] = url
    t0 = time.perf_counter()
    seed(url, args.claims, args.evidence, args.pending)
    print(f"seeded {args.claims} claims, {args.evidence} evidence, {args.pending} pending proposals "
          f"in {time.perf_counter() - t0:.1f} s ({url})")

    import streamlit as st

    from ui import data

    for name in ("streamlit", "streamlit.runtime.caching.cache_data_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ver = data.version(url)
    clear = st.cache_data.clear
    r = args.repeat
    baseline = timed(lambda: naive_overview(url), r)
    figures = {
        "version fingerprint": timed(lambda: data.version(url), r),
        "overview page 1 (50 rows)": timed(lambda: data.overview(url, ver, (), None, "", 1, 50), r, clear),
        "overview page 10": timed(lambda: data.overview(url, ver, (), None, "", 10, 50), r, clear),
        "overview filtered + search": timed(lambda: data.overview(url, ver, ("contested",), 1, "task 3", 1, 50), r, clear),
        "review queue page 1 (10)": timed(lambda: data.pending_proposals(url, ver, 1, 10), r, clear),
        "review queue page 50": timed(lambda: data.pending_proposals(url, ver, 50, 10), r, clear),
        "claim page (top 50 of 50 evidence)": timed(lambda: data.claim_detail(url, ver, "C500"), r, clear),
        "overview page 1, warm cache": timed(lambda: data.overview(url, ver, (), None, "", 1, 50), r),
    }
    print(f"\nbaseline: naive overview (ORM, count in Python): {baseline:8.1f} ms")
    for name, ms in figures.items():
        print(f"{name:38s} {ms:8.2f} ms   {baseline / ms:8.1f}x faster than baseline")

    from streamlit.testing.v1 import AppTest

    app = REPO / "ui" / "app.py"
    for page, title in (("views/overview.py", "overview"), ("views/review.py", "review queue")):
        cold, warm = [], []
        for _ in range(r):
            clear()
            at = AppTest.from_file(app, default_timeout=60)
            at.session_state["reviewer_name"] = "bench"  # a reviewer: the queue renders its decide controls
            at.run()
            at.switch_page(page)
            st.cache_data.clear()
            t1 = time.perf_counter()
            at.run()
            cold.append((time.perf_counter() - t1) * 1000)
            t1 = time.perf_counter()
            at.run()
            warm.append((time.perf_counter() - t1) * 1000)
            assert not at.exception, [e.value for e in at.exception]
        print(f"AppTest render, {title:13s} cold {statistics.median(cold):7.1f} ms, warm {statistics.median(warm):7.1f} ms")
    print(f"\n(median of {r}; python {sys.version.split()[0]}; {os.cpu_count()} cpus)")


if __name__ == "__main__":
    main()
