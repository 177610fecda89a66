"""The Semantic Scholar client against a loopback Graph API: paging, 429, 5xx, timeouts, bad JSON."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr

from agent.s2 import S2Client, fetch_citing, parse_citations
from claims.settings import Settings
from tests.agent.s2_server import S2Server, citing


def _settings(server: S2Server, **kw) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(s2_url=server.url, s2_delay_seconds=0.01, s2_timeout_seconds=kw.pop("timeout", 5.0), **kw)


def test_parse_keeps_ids_dates_and_skips_stubs() -> None:
    body = {"data": [{"citingPaper": citing(1)}, {"citingPaper": citing(2, arxiv=False)},
                     {"citingPaper": {"paperId": None, "title": None}}], "next": 100}
    papers, nxt = parse_citations(body, "2504.07912")
    assert nxt == 100 and [p.arxiv_id for p in papers] == ["2602.10001", None]
    assert papers[1].doi == "10.1000/s2.2" and papers[1].link == "https://doi.org/10.1000/s2.2"
    assert papers[0].published == dt.date(2026, 2, 1) and papers[0].provenance == "cites arXiv:2504.07912"
    with pytest.raises(ValueError):
        parse_citations(["not", "an object"], "x")


def test_pages_through_all_citations_and_sends_the_api_key() -> None:
    rows = [citing(i) for i in range(250)]
    with S2Server({"2504.07912": rows}) as server:
        out = fetch_citing(_settings(server, s2_api_key=SecretStr("k-123")), ["2504.07912"], since=None)
    assert len(out.papers) == 250 and out.error is None
    assert [q["offset"] for _, _, q, _ in server.log] == ["0", "100", "200"]
    assert {key for *_, key in server.log} == {"k-123"}
    assert [r.status for r in out.requests] == [200, 200, 200]


def test_since_keeps_newer_citing_papers_and_undated_ones() -> None:
    rows = [citing(1, published="2025-01-01"), citing(2, published="2026-03-01"), citing(3, published=None)]
    with S2Server({"2504.07912": rows}) as server:
        out = fetch_citing(_settings(server), ["2504.07912"], since=dt.date(2026, 1, 1))
    assert sorted(p.s2_id for p in out.papers) == ["s2p0002", "s2p0003"]


def test_a_429_is_retried_after_its_retry_after() -> None:
    with S2Server({"2504.07912": [citing(1)]}, faults=["429"], retry_after=1.0) as server:
        out = fetch_citing(_settings(server), ["2504.07912"], since=None)
    assert len(out.papers) == 1 and [r.status for r in out.requests] == [429, 200]
    gap = server.log[1][0] - server.log[0][0]
    assert gap >= 1.0  # waited what the server asked, not the 0.01 s pacing


def test_5xx_and_malformed_json_are_retried_then_succeed() -> None:
    with S2Server({"2504.07912": [citing(1)]}, faults=["503", "malformed"]) as server:
        out = fetch_citing(_settings(server), ["2504.07912"], since=None)
    assert len(out.papers) == 1 and [r.status for r in out.requests] == [503, "malformed", 200]


def test_a_timeout_is_retried() -> None:
    with S2Server({"2504.07912": [citing(1)]}, faults=["hang"], hang_seconds=1.5) as server:
        out = fetch_citing(_settings(server, timeout=0.5), ["2504.07912"], since=None)
    assert len(out.papers) == 1 and [r.status for r in out.requests] == ["timeout", 200]


def test_an_outage_is_reported_and_the_run_goes_on() -> None:
    said: list[str] = []
    with S2Server({"2504.07912": [citing(1)]}, faults=["503"] * 3) as server:
        out = fetch_citing(_settings(server, s2_retries=2), ["2504.07912", "2505.11711"], since=None, say=said.append)
    assert out.papers == [] and "HTTP 503" in (out.error or "") and len(out.requests) == 3
    assert any("going on without forward citations" in s for s in said)


def test_empty_list_and_unknown_paper_are_no_citations() -> None:
    with S2Server({"2504.07912": []}) as server:
        out = fetch_citing(_settings(server), ["2504.07912", "2999.00001"], since=None)
    assert out.papers == [] and out.error is None and [r.status for r in out.requests] == [200, 404]


def test_requests_are_paced_process_wide() -> None:
    with S2Server({"a": [citing(i) for i in range(3)]}) as server:
        client = S2Client(server.url, delay_seconds=0.3, timeout_seconds=5)
        for _ in range(3):
            client.citations("a", limit=1)
    times = [t for t, *_ in server.log]
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.25
