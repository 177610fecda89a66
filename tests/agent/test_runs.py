"""Run rows (claims.runs): always closed, dead ones marked interrupted, resumed by their key."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

import agent.run
from agent.run import run_agent
from claims.models import AgentRun
from claims.runs import (
    INTERRUPTED,
    ResumeKey,
    RunOutcome,
    RunOwner,
    finish_run,
    mark_dead_runs,
    start_agent_run,
    start_weekly_run,
)
from claims.settings import Settings

KEY = ResumeKey(claim_keys=("C2", "C1"), corpus="/x.jsonl", since=dt.date(2026, 1, 2), request_retests=("C3",))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def add_running(store, owner: dict | None, kind: str = "agent", key: ResumeKey = KEY) -> int:
    counts = {"request": key.to_json()}
    if owner is not None:
        counts["owner"] = owner
    with store.write() as s:  # a row as a run of another process left it
        row = AgentRun(kind=kind, status="running", thread_id=f"t{owner}", counts=counts)
        s.add(row)
        s.flush()
        return row.id


def status(store, run_id: int) -> str:
    with store.read() as s:
        return s.get(AgentRun, run_id).status


def test_resume_key_is_canonical_and_round_trips() -> None:
    assert ResumeKey.from_json(KEY.to_json()) == KEY
    assert KEY == ResumeKey(claim_keys=("C1", "C2"), corpus="/x.jsonl", since=dt.date(2026, 1, 2), request_retests=("C3",))
    assert KEY.to_json() == {"claim_keys": ["C1", "C2"], "corpus": "/x.jsonl", "since": "2026-01-02",
                             "request_retests": ["C3"]}
    assert ResumeKey.from_json({"since": "not a date"}) is None and ResumeKey.from_json(None) is None


def test_only_runs_whose_process_is_gone_are_marked_interrupted(store) -> None:
    me = RunOwner.current().to_json()
    gone = add_running(store, {"pid": dead_pid(), "host": socket.gethostname(), "started": None})
    alive = add_running(store, me)
    elsewhere = add_running(store, {"pid": 1, "host": "another-host", "started": None})
    legacy = add_running(store, None)  # written before owners were recorded
    reused = add_running(store, {**me, "started": (me["started"] or 0) - 1})  # same pid, another process
    with store.write() as s:
        marked = mark_dead_runs(s)
    expected = [gone, legacy] + ([reused] if me["started"] is not None else [])
    assert sorted(marked) == sorted(expected)
    assert [status(store, i) for i in (gone, alive, elsewhere, legacy)] == [INTERRUPTED, "running", "running", INTERRUPTED]
    with store.read() as s:
        assert "ended before finishing" in s.get(AgentRun, gone).errors[-1]


def test_the_newest_interrupted_run_with_the_same_key_is_taken_over(store) -> None:
    killed = add_running(store, {"pid": dead_pid(), "host": socket.gethostname(), "started": None})
    other = start_agent_run(store, ResumeKey(corpus="/other.jsonl"), "rank-only", {})
    assert not other.resumed and other.interrupted == (killed,)  # a run with other options starts afresh
    finish_run(store, other.id, RunOutcome(status="succeeded"))
    again = start_agent_run(store, KEY, "rank-only", {})
    assert not again.resumed  # a finished run came after the interrupted one: not resumed any more

    finish_run(store, again.id, RunOutcome(status=INTERRUPTED))
    resumed = start_agent_run(store, KEY, "judge", {"judge": "m"})
    assert resumed.resumed and resumed.id == again.id and status(store, again.id) == "running"
    with store.read() as s:
        row = s.get(AgentRun, again.id)
        assert row.mode == "judge" and row.counts["owner"]["pid"] == RunOwner.current().pid


def test_a_weekly_run_marks_the_dead_runs_and_finish_keeps_the_request(store) -> None:
    killed = add_running(store, {"pid": dead_pid(), "host": socket.gethostname(), "started": None}, kind="weekly")
    run = start_weekly_run(store, {"max_retests": 0})
    assert run.interrupted == (killed,)
    finish_run(store, run.id, RunOutcome(status="failed", counts={"retests": 0}, errors=["x"]), actor="weekly")
    with store.read() as s:
        row = s.get(AgentRun, run.id)
        assert (row.status, row.errors, row.counts["retests"]) == ("failed", ["x"], 0)
        assert row.counts["owner"]["pid"] == RunOwner.current().pid and row.finished_at is not None
    with pytest.raises(ValueError):
        finish_run(store, run.id, RunOutcome(status="running"))


@pytest.mark.parametrize("raised, expected", [(KeyboardInterrupt, INTERRUPTED), (RuntimeError, "failed")])
def test_run_agent_closes_its_row_when_interrupted_or_crashing(bundled_store, home, monkeypatch, raised, expected):
    def search(*args, **kwargs):
        raise raised("stop")

    monkeypatch.setattr(agent.run, "_search_fn", lambda: search)
    settings = Settings(home=home)
    with pytest.raises(raised):
        run_agent(bundled_store, settings, use_llm=False)
    with bundled_store.read() as s:
        row = s.scalars(select(AgentRun)).one()
        assert row.status == expected and row.finished_at is not None
    if expected == INTERRUPTED:  # Ctrl-C: the next run with the same options takes it over
        monkeypatch.setattr(agent.run, "_search_fn", lambda: (lambda *a, **k: _Empty()))
        monkeypatch.setattr(agent.run, "_anchors_fn", lambda: (lambda *a, **k: []))
        summary = run_agent(bundled_store, settings, use_llm=False)
        assert summary.resumed and summary.agent_run_id == row.id and summary.status == "succeeded"


class _Empty:
    candidates: dict = {}
    new_evidence: dict = {}
    requests = 0
    papers_seen = 0


def test_the_agent_summary_says_rank_only_first(capsys) -> None:
    from agent.cli.agent import print_summary
    from agent.run import AgentSummary

    print_summary(AgentSummary(agent_run_id=1, mode="rank-only", mode_reason="--no-llm given"))
    assert capsys.readouterr().out.splitlines()[0] == "rank only (no LLM judge: --no-llm given)"
    print_summary(AgentSummary(agent_run_id=2, mode="judge", mode_reason="m at url", model="m"))
    assert "rank only" not in capsys.readouterr().out
