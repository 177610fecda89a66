"""The arXiv client against a loopback server speaking arXiv's Atom API, faults included."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.arxiv import ArxivClient, ArxivSource, RateLimit, is_atom_feed, keywords, window_clause
from claims.errors import SourceUnavailable
from claims.papers import id_month, split_arxiv_id
from claims.settings import Settings
from tests.agent.arxiv_server import ArxivServer, feed_xml
from tests.conftest import DEMO_CORPUS

PAPERS = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]


def settings_for(server: ArxivServer, **kw: object) -> Settings:
    base = {"arxiv_url": server.url, "arxiv_delay_seconds": 0.01, "arxiv_timeout_seconds": 2.0, "arxiv_retries": 3}
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


WATCHED = ["cs.LG", "cs.CL"]


def in_2025_h1(p: dict) -> bool:
    """In the window and in a watched category (the server files uncategorised papers under cs.LG)."""
    cats = p["categories"] or ["cs.LG"]
    return "2025-01" <= p["published"][:7] <= "2025-06" and bool(set(cats) & set(WATCHED))


def test_window_clause_is_whole_gmt_days() -> None:
    assert window_clause(dt.date(2025, 1, 1), dt.date(2025, 1, 7)) == "submittedDate:[202501010000 TO 202501072359]"


def test_keywords_prefer_acronyms_and_drop_stopwords() -> None:
    words = keywords("Hard RLVR samples induce degenerate shortcuts; binary rewards degrade calibration")
    assert words[0] == "RLVR"
    assert "degenerate" in words and "the" not in [w.lower() for w in words]


@given(st.from_regex(r"\d{4}\.\d{5}", fullmatch=True), st.integers(1, 30))
def test_split_arxiv_id_round_trips_versions(base: str, version: int) -> None:
    assert split_arxiv_id(f"{base}v{version}") == (base, version)
    assert split_arxiv_id(f"http://arxiv.org/abs/{base}v{version}") == (base, version)
    assert split_arxiv_id(base) == (base, None)


def test_id_month_reads_yymm() -> None:
    assert id_month("2510.13786") == dt.date(2025, 10, 1)
    assert id_month("hep-th/9901001") is None


def test_malformed_feed_is_detected() -> None:
    body = feed_xml([PAPERS[0]], 1, 0).encode()
    assert is_atom_feed(body)
    assert not is_atom_feed(body[: len(body) // 2])
    assert not is_atom_feed(b"<html><body>Bad gateway</body></html>")


def test_sweep_pages_through_the_window() -> None:
    with ArxivServer(PAPERS) as server:
        source = ArxivSource(settings_for(server), page_size=7)
        got = source.sweep(WATCHED, dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    expected = {p["id"] for p in PAPERS if in_2025_h1(p)}
    assert {p.arxiv_id for p in got} == expected
    assert source.requests == -(-len(expected) // 7)
    queries = [r["params"] for r in server.requests]
    assert all(q["sortBy"] == "submittedDate" and int(q["max_results"]) <= 7 for q in queries)
    first = next(p for p in got if p.arxiv_id == "2504.07912")
    assert first.published == dt.date(2025, 4, 10) and first.version == 1 and first.title.startswith("Echo Chamber")


def test_recovers_from_503_malformed_and_empty_pages() -> None:
    with ArxivServer(PAPERS, faults=["503", "malformed", "empty"]) as server:
        source = ArxivSource(settings_for(server))
        got = source.sweep(WATCHED, dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert {p.arxiv_id for p in got} == {p["id"] for p in PAPERS if in_2025_h1(p)}
    assert [f.split(":")[0] for f in source.client.failures] == ["HTTP 503", "malformed feed", "unexpectedly empty page"]


def test_backoff_grows_between_retries() -> None:
    with ArxivServer(PAPERS, faults=["503", "503", "503"]) as server:
        ArxivSource(settings_for(server, arxiv_delay_seconds=0.05)).lookup(["2504.07912"])
    at = [r["at"] for r in server.requests]
    gaps = [b - a for a, b in zip(at, at[1:])]
    assert len(at) == 4
    assert gaps[2] > gaps[0] * 1.5  # 0.05 x 2, x 4, x 8


def test_slow_answer_is_cut_by_the_timeout_and_retried() -> None:
    with ArxivServer(PAPERS, faults=["slow"], slow_seconds=3.0) as server:
        source = ArxivSource(settings_for(server, arxiv_timeout_seconds=0.3))
        start = time.monotonic()
        got = source.lookup(["2504.07912"])
        took = time.monotonic() - start
    assert list(got) == ["2504.07912"]
    assert took < 2.0
    assert source.client.failures[0].startswith("no answer within")


def test_hung_server_raises_source_unavailable() -> None:
    with ArxivServer(PAPERS, faults=["hang"] * 5) as server:
        source = ArxivSource(settings_for(server, arxiv_timeout_seconds=0.2, arxiv_retries=2))
        start = time.monotonic()
        with pytest.raises(SourceUnavailable, match="3 tries"):
            source.sweep(["cs.LG"], dt.date(2025, 1, 1), None)
        assert time.monotonic() - start < 3.0


def test_unreachable_server_raises_source_unavailable() -> None:
    settings = Settings(arxiv_url="http://127.0.0.1:9/api/query", arxiv_delay_seconds=0.01, arxiv_retries=1)
    with pytest.raises(SourceUnavailable, match="connection failed"):
        ArxivSource(settings).lookup(["2504.07912"])


def test_lookup_skips_missing_ids_and_reads_versions() -> None:
    papers = [dict(PAPERS[0], id=PAPERS[0]["id"] + "v3")]
    with ArxivServer(papers) as server:
        got = ArxivSource(settings_for(server)).lookup([PAPERS[0]["id"], "2512.99999"])
    assert list(got) == [PAPERS[0]["id"]]
    assert got[PAPERS[0]["id"]].version == 3


def test_parallel_clients_keep_the_delay_between_requests() -> None:
    delay = 0.15
    with ArxivServer(PAPERS) as server:
        limit = RateLimit()
        clients = [ArxivClient(server.url, delay_seconds=delay, rate_limit=limit) for _ in range(3)]

        def work(client: ArxivClient) -> None:
            import arxiv

            for _ in range(2):
                list(client.results(arxiv.Search(id_list=["2504.07912"], max_results=1)))

        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    at = sorted(r["at"] for r in server.requests)
    assert len(at) == 6
    assert min(b - a for a, b in zip(at, at[1:])) >= delay * 0.9
