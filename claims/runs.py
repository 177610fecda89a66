"""Agent and weekly runs (the `agent_runs` table) and paper fetches (`sweeps`).

A run row is `running` while its process works on it, then `succeeded`, `failed` or
`interrupted`. Each row records its owner (pid, host, process start time) under
`counts["owner"]`; when a run starts, every `running` row whose owner process is gone
(same host, pid dead or reused) is marked `interrupted`, so a killed run never stays
`running`. A row whose owner is on another host is left alone (it cannot be checked).

An agent run also records what it was asked to do, its `ResumeKey`, under
`counts["request"]`. A new agent run with the same key takes over the newest agent
run if that one was interrupted, and finishes only what was left (its checkpointed
LangGraph thread). Another key, or a finished run in between, starts afresh.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import audit
from claims.lock import pid_alive
from claims.models import AgentRun, Sweep, utcnow
from claims.redaction import hide_secrets
from claims.store import Store

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"
AGENT_RUN_STATUSES = (RUNNING, SUCCEEDED, FAILED, INTERRUPTED)


@dataclass(frozen=True)
class ResumeKey:
    """What an agent run was asked to do; two runs with equal keys are "the same options"."""

    claim_keys: tuple[str, ...] | None = None
    corpus: str | None = None
    since: dt.date | None = None
    request_retests: tuple[str, ...] = ()

    def __post_init__(self) -> None:  # canonical order, so equal requests compare equal
        if self.claim_keys is not None:
            object.__setattr__(self, "claim_keys", tuple(sorted(self.claim_keys)) or None)
        object.__setattr__(self, "request_retests", tuple(sorted(self.request_retests)))

    def to_json(self) -> dict[str, Any]:
        return {"claim_keys": list(self.claim_keys) if self.claim_keys else None, "corpus": self.corpus,
                "since": self.since.isoformat() if self.since else None, "request_retests": list(self.request_retests)}

    @classmethod
    def from_json(cls, data: Any) -> ResumeKey | None:
        """The key stored on a row; None when absent or malformed (such a row is never resumed)."""
        if not isinstance(data, dict):
            return None
        try:
            since = data.get("since")
            return cls(claim_keys=tuple(data["claim_keys"]) if data.get("claim_keys") else None,
                       corpus=data.get("corpus"), since=dt.date.fromisoformat(since) if since else None,
                       request_retests=tuple(data.get("request_retests") or ()))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class RunOwner:
    """The process working on a run: pid, host and the process's start time (Linux)."""

    pid: int
    host: str
    started: int | None = None  # clock ticks since boot (/proc/<pid>/stat field 22); tells pid reuse

    @classmethod
    def current(cls) -> RunOwner:
        return cls(os.getpid(), socket.gethostname(), _process_start(os.getpid()))

    @classmethod
    def from_json(cls, data: Any) -> RunOwner | None:
        if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
            return None
        return cls(data["pid"], str(data.get("host", "")), data.get("started"))

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "started": self.started}

    def is_gone(self) -> bool:
        """True when the process is certainly gone; False when alive or on another host."""
        if self.host != socket.gethostname():
            return False
        if not pid_alive(self.pid):
            return True
        now = _process_start(self.pid)
        return self.started is not None and now is not None and now != self.started


def _process_start(pid: int) -> int | None:
    try:  # field 22 of /proc/<pid>/stat; the process name (field 2) may hold spaces, so split after ")"
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class StartedRun:
    """A run row this process now owns."""

    id: int
    thread_id: str
    resumed: bool = False
    interrupted: tuple[int, ...] = ()  # rows of dead runs marked interrupted on the way


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended; counts are merged into the row's, the rest replace it."""

    status: str
    counts: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    errors: Sequence[str] = ()


