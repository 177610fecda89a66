"""A weekly run with forward citations from a loopback Semantic Scholar (and loopback arXiv and judge)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.arxiv_server import ArxivServer
from tests.agent.openai_server import OpenAIServer
from tests.agent.s2_server import S2Server
from tests.conftest import DEMO_CORPUS

pytestmark = pytest.mark.slow

DEV = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]
SPARSE_FOLLOW_UP = {
    "paperId": "s2follow1", "externalIds": {"ArXiv": "2607.20001"}, "publicationDate": "2026-07-10",
    "title": "Sparse subnetworks in RL fine-tuning of language models revisited",
    "abstract": "RL post-training updates only a small sparse subnetwork of parameters; we find the updated "
                "subnetwork is full-rank and that RL mostly suppresses wrong trajectories rather than installing "
                "new capabilities.", "url": "https://www.semanticscholar.org/paper/s2follow1"}
JOURNAL_ONLY = {
    "paperId": "s2doi2", "externalIds": {"DOI": "10.1000/jrl.2026.7"}, "publicationDate": "2026-06-01",
    "title": "A journal note on parameter sparsity under policy gradients", "abstract": "", "url": None}


def test_citing_papers_become_judged_evidence_with_provenance_and_the_report_lists_requests(home: Path) -> None:
    judge = OpenAIServer().start()
    try:
        with ArxivServer(DEV) as arxiv, S2Server({"2505.11711": [SPARSE_FOLLOW_UP, JOURNAL_ONLY]},
                                                 faults=["429"], retry_after=1.0) as s2:
            env = {**os.environ, "CLAIMS_HOME": str(home), "HF_HUB_OFFLINE": "1", "CLAIMS_RETEST_BUDGET": "0",
                   "CLAIMS_ARXIV_URL": arxiv.url, "CLAIMS_ARXIV_DELAY_SECONDS": "0.01",
                   "CLAIMS_S2_CITATIONS": "true", "CLAIMS_S2_URL": s2.url, "CLAIMS_S2_DELAY_SECONDS": "0.01",
                   "CLAIMS_LLM_BASE_URL": judge.base_url, "CLAIMS_LLM_MODEL": "loopback"}
            r = subprocess.run([sys.executable, "-m", "claims", "weekly", "--max-retests", "0", "--no-export",
                                "--format", "json"], capture_output=True, text=True, env=env, timeout=600)
            log = list(s2.log)
    finally:
        judge.stop()
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    requested = report["api_requests"]["semantic_scholar"]
    assert any("-> 429" in line for line in requested) and any("arXiv:2505.11711/citations -> 200" in line for line in requested)
    assert log[1][0] - log[0][0] >= 1.0  # the 429's Retry-After was honoured
    assert "to Semantic Scholar" in next((home / "reports").glob("weekly-*.md")).read_text()
    db = sqlite3.connect(home / "claims.db")
    cites = dict(db.execute("select citing_s2_id, coalesce(citing_arxiv_id, doi) from citations"))
    assert cites == {"s2follow1": "2607.20001", "s2doi2": "10.1000/jrl.2026.7"}  # the DOI-only paper is kept too
    rows = db.execute("select c.key, e.stance, e.judged_by from evidence e join claims c on c.id = e.claim_id "
                      "where e.paper_id = '2607.20001'").fetchall()
    assert rows and any(key == "C2" and stance == "supports" for key, stance, _ in rows)  # ranked and judged
    from claims.citations import provenance
    from claims.store import open_store

    store = open_store(f"sqlite:///{home / 'claims.db'}")
    with store.read() as s:
        assert provenance(s, ["2607.20001"]) == {"2607.20001": ["cites arXiv:2505.11711"]}


def test_semantic_scholar_down_is_said_and_the_run_goes_on(home: Path) -> None:
    with ArxivServer(DEV) as arxiv, S2Server({"2505.11711": [SPARSE_FOLLOW_UP]}, faults=["503"] * 10) as s2:
        env = {**os.environ, "CLAIMS_HOME": str(home), "HF_HUB_OFFLINE": "1", "CLAIMS_RETEST_BUDGET": "0",
               "CLAIMS_ARXIV_URL": arxiv.url, "CLAIMS_ARXIV_DELAY_SECONDS": "0.01", "CLAIMS_S2_CITATIONS": "true",
               "CLAIMS_S2_URL": s2.url, "CLAIMS_S2_DELAY_SECONDS": "0.01", "CLAIMS_S2_RETRIES": "1"}
        r = subprocess.run([sys.executable, "-m", "claims", "weekly", "--no-llm", "--max-retests", "0", "--no-export",
                            "--format", "json"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 1, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert any("Semantic Scholar unavailable" in f and "503" in f for f in report["failures"])
    assert sum(len(v) for v in report["new_evidence"].values()) > 0  # the arXiv papers were still ranked
    assert [line.split(" -> ")[1].split()[0] for line in report["api_requests"]["semantic_scholar"]] == ["503", "503"]
