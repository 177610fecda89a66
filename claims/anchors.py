"""Recording anchor checks: the outcome of verifying each cited paper (the `anchors` rows).

The agent decides a status per anchor (verified, mismatch, not_found, unchecked);
this module stores it. An `unchecked` outcome (no source reachable now) never
overwrites an earlier real verdict. A candidate paper (one the anchor may have meant)
that the injection screen flags (`claims.screening`) is never stored among the
candidates, so no proposal or page ever offers it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.anchor_changes import Difference
from claims.models import ANCHOR_STATUSES, Anchor, Paper, utcnow
from claims.screening import screen_paper

HELD_STATUSES = ("flagged", "withdrawn")  # set by a reviewer's decision; a new mismatch keeps them


@dataclass(frozen=True)
class AnchorResult:
    """The outcome of checking one anchor row."""

    anchor_id: int
    status: str  # one of claims.models.ANCHOR_STATUSES
    differences: tuple[Difference, ...] = ()  # stored as {code, text}
    verified_title: str | None = None
    verified_published: dt.date | None = None
    candidates: tuple[dict[str, Any], ...] = ()  # papers that may have been meant, best first


def record_anchor_checks(session: Session, results: Sequence[AnchorResult], at: dt.datetime | None = None) -> int:
    """Store the checks; the number of anchor rows changed."""
    now = at or utcnow()
    by_id = {r.anchor_id: _screened(session, r) for r in results}
    changed = 0
    for row in session.scalars(select(Anchor).where(Anchor.id.in_(list(by_id)))):
        r = by_id[row.id]
        if r.status not in ANCHOR_STATUSES:
            raise ValueError(f"anchor status {r.status!r}: expected one of {ANCHOR_STATUSES}")
        if r.status == "unchecked" and row.status != "unchecked":
            continue  # no source now: keep the last real verdict
        if row.status in HELD_STATUSES and r.status in ("mismatch", "not_found"):
            row.differences, row.candidates = _stored(r.differences), list(r.candidates)
            continue  # a reviewer flagged it (or it was withdrawn): the check does not clear that
        row.status, row.differences, row.candidates = r.status, _stored(r.differences), list(r.candidates)
        row.verified_title, row.verified_published = r.verified_title, r.verified_published
        if r.status != "unchecked":
            row.checked_at = now
        changed += 1
    return changed


def _stored(differences: Sequence[Difference]) -> list[dict[str, str]]:
    return [d.model_dump() for d in differences]


def _screened(session: Session, result: AnchorResult) -> AnchorResult:
    """The result without candidates whose paper (title or abstract) the screen flags."""
    if not result.candidates:
        return result
    ids = [str(c.get("id")) for c in result.candidates]
    papers = {p.arxiv_id: p for p in session.scalars(select(Paper).where(Paper.arxiv_id.in_(ids)))}

    def flagged(c: dict[str, Any]) -> bool:
        paper = papers.get(str(c.get("id")))
        title = paper.title if paper is not None else str(c.get("title") or "")
        return screen_paper(title, paper.summary or "" if paper is not None else "").flagged

    kept = tuple(c for c in result.candidates if not flagged(c))
    return result if len(kept) == len(result.candidates) else dataclasses.replace(result, candidates=kept)
