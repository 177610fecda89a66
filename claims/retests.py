"""Storing retest results: a RetestRun row per run, the claim's last_retested_at, audit.

The retest engine (`retest/`) knows nothing of the database; it returns a record
(`RetestResult.to_record()`) which this module stores for a claim.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.audit import record as audit
from claims.errors import BadInput, NotFound
from claims.models import RUN_STATUSES, VERDICTS, Claim, RetestRun, utcnow

RECORD_KEYS = frozenset({
    "protocol", "protocol_version", "preset", "config", "status", "metrics", "verdict", "effect_size",
    "ci_low", "ci_high", "decision_rule", "summary", "environment", "artifacts", "log", "started_at",
    "finished_at",
})


def _check(record: dict[str, Any]) -> None:
    unknown = set(record) - RECORD_KEYS - {"reason"}
    if unknown:
        raise BadInput(f"retest record has unknown keys: {sorted(unknown)}")
    if "protocol" not in record or "status" not in record:
        raise BadInput("retest record needs at least 'protocol' and 'status'")
    if record["status"] not in RUN_STATUSES:
        raise BadInput(f"retest status {record['status']!r}: expected one of {RUN_STATUSES}")
    if record.get("verdict") is not None and record["verdict"] not in VERDICTS:
        raise BadInput(f"retest verdict {record['verdict']!r}: expected one of {VERDICTS} or None")
    for key in ("started_at", "finished_at"):
        value = record.get(key)
        if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is not None):
            raise BadInput(f"{key} must be a naive UTC datetime")


def record_run(session: Session, claim_key: str, record: dict[str, Any], actor: str = "retest") -> RetestRun:
    """Store `record` as a RetestRun of claim `claim_key`; a finished run (succeeded or
    failed) sets the claim's last_retested_at. Writes an audit entry. Raises NotFound
    for an unknown claim and BadInput for a malformed record."""
    _check(record)
    claim = session.scalar(select(Claim).where(Claim.key == claim_key))
    if claim is None:
        raise NotFound(f"no claim {claim_key!r}")
    run = RetestRun(claim_id=claim.id, **record)
    session.add(run)
    if run.status in ("succeeded", "failed"):
        claim.last_retested_at = record.get("finished_at") or utcnow()
    session.flush()
    audit(session, actor, "retest_recorded", "retest_run", run.id, claim=claim_key, protocol=run.protocol,
          status=run.status, verdict=run.verdict, effect_size=run.effect_size)
    return run
