"""Fixtures of the UI tests: the bundled claims plus hand-made evidence, runs and proposals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from claims.models import Claim, Evidence, Paper, Proposal, RetestRun, utcnow
from claims.store import Store

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"

# The shape retest.runner.plot_series stores (docs/retest.md).
METRICS = {
    "k": [1, 2, 4, 8, 16, 32],
    "passk_base": [0.40, 0.55, 0.70, 0.82, 0.91, 0.96],
    "passk_base_low": [0.35, 0.50, 0.65, 0.78, 0.88, 0.94],
    "passk_base_high": [0.45, 0.60, 0.75, 0.86, 0.94, 0.98],
    "passk_rl": [0.78, 0.83, 0.86, 0.88, 0.90, 0.91],
    "passk_rl_low": [0.74, 0.79, 0.82, 0.85, 0.87, 0.88],
    "passk_rl_high": [0.82, 0.87, 0.90, 0.91, 0.93, 0.94],
    "checkpoint_steps": [0, 50, 100, 150],
    "format_shares": {"A": [0.2, 0.45, 0.6, 0.68], "B": [0.3, 0.3, 0.3, 0.3], "C": [0.5, 0.25, 0.1, 0.02],
                      "other": [0.0, 0.0, 0.0, 0.0]},
    "entropy": [0.21, 0.12, 0.07, 0.04],
    "train_steps": [1, 2, 3, 4, 5],
    "train_entropy": [0.22, 0.2, 0.15, 0.1, 0.06],
    "sparsity": {**{f"layer {i}": {"parameters": 1000, "changed_fp32": 0.94, "changed_bf16": 0.70 - 0.05 * i,
                                   "hidden_by_bf16": 0.24 + 0.05 * i} for i in range(4)},
                 "all": {"parameters": 4000, "changed_fp32": 0.94, "changed_bf16": 0.62, "hidden_by_bf16": 0.32}},
}


def seed_review_data(store: Store) -> dict[str, int]:
    """Evidence for C1, a finished retest run, and three pending proposals (ids returned)."""
    now = dt.datetime(2026, 1, 5, 12, 0)
    with store.write() as s:
        c1 = s.query(Claim).filter_by(key="C1").one()
        c3 = s.query(Claim).filter_by(key="C3").one()
        papers = [
            Paper(arxiv_id="2601.00001", title="RL finds new reasoning paths beyond the base model",
                  published=dt.date(2026, 1, 2)),
            Paper(arxiv_id="2601.00002", title="Sharpening, not discovery: a pass@k audit",
                  published=dt.date(2026, 1, 3)),
        ]
        s.add_all(papers)
        s.flush()
        ev_contra = Evidence(claim_id=c1.id, paper_id="2601.00001", relevance=0.81, rank=1, method="dense",
                             stance="contradicts", confidence=0.8, rationale="Reports pass@256 gains after long RL.",
                             quote="ProRL expands the reasoning boundary.", conditions="with KL resets",
                             found_at=utcnow() + dt.timedelta(minutes=5))
        ev_supp = Evidence(claim_id=c1.id, paper_id="2601.00002", relevance=0.64, rank=2, method="dense",
                           stance="supports", confidence=0.7, rationale="Base model wins at large k.",
                           quote="The base model overtakes RL at k=256.", found_at=utcnow() + dt.timedelta(minutes=5))
        s.add_all([ev_contra, ev_supp])
        run = RetestRun(claim_id=c1.id, protocol="passk-boundary", status="succeeded", verdict="consistent",
                        effect_size=-0.05, ci_low=-0.08, ci_high=-0.02, metrics=METRICS,
                        summary="RL raised pass@1 and lowered pass@32.", environment={"torch": "2.13.0", "trl": "1.16.0", "hardware": {"machine": "x86_64", "processor": "x86_64", "cpu_threads": 2, "gpu": None}},
                        started_at=now, finished_at=now + dt.timedelta(seconds=52))
        s.add(run)
        s.flush()
        p_status = Proposal(claim_id=c1.id, inquiry_id=c1.inquiry_id, kind="status", proposed_status="contested",
                            rationale="A newer paper contradicts it.", fingerprint="ui-test-1",
                            created_at=now, evidence=[ev_contra], retest_runs=[run])
        p_text = Proposal(claim_id=c3.id, inquiry_id=c3.inquiry_id, kind="text",
                          proposed_text=c3.text.rstrip(".") + ", at least at small scale.",
                          rationale="Qualify the scale.", fingerprint="ui-test-2", created_at=now + dt.timedelta(minutes=1))
        p_other = Proposal(claim_id=c3.id, inquiry_id=c3.inquiry_id, kind="status", proposed_status="weakened",
                           rationale="Mixed evidence.", fingerprint="ui-test-3", created_at=now + dt.timedelta(minutes=2))
        s.add_all([p_status, p_text, p_other])
        s.flush()
        return {"status": p_status.id, "text": p_text.id, "other": p_other.id}


@pytest.fixture
def app_path() -> Path:
    return APP


@pytest.fixture
def metrics() -> dict:
    return METRICS


@pytest.fixture
def review_store(bundled_store: Store) -> tuple[Store, dict[str, int]]:
    return bundled_store, seed_review_data(bundled_store)


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """st.cache_* live for the process: start each test without the previous test's entries."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
