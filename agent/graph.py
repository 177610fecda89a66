"""The agent as a LangGraph StateGraph.

    load -> search (once, all claims) -> anchors (verify once)
         -> select (what to judge: all claims, one budget; claims.judging)
         -> judge_claim (one Send per claim with its evidence ids, run in parallel)
         -> plan (retests, all claims, one budget) -> propose (status + anchors) -> END

State holds plain dicts only (they are checkpointed), typed in `agent.state`. Each node is idempotent
against the database, so a node re-run after a crash does no double work: judged
evidence is not judged again (a Send's ids that are done drop out), a claim's retest
plan of this run is reused, and proposals are deduplicated by fingerprint. One claim's failure is recorded in
`failures` and does not stop the others. The collaborators (store, settings, the
judge, the search and anchor functions) are closed over, never put in state.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.judge import JudgeRequest, StanceJudge
from agent.stance import JudgeResult
from agent.state import NO_SELECTION, AgentState, AnchorsOutcome, Judged, JudgeSend, Planned, SearchOutcome, Selection
from claims.errors import ClaimsError, SourceUnavailable
from claims.evidence import JudgeTask, evidence_to_judge, record_judgement
from claims.judging import Pending, dissent_cue, select_within_budget
from claims.models import AgentRun, Claim
from claims.planning import plan_run_retests
from claims.proposing import propose_anchor_corrections, propose_for_claim_key
from claims.settings import Settings
from claims.store import Store

ACTOR = "agent"


@dataclass
class Deps:
    """What the nodes work with (never checkpointed)."""

    store: Store
    settings: Settings
    judge: StanceJudge | None
    search: Callable[..., Any]
    verify_anchors: Callable[..., Any]
    protocols: dict[str, int]  # protocol name -> interval in days
    progress: Callable[[str], None] = field(default=lambda message: None)


def build_graph(deps: Deps, checkpointer: Any = None) -> Any:
    """The compiled graph; `checkpointer` makes it resumable by thread id."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    def fan_out(state: AgentState) -> list[Any] | str:
        tasks = state.get("selection", NO_SELECTION)["tasks"]
        sends = [Send("judge_claim", JudgeSend(key=k, request=state["request"], evidence_ids=ids))
                 for k, ids in tasks.items() if ids]
        return sends or "plan"

    g = StateGraph(AgentState)
    for name, fn in (("load", load), ("search", search), ("anchors", anchors), ("select", select_judgements),
                     ("judge_claim", judge_claim), ("plan", plan), ("propose", propose)):
        g.add_node(name, _timed(deps, name, fn))
    g.add_edge(START, "load")
    g.add_edge("load", "search")
    g.add_edge("search", "anchors")
    g.add_edge("anchors", "select")
    g.add_conditional_edges("select", fan_out, ["judge_claim", "plan"])
    g.add_edge("judge_claim", "plan")
    g.add_edge("plan", "propose")
    g.add_edge("propose", END)
    return g.compile(checkpointer=checkpointer)


