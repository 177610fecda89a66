"""The weekly job WITH retests (smoke preset, CPU): results stored and linked, Ctrl-C stops the loop.

A module fixture trains the smoke base model and GRPO run once; tests that want the
retests to be quick copy that cache into their home. The Ctrl-C test starts cold, so
that the retest is still pretraining when the signal arrives.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claims.models import VERDICTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> Path:
    """The run's shared smoke cache after passk-boundary and update-sparsity ran on it (the base
    model, the shared GRPO run, C2's sweep): the weekly runs below copy it and train nothing new."""
    from retest.runner import run_protocol

    folder = tmp_path_factory.mktemp("warm")
    for name in ("passk-boundary", "update-sparsity"):
        result = run_protocol(name, "smoke", cache_dir=smoke_cache, artifacts_dir=folder / "artifacts")
        assert result.status == "succeeded", result.log[-3000:]
    return smoke_cache


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {**os.environ, "CLAIMS_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def warm(home: Path, cache: Path) -> None:
    from claims.settings import Settings

    shutil.copytree(cache, Settings(home=home).retest_cache_dir)


def rows(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "claims.db") as db:
        return db.execute(sql).fetchall()


WEEKLY = [sys.executable, "-m", "claims", "weekly", "--no-llm", "--corpus", "demo", "--retest-preset", "smoke",
          "--format", "json"]


def test_weekly_runs_the_queued_retests_and_links_each_plan_to_its_claims_run(env, home, warm_cache):
    warm(home, warm_cache)
    done = subprocess.run([*WEEKLY, "--max-retests", "2"], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    # budget 2 (CLAIMS_RETEST_BUDGET): the agent queued C1 and C2, never run before
    assert [(r["claim"], r["protocol"], r["status"]) for r in report["retests"]] == [
        ("C1", "passk-boundary", "succeeded"), ("C2", "update-sparsity", "succeeded")]
    assert all(r["verdict"] in VERDICTS and r["effect_size"] is not None for r in report["retests"])
    assert report["status"] == "succeeded" and report["exit_code"] == 0
    assert report["judge_status"] == "rank only (no LLM judge: --no-llm given)"
    md = next((home / "reports").glob("weekly-*.md"))
    text = md.read_text()
    assert "> **rank only (no LLM judge: --no-llm given)**" in text.splitlines()[2]
    assert "- C1 `passk-boundary` (smoke (plumbing check)): succeeded, verdict **" in text
    assert "not evidence for a proposal: preset smoke (plumbing check)" in text
    assert all(r["may_propose"] is False for r in report["retests"])
    # a smoke run is a plumbing check: whatever its verdict, no status proposal rests on it
    assert rows(home, "SELECT count(*) FROM proposal_retest_runs") == [(0,)]
    strength = rows(home, "SELECT strength FROM retest_runs ORDER BY id")
    assert [json.loads(s)["preset"] for (s,) in strength] == ["smoke", "smoke"]
    assert all(json.loads(s)["rl_seeds"] == [0] and json.loads(s)["pretrain_seeds"] == [0] for (s,) in strength)
    linked = rows(home, "SELECT c.key, p.protocol, r.protocol, rc.key, r.status, r.reason FROM retest_plans p "
                        "JOIN claims c ON c.id = p.claim_id JOIN retest_runs r ON r.id = p.retest_run_id "
                        "JOIN claims rc ON rc.id = r.claim_id WHERE p.decision = 'queue' ORDER BY c.key")
    assert [row[:5] for row in linked] == [("C1", "passk-boundary", "passk-boundary", "C1", "succeeded"),
                                           ("C2", "update-sparsity", "update-sparsity", "C2", "succeeded")]
    assert all("planned by the agent (plan #" in row[5] for row in linked)
    assert rows(home, "SELECT count(*) FROM claims WHERE last_retested_at IS NOT NULL") == [(2,)]
    assert ("running",) not in rows(home, "SELECT status FROM agent_runs")

    from claims.reports import read_report

    stored = read_report(Path(str(md).replace(".md", ".json")))
    assert stored.model_dump(mode="json") == report


def test_a_duplicate_plan_is_answered_by_its_own_claims_run(bundled_store, settings, home, warm_cache):
    """Plans C1, C2, C1 again: the second C1 plan is linked to C1's run, not to the last run (C2's)."""
    from agent.weekly import WeeklyOptions, WeeklyState, run_due_retests
    from claims.models import Claim, RetestPlan, RetestRun

    warm(home, warm_cache)
    with bundled_store.write() as s:
        ids = {c.key: c.id for c in s.query(Claim)}
        plans = [RetestPlan(claim_id=ids[k], protocol=p, decision="queue", reason="test")
                 for k, p in (("C1", "passk-boundary"), ("C2", "update-sparsity"), ("C1", "passk-boundary"))]
        s.add_all(plans)
        s.flush()
        first, second, duplicate = (p.id for p in plans)
    state = WeeklyState()
    said: list[str] = []
    run_due_retests(bundled_store, settings, WeeklyOptions(max_retests=2, retest_preset="smoke"), said.append, state)
    assert [(r.claim, r.status) for r in state.retests] == [("C1", "succeeded"), ("C2", "succeeded")]
    with bundled_store.read() as s:
        run_of = {p.id: p.retest_run_id for p in s.query(RetestPlan)}
        assert run_of[duplicate] == run_of[first] != run_of[second]
        assert s.get(RetestRun, run_of[duplicate]).claim_id == ids["C1"]
        assert s.query(RetestRun).count() == 2  # the duplicate ran nothing


def test_ctrl_c_during_a_retest_stops_the_loop_and_is_recorded_as_interrupted(env, home):
    proc = subprocess.Popen([*WEEKLY, "--max-retests", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    seen = []
    for line in proc.stderr:  # wait until the first retest is under way (a cold cache: pretraining)
        seen.append(line)
        if "retest passk-boundary for C1 (" in line:
            break
    assert proc.poll() is None, "".join(seen)[-3000:]
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 130, err[-3000:]
    report = json.loads(out)
    assert report["status"] == "interrupted" and report["exit_code"] == 130
    assert [(r["claim"], r["status"]) for r in report["retests"]] == [("C1", "interrupted")]
    assert "retest update-sparsity for C2 (" not in err  # the next retest never started
    assert any("interrupted (Ctrl-C)" in f for f in report["failures"])
    assert rows(home, "SELECT c.key, r.status, r.verdict FROM retest_runs r JOIN claims c ON c.id = r.claim_id") == [
        ("C1", "interrupted", None)]
    # the interrupted plan and the one not reached stay queued for the next run
    assert rows(home, "SELECT c.key FROM retest_plans p JOIN claims c ON c.id = p.claim_id "
                      "WHERE p.decision = 'queue' AND p.retest_run_id IS NULL ORDER BY c.key") == [("C1",), ("C2",)]
    assert rows(home, "SELECT count(*) FROM claims WHERE last_retested_at IS NOT NULL") == [(0,)]
    assert rows(home, "SELECT kind, status FROM agent_runs ORDER BY id") == [("weekly", "interrupted"),
                                                                             ("agent", "succeeded")]
    assert "interrupted (Ctrl-C)" in next((home / "reports").glob("weekly-*.md")).read_text()
