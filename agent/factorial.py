"""Between the factorial grid engine and the claims store: run a grid, store it, propose from it.

`retest.factorial` knows nothing of the database and `claims.factorial` nothing of the
engine; this is the one place that reads a `retest.factorial.FactorialResult` field by
field into a `claims.factorial.FactorialRecord` (a renamed field fails here), and the one
function that the CLI (`claims retest factorial`) and the weekly job both call
(`run_and_store`).
"""

from __future__ import annotations

import importlib.util
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claims.errors import BadInput
from claims.factorial import (HEADLINE, FactorialRecord, StoredFactorial, find_inquiry, propose_from_factorial,
                              record_factorial)
from claims.models import utcnow
from claims.retests import RunStrength
from claims.store import Store
from retest.factorial import EXECUTORS, FACTORIAL_PRESETS, OUTCOMES

if TYPE_CHECKING:
    from retest.factorial import FactorialResult

Say = Callable[[str], None]
Grid = Callable[..., "FactorialResult"]  # retest.factorial.run_factorial's signature
INTERVAL = "bases nested in priors and RL seeds (mixed model, generalized confidence intervals)"
RAY_MISSING = "the ray executor needs Ray: pip install 'claims-tracker[grid]' (or use --executor local)"


@dataclass
class FactorialOutcome:
    """What one grid run left: its stored id and record, and what it proposed (or why not)."""

    id: int
    record: FactorialRecord
    proposals: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return self.record.status == "interrupted"


def validity_flags(result: FactorialResult) -> tuple[str, ...]:
    """The flags that weaken the grid as evidence: those raised while it ran (failed cells,
    Ctrl-C, a headline outcome without shares). Not the design's confounds, stated before
    the run in its config (they stand beside the answer and in a proposal's rationale; the
    weekly preset cannot propose anyway), nor a note on an outcome other than the headline
    ones (pass@256, pass@1), whose shares the finding does not use."""
    stated = set(result.config.get("confounds") or ())
    side = {*OUTCOMES, *(f"{o}_gain" for o in OUTCOMES)} - set(HEADLINE)
    return tuple(f for f in result.flags if f not in stated and f.split(":", 1)[0] not in side)


def strength_of(result: FactorialResult) -> RunStrength:
    """How strong the grid is as evidence: its seeds (from the cells that finished), interval and flags."""
    done = result.done_cells()
    rl = tuple(sorted({c.rl_seed for c in done}))
    pretrain = tuple(sorted({c.pretrain_seed for c in done}))
    return RunStrength(preset=result.preset, rl_seeds=rl, pretrain_seeds=pretrain, interval=INTERVAL,
                       interval_spans_seeds=bool(result.shares) and len(rl) >= 2 and len(pretrain) >= 2,
                       flags=validity_flags(result), toy_world=result.toy_world)


def to_record(result: FactorialResult, reason: str = "", log: str = "") -> FactorialRecord:
    """The record to store for an engine result."""
    return FactorialRecord(
        preset=result.preset,
        executor=result.executor,
        status=result.status,
        levels={k: [str(v) for v in vs] for k, vs in result.levels.items()},
        cells=[c.model_dump(mode="json") for c in result.cells],
        shares={o: s.model_dump(mode="json") for o, s in result.shares.items()},
        ranges={o: dict(r) for o, r in result.ranges.items()},
        answer=result.answer,
        flags=list(result.flags),
        strength=strength_of(result),
        config=_jsonable(result.config),
        environment=_jsonable(result.environment),
        reason=reason,
        log=log,
        seconds=result.seconds,
        started_at=_naive(result.started_at),
        finished_at=_naive(result.finished_at),
    )


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    """As it reads back from a JSON column (tuples become lists), so a stored record equals the one stored."""
    return json.loads(json.dumps(value, default=str))


def _naive(value: Any) -> Any:
    if value is not None and value.tzinfo is not None:
        from datetime import timezone

        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def check_request(preset: str, executor: str) -> None:
    """Refuse an unknown preset or executor, or Ray asked for but not installed (BadInput: exit 2)."""
    if preset not in FACTORIAL_PRESETS:
        raise BadInput(f"unknown factorial preset {preset!r}: choose one of {', '.join(FACTORIAL_PRESETS)}")
    if executor not in EXECUTORS:
        raise BadInput(f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise BadInput(RAY_MISSING)


def fastest_executor() -> str:
    """``ray`` when Ray is installed (one cell per core: the weekly grid in about half the
    local executor's time on 2 cores, docs/factorial.md), else ``local``."""
    return "ray" if importlib.util.find_spec("ray") is not None else "local"


def run_and_store(store: Store, cache_dir: Path, *, preset: str = "weekly", executor: str = "local",
                  ray_address: str | None = None, inquiry: str | None = None, say: Say = print,
                  reason: str = "", actor: str = "retest", grid: Grid | None = None) -> FactorialOutcome:
    """Run (or resume) the grid, store it as a factorial run of the inquiry, propose if strong.

    Ctrl-C is recorded as an interrupted run (finished cells stay in the engine's cache,
    so the next run resumes); a crash is recorded as failed with its traceback.
    `grid` is the engine entry point (default `retest.factorial.run_factorial`).
    """
    check_request(preset, executor)
    with store.read() as s:  # fail fast on an unknown inquiry, before minutes of training
        find_inquiry(s, inquiry)
    say(f"factorial grid: preset {preset}, executor {executor}" + (f" at {ray_address}" if ray_address else ""))
    started, t0 = utcnow(), time.monotonic()
    try:
        if grid is None:  # imported here: an engine that cannot be imported is recorded as a crashed grid
            from retest.factorial import run_factorial as grid
        result = grid(preset=preset, executor=executor, ray_address=ray_address, cache_dir=cache_dir, progress=say)
        record = to_record(result, reason=reason)
    except KeyboardInterrupt:
        record = _stopped("interrupted", preset, executor, started, t0, reason,
                          "interrupted (Ctrl-C); finished cells stay cached and are not re-run")
    except Exception:  # the request was checked above: anything raised now is a crash of the grid
        record = _stopped("failed", preset, executor, started, t0, reason, traceback.format_exc())
    with store.write() as s:
        stored: StoredFactorial = record_factorial(s, inquiry, record, actor=actor)
        proposals, notes = ([], ["not proposed: the grid did not finish"]) if record.status in ("failed", "interrupted") \
            else propose_from_factorial(s, stored.id, actor=actor)
    return FactorialOutcome(id=stored.id, record=record, proposals=proposals, notes=notes)


def _stopped(status: str, preset: str, executor: str, started: Any, t0: float, reason: str, log: str) -> FactorialRecord:
    return FactorialRecord(preset=preset, executor=executor, status=status, reason=reason, log=log,
                           seconds=round(time.monotonic() - t0, 1), started_at=started, finished_at=utcnow(),
                           strength=RunStrength(preset=preset))