def _timed(deps: Deps, name: str, fn: Callable[[Deps, Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def node(state: Any) -> dict[str, Any]:
        start = time.monotonic()
        out = fn(deps, state)
        label = f"judge:{state['key']}" if name == "judge_claim" else name
        return {**out, "timings": {label: round(time.monotonic() - start, 3)}}

    return node


# --- nodes ---------------------------------------------------------------------------


def load(deps: Deps, state: AgentState) -> dict[str, Any]:
    """The claims due for a check: those asked for, else every claim not superseded."""
    keys = state["request"]["claim_keys"]
    with deps.store.read() as s:
        q = select(Claim.key).order_by(Claim.inquiry_id, Claim.position, Claim.id)
        q = q.where(Claim.key.in_(keys)) if keys else q.where(Claim.status != "superseded")
        found = list(s.scalars(q))
    deps.progress(f"{len(found)} claim(s) to check: {', '.join(found)}")
    return {"claims": found}


def search(deps: Deps, state: AgentState) -> dict[str, Any]:
    """One search for all claims; a source that is down is recorded, not fatal."""
    req = state["request"]
    since = dt.date.fromisoformat(req["since"]) if req["since"] else None
    nothing = SearchOutcome(source_error=None, source="", requests=0, papers_seen=0, candidates={}, new_evidence={},
                            errors=[], citation_requests=[])
    try:
        report = deps.search(
            deps.store, deps.settings, claim_keys=state["claims"] or None, corpus=_path(req["corpus"]),
            since=since, progress=deps.progress, agent_run_id=req["agent_run_id"],
        )
    except SourceUnavailable as exc:
        deps.progress(f"paper source unavailable: {exc}; continuing with existing evidence")
        return {"search": {**nothing, "source_error": str(exc)}}
    except ClaimsError as exc:
        return {"search": nothing, "failures": [f"search: {exc}"]}
    errors = [str(e) for e in (getattr(report, "errors", None) or [])]
    return {"search": SearchOutcome(
        source_error=None,
        source=str(getattr(report, "source", "")),
        requests=int(getattr(report, "requests", 0) or 0),
        papers_seen=int(getattr(report, "papers_seen", 0) or 0),
        candidates={k: len(v) for k, v in (report.candidates or {}).items()},
        new_evidence={k: list(v) for k, v in (getattr(report, "new_evidence", None) or {}).items()},
        errors=errors,
        citation_requests=list(getattr(getattr(report, "citing", None), "requests", None) or []),
    ), "failures": [f"search: {e}" for e in errors]}


def anchors(deps: Deps, state: AgentState) -> dict[str, Any]:
    """Verify the anchor papers once; an unreachable source leaves them unchecked."""
    try:
        checks = deps.verify_anchors(deps.store, deps.settings, corpus=_path(state["request"]["corpus"]),
                                     progress=deps.progress)
    except SourceUnavailable as exc:
        return {"anchors": AnchorsOutcome(error=str(exc), checked=0)}
    except ClaimsError as exc:
        return {"anchors": AnchorsOutcome(error=str(exc), checked=0), "failures": [f"anchors: {exc}"]}
    statuses: dict[str, int] = {}
    for c in checks:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    return {"anchors": AnchorsOutcome(error=None, checked=len(checks), statuses=statuses)}


def select_judgements(deps: Deps, state: AgentState) -> dict[str, Any]:
    """What the judge sees this run: every candidate that needs it, within one budget for all
    claims, in `claims.judging`'s order (carried over, likely dissent, rank round-robin)."""
    keys = state.get("claims") or []
    judge = deps.judge
    if judge is None or not keys:
        return {"selection": NO_SELECTION}
    pending: dict[str, list[Pending]] = {}
    failures: list[str] = []
    with deps.store.read() as s:
        run = s.get(AgentRun, state["request"]["agent_run_id"])
        started = run.started_at if run is not None else None
        for key in keys:
            try:
                tasks = evidence_to_judge(s, key, judge.model, judge.prompt_version, carried_before=started)
            except ClaimsError as exc:
                failures.append(f"{key}: selecting for the judge failed: {exc}")
                continue
            pending[key] = [Pending(t.evidence_id, t.rank, t.carried, dissent_cue(t.title, t.summary)) for t in tasks]
    chosen = select_within_budget(pending, deps.settings.judge_budget)
    total = sum(chosen.pending.values())
    deps.progress(f"judging {chosen.selected} of {total} candidate(s) that need a judgement "
                  f"(budget {chosen.budget} per run)")
    if chosen.left:
        deps.progress("left unjudged by the budget (judged first next run): "
                      + ", ".join(f"{k} {n}" for k, n in chosen.left.items()))
    return {"selection": Selection(budget=chosen.budget, tasks=chosen.tasks, pending=chosen.pending, left=chosen.left),
            "failures": failures}


def judge_claim(deps: Deps, payload: JudgeSend) -> dict[str, Any]:
    """Judge the claim's selected candidates that still need it; each answer is stored as it comes."""
    key = payload["key"]
    entry = Judged(key=key, judged=0, failed=0, skipped=0, requests=0, prompt_tokens=0, completion_tokens=0,
                   started=time.time())
    if deps.judge is None:
        return {"judged": [entry]}
    try:
        todo = pending_judgements(deps, key, payload["evidence_ids"])
        if not todo:
            return {"judged": [{**entry, "finished": time.time()}]}
        deps.progress(f"{key}: judging {len(todo)} candidate(s)")
        workers = max(1, min(deps.settings.llm_concurrency, len(todo)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(deps.judge.judge, request): task for task, request in todo}
            for future in as_completed(futures):  # store each answer as soon as it arrives
                task, result = futures[future], future.result()
                entry["requests"] += result.requests
                entry["prompt_tokens"] += result.prompt_tokens
                entry["completion_tokens"] += result.completion_tokens
                if not store_judgement(deps, task, result, payload["request"]["agent_run_id"]):
                    entry["skipped"] += 1
                elif result.failed:
                    entry["failed"] += 1
                else:
                    entry["judged"] += 1
        return {"judged": [{**entry, "finished": time.time()}]}
    except Exception as exc:  # one claim's failure must not stop the others
        return {"judged": [{**entry, "finished": time.time(), "error": str(exc)}],
                "failures": [f"{key}: judging failed: {type(exc).__name__}: {exc}"]}


def pending_judgements(deps: Deps, key: str, evidence_ids: list[int] | None = None) -> list[tuple[JudgeTask, JudgeRequest]]:
    """The claim's candidates (of `evidence_ids`, if given) that need a judgement (`evidence_to_judge`)."""
    judge = deps.judge
    assert judge is not None
    with deps.store.read() as s:
        tasks = evidence_to_judge(s, key, judge.model, judge.prompt_version, only=evidence_ids)
    if evidence_ids:  # in the selection's order (claims.judging)
        order = {eid: i for i, eid in enumerate(evidence_ids)}
        tasks.sort(key=lambda t: order.get(t.evidence_id, len(order)))
    return [(t, JudgeRequest(t.claim_text, t.claim_as_of, t.title, t.summary, t.published)) for t in tasks]


def store_judgement(deps: Deps, task: JudgeTask, result: JudgeResult, agent_run_id: int) -> bool:
    """Store one judgement, with the claim revision and paper version it was made against,
    unless the row already holds one with the same cache key (resume)."""
    with deps.store.write() as s:
        return record_judgement(s, task.evidence_id, result, agent_run_id, actor=ACTOR,
                                claim_revision=task.claim_revision, paper_version=task.paper_version)


def plan(deps: Deps, state: AgentState) -> dict[str, Any]:
    """Decide queue/skip for each claim's retest within the run's budget (recorded by claims)."""
    req = state["request"]
    planned = plan_run_retests(deps.store, state.get("claims") or [], req["agent_run_id"],
                               set(req["request_retests"] or []), deps.protocols,
                               deps.settings.retest_budget, actor=ACTOR)
    out = [Planned(claim=p.claim_key, protocol=p.protocol, decision=p.decision, reason=p.reason,
                   retest_plan_id=p.plan_id) for p in planned]
    queued = [p for p in out if p["decision"] == "queue"]
    deps.progress(f"retests: {len(queued)} queued ({', '.join(p['claim'] for p in queued) or 'none'})")
    return {"plans": out}


def propose(deps: Deps, state: AgentState) -> dict[str, Any]:
    """Status proposals per claim, anchor corrections per inquiry; deduplicated."""
    written: list[int] = []
    failures: list[str] = []
    keys = state.get("claims") or []
    for key in keys:
        try:
            with deps.store.write() as s:
                written += propose_for_claim_key(s, key, actor=ACTOR)
        except Exception as exc:
            failures.append(f"{key}: proposing failed: {type(exc).__name__}: {exc}")
    try:
        with deps.store.write() as s:
            written += propose_anchor_corrections(s, keys, actor=ACTOR)
    except Exception as exc:
        failures.append(f"anchors: proposing failed: {type(exc).__name__}: {exc}")
    deps.progress(f"proposals: {len(written)} new")
    return {"proposals": written, "failures": failures}


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
