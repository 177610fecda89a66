"""Dissent inside the claim's window: a confident contradiction from a paper published inside the
claim's as-of window counts toward `contested`, never toward `weakened` or `overturned`.

C1 of the bundled document is dated "~2025": its window is 2025-01-01..2025-12-31, both ends
included. 2024-12-31 is older (not counted), 2026-01-01 is newer (counts as before).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from claims.dates import parse_as_of
from claims.models import Claim, Evidence, Paper, Proposal
from claims.proposing import propose_for_claim_key
from claims.retests import RunStrength
from claims.status_rules import ClaimFacts, EvidenceFact, RunFact, propose_status
from claims.window import place_in_window

WINDOW = parse_as_of("~2025")
START, END = WINDOW.start, WINDOW.end
DAY = dt.timedelta(days=1)
CLAIM = ClaimFacts("C1", "unreviewed", START, END)
INSIDE = dt.date(2025, 6, 1)
NEWER = dt.date(2026, 3, 1)
STRONG = RunStrength(preset="standard", rl_seeds=(0, 1, 2), pretrain_seeds=(0, 1), interval="seeds",
                     interval_spans_seeds=True)
REPLICA = STRONG.model_copy(update=dict(rl_seeds=(3, 4, 5), pretrain_seeds=(2, 3)))  # new seeds (claims.replication)
FAILED = [RunFact(1, "passk-boundary", "inconsistent", dt.datetime(2026, 2, 1), STRONG),
          RunFact(2, "passk-boundary", "inconsistent", dt.datetime(2026, 2, 2), REPLICA)]  # a replicated failure


def contra(i: int, published: dt.date | None, conf: float = 0.9) -> EvidenceFact:
    return EvidenceFact(i, f"25{i:02d}.{i:05d}", "contradicts", conf, published)


def test_the_window_of_a_year_and_its_edges() -> None:
    assert (START, END) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert [place_in_window(d, START, END) for d in (START - DAY, START, INSIDE, END, END + DAY, None)] == [
        "older", "inside", "inside", "inside", "newer", "undated"]


@pytest.mark.parametrize("published,status", [
    (START - DAY, None),  # the day before the window: the claim was made after it appeared
    (START, "contested"),  # the window's first day
    (END, "contested"),  # its last day
    (END + DAY, "contested"),  # the day after: newer, one paper -> contested as before
])
def test_one_contradiction_at_each_end_of_the_window(published: dt.date, status: str | None) -> None:
    d = propose_status(CLAIM, [contra(1, published)], [])
    assert (d.proposed_status if d else None) == status


@pytest.mark.parametrize("n", [1, 2, 3])
def test_contemporaneous_dissent_contests_whatever_the_count(n: int) -> None:
    d = propose_status(CLAIM, [contra(i, INSIDE) for i in range(1, n + 1)], [])
    assert d.proposed_status == "contested" and d.evidence_ids == tuple(range(1, n + 1))
    assert f"{n} contemporaneous (published inside the claim's as-of window 2025-01-01..2025-12-31" in d.rationale
    assert "newer than the claim's as-of window" not in d.rationale


@pytest.mark.parametrize("n,status", [(1, "contested"), (2, "contested"), (3, "weakened")])
def test_newer_papers_count_as_before(n: int, status: str) -> None:
    d = propose_status(CLAIM, [contra(i, NEWER) for i in range(1, n + 1)], [])
    assert d.proposed_status == status
    assert f"{n} newer than the claim's as-of window (published after 2025-12-31)" in d.rationale


def test_contemporaneous_papers_never_make_up_the_three_for_weakened_or_overturned() -> None:
    two_newer_one_inside = [contra(1, NEWER), contra(2, NEWER), contra(3, END)]
    d = propose_status(CLAIM, two_newer_one_inside, [])
    assert d.proposed_status == "contested" and d.evidence_ids == (1, 2, 3)
    assert "2 newer than" in d.rationale and "1 contemporaneous" in d.rationale
    assert "2503.00003 (0.90) published 2025-12-31" in d.rationale.split("contemporaneous")[1]
    # with a failed (replicated) retest: a newer paper makes it weakened, contemporaneous ones alone do not
    assert propose_status(CLAIM, [contra(i, INSIDE) for i in (1, 2, 3)], FAILED).proposed_status == "contested"
    assert propose_status(CLAIM, [contra(1, NEWER)], FAILED).proposed_status == "weakened"
    three_newer = [contra(i, NEWER) for i in (1, 2, 3)]
    assert propose_status(CLAIM, three_newer + [contra(4, INSIDE)], FAILED).proposed_status == "overturned"


@pytest.mark.parametrize("published", [INSIDE, NEWER])
def test_confidence_0_69_is_not_confident_and_0_70_is(published: dt.date) -> None:
    assert propose_status(CLAIM, [contra(1, published, 0.69)], []) is None
    assert propose_status(CLAIM, [contra(1, published, 0.70)], []).proposed_status == "contested"


def test_a_claim_already_contested_gets_nothing_from_contemporaneous_dissent() -> None:
    contested = ClaimFacts("C1", "contested", START, END)
    assert propose_status(contested, [contra(i, INSIDE) for i in (1, 2, 3, 4)], []) is None


@given(st.lists(st.dates(dt.date(2023, 1, 1), END), max_size=8), st.sampled_from(["unreviewed", "holds"]))
def test_papers_up_to_the_windows_end_never_propose_more_than_contested(days: list[dt.date], status: str) -> None:
    d = propose_status(ClaimFacts("C1", status, START, END), [contra(i, day) for i, day in enumerate(days, 1)], [])
    counted = [day for day in days if day >= START]
    assert (d.proposed_status if d else None) == ("contested" if counted else None)


def test_three_contemporaneous_contradictions_give_c1_a_contested_proposal_that_cites_them(bundled_store) -> None:
    """End to end on a real SQLite store: the facts reader, the rule and the writer."""
    papers = {"2502.00001": dt.date(2025, 2, 3), "2507.00002": dt.date(2025, 7, 14), "2511.00003": dt.date(2025, 11, 30)}
    with bundled_store.write() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        assert (c1.as_of_start, c1.as_of_end) == (START, END)
        ids = []
        for i, (pid, published) in enumerate(papers.items(), 1):
            s.add(Paper(arxiv_id=pid, title=f"Dissent {i}", summary="RL teaches new reasoning strategies.",
                        published=published))
            s.flush()
            e = Evidence(claim_id=c1.id, paper_id=pid, relevance=0.8, rank=i, method="hybrid", stance="contradicts",
                         confidence=0.8, judged_by="judge")
            s.add(e)
            s.flush()
            ids.append(e.id)
        [pid] = propose_for_claim_key(s, "C1", actor="agent")
    with bundled_store.read() as s:
        p = s.get(Proposal, pid)
        assert (p.kind, p.proposed_status, p.state) == ("status", "contested", "pending")
        assert sorted(e.id for e in p.evidence) == ids
        assert p.payload["basis"] == {str(i): "contradicts" for i in ids}
        assert "3 contemporaneous" in p.rationale and all(paper in p.rationale for paper in papers)
        assert s.scalar(select(Claim.status).where(Claim.key == "C1")) == "unreviewed"  # only proposed
