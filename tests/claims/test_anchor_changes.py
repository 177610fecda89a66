"""Anchor differences travel as codes: a cited label that says "withdrawn" is still a label difference."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from agent.anchors import check_anchor
from claims.anchor_changes import AnchorChange, Difference
from claims.anchors import AnchorResult, record_anchor_checks
from claims.errors import BadInput
from claims.models import Anchor, Proposal
from claims.papers import PaperRecord
from claims.proposing import propose_anchor_corrections
from claims.review import approve
from claims.store import Store

MEANT = {"id": "2605.04444", "title": "Why withdrawn papers still get cited", "published": "2025-05-06",
         "score": 0.71, "fits": True}
LABEL = "Why withdrawn papers still get cited"


def _propose(store: Store, differences: list) -> Proposal:  # type: ignore[type-arg]
    """Store these differences on the anchor 2510.13786 (with a fitting candidate) and propose."""
    with store.write() as s:
        anchor = s.scalar(select(Anchor).where(Anchor.arxiv_id == "2510.13786"))
        anchor.cited_label = LABEL
        anchor.status, anchor.differences, anchor.candidates = "mismatch", differences, [MEANT]
        anchor.verified_title = "The Art of Scaling Reinforcement Learning Compute for LLMs"
        propose_anchor_corrections(s, ["C1", "C2", "C3", "C4", "C5"])
    with store.read() as s:
        [p] = s.scalars(select(Proposal).where(Proposal.kind == "anchor")).all()
        s.expunge(p)
        return p


def test_a_cited_label_saying_withdrawn_proposes_a_replacement_not_a_withdrawal(bundled_store: Store) -> None:
    paper = PaperRecord("2510.13786", "The Art of Scaling Reinforcement Learning Compute for LLMs",
                        published=dt.date(2025, 10, 15))
    check = check_anchor("2510.13786", LABEL, "2025-10", paper, 0.12, True)
    assert [d.code for d in check.differences] == ["label"] and "withdrawn" in check.differences[0].text
    with bundled_store.write() as s:
        anchor_id = s.scalar(select(Anchor.id).where(Anchor.arxiv_id == "2510.13786"))
        record_anchor_checks(s, [AnchorResult(anchor_id, check.status, tuple(check.differences))])
        assert s.get(Anchor, anchor_id).differences == [{"code": "label", "text": check.differences[0].text}]
    p = _propose(bundled_store, [d.model_dump() for d in check.differences])
    change = AnchorChange.from_payload(p.payload)
    assert (change.kind, change.replace_with) == ("replace", "2605.04444")
    assert change.differences == check.differences
    with bundled_store.write() as s:
        approve(s, p.id, reviewer="ann")
    with bundled_store.read() as s:
        row = s.get(Anchor, anchor_id)
        assert (row.arxiv_id, row.status) == ("2605.04444", "unchecked")


@pytest.mark.parametrize(("stored", "action"), [
    # rows checked before codes were stored hold the sentence alone: read by its opening words
    (f"cited label {LABEL!r} does not match the paper's title 'The Art' (similarity 0.12 < 0.35)", "replace"),
    ("arXiv:2510.13786 v2 is withdrawn: its latest version says so or has no content", "withdrawn"),
])
def test_differences_stored_as_sentences_keep_their_meaning(bundled_store: Store, stored: str, action: str) -> None:
    p = _propose(bundled_store, [stored])
    assert AnchorChange.from_payload(p.payload).kind == action


def test_a_date_only_difference_corrects_the_date_whatever_the_label_says() -> None:
    assert Difference.from_stored("cited date 2026-05 but the first version is dated 2025-10-15").code == "date"
    assert Difference.from_stored(f"the label {LABEL!r} is withdrawn").code == "other"


def test_an_edit_naming_an_unknown_action_is_refused(bundled_store: Store) -> None:
    p = _propose(bundled_store, [{"code": "label", "text": "cited label differs"}])
    with bundled_store.write() as s, pytest.raises(BadInput, match="anchor action 'delete'"):
        approve(s, p.id, reviewer="ann", edits={"action": "delete"})
