"""The review app shows an anchor proposal as an anchor change, and approving it replaces the id."""

from __future__ import annotations

from sqlalchemy import select

from claims.anchor_changes import Difference
from claims.anchor_rules import propose_anchor
from claims.anchors import AnchorResult, record_anchor_checks
from claims.models import Anchor, AuditEntry
from claims.proposing import anchor_fact, write_proposals
from tests.ui.test_review_app import button, goto, markdown_text, open_app

MEANT = {"id": "2605.04444", "title": "When hard prompts teach shortcuts in RLVR", "published": "2026-05-06",
         "score": 0.71, "fits": True}
DATE_SAYS = "cited date 2025-05 but the first version is dated 2025-04-10"
OTHER = {"id": "2605.05555", "title": "Curricula for verifiable rewards", "published": "2026-05-20",
         "score": 0.52, "fits": False}


def _propose_replacement(store) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with store.write() as s:
        anchor = s.scalar(select(Anchor).where(Anchor.arxiv_id == "2510.13786"))
        anchor.status, anchor.verified_title = "mismatch", "The Art of Scaling Reinforcement Learning Compute for LLMs"
        anchor.differences = ["cited label 'Sample difficulty in RLVR' does not match the paper's title"]
        anchor.candidates = [MEANT, OTHER]
        written, _ = write_proposals(s, [propose_anchor(anchor_fact(anchor))])
        return anchor.id, written[0]


def test_anchor_proposal_renders_as_an_anchor_change_and_approving_replaces_the_id(bundled_store):
    anchor_id, pid = _propose_replacement(bundled_store)
    at = goto(open_app("alice"), "review")
    text = markdown_text(at)
    assert "Current anchor" in text and "replace the id" in text
    assert "arXiv:2510.13786" in text and "Sample difficulty in RLVR" in text
    assert "arXiv:2605.04444" in text and "When hard prompts teach shortcuts in RLVR" in text
    assert "arXiv:2605.05555" in text  # the ranked alternative is shown too
    assert "No claim yet" not in text and "unreviewed" not in text.lower()
    button(at, f"p{pid}_approve").click().run()
    assert "Approved proposal" in at.success[0].value
    with bundled_store.read() as s:
        row = s.get(Anchor, anchor_id)
        assert (row.arxiv_id, row.cited_label) == ("2605.04444", "Sample difficulty in RLVR")
        assert s.scalar(select(AuditEntry).where(AuditEntry.actor == "alice", AuditEntry.action == "replace"))


def test_claim_page_shows_a_changed_abstract_beside_the_old_one_and_the_citation_provenance(bundled_store):
    import datetime as dt

    from streamlit.testing.v1 import AppTest

    from claims.citations import CitationIn, record_citations
    from claims.models import Claim, Evidence, Paper
    from claims.papers import PaperRecord, upsert_papers
    from tests.ui.test_review_app import APP, TIMEOUT

    with bundled_store.write() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        s.add(Paper(arxiv_id="2601.00077", version=1, title="Routing recovers RL gains",
                    summary="Token routing recovers most RL gains.", published=dt.date(2026, 1, 9)))
        s.flush()
        s.add(Evidence(claim_id=c1.id, paper_id="2601.00077", relevance=0.9, rank=1, method="hybrid",
                       stance="supports", confidence=0.9, judged_by="judge"))
        record_citations(s, [CitationIn("2504.07912", "s2x", "Routing recovers RL gains", "2601.00077")])
        anchor_id = s.scalar(select(Anchor.id).where(Anchor.arxiv_id == "2504.07912"))
        record_anchor_checks(s, [AnchorResult(anchor_id, "mismatch", (Difference(code="date", text=DATE_SAYS),))])
    with bundled_store.write() as s:
        upsert_papers(s, [PaperRecord("2601.00077", "Routing recovers RL gains",
                                      summary="Token routing recovers only a third of RL gains.", version=2)])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = "C1"
    at.run()
    text = markdown_text(goto(at, "claim"))
    assert "Abstract changed in v2 (judged supports on v1)" in text
    assert "Token routing recovers most RL gains." in text and "Token routing recovers only a third of RL gains." in text
    assert "Found through citations: cites arXiv:2504.07912" in text.replace("\u200b", "")
    assert DATE_SAYS in text and "code" not in text  # an anchor's differences shown as sentences
