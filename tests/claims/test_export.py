"""The refreshed research prompt: golden file on a fixed database, trimming, changes."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from claims.document import parse_document
from claims.export import build_export, record_export, render_export, render_markdown
from claims.importer import bundled_path, import_bundled
from claims.models import Anchor, Claim, Evidence, Paper, Proposal, RetestRun
from claims.review import approve

GOLDEN = Path(__file__).parent / "golden"
T0 = dt.datetime(2026, 11, 2, 6, 0)


def fixed_database(store):
    """The bundled document plus fixed evidence, a retest, a verified and a wrong anchor, one approval."""
    import_bundled(store)
    with store.write() as s:
        claims = {c.key: c for c in s.scalars(select(Claim))}
        for c in claims.values():
            c.last_checked_at = T0
        papers = [
            Paper(arxiv_id="2509.21128", title="RL Squeezes, SFT Expands", published=dt.date(2026, 1, 12), summary="..."),
            Paper(arxiv_id="2510.01180", title="BroRL: Scaling Reinforcement Learning via Broadened Exploration",
                  published=dt.date(2026, 2, 3), summary="..."),  # newer than the ~2025 claims
            Paper(arxiv_id="2301.00001", title="An old paper", published=dt.date(2023, 1, 5), summary="..."),
        ]
        s.add_all(papers)
        s.flush()
        s.add_all([
            Evidence(claim_id=claims["C3"].id, paper_id="2509.21128", relevance=0.61, rank=1, method="hybrid",
                     stance="supports", confidence=0.8, rationale="diversity shrinks under RL", found_at=T0),
            Evidence(claim_id=claims["C1"].id, paper_id="2510.01180", relevance=0.52, rank=1, method="hybrid",
                     stance="contradicts", confidence=0.9, rationale="broadened exploration expands reach", found_at=T0,
                     stance_reviewed_by="alice"),
            Evidence(claim_id=claims["C1"].id, paper_id="2509.21128", relevance=0.40, rank=2, method="hybrid", found_at=T0),
            Evidence(claim_id=claims["C1"].id, paper_id="2301.00001", relevance=0.70, rank=3, method="hybrid", found_at=T0),
        ])
        s.add(RetestRun(claim_id=claims["C2"].id, protocol="update-sparsity", preset="smoke", status="succeeded",
                        verdict="inconsistent", effect_size=0.92, ci_low=0.90, ci_high=0.94, started_at=T0, finished_at=T0,
                        summary="Toy-world result: 92% of weights changed."))
        claims["C2"].last_retested_at = T0
        anchors = {a.arxiv_id: a for a in s.scalars(select(Anchor))}
        anchors["2505.11711"].status, anchors["2505.11711"].verified_title = "verified", "Reinforcement Learning Finetunes Small Subnetworks in Large Language Models"
        anchors["2505.11711"].verified_published = dt.date(2025, 5, 16)
        anchors["2510.13786"].status = "mismatch"
        anchors["2510.13786"].differences = ["cited date 2026-05 but the first version is dated 2025-10-15"]
        s.add(Proposal(claim_id=claims["C1"].id, kind="status", proposed_status="contested", fingerprint="golden", rationale="x"))
    with store.write() as s:
        pid = s.scalar(select(Proposal.id))
        approve(s, pid, "alice", "checked")
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        c1.status_since = T0


def test_export_matches_the_golden_file(store):
    fixed_database(store)
    with store.read() as s:
        text = render_export(s, "markdown")
        again = render_export(s, "markdown")
    assert text == again  # deterministic
    golden = GOLDEN / "export.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_export_reproduces_the_document_before_any_review(store):
    import_bundled(store)
    doc = parse_document(bundled_path().read_text())
    with store.read() as s:
        text = render_export(s)
    for f in doc.findings:
        assert f"{f.text} ({f.as_of.raw})" in text
    for a in doc.anchors:
        assert f"arXiv:{a.arxiv_id} ({a.cited_date})" in text and a.cited_label in text
    assert doc.prompt_role in text and "Your task:" in text


def test_overturned_claims_are_presented_as_settled(store):
    fixed_database(store)
    with store.write() as s:
        s.add(Proposal(claim_id=s.scalar(select(Claim.id).where(Claim.key == "C4")), kind="status",
                       proposed_status="overturned", fingerprint="o", rationale="x"))
    with store.write() as s:
        approve(s, s.scalar(select(Proposal.id).where(Proposal.fingerprint == "o")), "bob")
        text = render_export(s)
    assert "[OVERTURNED] MCTS-based" in text and "C4 are already overturned" in text


def test_max_tokens_trims_least_important_evidence_and_says_so(store):
    fixed_database(store)
    with store.read() as s:
        full = build_export(s)
        size = len(render_markdown(full)) // 4
        trimmed = build_export(s, max_tokens=size - 20)
    assert trimmed["trimmed"] and trimmed["trimmed"][0].startswith("C3: arXiv:2509.21128 (unreviewed)")
    text = render_markdown(trimmed)
    assert "Trimmed to fit the token budget" in text
    assert "arXiv:2510.01180" in text  # the confident contradiction stays


def test_changes_since_previous_export(store):
    fixed_database(store)
    with store.write() as s:
        first = build_export(s)
        assert first["changes"] == ["first export of this inquiry"]
        assert record_export(s, first) is True
        assert record_export(s, build_export(s)) is False  # unchanged: not recorded twice
    with store.write() as s:
        c5 = s.scalar(select(Claim).where(Claim.key == "C5"))
        s.add(Paper(arxiv_id="2601.00002", title="A new contradiction", published=dt.date(2027, 1, 1)))
        s.flush()
        s.add(Evidence(claim_id=c5.id, paper_id="2601.00002", relevance=0.5, rank=1, method="dense", stance="contradicts", confidence=0.8))
    with store.read() as s:
        data = json.loads(render_export(s, "json"))
        again = json.loads(render_export(s, "json"))
    assert data == again
    assert "C5: new evidence arXiv:2601.00002" in data["changes"]


def test_since_filters_evidence_by_publication(store):
    fixed_database(store)
    with store.read() as s:
        data = build_export(s, since=dt.date(2026, 2, 1))
    ids = {e["id"] for c in data["claims"] for e in c["evidence"]}
    assert ids == {"2510.01180"}


def many_evidence(store):
    """The fixed database plus 16 new papers over all claims, of every stance and a spread of relevance."""
    fixed_database(store)
    stances = ["unjudged", "supports", "contradicts", "refines"]
    with store.write() as s:
        claims = {c.key: c for c in s.scalars(select(Claim))}
        for i in range(16):
            pid = f"2701.{i:05d}"
            s.add(Paper(arxiv_id=pid, title=f"Paper {i}: reinforcement learning, search and the base model prior",
                        published=dt.date(2027, 1, 1 + i), summary="..."))
            s.flush()
            stance = stances[i % 4]
            s.add(Evidence(claim_id=claims[f"C{1 + i % 5}"].id, paper_id=pid, relevance=0.2 + 0.037 * i, rank=i + 1,
                           method="dense", stance=stance, confidence=None if stance == "unjudged" else 0.5 + 0.025 * i,
                           rationale=f"reason {i}", found_at=T0,
                           stance_reviewed_by="bob" if stance != "unjudged" and i % 3 else None))


def evidence_of(data):
    return {(c["key"], e["id"]): e for c in data["claims"] for e in c["evidence"]}


def before_last_trim(full, data):
    """The export as it was just before the last item was trimmed."""
    import copy
    import re

    prev = copy.deepcopy(full)
    prev["trimmed"] = data["trimmed"][:-1]
    gone = {tuple(re.match(r"(C\d+): arXiv:(\S+) ", t).groups()) for t in prev["trimmed"]}
    for c in prev["claims"]:
        c["evidence"] = [e for e in c["evidence"] if (c["key"], e["id"]) not in gone]
    return prev


def test_trimming_fits_the_budget_and_drops_the_least_important_first(store):
    """Fails if trimming ignores the budget, trims too much, or trims in the wrong order."""
    import copy

    from claims.export import estimate_tokens

    many_evidence(store)
    with store.read() as s:
        full = build_export(s)
        items = evidence_of(full)
        assert len(items) >= 12
        bare = copy.deepcopy(full)  # the least the export can be: every evidence item trimmed
        bare["trimmed"] = [f"{k}: arXiv:{i} ({e['stance'] or 'unreviewed'})" for (k, i), e in items.items()]
        for c in bare["claims"]:
            c["evidence"] = []
        floor, top = estimate_tokens(render_markdown(bare)), estimate_tokens(render_markdown(full))
        assert top - floor > 200
        results = {budget: build_export(s, max_tokens=budget) for budget in range(floor, top + 1, (top - floor) // 7)}
        assert build_export(s, max_tokens=top)["trimmed"] == []  # a budget that fits trims nothing
    counts = set()
    for budget, data in results.items():
        assert estimate_tokens(render_markdown(data)) <= budget, budget
        kept = evidence_of(data)
        dropped = set(items) - set(kept)
        assert len(data["trimmed"]) == len(dropped)
        counts.add(len(dropped))
        if dropped and kept:  # least important first: nothing kept ranks below anything dropped
            assert max(items[d]["importance"] for d in dropped) <= min(e["importance"] for e in kept.values())
        if dropped:  # and no more than needed: one item fewer trimmed would not fit
            assert estimate_tokens(render_markdown(before_last_trim(full, data))) > budget
    assert len(counts) >= 4, "the budgets trim different amounts"


@pytest.mark.parametrize("budget", [0, -1])
def test_a_budget_below_one_token_is_bad_input(store, budget, home):
    import subprocess
    import sys

    from claims.errors import BadInput

    fixed_database(store)
    with store.read() as s, pytest.raises(BadInput, match="at least 1"):
        build_export(s, max_tokens=budget)
    r = subprocess.run([sys.executable, "-m", "claims", "export", "--max-tokens", str(budget)], capture_output=True,
                       text=True, env={**os.environ, "CLAIMS_HOME": str(home)}, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
