"""The typed weekly report: its JSON keys, reading it back, and a loud rank-only line (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from claims.reports import ApiRequests, RetestOutcome, WeeklyReport, judge_status, read_report, render_report

FIRST_VERSION_KEYS = {  # the report's JSON keys before it was typed: scripts may read them
    "run_id", "started_at", "finished_at", "mode", "mode_reason", "source", "source_error", "imported",
    "claims_checked", "new_evidence", "anchor_problems", "retests", "retests_skipped", "proposals_new",
    "proposals_pending", "failures", "timings", "api_requests", "agent_run_id", "exit_code", "duration_s",
}


def report(**kw) -> WeeklyReport:
    base = dict(
        run_id=7, started_at="2026-11-02T06:00:00", finished_at="2026-11-02T06:05:00", status="succeeded",
        exit_code=0, duration_s=300.0, mode="judge", mode_reason="m at http://127.0.0.1:8000/v1",
        judge_status=judge_status("judge", "m at http://127.0.0.1:8000/v1", "m"), source="arXiv",
        source_error=None, imported=None, claims_checked=["C1"], new_evidence={}, anchor_problems=[],
        retests=[RetestOutcome(id=3, claim="C1", protocol="passk-boundary", preset="smoke", status="succeeded",
                               verdict="consistent", effect_size=0.1, ci_low=0.05, ci_high=0.2, duration_s=20)],
        retests_skipped=[], proposals_new=[], proposals_pending=[], failures=[], timings={"agent": 1.0},
        api_requests=ApiRequests(arxiv=2, llm=5), agent_run_id=8,
    )
    return WeeklyReport(**{**base, **kw})


def test_the_json_keeps_the_first_versions_keys_and_reads_back(tmp_path: Path) -> None:
    r = report()
    data = r.model_dump(mode="json")
    assert FIRST_VERSION_KEYS <= set(data)
    assert data["retests"][0]["verdict"] == "consistent" and data["api_requests"] == {"arxiv": 2, "llm": 5, "semantic_scholar": []}
    path = tmp_path / "weekly.json"
    path.write_text(r.model_dump_json())
    assert read_report(path) == r
    with pytest.raises(ValidationError):
        WeeklyReport.model_validate({**data, "unknown": 1})  # a misspelt key is an error, not silence


def test_rank_only_is_said_at_the_top_with_its_reason() -> None:
    reason = "no judge endpoint configured (set CLAIMS_LLM_BASE_URL)"
    text = render_report(report(mode="rank-only", mode_reason=reason, judge_status=judge_status("rank-only", reason, None)))
    assert text.splitlines()[2] == (f"> **rank only (no LLM judge: {reason})**: no stance was judged; "
                                    "candidates are ranked by relevance only.")
    assert "rank only" not in render_report(report())
    assert "- Judge: LLM judge m" in render_report(report())


def test_judge_failures_and_interruptions_are_said() -> None:
    assert "**The LLM judge failed on 4 paper(s)**" in render_report(report(judge_failures=4))
    text = render_report(report(status="interrupted", exit_code=130, failures=["interrupted (Ctrl-C)"]))
    assert "interrupted (Ctrl-C): stopped early" in text and "(exit code 130)" in text
    assert "- C1 `passk-boundary` (smoke (plumbing check)): succeeded, verdict **consistent**, effect +0.100 [+0.050, +0.200]" in text


def test_a_run_whose_agent_did_not_finish_does_not_claim_to_have_ranked() -> None:
    status = judge_status("none", "the agent did not finish", None)
    text = render_report(report(mode="none", mode_reason="the agent did not finish", judge_status=status))
    assert text.splitlines()[2] == "> **no agent run (the agent did not finish)**: no papers were searched or judged this run."
