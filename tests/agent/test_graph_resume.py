"""Kill-and-resume: a run killed midway finishes the rest, judging nothing twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from agent.run import run_agent
from claims.models import AgentRun, Claim, Evidence, Paper, Proposal
from claims.settings import Settings
from tests.agent.openai_server import OpenAIServer, paper_text
from tests.agent.test_graph import newer_contradicts, ranked, ranked_store  # noqa: F401  (fixtures)
from tests.conftest import DEMO_CORPUS, REPO

FAST = 5  # answers before the scripted model stalls

CHILD = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from claims.settings import Settings
from claims.store import open_store
from agent.run import run_agent
settings = Settings()
run_agent(open_store(settings.resolved_database_url), settings, corpus=Path({str(DEMO_CORPUS)!r}))
"""


def judged_rows(store) -> dict[int, object]:
    with store.read() as s:
        return dict(s.execute(select(Evidence.id, Evidence.judged_at).where(Evidence.judged_at.is_not(None))).all())


@pytest.mark.slow
def test_killed_run_resumes_without_duplicate_judgements_or_proposals(ranked_store, home, monkeypatch):
    answered = []

    def stalls_after_five(request):
        answered.append(request)
        reply = newer_contradicts(request)
        if len(answered) > FAST:
            reply.delay = 120.0  # the child is killed while waiting for these
        return reply

    server = OpenAIServer(responder=stalls_after_five).start()
    for key, value in {"CLAIMS_LLM_BASE_URL": server.base_url, "CLAIMS_LLM_MODEL": "fake-judge",
                       "CLAIMS_JUDGE_BUDGET": "15", "CLAIMS_LLM_CONCURRENCY": "2",
                       "CLAIMS_LLM_TIMEOUT_SECONDS": "300", "HF_HUB_OFFLINE": "1"}.items():
        monkeypatch.setenv(key, value)
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, env=os.environ.copy(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(judged_rows(ranked_store)) < FAST and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            time.sleep(0.2)
        first = judged_rows(ranked_store)
        assert len(first) == FAST, "the child judged some papers before it was killed"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    with ranked_store.read() as s:
        killed = s.scalars(select(AgentRun).where(AgentRun.status == "running")).one()

    server.responder = newer_contradicts  # the model answers quickly again
    before = len(server.requests)
    summary = run_agent(ranked_store, Settings(), corpus=DEMO_CORPUS)
    server.stop()

    assert summary.resumed and summary.agent_run_id == killed.id
    assert summary.status == "succeeded" and summary.claims_checked == 5
    after = judged_rows(ranked_store)
    assert len(after) == 15  # the budget: 15 judgements, 3 a claim (round-robin)
    assert all(after[i] == first[i] for i in first)  # judged before the kill: untouched
    with ranked_store.read() as s:
        pairs = {(text, title): eid for eid, text, title in s.execute(
            select(Evidence.id, Claim.text, Paper.title).join(Claim, Claim.id == Evidence.claim_id)
            .join(Paper, Paper.arxiv_id == Evidence.paper_id))}
        assert s.scalar(select(func.count()).select_from(AgentRun).where(AgentRun.kind == "agent")) == 2
        fingerprints = list(s.scalars(select(Proposal.fingerprint)))
        assert fingerprints and len(fingerprints) == len(set(fingerprints))
    resent = []
    for r in server.requests[before:]:
        user = r["messages"][1]["content"]
        claim = re.search(r"Claim \(as of [^)]*\): (.*?)\n\n<paper>", user, re.S).group(1)
        title = re.search(r"Title: (.*)\n", paper_text(r)).group(1)
        resent.append(pairs[(claim, title)])
    assert resent and not set(resent) & set(first)  # nothing judged twice

    third = run_agent(ranked_store, Settings(), corpus=DEMO_CORPUS)
    assert third.proposals_written == [] and not third.resumed
