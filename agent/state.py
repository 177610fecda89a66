"""The agent graph's state (`agent.graph`), typed: what each node writes, read by `agent.run`.

The values are plain dicts at run time (LangGraph checkpoints them); these TypedDicts say
which keys each holds. A top-level key is missing until its node has run, so the run's
summary reads those with `.get`; inside a sub-state every key is present.
"""

from __future__ import annotations

import operator
from typing import Annotated, NotRequired, TypedDict


class RunRequest(TypedDict):
    """What the run was asked (claims.runs.ResumeKey.to_json, with the AgentRun id)."""

    agent_run_id: int
    claim_keys: list[str] | None
    corpus: str | None
    since: str | None
    request_retests: list[str]


class SearchOutcome(TypedDict):
    source_error: str | None  # the paper source was down: the run goes on with existing evidence
    source: str
    requests: int
    papers_seen: int
    candidates: dict[str, int]  # per claim
    new_evidence: dict[str, list[str]]  # per claim: arXiv ids
    errors: list[str]
    citation_requests: list[str]


class AnchorsOutcome(TypedDict):
    error: str | None
    checked: int
    statuses: NotRequired[dict[str, int]]  # anchors per status (left out when the check failed)


class Selection(TypedDict):
    """What the judge sees this run (claims.judging.Selection.to_json)."""

    budget: int | None
    tasks: dict[str, list[int]]  # evidence ids per claim, in judging order
    pending: dict[str, int]
    left: dict[str, int]  # per claim: over the budget, judged next run


NO_SELECTION = Selection(budget=None, tasks={}, pending={}, left={})


class JudgeSend(TypedDict):
    """One Send to the judge_claim node."""

    key: str
    request: RunRequest
    evidence_ids: list[int]


class Judged(TypedDict):
    """What judging one claim did."""

    key: str
    judged: int
    failed: int
    skipped: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    started: float
    finished: NotRequired[float]
    error: NotRequired[str]


class Planned(TypedDict):
    """One retest decision (claims.planning)."""

    claim: str
    protocol: str
    decision: str  # queue | skip
    reason: str
    retest_plan_id: int | None


class AgentState(TypedDict, total=False):
    request: RunRequest
    claims: list[str]
    search: SearchOutcome
    anchors: AnchorsOutcome
    selection: Selection
    judged: Annotated[list[Judged], operator.add]  # one entry per claim
    plans: list[Planned]
    proposals: list[int]
    failures: Annotated[list[str], operator.add]
    timings: Annotated[dict[str, float], operator.or_]  # seconds per node (judge:<key> per claim)
