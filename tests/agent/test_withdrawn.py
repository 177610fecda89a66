"""An anchor whose newest arXiv version is a withdrawal: a pending proposal flags it."""

from __future__ import annotations

import json

from sqlalchemy import select

from agent.anchors import verify_anchors
from agent.arxiv import is_withdrawn
from claims.models import Anchor, AuditEntry, Paper, Proposal
from claims.proposing import propose_anchor_corrections
from claims.review import approve
from claims.settings import Settings
from claims.store import Store
from tests.agent.arxiv_server import ArxivServer
from tests.conftest import DEMO_CORPUS

DEV = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]


def test_withdrawal_notices_are_recognised() -> None:
    assert is_withdrawn("This paper has been withdrawn by the authors", "A long abstract ...")
    assert is_withdrawn(None, "This paper has been withdrawn due to an error in Section 3.")
    assert is_withdrawn("", "")  # the latest version has no content
    assert not is_withdrawn("12 pages, 4 figures", "We study RL post-training of language models ...")


def test_withdrawn_new_version_of_an_anchor_gives_a_pending_flag(bundled_store: Store, db_url: str) -> None:
    sparse = next(p for p in DEV if p["id"] == "2505.11711")
    withdrawn = {**sparse, "id": "2505.11711v2", "updated": "2026-06-01",
                 "comment": "This paper has been withdrawn by the authors: a bug in the evaluation."}
    papers = [p for p in DEV if p["id"] != "2505.11711"] + [withdrawn]
    with ArxivServer(papers) as server:
        settings = Settings(arxiv_url=server.url, arxiv_delay_seconds=0.01, database_url=db_url)
        checks = {c.arxiv_id: c for c in verify_anchors(bundled_store, settings)}
    check = checks["2505.11711"]
    assert check.status == "mismatch" and check.differences[0].code == "withdrawn" and "v2" in check.differences[0].text
    with bundled_store.write() as s:
        propose_anchor_corrections(s, ["C1", "C2", "C3", "C4", "C5"])
    with bundled_store.read() as s:
        assert s.get(Paper, "2505.11711").version == 2  # the new version is recorded
        [p] = [p for p in s.scalars(select(Proposal).where(Proposal.kind == "anchor", Proposal.state == "pending"))
               if p.payload["arxiv_id"] == "2505.11711"]
        assert p.payload["action"] == "withdrawn" and p.rationale.startswith("Flag anchor arXiv:2505.11711 as withdrawn")
        pid, anchor_id = p.id, p.payload["anchor_id"]
    with bundled_store.write() as s:
        approve(s, pid, reviewer="ann")
    with bundled_store.read() as s:
        assert s.get(Anchor, anchor_id).status == "withdrawn"
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "withdrawn"))
    with ArxivServer(papers) as server:  # checking again keeps the reviewer's verdict
        verify_anchors(bundled_store, Settings(arxiv_url=server.url, arxiv_delay_seconds=0.01, database_url=db_url))
    with bundled_store.read() as s:
        assert s.get(Anchor, anchor_id).status == "withdrawn"


def test_a_new_version_of_confident_evidence_is_fetched_and_sent_back_for_judging(bundled_store: Store,
                                                                                  db_url: str) -> None:
    import datetime as dt

    from claims.models import Claim, Evidence
    from claims.versions import abstract_changes

    with bundled_store.write() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        s.add(Paper(arxiv_id="2601.00088", version=1, title="Routing recovers RL gains",
                    summary="Token routing recovers most RL gains.", published=dt.date(2026, 1, 9)))
        s.flush()
        ev = Evidence(claim_id=c1.id, paper_id="2601.00088", relevance=0.9, rank=1, method="hybrid",
                      stance="contradicts", confidence=0.85, judged_by="judge")
        s.add(ev)
        s.flush()
        ev_id = ev.id
    v2 = {"id": "2601.00088v2", "title": "Routing recovers RL gains", "published": "2026-01-09",
          "updated": "2026-06-02", "summary": "Token routing recovers only a third of RL gains."}
    with ArxivServer(DEV + [v2]) as server:
        verify_anchors(bundled_store, Settings(arxiv_url=server.url, arxiv_delay_seconds=0.01, database_url=db_url))
    with bundled_store.read() as s:
        assert s.get(Paper, "2601.00088").version == 2
        assert s.get(Evidence, ev_id).stance == "unjudged"
        assert abstract_changes(s, ev_id)[0]["old_abstract"] == "Token routing recovers most RL gains."
