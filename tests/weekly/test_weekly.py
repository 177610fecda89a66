"""The weekly job end to end on a temporary folder (offline corpus, no LLM, no retests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from claims.lock import run_lock
from tests.conftest import unshipped_corpus

pytestmark = pytest.mark.slow


def weekly(env, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "claims", "weekly", "--no-llm", "--max-retests", "0", "--format", "json", *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture
def env(home):
    return {**os.environ, "CLAIMS_HOME": str(home), "HF_HUB_OFFLINE": "1", "CLAIMS_RETEST_BUDGET": "0"}


def cli_json(env, *args):
    r = subprocess.run([sys.executable, "-m", "claims", *args, "--format", "json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_weekly_twice_second_run_adds_nothing(env, home):
    first = weekly(env, "--corpus", "demo")
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout)
    assert report["imported"] and report["claims_checked"] == ["C1", "C2", "C3", "C4", "C5"]
    assert sum(len(v) for v in report["new_evidence"].values()) > 0
    assert {a["id"] for a in report["anchor_problems"]} >= {"2510.13786"}
    assert report["proposals_new"], "anchor mismatches should become proposals"
    reports = sorted((home / "reports").glob("weekly-*.md"))
    assert reports and "Anchor problems" in reports[0].read_text()
    assert "Research prompt" in next((home / "reports").glob("prompt-*.md")).read_text()
    pending = cli_json(env, "review", "list")

    second = weekly(env, "--corpus", "demo")
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout)
    assert again["imported"] is None
    assert again["new_evidence"] == {} and again["proposals_new"] == []
    assert "No new evidence since the last run" in sorted((home / "reports").glob("weekly-*.md"))[-1].read_text()
    assert cli_json(env, "review", "list") == pending


def test_a_second_run_exits_at_once_while_one_holds_the_lock(env, home):
    with run_lock(home / "weekly.lock"):
        t = time.monotonic()
        r = weekly(env, "--corpus", "demo")
        assert time.monotonic() - t < 30
    assert r.returncode == 3
    assert "another weekly run holds" in r.stderr and str(os.getpid()) in r.stderr


def test_killed_run_is_finished_by_the_next(env, home, tmp_path):
    corpus = str(unshipped_corpus(tmp_path))  # embedded for real: a phase long enough to kill it in
    proc = subprocess.Popen([sys.executable, "-m", "claims", "weekly", "--no-llm", "--max-retests", "0", "--corpus", corpus],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stderr:  # wait until the agent is under way, then kill it hard
        seen.append(line)
        if "embedding" in line or "ranking" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    r = weekly(env, "--corpus", corpus)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "stale lock" in r.stderr
    report = json.loads(r.stdout)
    # the resumed run finishes what the killed one left (how much that is depends on when the kill landed)
    assert set(report["claims_checked"]) <= {"C1", "C2", "C3", "C4", "C5"}
    import sqlite3

    with sqlite3.connect(home / "claims.db") as db:
        assert db.execute("SELECT count(*) FROM claims WHERE last_checked_at IS NULL").fetchone() == (0,)
    proposals = cli_json(env, "review", "list")
    kinds = [(p["kind"], json.dumps(p["payload"], sort_keys=True)) for p in proposals]
    assert len(kinds) == len(set(kinds)), "no duplicate proposals after a resume"
    runs = agent_runs(home)
    assert "running" not in [status for _, _, status in runs], runs
    assert [s for _, kind, s in runs if kind == "weekly"] == ["interrupted", "succeeded"]  # the killed one, then this
    assert report["agent_run_id"] in [i for i, kind, s in runs if kind == "agent" and s == "succeeded"]


def agent_runs(home: Path) -> list[tuple[int, str, str]]:
    """(id, kind, status) of every agent_runs row, read from the SQLite file."""
    import sqlite3

    with sqlite3.connect(home / "claims.db") as db:
        return db.execute("SELECT id, kind, status FROM agent_runs ORDER BY id").fetchall()


class Always503(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        self.send_response(503)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"busy")

    def log_message(self, *args):
        pass


def test_arxiv_503_is_recorded_and_the_run_goes_on(env, home):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Always503)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**env, "CLAIMS_ARXIV_URL": f"http://127.0.0.1:{server.server_port}/api/query",
               "CLAIMS_ARXIV_DELAY_SECONDS": "0.01", "CLAIMS_ARXIV_RETRIES": "1", "CLAIMS_ARXIV_TIMEOUT_SECONDS": "5"}
        r = weekly(env)
    finally:
        server.shutdown()
    assert Always503.hits >= 1
    assert r.returncode == 1, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["source_error"] and "503" in report["source_error"]
    assert report["failures"]
    assert (home / "reports").is_dir() and list((home / "reports").glob("weekly-*.json"))
    assert len(cli_json(env, "list")) == 5  # the bundled claims were imported all the same


def test_an_unreachable_judge_is_said_loudly_in_the_report(env, home):
    env = {**env, "CLAIMS_LLM_BASE_URL": "http://127.0.0.1:9/v1", "CLAIMS_LLM_TIMEOUT_SECONDS": "1"}
    r = subprocess.run([sys.executable, "-m", "claims", "weekly", "--max-retests", "0", "--corpus", "demo", "--no-export"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "RANK ONLY (no LLM judge:" in r.stderr
    top = r.stdout.splitlines()[2]
    assert top.startswith("> **rank only (no LLM judge: ") and "127.0.0.1:9" in top
    report = json.loads(next((home / "reports").glob("weekly-*.json")).read_text())
    assert report["mode"] == "rank-only" and report["judge_status"].startswith("rank only (no LLM judge: ")


def test_ctrl_c_during_the_agent_closes_both_runs_and_the_next_run_resumes(env, home, tmp_path):
    corpus = str(unshipped_corpus(tmp_path))  # embedded for real: a phase long enough to interrupt
    proc = subprocess.Popen([sys.executable, "-m", "claims", "weekly", "--no-llm", "--max-retests", "0", "--corpus", corpus,
                             "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stderr:  # interrupt while the agent embeds or ranks the papers
        seen.append(line)
        if "embedding" in line or "ranking" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen)[-2000:] + err[-2000:]
    report = json.loads(out)
    assert report["status"] == "interrupted" and report["mode"] == "none"
    assert [(kind, status) for _, kind, status in agent_runs(home)] == [("weekly", "interrupted"), ("agent", "interrupted")]

    again = weekly(env, "--corpus", corpus)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming interrupted agent run" in again.stderr
    assert json.loads(again.stdout)["claims_checked"] == ["C1", "C2", "C3", "C4", "C5"]
    assert [(kind, status) for _, kind, status in agent_runs(home)] == [
        ("weekly", "interrupted"), ("agent", "succeeded"), ("weekly", "succeeded")]
