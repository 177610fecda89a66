"""Running the agent: mode, the AgentRun row, the checkpointed graph, the summary.

`run_agent` is what `claims agent run` and the weekly job call. The graph is
checkpointed next to the database (`<db dir>/agent-checkpoints.sqlite`; the Postgres
saver when the database is PostgreSQL) under a thread id stored on the AgentRun
row. The row is always closed (`finally`): succeeded, failed, or interrupted on Ctrl-C;
a run killed outright is marked interrupted when the next run starts. The next run with
the same options (`claims.runs.ResumeKey`) takes over an interrupted run's thread and
finishes only what was left (see `claims.runs`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.anchors import verify_anchors
from agent.graph import Deps, build_graph
from agent.judge import OpenAIJudge, probe
from agent.search import search_claims
from agent.state import NO_SELECTION, AgentState, SearchOutcome, Selection
from claims.errors import JudgeUnavailable, NotFound
from claims.models import Claim
from claims.redaction import redact_url
from claims.runs import FAILED, INTERRUPTED, SUCCEEDED, ResumeKey, RunOutcome, StartedRun, finish_run, start_agent_run
from claims.settings import Settings
from claims.store import Store

CHECKPOINT_FILE = "agent-checkpoints.sqlite"
DEFAULT_INTERVAL_DAYS = 28  # used for a protocol whose spec names no interval
NO_SEARCH = SearchOutcome(source_error=None, source="", requests=0, papers_seen=0, candidates={}, new_evidence={},
                          errors=[], citation_requests=[])


@dataclass
class AgentSummary:
    """What one agent run did; `to_json()` is the stable `--format json` shape."""

    agent_run_id: int
    mode: str  # "judge" | "rank-only"
    mode_reason: str
    thread_id: str = ""
    status: str = "running"  # succeeded | failed (claims with failures) | running
    resumed: bool = False
    claims: list[str] = field(default_factory=list)
    claims_checked: int = 0
    papers_judged: int = 0
    judge_failures: int = 0
    judge_budget: int | None = None  # judgements allowed this run (None: rank only)
    left_unjudged: dict[str, int] = field(default_factory=dict)  # per claim: over the budget, judged next run
    judge_requests: int = 0  # chat completions sent (a schema retry is a second one)
    prompt_tokens: int = 0  # as the endpoint's `usage` reports them
    completion_tokens: int = 0
    judge_seconds: float = 0.0  # wall time from the first judgement started to the last stored
    proposals_written: list[int] = field(default_factory=list)
    retests_planned: list[dict[str, Any]] = field(default_factory=list)  # queued only
    retest_decisions: list[dict[str, Any]] = field(default_factory=list)  # queue and skip
    anchors: dict[str, Any] = field(default_factory=dict)
    candidates: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    citation_requests: list[str] = field(default_factory=list)  # Semantic Scholar, one line per request
    papers_seen: int = 0
    source_error: str | None = None
    model: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_agent(
    store: Store,
    settings: Settings,
    claim_keys: list[str] | None = None,
    corpus: Path | None = None,
    since: dt.date | None = None,
    use_llm: bool = True,
    request_retests: list[str] | None = None,
    thread_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> AgentSummary:
    """Revisit the claims: search, judge, verify anchors, plan retests, propose.

    Never changes a claim; writes evidence, retest plans, proposals and audit rows.
    """
    say = progress or (lambda message: None)
    _check_keys(store, (claim_keys or []) + (request_retests or []))
    key = ResumeKey(claim_keys=tuple(claim_keys) if claim_keys else None,
                    corpus=str(Path(corpus).resolve()) if corpus else None, since=since,
                    request_retests=tuple(request_retests or ()))
    mode, reason, judge = decide_mode(settings, use_llm)
    say(f"mode: {mode} ({reason})")
    models = {"judge": judge.model if judge else None, "prompt_version": judge.prompt_version if judge else None}
    run = start_agent_run(store, key, mode, models, thread_id)
    if run.interrupted:
        say(f"marked {len(run.interrupted)} run(s) whose process had ended as interrupted: "
            + ", ".join(map(str, run.interrupted)))
    if run.resumed:
        say(f"resuming interrupted agent run {run.id} (thread {run.thread_id})")
    outcome = RunOutcome(status=INTERRUPTED, errors=["interrupted (Ctrl-C or a signal)"])
    try:
        summary = _run_graph(store, settings, key, run, mode, reason, judge, say)
        outcome = _outcome(summary)
        return summary
    except Exception as exc:  # Ctrl-C and signals keep the default: interrupted (resumable)
        outcome = RunOutcome(status=FAILED, errors=[f"crashed: {type(exc).__name__}: {exc}"])
        raise
    finally:
        finish_run(store, run.id, outcome)


def _run_graph(store: Store, settings: Settings, key: ResumeKey, run: StartedRun, mode: str, reason: str,
               judge: Any, say: Callable[[str], None]) -> AgentSummary:
    request = {**key.to_json(), "agent_run_id": run.id}
    deps = Deps(store=store, settings=settings, judge=judge, search=_search_fn(), verify_anchors=_anchors_fn(),
                protocols=protocol_intervals(), progress=say)
    started = time.monotonic()
    config = {"configurable": {"thread_id": run.thread_id}, "max_concurrency": max(4, settings.llm_concurrency)}
    with open_checkpointer(store, settings) as saver:
        graph = build_graph(deps, checkpointer=saver)
        snapshot = graph.get_state(config)
        if not snapshot.values:
            state = graph.invoke({"request": request}, config)
        elif snapshot.next:
            state = graph.invoke(None, config)
        else:
            state = snapshot.values
    summary = _summarise(state, run, mode, reason, judge)
    summary.timings["total"] = round(time.monotonic() - started, 3)
    return summary


def decide_mode(settings: Settings, use_llm: bool) -> tuple[str, str, Any]:
    """("judge" | "rank-only", why, the judge or None); probes the endpoint cheaply."""
    if not use_llm:
        return "rank-only", "--no-llm given", None
    if not settings.llm_base_url:
        return "rank-only", "no judge endpoint configured (set CLAIMS_LLM_BASE_URL)", None

    try:
        probe(settings.llm_base_url, settings.llm_api_key.get_secret_value(), min(5.0, settings.llm_timeout_seconds))
    except JudgeUnavailable as exc:
        return "rank-only", str(exc), None
    return "judge", f"{settings.llm_model} at {redact_url(settings.llm_base_url)}", OpenAIJudge.from_settings(settings)


def protocol_intervals() -> dict[str, int]:
    """Protocol name -> retest interval in days, from the retest engine (if installed)."""
    try:
        from retest.protocols import PROTOCOLS
    except ImportError:
        return {}
    return {name: int(getattr(spec, "interval_days", None) or DEFAULT_INTERVAL_DAYS) for name, spec in PROTOCOLS.items()}


@contextlib.contextmanager
def open_checkpointer(store: Store, settings: Settings) -> Iterator[Any]:
    """SqliteSaver in a file next to the SQLite database; PostgresSaver on PostgreSQL."""
    if store.is_sqlite:
        import sqlite3

        from langgraph.checkpoint.sqlite import SqliteSaver

        folder = store.sqlite_path.parent if store.sqlite_path else settings.resolved_home
        folder.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(folder / CHECKPOINT_FILE, check_same_thread=False, timeout=30)
        try:
            yield SqliteSaver(conn)
        finally:
            conn.close()
        return
    from langgraph.checkpoint.postgres import PostgresSaver

    url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        yield saver


def _check_keys(store: Store, keys: list[str]) -> None:
    if not keys:
        return
    with store.read() as s:
        known = set(s.scalars(select(Claim.key).where(Claim.key.in_(keys))))
    missing = sorted(set(keys) - known)
    if missing:
        raise NotFound(f"no claim {', '.join(missing)} (see `claims list`)")


def _summarise(state: AgentState, run: StartedRun, mode: str, reason: str, judge: Any) -> AgentSummary:
    """The summary of a finished graph (a node that never ran leaves its key out of the state; a
    checkpoint written before `agent.state` may hold fewer keys in a sub-state: the defaults fill them)."""
    searched = SearchOutcome(**{**NO_SEARCH, **state.get("search", {})})  # type: ignore[typeddict-item]
    plans = state.get("plans", [])
    judged = state.get("judged", [])
    failures = list(state.get("failures", []))
    selection = Selection(**{**NO_SELECTION, **state.get("selection", {})})  # type: ignore[typeddict-item]
    spans = [(e["started"], e["finished"]) for e in judged if "finished" in e]
    return AgentSummary(
        agent_run_id=run.id,
        mode=mode,
        mode_reason=reason,
        thread_id=run.thread_id,
        status=FAILED if failures else SUCCEEDED,
        resumed=run.resumed,
        claims=list(state.get("claims", [])),
        claims_checked=len(state.get("claims", [])),
        papers_judged=sum(e["judged"] for e in judged),
        judge_failures=sum(e["failed"] for e in judged),
        judge_budget=selection["budget"] if judge else None,
        left_unjudged=dict(selection["left"]),
        judge_requests=sum(e["requests"] for e in judged),
        prompt_tokens=sum(e["prompt_tokens"] for e in judged),
        completion_tokens=sum(e["completion_tokens"] for e in judged),
        judge_seconds=round(max(f for _, f in spans) - min(s for s, _ in spans), 3) if spans else 0.0,
        proposals_written=list(state.get("proposals", [])),
        retests_planned=[dict(p) for p in plans if p["decision"] == "queue"],
        retest_decisions=[dict(p) for p in plans],
        anchors=dict(state.get("anchors", {})),
        candidates=dict(searched["candidates"]),
        failures=failures,
        requests=searched["requests"],
        citation_requests=list(searched["citation_requests"]),
        papers_seen=searched["papers_seen"],
        source_error=searched["source_error"],
        model=judge.model if judge else None,
        timings=dict(state.get("timings", {})),
    )


def _outcome(summary: AgentSummary) -> RunOutcome:
    errors = list(summary.failures)
    if summary.source_error:
        errors.append(f"source: {summary.source_error}")
    if summary.anchors.get("error"):
        errors.append(f"anchors: {summary.anchors['error']}")
    counts = {
        "claims_checked": summary.claims_checked, "papers_judged": summary.papers_judged,
        "judge_failures": summary.judge_failures, "left_unjudged": sum(summary.left_unjudged.values()),
        "judge_requests": summary.judge_requests, "prompt_tokens": summary.prompt_tokens,
        "completion_tokens": summary.completion_tokens, "judge_seconds": summary.judge_seconds,
        "proposals_written": len(summary.proposals_written),
        "retests_queued": len(summary.retests_planned), "requests": summary.requests,
        "papers_seen": summary.papers_seen,
    }
    return RunOutcome(status=summary.status, counts=counts, timings=summary.timings, errors=errors)


def _search_fn() -> Callable[..., Any]:
    return search_claims


def _anchors_fn() -> Callable[..., Any]:
    return verify_anchors
