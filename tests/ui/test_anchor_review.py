"""The review app shows an anchor proposal as an anchor change, and approving it replaces the id."""

from __future__ import annotations

from sqlalchemy import select

from claims.models import Anchor, AuditEntry
from claims.proposing import anchor_fact, propose_anchor, write_proposals
from tests.ui.test_review_app import button, goto, markdown_text, open_app

MEANT = {"id": "2605.04444", "title": "When hard prompts teach shortcuts in RLVR", "published": "2026-05-06",
         "score": 0.71, "fits": True}
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
