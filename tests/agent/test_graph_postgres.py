"""The agent on PostgreSQL: the Postgres checkpointer, the same outcomes as on SQLite."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import func, select, text

import agent.run
from agent.run import run_agent
from claims.models import AgentRun, Claim, Evidence, Paper, Proposal
from claims.settings import Settings
from claims.window import place_in_window
from tests.agent.openai_server import OpenAIServer
from tests.agent.test_graph import newer_contradicts

pytestmark = pytest.mark.postgres

PUBLISHED = dt.date(2026, 2, 1)
PAPERS = [
    ("2601.00011", "Newer work one", "RL expands what the base model can reach. We show it at scale."),
    ("2602.00022", "Newer work two", "Pass@k of the RL model exceeds the base model. This holds for 7B models."),
    ("2603.00033", "Newer work three", "We find dense parameter updates under RL. Sparsity is a bf16 artefact."),
]


class _Report:
    def __init__(self, candidates):
        self.candidates, self.new_evidence, self.requests, self.papers_seen = candidates, {}, 0, len(PAPERS)


def fake_search(store, settings, claim_keys=None, agent_run_id=None, **_):
    """Three candidates per claim (a stand-in for the embedding search, which has its own tests)."""
    with store.write() as s:
        for arxiv_id, title, summary in PAPERS:
            if s.get(Paper, arxiv_id) is None:
                s.add(Paper(arxiv_id=arxiv_id, title=title, summary=summary, published=PUBLISHED))
        s.flush()
        candidates = {}
        for claim in s.scalars(select(Claim).where(Claim.key.in_(claim_keys))):
            for rank, (arxiv_id, _, _) in enumerate(PAPERS, 1):
                if s.scalar(select(Evidence.id).where(Evidence.claim_id == claim.id, Evidence.paper_id == arxiv_id)):
                    continue
                s.add(Evidence(claim_id=claim.id, paper_id=arxiv_id, relevance=1 - rank / 10, rank=rank,
                               method="dense", agent_run_id=agent_run_id))
            candidates[claim.key] = PAPERS
    return _Report(candidates)


@pytest.fixture
def pg_store():
    url = os.environ.get("CLAIMS_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs CLAIMS_TEST_POSTGRES_URL (set by .ci/run)")
    from claims.importer import import_bundled
    from tests.conftest import _postgres_store

    store = _postgres_store(url)
    import_bundled(store)
    yield store
    store.dispose()


def test_agent_on_postgres_checkpoints_there_and_does_not_repeat_itself(pg_store, home, monkeypatch):
    monkeypatch.setattr(agent.run, "_search_fn", lambda: fake_search)
    monkeypatch.setattr(agent.run, "_anchors_fn", lambda: (lambda *a, **k: []))
    server = OpenAIServer(responder=newer_contradicts).start()
    settings = Settings(home=home, llm_base_url=server.base_url, llm_model="fake-judge")
    try:
        first = run_agent(pg_store, settings)
        second = run_agent(pg_store, settings)
    finally:
        server.stop()
    assert first.mode == "judge" and first.papers_judged == 15 and first.status == "succeeded"
    assert first.proposals_written and second.proposals_written == [] and second.papers_judged == 0
    with pg_store.read() as s:  # the papers (Feb 2026) are newer than some claims, inside others' window
        expected = {c.id: "contested" if place_in_window(PUBLISHED, c.as_of_start, c.as_of_end) == "inside"
                    else "weakened" for c in s.scalars(select(Claim))}
        proposals = s.scalars(select(Proposal).where(Proposal.kind == "status")).all()
        assert proposals and {p.proposed_status for p in proposals} <= {"weakened", "contested"}
        assert all(p.proposed_status == expected[p.claim_id] for p in proposals)
        assert s.scalar(select(func.count()).select_from(AgentRun).where(AgentRun.status == "succeeded")) == 2
        threads = set(s.scalars(text("SELECT DISTINCT thread_id FROM checkpoints")))
    assert {first.thread_id, second.thread_id} <= threads
    assert not (home / "agent-checkpoints.sqlite").exists()
