"""The weekly job: import on first run, the agent, the due retests, a report, the prompt.

A thin layer over the agent and the retest engine; `claims weekly` calls `run_weekly`
while holding the run lock. Failures of one part are recorded and the rest goes on.
The weekly run's `agent_runs` row is closed in every case (`finally`); Ctrl-C stops
the job where it is (a retest under way is recorded as `interrupted`, the queued ones
stay queued), writes the report and exits 130. Exit codes: 0 all done; 1 done with
recorded failures; 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from agent.factorial import fastest_executor, run_and_store
from agent.retests import Replication, RetestRequest, run_retest
from agent.run import run_agent
from claims.errors import ClaimsError
from claims.export import build_export, record_export, render_markdown
from claims.factorial import factorial_due, factorial_runs, latest_factorial
from claims.importer import import_bundled
from claims.models import Claim, utcnow
from claims.planning import QueuedRetest, link_plans, queued_retests
from claims.redaction import hide_secrets
from claims.reports import (ApiRequests, Judging, RetestOutcome, WeeklyReport, judge_status, render_report,
                            weekly_facts)
from claims.runs import FAILED, INTERRUPTED, SUCCEEDED, RunOutcome, finish_run, start_weekly_run
from claims.settings import Settings
from claims.store import Store

Say = Callable[[str], None]
EXIT_INTERRUPTED = 130


@dataclass
class WeeklyOptions:
    """What one weekly run does; the CLI's flags."""

    corpus: Path | None = None
    since: dt.date | None = None
    use_llm: bool = True
    max_retests: int = 3
    retest_minutes: float = 30.0
    retest_preset: str = "standard"
    export: bool = True
    factorial_every: int = 0  # weeks between weekly-preset factorial grids; 0: never


@dataclass
class WeeklyResult:
    run_id: int
    exit_code: int
    report: WeeklyReport
    paths: dict[str, str] = field(default_factory=dict)


@dataclass
class WeeklyState:
    """What the run has done so far (kept when it is interrupted)."""

    imported: str | None = None
    summary: Any = None  # agent.run.AgentSummary
    retests: list[RetestOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    factorial: list[str] = field(default_factory=list)  # what the scheduled factorial grid did, or why not


def ensure_claims(store: Store, say: Say) -> str | None:
    """On a database with no claims, import the bundled document first."""
    with store.read() as s:
        if s.scalar(select(func.count()).select_from(Claim)):
            return None
    result = import_bundled(store, actor="weekly")
    say(result.message())
    return result.message()


def run_weekly(store: Store, settings: Settings, options: WeeklyOptions, say: Say) -> WeeklyResult:
    started, t0 = utcnow(), time.monotonic()
    run = start_weekly_run(store, _jsonable(options))
    if run.interrupted:
        say(f"marked {len(run.interrupted)} earlier run(s) whose process had ended as interrupted: "
            + ", ".join(map(str, run.interrupted)))
    done = WeeklyState()
    outcome = RunOutcome(status=INTERRUPTED, errors=["interrupted before the report was written"])
    audit: dict[str, Any] = {}
    try:
        try:
            _work(store, settings, options, say, done)
        except KeyboardInterrupt:
            done.interrupted = True
            done.failures.append("interrupted (Ctrl-C); the rest of the run was not done")
            say("interrupted: writing the report of what was done")
        report = build_report(store, run.id, started, done, round(time.monotonic() - t0, 1))
        paths = write_report(settings, report)
        if options.export and not done.interrupted:
            paths |= write_export(store, settings, report)
        outcome = RunOutcome(status=report.status, counts={"claims_checked": len(report.claims_checked),
                             "retests": len(report.retests), "proposals_new": len(report.proposals_new),
                             "judge_requests": report.judging.requests, "prompt_tokens": report.judging.prompt_tokens,
                             "completion_tokens": report.judging.completion_tokens,
                             "judge_seconds": report.judging.seconds,
                             "left_unjudged": sum(report.judging.left_unjudged.values())},
                             timings={k: round(v, 2) for k, v in done.timings.items()}, errors=done.failures)
        audit.update(report=paths.get("report_md"), exit_code=report.exit_code)
        return WeeklyResult(run.id, report.exit_code, report, paths)
    except Exception as exc:
        outcome = RunOutcome(status=FAILED, errors=[*done.failures, f"crashed: {type(exc).__name__}: {exc}"])
        raise
    finally:
        finish_run(store, run.id, outcome, actor="weekly", **audit)


def _work(store: Store, settings: Settings, options: WeeklyOptions, say: Say, done: WeeklyState) -> None:
    done.imported = ensure_claims(store, say)
    say("agent: search, judge, anchors, retest planning, proposals")
    t = time.monotonic()
    try:
        done.summary = summary = run_agent(store, settings, corpus=options.corpus, since=options.since,
                                           use_llm=options.use_llm, progress=say)
        if summary.mode != "judge":
            say(f"RANK ONLY (no LLM judge: {summary.mode_reason}): no stance will be judged this run")
        done.failures += summary.failures
        if summary.source_error:
            done.failures.append(f"papers: {summary.source_error}")
            say(f"papers could not be fetched: {summary.source_error} (recorded; going on with what can be done)")
    except ClaimsError as exc:
        done.failures.append(f"agent: {exc}")
        say(f"agent failed: {exc}")
    finally:
        done.timings["agent"] = time.monotonic() - t
    t = time.monotonic()
    try:
        run_due_retests(store, settings, options, say, done)
    finally:
        done.timings["retests"] = time.monotonic() - t
    done.failures += [f"retest {r.claim} {r.protocol}: failed (log kept in run #{r.id})"
                      for r in done.retests if r.status == FAILED]
    t = time.monotonic()
    try:
        run_due_factorial(store, settings, options, say, done)
    finally:
        done.timings["factorial"] = time.monotonic() - t


def _jsonable(options: WeeklyOptions) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (Path, dt.date)) else v) for k, v in vars(options).items()}


