"""The weekly job: import on first run, the agent, the due retests, a report, the prompt.

A thin layer over the agent and the retest engine; `claims weekly` calls `run_weekly`
while holding the run lock. Failures of one part are recorded and the rest goes on.
Exit codes: 0 all done; 1 done with recorded failures.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from claims import audit
from claims.errors import ClaimsError
from claims.models import AgentRun, Anchor, Claim, Evidence, Proposal, RetestPlan, utcnow
from claims.settings import Settings
from claims.store import Store

Say = Callable[[str], None]


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


@dataclass
class WeeklyResult:
    run_id: int
    exit_code: int
    report: dict[str, Any]
    paths: dict[str, str] = field(default_factory=dict)


def ensure_claims(store: Store, say: Say) -> str | None:
    """On a database with no claims, import the bundled document first."""
    from claims.importer import import_bundled

    with store.read() as s:
        if s.scalar(select(func.count()).select_from(Claim)):
            return None
    result = import_bundled(store, actor="weekly")
    say(result.message())
    return result.message()


def run_weekly(store: Store, settings: Settings, options: WeeklyOptions, say: Say) -> WeeklyResult:
    started, t0 = utcnow(), time.monotonic()
    timings: dict[str, float] = {}
    failures: list[str] = []
    with store.write() as s:
        run = AgentRun(kind="weekly", mode="weekly", status="running", models={"options": _jsonable(options)})
        s.add(run)
        s.flush()
        run_id = run.id
    imported = ensure_claims(store, say)

    say("agent: search, judge, anchors, retest planning, proposals")
    t = time.monotonic()
    summary = None
    try:
        from agent.run import run_agent

        summary = run_agent(store, settings, corpus=options.corpus, since=options.since, use_llm=options.use_llm, progress=say)
        failures += summary.failures
        if summary.source_error:
            failures.append(f"papers: {summary.source_error}")
            say(f"papers could not be fetched: {summary.source_error} (recorded; going on with what can be done)")
    except ClaimsError as exc:
        failures.append(f"agent: {exc}")
        say(f"agent failed: {exc}")
    timings["agent"] = time.monotonic() - t

    t = time.monotonic()
    retests, skipped = run_due_retests(store, settings, options, say)
    failures += [f"retest {r['claim']} {r['protocol']}: failed (log kept in run #{r['id']})" for r in retests if r["status"] != "succeeded"]
    timings["retests"] = time.monotonic() - t

    report = build_report(store, run_id, started, summary, imported, retests, skipped, failures, timings)
    report["exit_code"] = 1 if failures else 0
    report["duration_s"] = round(time.monotonic() - t0, 1)
    paths = write_report(settings, report)
    if options.export:
        paths |= write_export(store, settings, report)
    with store.write() as s:
        row = s.get(AgentRun, run_id)
        row.status, row.finished_at = ("failed" if failures else "succeeded"), utcnow()
        row.counts = {"claims_checked": len(report["claims_checked"]), "retests": len(retests),
                      "proposals_new": len(report["proposals_new"])}
        row.timings, row.errors = {k: round(v, 2) for k, v in timings.items()}, failures
        audit.record(s, "weekly", "weekly-run", "agent_run", run_id, report=paths.get("report_md"), exit_code=report["exit_code"])
    return WeeklyResult(run_id, report["exit_code"], report, paths)


def _jsonable(options: WeeklyOptions) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (Path, dt.date)) else v) for k, v in vars(options).items()}


def run_due_retests(store: Store, settings: Settings, options: WeeklyOptions, say: Say) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the queued retest plans, oldest first, within the budget; each result is stored."""
    with store.read() as s:
        plans = [(p.id, p.protocol, s.get(Claim, p.claim_id).key, p.reason) for p in s.scalars(
            select(RetestPlan).where(RetestPlan.decision == "queue", RetestPlan.retest_run_id.is_(None))
            .order_by(RetestPlan.decided_at, RetestPlan.id))]
    done: list[dict[str, Any]] = []
    skipped: list[str] = []
    seen: set[tuple[str, str]] = set()
    budget_end = time.monotonic() + options.retest_minutes * 60
    for plan_id, protocol, key, reason in plans:
        if (key, protocol) in seen:
            _link(store, plan_id, done[-1]["id"] if done else None)
            continue
        if len(done) >= options.max_retests:
            skipped.append(f"{key} {protocol}: over --max-retests {options.max_retests}; stays queued")
            continue
        if time.monotonic() > budget_end:
            skipped.append(f"{key} {protocol}: over --retest-minutes {options.retest_minutes:g}; stays queued")
            continue
        seen.add((key, protocol))
        say(f"retest {protocol} for {key} ({options.retest_preset}; queued because {reason})")
        done.append(run_one_retest(store, settings, plan_id, key, protocol, options.retest_preset, say))
    return done, skipped


def _link(store: Store, plan_id: int, run_id: int | None) -> None:
    if run_id is None:
        return
    with store.write() as s:
        s.get(RetestPlan, plan_id).retest_run_id = run_id


