"""Claim page: from 10 relevance labels on, an estimate of the relevant papers still unseen (a stopping aid)."""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from claims.models import Claim, Evidence, Paper
from claims.relevance import mark_relevance
from claims.store import Store
from tests.ui.test_review_app import APP, TIMEOUT, goto


def _candidates(store: Store, n: int) -> list[int]:
    """n unjudged candidates of C2, best first."""
    with store.write() as s:
        c2 = s.query(Claim).filter_by(key="C2").one()
        ids = []
        for i in range(n):
            s.add(Paper(arxiv_id=f"2602.{i:05d}", title=f"Candidate paper {i}", published=dt.date(2026, 2, 1)))
            s.flush()
            e = Evidence(claim_id=c2.id, paper_id=f"2602.{i:05d}", relevance=0.6 - i / 100, rank=i + 1, method="hybrid")
            s.add(e)
            s.flush()
            ids.append(e.id)
        return ids


def _label(store: Store, ids: list[int], relevant: list[bool]) -> None:
    for eid, rel in zip(ids, relevant):
        with store.write() as s:
            mark_relevance(s, eid, "relevant" if rel else "irrelevant", "erin")


def _page(at_key: str = "C2") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = at_key
    at.run()
    goto(at, "claim")
    assert not at.exception
    return at


def test_ten_labels_show_how_many_relevant_papers_probably_remain(bundled_store: Store) -> None:
    ids = _candidates(bundled_store, 30)
    _label(bundled_store, ids[:9], [True, True, False, True] + [False] * 5)
    at = _page()
    assert "Still to find" not in "\n".join(i.value for i in at.info)
    assert "9 relevance label(s) so far: from 10 on" in "\n".join(c.value for c in at.caption)

    _label(bundled_store, ids[9:12], [False, False, False])
    at = _page()
    shown = "\n".join(i.value for i in at.info)
    assert "Still to find: about" in shown and "remain unseen among the 18 unlabelled candidates" in shown
    assert "12 relevance labels so far (3 relevant)" in shown and "last 10 labels found 1 relevant" in shown