def run_due_retests(store: Store, settings: Settings, options: WeeklyOptions, say: Say, done: WeeklyState) -> None:
    """Run the queued retest plans, oldest first, within the budget; each result is stored.

    A plan for a claim and protocol that already ran in this loop is answered by that
    claim's run. Ctrl-C stops the loop: the run under way is recorded as interrupted
    and its plan, like the ones not reached, stays queued.
    """
    by_target: dict[tuple[str, str], int | None] = {}  # (claim, protocol) -> its retest run this loop
    budget_end = time.monotonic() + options.retest_minutes * 60
    for plan in queued_retests(store):
        target = (plan.claim_key, plan.protocol)
        if target in by_target:
            if by_target[target] is not None:
                with store.write() as s:
                    link_plans(s, [plan.plan_id], by_target[target])
            continue
        if done.interrupted:
            continue
        if len(done.retests) >= options.max_retests:
            done.skipped.append(f"{plan.claim_key} {plan.protocol}: over --max-retests {options.max_retests}; stays queued")
            continue
        if time.monotonic() > budget_end:
            done.skipped.append(f"{plan.claim_key} {plan.protocol}: over --retest-minutes {options.retest_minutes:g}; stays queued")
            continue
        say(f"retest {plan.protocol} for {plan.claim_key} ({options.retest_preset}; queued because {plan.reason})")
        outcome = run_one_retest(store, settings, plan, options.retest_preset, say)
        done.retests.append(outcome)
        if outcome.status == INTERRUPTED:
            done.interrupted = True
            done.failures.append(f"retest {plan.claim_key} {plan.protocol}: interrupted (Ctrl-C); "
                                 "it and the retests not reached stay queued")
            say("interrupted: no further retests this run")
            continue
        by_target[target] = outcome.id


FACTORIAL_ESTIMATE_S = 15 * 60  # the weekly preset's bound on a quiet 2-core machine (issue 15), until one ran


def run_due_factorial(store: Store, settings: Settings, options: WeeklyOptions, say: Say, done: WeeklyState,
                      grid: Any = None) -> None:
    """The weekly-preset factorial grid of the inquiry, when `--factorial-every N` says it is
    due and the retest budget left (`--retest-minutes` less the retests' time) fits it.

    The time it needs is the last weekly grid's duration (15 minutes before any ran); a
    grid that does not fit is skipped with the reason and runs on a later week.
    """
    if options.factorial_every <= 0 or done.interrupted:
        return
    try:
        with store.read() as s:
            last = latest_factorial(s)
            timed = [r.record.seconds for r in factorial_runs(s, limit=10)
                     if r.record.preset == "weekly" and r.record.status in ("succeeded", "partial")]
    except ClaimsError as exc:
        done.failures.append(f"factorial: {exc}")
        return
    due, why = factorial_due(last.record.finished_at if last else None, utcnow(), options.factorial_every)
    if not due:
        done.factorial.append(f"not due: {why}")
        return
    needs = timed[0] if timed else FACTORIAL_ESTIMATE_S
    left = options.retest_minutes * 60 - done.timings.get("retests", 0.0)
    if left < needs:
        done.factorial.append(f"skipped: {left / 60:.1f} min of --retest-minutes left, the weekly grid needs about "
                              f"{needs / 60:.1f} min; it runs on a later week")
        say(f"factorial: {done.factorial[-1]}")
        return
    say(f"factorial grid (weekly preset): due because {why}")
    out = run_and_store(store, settings.retest_cache_dir, preset="weekly", executor=fastest_executor(), say=say,
                        reason=f"weekly job: {why}", actor="weekly", grid=grid)
    r = out.record
    done.factorial.append(f"run {out.id} ({r.preset} preset, {r.executor}): {r.status} in {r.seconds:.0f} s; "
                          + "; ".join(out.notes or [f"proposal(s) {', '.join(map(str, out.proposals))}"]))
    if out.interrupted:
        done.interrupted = True
        done.failures.append(f"factorial run {out.id}: interrupted (Ctrl-C); finished cells stay cached")
    elif r.status == FAILED:
        done.failures.append(f"factorial run {out.id}: failed (log kept in the run)")


