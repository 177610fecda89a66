"""One rule for "newer than the claim", seen the same by the export, the proposals and the UI.

C4 of the bundled document is dated `~2024–2025`: a 2024-06 paper (inside its window)
and a 2025-12-31 paper (its last day) are not newer; 2026-01-01 is. (The two inside count
toward a `contested` proposal as contemporaneous dissent: tests/claims/test_contemporaneous_dissent.py.)
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from claims.dates import parse_as_of
from claims.export import build_export
from claims.models import Claim, Evidence, Paper, Proposal
from claims.proposing import propose_for_claim_key
from claims.window import is_newer_than_claim

PAPERS = {  # arXiv id -> first-version date
    "2406.00001": dt.date(2024, 6, 15),  # inside ~2024–2025
    "2512.00002": dt.date(2025, 12, 31),  # the window's last day
    "2601.00003": dt.date(2026, 1, 1),  # the first newer day
}


def test_the_rule_at_the_boundary_of_a_range() -> None:
    end = parse_as_of("~2024–2025").end
    assert end == dt.date(2025, 12, 31)
    assert [is_newer_than_claim(d, end) for d in PAPERS.values()] == [False, False, True]
    assert not is_newer_than_claim(None, end)  # undated: never newer


@given(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)), st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)))
def test_newer_means_strictly_after_the_last_covered_day(published: dt.date, end: dt.date) -> None:
    assert is_newer_than_claim(published, end) == (published > end)


@pytest.fixture
def c4_contradicted(bundled_store):
    """Confident contradictions of C4 (~2024–2025) from each of the three papers."""
    with bundled_store.write() as s:
        c4 = s.scalar(select(Claim).where(Claim.key == "C4"))
        assert c4.as_of.replace("\u2013", "-") == "~2024-2025"
        for i, (pid, published) in enumerate(PAPERS.items(), 1):
            s.add(Paper(arxiv_id=pid, title=f"Paper {pid}", published=published, summary="..."))
            s.flush()
            s.add(Evidence(claim_id=c4.id, paper_id=pid, relevance=0.9 - i / 10, rank=i, method="hybrid",
                           stance="contradicts", confidence=0.9))
    return bundled_store


def test_export_and_proposals_agree_on_the_2024_06_paper(c4_contradicted) -> None:
    with c4_contradicted.read() as s:
        exported = {c["key"]: [e["id"] for e in c["evidence"]] for c in build_export(s)["claims"]}
    assert exported["C4"] == ["2601.00003"]  # the 2024-06 and 2025-12-31 papers are not new

    with c4_contradicted.write() as s:
        [pid] = propose_for_claim_key(s, "C4", actor="test")
        proposal = s.get(Proposal, pid)
        counted = sorted(e.paper_id for e in proposal.evidence)
        newer = proposal.rationale.split("; 2 contemporaneous")[0].split("1 newer than")[1]
        assert proposal.proposed_status == "contested"  # two of the three are dissent inside the window
    assert counted == sorted(PAPERS)  # the proposal cites all three (claims.status_rules)
    assert [p for p in PAPERS if p in newer] == exported["C4"]  # what the prompt shows as new, it calls newer


def test_the_ui_counts_the_same_papers_as_new(c4_contradicted) -> None:
    pytest.importorskip("streamlit")
    from ui.data import overview

    _, rows = overview(c4_contradicted.url, ("newer-test",))
    c4 = next(r for r in rows if r["key"] == "C4")
    assert (c4["new_contradicting"], c4["new_supporting"]) == (1, 0)