def mark_dead_runs(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Mark `running` rows whose process is gone as `interrupted`; their ids."""
    marked = []
    for row in session.scalars(select(AgentRun).where(AgentRun.status == RUNNING).order_by(AgentRun.id)):
        owner = RunOwner.from_json((row.counts or {}).get("owner"))
        if owner is not None and not owner.is_gone():
            continue
        row.status, row.finished_at = INTERRUPTED, now or utcnow()
        who = f"pid {owner.pid} on {owner.host}" if owner else "an unknown process"
        row.errors = [*(row.errors or []), f"interrupted: its process ({who}) ended before finishing the run"]
        audit.record(session, "claims", "interrupted", "agent_run", row.id, kind=row.kind)
        marked.append(row.id)
    return marked


def start_agent_run(store: Store, key: ResumeKey, mode: str, models: Mapping[str, Any],
                    thread_id: str | None = None) -> StartedRun:
    """Own a new agent run, or take over the newest one if it was interrupted with the same key.

    With `thread_id` only a run on that thread is taken over.
    """
    owner = RunOwner.current()
    with store.write() as s:
        dead = tuple(mark_dead_runs(s))
        q = select(AgentRun).where(AgentRun.kind == "agent")
        if thread_id:
            q = q.where(AgentRun.thread_id == thread_id)
        last = s.scalars(q.order_by(AgentRun.id.desc()).limit(1)).first()
        if last is not None and last.status == INTERRUPTED and ResumeKey.from_json((last.counts or {}).get("request")) == key:
            last.status, last.finished_at, last.mode, last.models = RUNNING, None, mode, dict(models)
            last.counts = {**(last.counts or {}), "owner": owner.to_json()}
            return StartedRun(last.id, last.thread_id, True, dead)
        run = AgentRun(kind="agent", mode=mode, thread_id=thread_id or uuid.uuid4().hex, status=RUNNING,
                       counts={"request": key.to_json(), "owner": owner.to_json()}, models=dict(models))
        s.add(run)
        s.flush()
        return StartedRun(run.id, run.thread_id, False, dead)


def start_weekly_run(store: Store, options: Mapping[str, Any]) -> StartedRun:
    """Own a new weekly run row (`models["options"]`: the run's options as JSON values)."""
    with store.write() as s:
        dead = tuple(mark_dead_runs(s))
        run = AgentRun(kind="weekly", mode="weekly", status=RUNNING, models={"options": dict(options)},
                       counts={"owner": RunOwner.current().to_json()})
        s.add(run)
        s.flush()
        return StartedRun(run.id, run.thread_id, False, dead)


def finish_run(store: Store, run_id: int, outcome: RunOutcome, actor: str | None = None,
               **audit_details: Any) -> None:
    """Close a run row with its outcome; with `actor`, also write an audit entry."""
    if outcome.status not in AGENT_RUN_STATUSES[1:]:
        raise ValueError(f"a run finishes as one of {AGENT_RUN_STATUSES[1:]}, not {outcome.status!r}")
    with store.write() as s:
        row = s.get(AgentRun, run_id)
        row.status, row.finished_at = outcome.status, utcnow()
        row.counts = {**(row.counts or {}), **dict(outcome.counts)}
        row.timings, row.errors = dict(outcome.timings), [hide_secrets(str(e)) for e in outcome.errors]
        if actor:
            audit.record(s, actor, f"{row.kind}-run", "agent_run", run_id, status=outcome.status, **audit_details)


def run_request(store: Store, run_id: int) -> ResumeKey | None:
    """The resume key an agent run was started with."""
    with store.read() as s:
        row = s.get(AgentRun, run_id)
        return ResumeKey.from_json((row.counts or {}).get("request")) if row else None


@dataclass(frozen=True)
class SweepRecord:
    """One fetch from a paper source over a window (a failed one carries its error)."""

    source: str
    mode: str  # sweep | backfill
    window_start: dt.date | None
    window_end: dt.date | None
    papers_seen: int
    requests: int
    error: str | None = None


def record_sweeps(session: Session, sweeps: Sequence[SweepRecord]) -> None:
    """Add a Sweep row per fetch (finished now)."""
    now = utcnow()
    for f in sweeps:
        session.add(Sweep(source=f.source[:200], mode=f.mode, window_start=f.window_start, window_end=f.window_end,
                          status="failed" if f.error else "succeeded", papers_seen=f.papers_seen,
                          requests=f.requests, error=f.error, finished_at=now))
