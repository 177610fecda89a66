"""Claim page: one click marks a candidate relevant or not (audited); the last evaluation's figures."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from claims.models import AuditEntry, Evidence
from tests.ui.test_review_app import APP, TIMEOUT, goto, markdown_text


def test_reviewer_marks_relevance_and_sees_the_last_evaluation(review_store, home: Path) -> None:
    store, _ = review_store
    (home / "eval").mkdir(parents=True, exist_ok=True)
    figures = {m: 0.5 for m in ("recall@10", "recall@20", "recall@50", "precision@10", "mrr", "ap@50", "wss@95")}
    (home / "eval" / "last-search.json").write_text(json.dumps({
        "papers": 159, "labels": 29, "mean": {**figures, "recall@20": 0.87}, "bm25": {**figures, "recall@20": 0.75},
        "claims": {"C1": {**figures, "recall@20": 0.83}}, "feedback": {**figures, "recall@20": 0.93}, "simulate": 10,
        "active": {"mean": {"screened_for_95": 12.6, "wss@95": 0.869}, "static": {"screened_for_95": 28.6, "wss@95": 0.766},
                   "bm25": {"screened_for_95": 55.4, "wss@95": 0.593},
                   "claims": {"C1": {"relevant": 6, "screened_for_95": 16, "wss@95": 0.847}}}}))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = "C1"
    at.run()
    at.text_input(key="reviewer_name_input").input("erin").run()
    goto(at, "claim")
    with store.read() as s:
        eid = s.query(Evidence).filter_by(paper_id="2601.00002").one().id
    at.button(key=f"ev{eid}_irrelevant").click().run()
    assert not at.exception
    with store.read() as s:
        row = s.get(Evidence, eid)
        assert (row.relevance_label, row.labelled_by) == ("irrelevant", "erin")
        assert s.query(AuditEntry).filter_by(action="mark_relevance", actor="erin").count() == 1
    assert "Marked irrelevant by erin" in markdown_text(at)
    assert at.button(key=f"ev{eid}_irrelevant").disabled
    tables = "\n".join(str(t.value) for t in at.table)
    assert "0.87" in tables and "0.75" in tables and "0.93" in tables and "0.83" in tables
    import html

    captions = html.unescape("\n".join(c.value for c in at.caption)).replace("\u200b", "")
    assert "this claim: 16 papers screened for 95% recall, WSS@95 0.847" in captions
    assert "static ranking: 28.6 papers screened" in captions and "BM25: 55.4" in captions


def test_visitor_gets_no_relevance_buttons(review_store) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = "C1"
    at.run()
    goto(at, "claim")
    assert not [b for b in at.button if b.key and b.key.endswith(("_relevant", "_irrelevant"))]
    assert "No evaluation yet" in "\n".join(c.value for c in at.caption)