def run_one_retest(store: Store, settings: Settings, plan: QueuedRetest, preset: str, say: Say) -> RetestOutcome:
    """Run one queued plan with `agent.retests.run_retest` (run, record, propose: the one function
    `claims retest run` calls too), on the next block of seeds when a replication is due, linking
    the plan and queueing what a strong run calls for (its replication, the claim's other protocols)."""
    done = run_retest(store, settings, RetestRequest(
        plan.claim_key, plan.protocol, preset, reason=f"planned by the agent (plan #{plan.plan_id})", actor="weekly",
        replication=Replication.WHEN_DUE, plan_id=plan.plan_id, queue_follow_ups=True), say)
    record, (may_propose, why) = done.record, done.strong
    out = RetestOutcome(id=done.run_id, claim=plan.claim_key, protocol=plan.protocol, preset=preset,
                        status=record.status, verdict=record.verdict, effect_size=record.effect_size,
                        ci_low=record.ci_low, ci_high=record.ci_high, summary=record.summary,
                        duration_s=done.seconds, may_propose=may_propose, strength=why)
    say(f"retest {plan.protocol} for {plan.claim_key}: {out.status}, verdict {out.verdict or '-'}")
    return out


def build_report(store: Store, run_id: int, started: dt.datetime, done: WeeklyState, duration_s: float) -> WeeklyReport:
    """The run's report (the JSON file; the Markdown is rendered from it)."""
    summary = done.summary
    with store.read() as s:
        facts = weekly_facts(s, started)
    mode = summary.mode if summary else "none"
    reason = summary.mode_reason if summary else "the agent did not finish"
    exit_code = EXIT_INTERRUPTED if done.interrupted else (1 if done.failures else 0)
    return WeeklyReport(
        run_id=run_id, started_at=started.isoformat(), finished_at=utcnow().isoformat(),
        status=INTERRUPTED if done.interrupted else (FAILED if done.failures else SUCCEEDED),
        exit_code=exit_code, duration_s=duration_s, mode=mode, mode_reason=reason,
        judge_status=judge_status(mode, reason, summary.model if summary else None),
        judge_failures=summary.judge_failures if summary else 0,
        source=_source(summary), source_error=summary.source_error if summary else None, imported=done.imported,
        claims_checked=facts.claims_checked, new_evidence=facts.new_evidence, anchor_problems=facts.anchor_problems,
        retests=done.retests, retests_skipped=done.skipped, factorial=done.factorial, proposals_new=facts.proposals_new,
        proposals_pending=facts.proposals_pending, failures=done.failures,
        timings={k: round(v, 1) for k, v in done.timings.items()},
        api_requests=ApiRequests(arxiv=summary.requests if summary else 0,
                                 semantic_scholar=list(getattr(summary, "citation_requests", None) or []),
                                 llm=(summary.papers_judged + summary.judge_failures) if summary else 0),
        agent_run_id=summary.agent_run_id if summary else None,
        judging=_judging(summary),
    )


def _judging(summary: Any) -> Judging:
    if summary is None or summary.mode != "judge":
        return Judging()
    return Judging(budget=summary.judge_budget, judged=summary.papers_judged, failed=summary.judge_failures,
                   requests=summary.judge_requests, prompt_tokens=summary.prompt_tokens,
                   completion_tokens=summary.completion_tokens, seconds=summary.judge_seconds,
                   left_unjudged=dict(summary.left_unjudged))


def _source(summary: Any) -> str:
    if summary is None:
        return "-"
    anchors = getattr(summary, "anchors", {}) or {}
    return str(anchors.get("source") or getattr(summary, "source", None) or ("arXiv" if summary.requests else "local corpus"))


def write_report(settings: Settings, report: WeeklyReport) -> dict[str, str]:
    folder = settings.resolved_home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"weekly-{report.started_at[:10]}-run{report.run_id}"
    stem.with_suffix(".json").write_text(hide_secrets(report.model_dump_json(indent=2)) + "\n")
    stem.with_suffix(".md").write_text(hide_secrets(render_report(report)))
    return {"report_md": str(stem.with_suffix(".md")), "report_json": str(stem.with_suffix(".json"))}


def write_export(store: Store, settings: Settings, report: WeeklyReport) -> dict[str, str]:
    """The refreshed research prompt beside the report (Markdown and JSON), recorded."""
    folder = settings.resolved_home / "reports"
    stem = folder / f"prompt-{report.started_at[:10]}-run{report.run_id}"
    with store.write() as s:
        data = build_export(s)
        record_export(s, data)
    stem.with_suffix(".md").write_text(render_markdown(data))
    stem.with_suffix(".json").write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return {"prompt_md": str(stem.with_suffix(".md")), "prompt_json": str(stem.with_suffix(".json"))}
