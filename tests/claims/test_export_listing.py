"""What the export lists: reviewed stances always, unreviewed candidates only above the ranker's
confident cut, a paper near several claims once under the inquiry, dates at their precision."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from claims.dates import format_published
from claims.export import build_export, render_export, render_markdown
from claims.listing import MIN_ROWS, RANK_CUT, RankedRow, inquiry_papers, standings
from claims.models import Claim, Evidence, Paper
from claims.reports import weekly_facts

NEW = dt.date(2026, 3, 2)  # newer than C1 and C2 (~2025)
STRONG = "2603.00001"  # top of C1, ranked by no other claim
WEAK = "2603.00002"  # a middling candidate of C1, far down its ranking
NEAR = "2603.00003"  # top 3 of both C1 and C2, as relevant to each
REVIEWED = "2603.00004"  # far down C1's ranking, but a reviewer set its stance
OTHER = "2603.00005"  # top of C2, and in C1's top 3 but standing out less there
MONTHLY = "2603.00006"  # top of C2, its date known to the month


def fillers(claim: str, n: int = 12) -> list[RankedRow]:
    return [RankedRow(claim, f"2401.{i:05d}", 0.30 + 0.01 * i, 4 + i) for i in range(n)]


def test_a_top_candidate_specific_to_its_claim_is_confident_a_low_one_is_not() -> None:
    rows = fillers("C1") + fillers("C2") + [
        RankedRow("C1", STRONG, 0.70, 1), RankedRow("C1", WEAK, 0.45, 9), RankedRow("C1", NEAR, 0.50, 2),
        RankedRow("C2", OTHER, 0.70, 1), RankedRow("C2", MONTHLY, 0.45, 9), RankedRow("C2", NEAR, 0.50, 2),
    ]  # C1 and C2 score alike: NEAR is as relevant to each
    table = standings(rows)
    assert table[("C1", STRONG)].confident
    assert not table[("C1", WEAK)].confident  # rank 9: below the cut, however relevant it looks
    assert not table[("C1", NEAR)].confident and not table[("C2", NEAR)].confident  # a tie: specific to neither
    assert inquiry_papers(table) == {NEAR: ["C1", "C2"]}


def test_too_few_candidates_give_no_confidence() -> None:
    table = standings([RankedRow("C1", STRONG, 0.9, 1)] + fillers("C1", MIN_ROWS - 2))
    assert not table[("C1", STRONG)].confident and inquiry_papers(table) == {}


@given(st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3"]), st.integers(0, 30),
                          st.floats(0.2, 0.9), st.integers(1, 60)), max_size=80))
def test_a_paper_is_confident_under_at_most_one_claim_and_never_also_under_the_inquiry(raw) -> None:
    rows = list({(c, f"p{p}"): RankedRow(c, f"p{p}", rel, rank) for c, p, rel, rank in raw}.values())
    table = standings(rows)
    confident = [(c, p) for (c, p), s in table.items() if s.confident]
    papers = [p for _, p in confident]
    assert len(papers) == len(set(papers))  # specificity > 0: one claim at most
    assert not set(papers) & set(inquiry_papers(table))
    assert all(table[(c, p)].rank <= RANK_CUT for c, p in confident)


@given(st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)))
def test_a_date_is_shown_at_its_precision(day: dt.date) -> None:
    assert format_published(day, "day") == day.isoformat()
    assert format_published(day, "month") == day.isoformat()[:7]
    assert format_published(day, "year") == str(day.year)
    assert format_published(day.isoformat()[:7], "day") == day.isoformat()[:7]  # text keeps what it shows
    assert format_published(None, "month") is None


def ranked_database(store) -> None:
    """C1 and C2 with a dozen older candidates each, and the new papers above (module constants)."""
    with store.write() as s:
        claims = {c.key: c for c in s.scalars(select(Claim))}
        papers = {f"2401.{i:05d}": dt.date(2024, 1, 1 + i) for i in range(12)}
        papers |= {STRONG: NEW, WEAK: NEW, NEAR: NEW, REVIEWED: NEW, OTHER: NEW}
        for pid, day in papers.items():
            s.add(Paper(arxiv_id=pid, title=f"Paper {pid}", published=day, summary="..."))
        s.add(Paper(arxiv_id=MONTHLY, title="A paper dated to the month", published=dt.date(2026, 1, 1),
                    published_precision="month", summary="..."))
        s.flush()

        def row(key: str, pid: str, relevance: float, rank: int, **kw) -> None:
            s.add(Evidence(claim_id=claims[key].id, paper_id=pid, relevance=relevance, rank=rank, method="hybrid", **kw))

        for key in ("C1", "C2"):
            for i in range(12):
                row(key, f"2401.{i:05d}", 0.30 + 0.01 * i, 5 + i)
        row("C1", STRONG, 0.70, 1)
        row("C1", WEAK, 0.45, 9)
        row("C1", NEAR, 0.50, 2)
        row("C2", NEAR, 0.57, 3)  # C2 scores higher: 0.57 there stands out as much as 0.50 under C1
        row("C1", REVIEWED, 0.31, 16, stance="contradicts", confidence=0.8, stance_reviewed_by="alice")
        row("C1", OTHER, 0.48, 3)
        row("C2", OTHER, 0.75, 1)
        row("C2", MONTHLY, 0.72, 2)


def listed(data) -> dict[str, list[str]]:
    return {c["key"]: [e["id"] for e in c["evidence"]] for c in data["claims"] if c["evidence"]}


def test_the_export_lists_confident_candidates_reviewed_stances_and_the_inquiry_paper_once(bundled_store) -> None:
    ranked_database(bundled_store)
    with bundled_store.read() as s:
        data = build_export(s)
        text = render_markdown(data)
    assert listed(data) == {"C1": [REVIEWED, STRONG], "C2": [OTHER, MONTHLY]}
    assert WEAK not in text  # ranked 9th: under the cut
    assert [e["id"] for e in data["inquiry_evidence"]] == [NEAR]
    assert data["inquiry_evidence"][0]["near_claims"] == ["C1", "C2"]
    assert text.count(f"arXiv:{NEAR}") == 1 and "Near several findings, none in particular" in text
    c1 = next(c for c in data["claims"] if c["key"] == "C1")
    assert c1["below_cut"] == 3  # WEAK, OTHER (which stands out more under C2) and NEAR (under the inquiry)


def test_a_reviewer_decision_outranks_the_cut(bundled_store) -> None:
    ranked_database(bundled_store)
    with bundled_store.write() as s:
        c1 = s.scalar(select(Claim.id).where(Claim.key == "C1"))
        strong = s.scalar(select(Evidence).where(Evidence.claim_id == c1, Evidence.paper_id == STRONG))
        strong.relevance_label, strong.labelled_by = "irrelevant", "bob"  # top of the ranking, but not relevant
        weak = s.scalar(select(Evidence).where(Evidence.claim_id == c1, Evidence.paper_id == WEAK))
        weak.relevance_label, weak.labelled_by = "relevant", "bob"  # under the cut, but a person says relevant
    with bundled_store.read() as s:
        data = build_export(s)
    assert listed(data)["C1"] == [REVIEWED, WEAK]
    item = next(e for e in data["claims"][0]["evidence"] if e["id"] == WEAK)
    assert item["review"] == "unreviewed" and item["marked_relevant_by"] == "bob"


def test_a_reviewed_stance_is_listed_whatever_the_number_of_candidates(bundled_store) -> None:
    with bundled_store.write() as s:
        c3 = s.scalar(select(Claim.id).where(Claim.key == "C3"))
        s.add_all([Paper(arxiv_id=STRONG, title="Reviewed", published=NEW), Paper(arxiv_id=WEAK, title="Not", published=NEW)])
        s.flush()
        s.add_all([Evidence(claim_id=c3, paper_id=STRONG, relevance=0.25, rank=2, method="hybrid", stance="supports",
                            confidence=0.9, stance_reviewed_by="alice"),
                   Evidence(claim_id=c3, paper_id=WEAK, relevance=0.8, rank=1, method="hybrid")])
    with bundled_store.read() as s:
        assert listed(build_export(s)) == {"C3": [STRONG]}  # two candidates: no distribution, no confidence


def test_month_and_year_dates_keep_their_precision_in_markdown_json_and_the_report(bundled_store) -> None:
    ranked_database(bundled_store)
    with bundled_store.write() as s:
        s.get(Paper, OTHER).published_precision = "year"
    with bundled_store.read() as s:
        text = render_export(s, "markdown")
        data = json.loads(render_export(s, "json"))
        facts = weekly_facts(s, dt.datetime(2000, 1, 1))
    assert f"arXiv:{MONTHLY} (2026-01) " in text and "2026-01-01" not in text
    assert f"arXiv:{OTHER} (2026) " in text
    c2 = {e["id"]: e["published"] for c in data["claims"] if c["key"] == "C2" for e in c["evidence"]}
    assert c2 == {OTHER: "2026", MONTHLY: "2026-01"}
    assert next(e for c in data["claims"] if c["key"] == "C1" for e in c["evidence"] if e["id"] == STRONG)["published"] == "2026-03-02"
    reported = {e.id: e.published for e in facts.new_evidence["C2"]}
    assert reported[MONTHLY] == "2026-01" and reported[OTHER] == "2026"


def test_claims_show_json_keeps_the_month(bundled_store) -> None:
    from claims.queries import claim_detail

    ranked_database(bundled_store)
    with bundled_store.read() as s:
        shown = {e["id"]: e["published"] for e in claim_detail(s, "C2")["evidence"]}
    assert shown[MONTHLY] == "2026-01" and shown[OTHER] == "2026-03-02"


def test_a_paper_the_judge_placed_under_a_claim_is_not_listed_again_under_the_inquiry(bundled_store) -> None:
    ranked_database(bundled_store)
    with bundled_store.write() as s:
        c1 = s.scalar(select(Claim.id).where(Claim.key == "C1"))
        near = s.scalar(select(Evidence).where(Evidence.claim_id == c1, Evidence.paper_id == NEAR))
        near.stance, near.confidence, near.judged_by = "supports", 0.8, "judge"  # a machine stance, unreviewed
    with bundled_store.read() as s:
        data = build_export(s, include_machine=True)
        text = render_markdown(data)
    assert NEAR in listed(data)["C1"] and data["inquiry_evidence"] == []
    assert text.count(f"arXiv:{NEAR}") == 1 and "machine suggestion: supports" in text


def test_a_top_rank_with_a_relevance_below_the_claims_usual_is_not_confident() -> None:
    """A week with nothing close to the claim still has a top 3: rank alone is not confidence."""
    table = standings(fillers("C1") + [RankedRow("C1", WEAK, 0.31, 1), RankedRow("C1", STRONG, 0.62, 2)])
    assert table[("C1", WEAK)].z < 0.5 and not table[("C1", WEAK)].confident
    assert table[("C1", STRONG)].confident and inquiry_papers(table) == {}