def run_one_retest(store: Store, settings: Settings, plan_id: int, key: str, protocol: str, preset: str, say: Say) -> dict[str, Any]:
    """Run one protocol, store it as a retest run of the claim, and propose from its verdict."""
    from claims.retests import record_run

    t = time.monotonic()
    home = settings.resolved_home
    try:
        from retest.runner import run_protocol

        result = run_protocol(protocol, preset=preset, cache_dir=home / "cache" / "retest",
                              artifacts_dir=home / "artifacts" / "retests", progress=say)
        record = result.to_record()
    except Exception:  # the engine records its own crashes; this catches import or set-up errors
        record = {"protocol": protocol, "preset": preset, "status": "failed", "log": traceback.format_exc(),
                  "started_at": utcnow(), "finished_at": utcnow(), "summary": "the retest could not start"}
    with store.write() as s:
        run = record_run(s, key, record)
        run.reason = f"planned by the agent (plan #{plan_id})"
        s.get(RetestPlan, plan_id).retest_run_id = run.id
        s.flush()
        out = {"id": run.id, "claim": key, "protocol": protocol, "preset": preset, "status": run.status,
               "verdict": run.verdict, "effect_size": run.effect_size, "ci_low": run.ci_low, "ci_high": run.ci_high,
               "summary": run.summary, "duration_s": round(time.monotonic() - t, 1)}
        from claims.proposing import propose_for_claim

        propose_for_claim(s, s.scalar(select(Claim).where(Claim.key == key)), actor="weekly")
    say(f"retest {protocol} for {key}: {out['status']}, verdict {out['verdict'] or '-'}")
    return out


def build_report(store: Store, run_id: int, started: dt.datetime, summary: Any, imported: str | None,
                 retests: list[dict[str, Any]], skipped: list[str], failures: list[str], timings: dict[str, float]) -> dict[str, Any]:
    """The run's report as data (the JSON file; the Markdown is rendered from it)."""
    with store.read() as s:
        checked = [c.key for c in s.scalars(select(Claim).where(Claim.last_checked_at >= started).order_by(Claim.position, Claim.id))]
        new_ev: dict[str, list[dict[str, Any]]] = {}
        for e in s.scalars(select(Evidence).where(Evidence.found_at >= started).order_by(Evidence.claim_id, Evidence.rank)):
            new_ev.setdefault(s.get(Claim, e.claim_id).key, []).append(
                {"id": e.paper_id, "title": e.paper.title, "published": e.paper.published.isoformat() if e.paper.published else None,
                 "stance": e.stance, "confidence": e.confidence, "relevance": round(e.relevance, 4)})
        anchors = [{"id": a.arxiv_id, "status": a.status, "differences": list(a.differences or [])}
                   for a in s.scalars(select(Anchor).where(Anchor.status.in_(("mismatch", "not_found"))).order_by(Anchor.position))]
        pending = s.scalars(select(Proposal).where(Proposal.state == "pending").order_by(Proposal.created_at, Proposal.id)).all()
        pend = [{"id": p.id, "claim": p.claim.key if p.claim else None, "kind": p.kind,
                 "proposed": _proposed(p)} for p in pending]
        new_ids = [p.id for p in pending if p.created_at >= started]
    return {
        "run_id": run_id, "started_at": started.isoformat(), "finished_at": utcnow().isoformat(),
        "mode": summary.mode if summary else "none", "mode_reason": summary.mode_reason if summary else "the agent failed",
        "source": _source(summary), "source_error": summary.source_error if summary else None, "imported": imported,
        "claims_checked": checked, "new_evidence": new_ev, "anchor_problems": anchors, "retests": retests,
        "retests_skipped": skipped, "proposals_new": new_ids, "proposals_pending": pend, "failures": failures,
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "api_requests": {"arxiv": summary.requests if summary else 0,
                         "llm": (summary.papers_judged + summary.judge_failures) if summary else 0},
        "agent_run_id": summary.agent_run_id if summary else None,
    }


def _proposed(p: Proposal) -> str:
    if p.proposed_status:
        return p.proposed_status
    if p.kind == "anchor":
        fields = {k: v for k, v in (p.payload or {}).items() if k in ("cited_label", "cited_date")}
        return "anchor correction " + ", ".join(f"{k}={v!r}" for k, v in fields.items())
    return (p.proposed_text or "")[:120]


def _source(summary: Any) -> str:
    if summary is None:
        return "-"
    anchors = getattr(summary, "anchors", {}) or {}
    return str(anchors.get("source") or getattr(summary, "source", None) or ("arXiv" if summary.requests else "local corpus"))


def write_report(settings: Settings, report: dict[str, Any]) -> dict[str, str]:
    from claims.reports import render_report

    folder = settings.resolved_home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"weekly-{report['started_at'][:10]}-run{report['run_id']}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    stem.with_suffix(".md").write_text(render_report(report))
    return {"report_md": str(stem.with_suffix(".md")), "report_json": str(stem.with_suffix(".json"))}


def write_export(store: Store, settings: Settings, report: dict[str, Any]) -> dict[str, str]:
    """The refreshed research prompt beside the report (Markdown and JSON), recorded."""
    from claims.export import build_export, record_export, render_markdown

    folder = settings.resolved_home / "reports"
    stem = folder / f"prompt-{report['started_at'][:10]}-run{report['run_id']}"
    with store.write() as s:
        data = build_export(s)
        record_export(s, data)
    stem.with_suffix(".md").write_text(render_markdown(data))
    stem.with_suffix(".json").write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return {"prompt_md": str(stem.with_suffix(".md")), "prompt_json": str(stem.with_suffix(".json"))}
