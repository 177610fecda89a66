"""A new version with a changed abstract: machine stances go back to unjudged; reviewed ones stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from claims.models import Claim, Evidence, Paper
from claims.papers import PaperRecord, upsert_papers
from claims.store import Store
from claims.versions import abstract_changes

OLD = "RL updates a sparse subnetwork of parameters."
NEW = "We retract the sparsity finding: with bf16 accounting most parameters change."


def _seed(store: Store) -> tuple[int, int]:
    with store.write() as s:
        c1, c2 = (s.scalar(select(Claim).where(Claim.key == k)) for k in ("C1", "C2"))
        s.add(Paper(arxiv_id="2601.00009", version=1, title="Sparse updates", summary=OLD, published=dt.date(2026, 1, 2)))
        s.flush()
        machine = Evidence(claim_id=c2.id, paper_id="2601.00009", relevance=0.7, rank=1, method="hybrid",
                           stance="supports", confidence=0.9, judged_by="judge-model")
        reviewed = Evidence(claim_id=c1.id, paper_id="2601.00009", relevance=0.5, rank=3, method="hybrid",
                            stance="refines", confidence=0.8, stance_reviewed_by="ann")
        s.add_all([machine, reviewed])
        s.flush()
        return machine.id, reviewed.id


def test_a_changed_abstract_sends_machine_stances_back_and_keeps_both_texts(bundled_store: Store) -> None:
    machine, reviewed = _seed(bundled_store)
    with bundled_store.write() as s:
        upsert_papers(s, [PaperRecord("2601.00009", "Sparse updates", summary=NEW, version=2)])
    with bundled_store.read() as s:
        m, r = s.get(Evidence, machine), s.get(Evidence, reviewed)
        assert (m.stance, m.confidence) == ("unjudged", None) and "was supports on v1" in m.rationale
        assert (r.stance, r.stance_reviewed_by) == ("refines", "ann")  # a reviewer's stance is kept
        [change] = abstract_changes(s, machine)
        assert (change["old_abstract"], change["new_abstract"], change["old_stance"]) == (OLD, NEW, "supports")
        assert abstract_changes(s, reviewed)[0]["kept_by_reviewer"] == "ann"


def test_same_abstract_or_same_version_changes_nothing(bundled_store: Store) -> None:
    machine, _ = _seed(bundled_store)
    with bundled_store.write() as s:
        upsert_papers(s, [PaperRecord("2601.00009", "Sparse updates, v2 title", summary=OLD, version=2)])
        upsert_papers(s, [PaperRecord("2601.00009", "Sparse updates", summary=NEW, version=2)])
    with bundled_store.read() as s:
        assert s.get(Evidence, machine).stance == "supports" and abstract_changes(s, machine) == []
