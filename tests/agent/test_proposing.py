"""Proposal rules (pure) and the deduplicating writer (real SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from claims.models import Anchor, AuditEntry, Claim, Evidence, Paper, Proposal
from claims.anchor_changes import AnchorCandidate, Difference
from claims.anchor_rules import AnchorFact, propose_anchor
from claims.proposing import claim_facts, write_proposals
from claims.retests import RunStrength
from claims.status_rules import ClaimFacts, EvidenceFact, RunFact, propose_status
from claims.strength import assess_strength

START, AS_OF = dt.date(2025, 1, 1), dt.date(2025, 12, 31)  # "~2025"
NEW, INSIDE, OLD = dt.date(2026, 3, 1), dt.date(2025, 6, 1), dt.date(2024, 6, 1)
CLAIM = ClaimFacts("C1", "unreviewed", START, AS_OF)


def ev(i: int, stance: str, conf: float | None = 0.9, published: dt.date | None = NEW) -> EvidenceFact:
    return EvidenceFact(i, f"2601.{i:05d}", stance, conf, published)


STRONG = RunStrength(preset="standard", rl_seeds=(0, 1, 2), pretrain_seeds=(0, 1), interval="seeds",
                     interval_spans_seeds=True)


REPLICA = STRONG.model_copy(update=dict(rl_seeds=(3, 4, 5), pretrain_seeds=(2, 3)))  # new seeds (claims.replication)


def run(i: int, verdict: str, strength: RunStrength = STRONG, protocol: str = "passk-boundary") -> RunFact:
    return RunFact(i, protocol, verdict, dt.datetime(2026, 1, i + 1), strength)


def pair(verdict: str) -> list[RunFact]:
    """A strong run and its replication on new pretraining and RL seeds."""
    return [run(1, verdict), run(2, verdict, REPLICA)]


def test_one_confident_newer_contradiction_proposes_contested():
    d = propose_status(CLAIM, [ev(1, "contradicts")], [])
    assert d.proposed_status == "contested" and d.evidence_ids == (1,)
    assert "2601.00001 (0.90)" in d.rationale


def test_older_or_unsure_contradictions_propose_nothing():
    assert propose_status(CLAIM, [ev(1, "contradicts", published=OLD), ev(2, "contradicts", 0.5)], []) is None


def test_three_contradictions_weaken_and_with_a_failed_retest_overturn():
    three = [ev(i, "contradicts") for i in (1, 2, 3)]
    assert propose_status(CLAIM, three, []).proposed_status == "weakened"
    assert propose_status(CLAIM, three, [run(1, "inconsistent")]).proposed_status == "weakened"  # not replicated
    d = propose_status(CLAIM, three, pair("inconsistent"))
    assert d.proposed_status == "overturned" and d.run_ids == (1, 2)


def test_a_toy_world_result_alone_proposes_at_most_contested_and_only_once_replicated():
    assert propose_status(CLAIM, [], [run(1, "inconsistent")]) is None  # one run: nothing
    d = propose_status(CLAIM, [], pair("inconsistent"))
    assert d.proposed_status == "contested" and d.run_ids == (1, 2) and "replicated by run 1" in d.rationale
    d = propose_status(CLAIM, [ev(9, "contradicts")], pair("inconsistent"))  # a paper pointing the same way
    assert d.proposed_status == "weakened" and d.run_ids == (1, 2) and d.evidence_ids == (9,)
    d = propose_status(CLAIM, [ev(9, "contradicts")], [run(1, "inconsistent")])  # the paper alone counts
    assert d.proposed_status == "contested" and d.run_ids == () and "retests not counted" in d.rationale
    overlap = REPLICA.model_copy(update=dict(rl_seeds=(2, 3, 4)))  # shares RL seed 2: not a replication
    assert propose_status(CLAIM, [], [run(1, "inconsistent"), run(2, "inconsistent", overlap)]) is None


WEAK = [
    ("smoke", STRONG.model_copy(update=dict(preset="smoke")), "smoke (plumbing check)"),
    ("two RL seeds", STRONG.model_copy(update=dict(rl_seeds=(0, 1))), "2 RL seed(s), fewer than 3"),
    ("one prior", STRONG.model_copy(update=dict(pretrain_seeds=(0,))), "1 pretraining seed(s), fewer than 2"),
    ("interval over problems", STRONG.model_copy(update=dict(interval="problems (bootstrap, single seed)", interval_spans_seeds=False)),
     "does not span seeds"),
    ("ceiling", STRONG.model_copy(update=dict(flags=("ceiling: base pass@32 is 1.00",))), "validity flags: ceiling"),
]


@pytest.mark.parametrize("name,strength,why", WEAK, ids=[w[0] for w in WEAK])
def test_weak_runs_never_propose(name: str, strength: RunStrength, why: str):
    ok, reason = assess_strength(strength)
    assert not ok and why in reason
    moved = strength.model_copy(update=dict(rl_seeds=tuple(x + 10 for x in strength.rl_seeds),
                                            pretrain_seeds=tuple(x + 10 for x in strength.pretrain_seeds)))
    for verdict in ("inconsistent", "consistent"):  # a weak run never counts, even "replicated"
        assert propose_status(CLAIM, [], [run(1, verdict, strength)]) is None
        assert propose_status(CLAIM, [], [run(1, verdict, strength), run(2, verdict, moved)]) is None
        assert propose_status(CLAIM, [], [run(1, verdict, strength), run(2, verdict, REPLICA)]) is None
    assert assess_strength(STRONG) == (True, "preset standard, 3 RL seeds, 2 pretraining seeds, interval over seeds, "
                                             "no validity flags")


def test_only_the_latest_strong_run_counts():
    later = REPLICA.model_copy(update=dict(rl_seeds=(6, 7, 8), pretrain_seeds=(4, 5)))
    assert propose_status(CLAIM, [], [*pair("inconsistent"), run(3, "consistent", later)]) is None
    # a strong run in between that says otherwise breaks the replication
    assert propose_status(CLAIM, [], [run(1, "inconsistent"), run(2, "consistent", REPLICA),
                                      run(3, "inconsistent", later)]) is None
    # a later smoke run does not hide the replicated pair
    smoke = RunStrength(preset="smoke", rl_seeds=(0,), pretrain_seeds=(0,))
    assert propose_status(CLAIM, [], [*pair("inconsistent"), run(3, "consistent", smoke)]).proposed_status == "contested"


def test_support_proposes_holds_only_for_unreviewed_claims():
    d = propose_status(CLAIM, [ev(1, "supports"), ev(2, "unjudged")], [])
    assert d.proposed_status == "holds" and d.evidence_ids == (1,)
    assert propose_status(ClaimFacts("C1", "contested", START, AS_OF), [ev(1, "supports")], []) is None
    assert propose_status(CLAIM, [ev(1, "supports"), ev(2, "contradicts", 0.3)], []) is None


def test_unjudged_and_failed_evidence_propose_nothing():
    assert propose_status(CLAIM, [ev(1, "unjudged", None), ev(2, "failed", None)], []) is None


def test_anchor_mismatch_proposes_the_verified_date_at_cited_precision():
    a = AnchorFact(7, "2510.13786", "mismatch", (Difference(code="date", text="cited date 2026-05 but first version 2025-10-15"),),
                   "Sample difficulty in RLVR", "2026-05", "Some real title", dt.date(2025, 10, 15))
    d = propose_anchor(a)
    assert d.kind == "anchor"
    assert d.payload["anchor_id"] == 7 and d.payload["cited_date"] == "2025-10"
    assert "cited_label" not in d.payload  # the check only reported the date
    assert propose_anchor(AnchorFact(7, "x", "verified", (), "l", "2025", "t", dt.date(2025, 1, 1))) is None


stance_st = st.sampled_from(["unjudged", "supports", "contradicts", "refines", "unrelated", "failed"])
evidence_st = st.lists(
    st.builds(ev, st.integers(1, 50), stance_st, st.one_of(st.none(), st.floats(0, 1)),
              st.sampled_from([None, OLD, INSIDE, NEW])),
    max_size=10,
    unique_by=lambda e: e.id,
)
runs_st = st.lists(st.builds(run, st.integers(1, 20), st.sampled_from(["consistent", "inconsistent", "inconclusive"])),
                  max_size=4, unique_by=lambda r: r.id)
status_st = st.sampled_from(["unreviewed", "holds", "contested", "weakened", "overturned", "superseded"])


@given(status_st, evidence_st, runs_st)
def test_rules_only_escalate_and_fingerprints_are_stable(status, evidence, runs):
    claim = ClaimFacts("C1", status, START, AS_OF)
    d = propose_status(claim, evidence, runs)
    if d is None:
        return
    order = ["holds", "contested", "weakened", "overturned"]
    if d.proposed_status == "holds":
        assert status == "unreviewed"
    else:
        assert status in ("unreviewed", "holds") or order.index(d.proposed_status) > order.index(status)
    assert d.rationale and (d.evidence_ids or d.run_ids)
    assert d.fingerprint == propose_status(claim, list(reversed(evidence)), list(reversed(runs))).fingerprint


@given(evidence_st)
def test_unjudged_evidence_alone_never_proposes(evidence):
    unjudged = [EvidenceFact(e.id, e.paper_id, "unjudged", None, e.published) for e in evidence]
    assert propose_status(CLAIM, unjudged, []) is None


def add_evidence(session, claim: Claim, paper_id: str, stance: str, conf: float, published: dt.date) -> Evidence:
    if session.get(Paper, paper_id) is None:
        session.add(Paper(arxiv_id=paper_id, title=f"paper {paper_id}", published=published))
    e = Evidence(claim_id=claim.id, paper_id=paper_id, relevance=0.5, rank=1, method="dense",
                 stance=stance, confidence=conf)
    session.add(e)
    session.flush()
    return e


def test_writer_links_evidence_audits_and_never_repeats_a_finding(bundled_store):
    with bundled_store.write() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C1"))
        future = claim.as_of_end + dt.timedelta(days=30)
        e = add_evidence(s, claim, "2699.00001", "contradicts", 0.9, future)
        draft = propose_status(*claim_facts(s, claim))
        written, skipped = write_proposals(s, [draft])
    assert draft.proposed_status == "contested" and len(written) == 1 and not skipped
    with bundled_store.read() as s:
        p = s.get(Proposal, written[0])
        assert (p.state, p.created_by, p.kind) == ("pending", "agent", "status")
        assert [x.id for x in p.evidence] == [e.id]
        assert s.scalar(select(Claim.status).where(Claim.key == "C1")) == "unreviewed"
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor == "agent", AuditEntry.entity_id == str(p.id))) == 1
    # the same finding again, even after a rejection, writes nothing
    with bundled_store.write() as s:
        s.get(Proposal, written[0]).state = "rejected"
    with bundled_store.write() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C1"))
        again, skipped = write_proposals(s, [propose_status(*claim_facts(s, claim))])
    assert again == [] and "already proposed" in skipped[0]


def test_writer_writes_anchor_replacements_the_review_service_can_apply(bundled_store):
    """A label that names another paper: the id is replaced (label kept), never relabelled with the wrong title."""
    fits = AnchorCandidate(id="2605.00001", title="Meant", published="2025-05-02", score=0.8, fits=True)
    with bundled_store.write() as s:
        anchor = s.scalars(select(Anchor)).first()
        label, old_id = anchor.cited_label, anchor.arxiv_id
        label_differs = Difference(code="label", text="cited label does not match the paper's title")
        fact = AnchorFact(anchor.id, anchor.arxiv_id, "mismatch", (label_differs,),
                          anchor.cited_label, anchor.cited_date, "The Wrong Paper", None, (fits,))
        written, _ = write_proposals(s, [propose_anchor(fact)])
        second, skipped = write_proposals(s, [propose_anchor(fact)])
    assert len(written) == 1 and second == []
    with bundled_store.read() as s:
        p = s.get(Proposal, written[0])
        assert p.payload["anchor_id"] == anchor.id and p.payload["action"] == "replace"
        assert p.payload["replace_with"] == "2605.00001" and "cited_label" not in p.payload
        assert p.inquiry_id == anchor.inquiry_id
    from claims.review import approve

    with bundled_store.write() as s:
        approve(s, written[0], reviewer="ann")
    with bundled_store.read() as s:
        row = s.get(Anchor, anchor.id)
        assert (row.arxiv_id, row.cited_label, row.status) == ("2605.00001", label, "unchecked")
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "replace")).one()
        assert entry.details["old_id"] == old_id and entry.details["new_id"] == "2605.00001"
