"""Cached reads for the pages: the store, a data version, and one query per view.

Every cached query takes the database URL and the current `version()` as arguments:
the URL keeps one cache entry per database (st.cache_resource lives for the whole
process), the version invalidates entries when a decision is written here (a
process-wide counter) or when another process writes (a fingerprint of cheap,
indexed aggregates). A short TTL bounds what the fingerprint cannot see (an
evidence row judged in place, an anchor re-verified).

Queries aggregate in SQL (GROUP BY over the indexes in claims.models) and fetch one
page at a time, so the overview and the queue stay fast with thousands of rows.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import object_session, selectinload

from claims import reviewers
from claims.anchor_changes import difference_texts
from claims.citations import provenance
from claims.dates import format_published
from claims.errors import NotFound
from claims.export import render_export
from claims.models import (
    Claim,
    Evidence,
    Inquiry,
    Paper,
    Proposal,
    RetestRun,
)
from claims.queries import read_claim
from claims.stopping import claim_remaining
from claims.store import Store, open_store
from claims.versions import abstract_changes
from claims.window import is_newer_than_claim

TTL_SECONDS = 30
_FINGERPRINT = text(
    "SELECT (SELECT max(id) FROM claim_revisions), (SELECT max(id) FROM proposals),"
    " (SELECT count(*) FROM proposals WHERE state = 'pending'),"
    " (SELECT max(id) FROM evidence), (SELECT max(id) FROM retest_runs),"
    " (SELECT max(finished_at) FROM retest_runs), (SELECT max(id) FROM audit_log),"
    " (SELECT max(id) FROM claims)"
)


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    """One Store (engine and pool) per database URL for the whole server process."""
    return open_store(url, migrate=False)


@st.cache_resource(show_spinner=False)
def _counter() -> list[int]:
    return [0]


def bump_version() -> None:
    """Invalidate every cached query (called after a decision is written)."""
    _counter()[0] += 1


def version(url: str) -> tuple[Any, ...]:
    """The data version: the local decision counter plus a fingerprint of the database."""
    with get_store(url).read() as s:
        row = s.execute(_FINGERPRINT).one()
    return (_counter()[0], *(str(v) for v in row))


def is_initialised(url: str) -> bool:
    return get_store(url).revision() is not None


def tokens_required(url: str) -> bool:
    """Do reviewer accounts exist (so deciding needs a token)? Not cached: a revoke takes effect at once."""
    with get_store(url).read() as s:
        return reviewers.tokens_required(s)


def _cached(fn):  # type: ignore[no-untyped-def]
    return st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=256)(fn)


@_cached
def inquiries(url: str, ver: tuple) -> list[dict[str, Any]]:
    with get_store(url).read() as s:
        rows = s.execute(select(Inquiry.id, Inquiry.slug, Inquiry.title).order_by(Inquiry.id)).all()
    return [{"id": r.id, "slug": r.slug, "title": r.title} for r in rows]


@_cached
def totals(url: str, ver: tuple) -> dict[str, Any]:
    """Counts for the header: claims per status, pending proposals, runs."""
    with get_store(url).read() as s:
        by_status = dict(s.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())
        pending = s.scalar(select(func.count()).select_from(Proposal).where(Proposal.state == "pending"))
        runs = s.scalar(select(func.count()).select_from(RetestRun))
    return {"by_status": by_status, "claims": sum(by_status.values()), "pending": pending or 0, "runs": runs or 0}


def _claim_filters(statuses: tuple[str, ...], inquiry_id: int | None, search: str) -> list[Any]:
    where: list[Any] = []
    if statuses:
        where.append(Claim.status.in_(statuses))
    if inquiry_id is not None:
        where.append(Claim.inquiry_id == inquiry_id)
    if search.strip():
        pattern = f"%{search.strip()}%"
        where.append(or_(Claim.key.ilike(pattern), Claim.text.ilike(pattern)))
    return where


@_cached
def overview(
    url: str,
    ver: tuple,
    statuses: tuple[str, ...] = (),
    inquiry_id: int | None = None,
    search: str = "",
    page: int = 1,
    page_size: int = 50,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of the claims table and the number of matching claims.

    "New" evidence is evidence from papers newer than the claim (one rule for the UI,
    the export and the proposals: `claims.window.is_newer_than_claim`); counts and
    the last verdict are aggregated for the page's claims only.
    """
    where = _claim_filters(statuses, inquiry_id, search)
    with get_store(url).read() as s:
        total = s.scalar(select(func.count()).select_from(Claim).where(*where)) or 0
        claims = s.execute(
            select(Claim.id, Claim.key, Claim.text, Claim.status, Claim.as_of, Claim.last_checked_at,
                   Claim.revision, Inquiry.slug)
            .join(Inquiry, Inquiry.id == Claim.inquiry_id)
            .where(*where)
            .order_by(Claim.inquiry_id, Claim.position, Claim.id)
            .limit(page_size)
            .offset(max(page - 1, 0) * page_size)
        ).all()
        ids = [c.id for c in claims]
        counts = _new_evidence_counts(s, ids)
        verdicts = _last_verdicts(s, ids)
        pending = dict(
            s.execute(
                select(Proposal.claim_id, func.count())
                .where(Proposal.state == "pending", Proposal.claim_id.in_(ids))
                .group_by(Proposal.claim_id)
            ).all()
        )
    rows = []
    for c in claims:
        v = verdicts.get(c.id)
        rows.append({
            "id": c.id,
            "key": c.key,
            "claim": c.text,
            "status": c.status,
            "as_of": c.as_of,
            "last_checked": c.last_checked_at,
            "retest": v or "",
            "new_supporting": counts.get((c.id, "supports"), 0),
            "new_contradicting": counts.get((c.id, "contradicts"), 0),
            "pending": pending.get(c.id, 0),
            "inquiry": c.slug,
        })
    return total, rows


def _new_evidence_counts(s, ids: list[int]) -> dict[tuple[int, str], int]:  # type: ignore[no-untyped-def]
    """(claim id, stance) -> supporting/contradicting evidence from papers newer than the claim."""
    if not ids:
        return {}
    rows = s.execute(
        select(Evidence.claim_id, Evidence.stance, Paper.published, Claim.as_of_end)
        .join(Paper, Paper.arxiv_id == Evidence.paper_id)
        .join(Claim, Claim.id == Evidence.claim_id)
        .where(Evidence.claim_id.in_(ids), Evidence.stance.in_(("supports", "contradicts")))
    ).all()
    counts: dict[tuple[int, str], int] = {}
    for claim_id, stance, published, as_of_end in rows:
        if is_newer_than_claim(published, as_of_end):
            counts[(claim_id, stance)] = counts.get((claim_id, stance), 0) + 1
    return counts


def _last_verdicts(s, ids: list[int]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    if not ids:
        return {}
    latest = select(func.max(RetestRun.id)).where(RetestRun.claim_id.in_(ids)).group_by(RetestRun.claim_id)
    rows = s.execute(select(RetestRun.claim_id, RetestRun.verdict, RetestRun.status).where(RetestRun.id.in_(latest))).all()
    return {r.claim_id: (r.verdict or r.status) for r in rows}


@_cached
def claim_keys(url: str, ver: tuple) -> list[str]:
    with get_store(url).read() as s:
        return list(s.scalars(select(Claim.key).order_by(Claim.inquiry_id, Claim.position, Claim.id)))


@_cached
def claim_detail(url: str, ver: tuple, key: str, evidence_limit: int = 50) -> dict[str, Any] | None:
    """Everything the claim page shows; evidence sorted by relevance (the top `evidence_limit`)."""
    with get_store(url).read() as s:
        try:
            record = read_claim(s, key, evidence_limit)
        except NotFound:
            return None
        claim, inquiry = record.claim, record.inquiry
        revisions = [_row(r) for r in reversed(record.revisions)]
        notes = [_row(n) for n in record.notes]
        anchors = [{**_row(a), "differences": difference_texts(a.differences)} for a in record.anchors
                   if a.claim_id in (None, claim.id)]
        precision = dict(s.execute(select(Paper.arxiv_id, Paper.published_precision)
                                   .where(Paper.arxiv_id.in_([a["arxiv_id"] for a in anchors]))).all())
        for a in anchors:  # the verified date at the precision the paper's record has
            a["verified_published"] = format_published(a["verified_published"], precision.get(a["arxiv_id"], "day"))
        n_evidence = record.evidence_total
        evidence = [_evidence_row(e) for e in record.evidence]
        runs = [_row(r) for r in record.runs[:20]]
        pending = len(record.pending)
        n_labels, remaining = claim_remaining(s, claim.id)
        return {
            "labels": n_labels,
            "remaining": remaining,  # claims.stopping.Remaining, from 10 labels on
            "claim": _row(claim),
            "inquiry": {"slug": inquiry.slug, "title": inquiry.title, "question": inquiry.question} if inquiry else {},
            "revisions": revisions,
            "notes": notes,
            "anchors": anchors,
            "evidence": evidence,
            "evidence_total": n_evidence,
            "runs": runs,
            "pending": pending,
        }


@_cached
def pending_proposals(url: str, ver: tuple, page: int = 1, page_size: int = 10) -> tuple[int, list[dict[str, Any]]]:
    """One page of pending proposals, oldest first, each with its claim, evidence and runs."""
    with get_store(url).read() as s:
        total = s.scalar(select(func.count()).select_from(Proposal).where(Proposal.state == "pending")) or 0
        proposals = s.scalars(
            select(Proposal)
            .options(selectinload(Proposal.claim), selectinload(Proposal.evidence).selectinload(Evidence.paper),
                     selectinload(Proposal.retest_runs))
            .where(Proposal.state == "pending")
            .order_by(Proposal.created_at, Proposal.id)
            .limit(page_size)
            .offset(max(page - 1, 0) * page_size)
        ).all()
        return total, [_proposal_row(p) for p in proposals]


@_cached
def stale_proposals(url: str, ver: tuple, limit: int = 50) -> list[dict[str, Any]]:
    """Proposals marked stale (their evidence changed under them), newest first, each with its claim."""
    with get_store(url).read() as s:
        proposals = s.scalars(
            select(Proposal)
            .options(selectinload(Proposal.claim), selectinload(Proposal.evidence).selectinload(Evidence.paper),
                     selectinload(Proposal.retest_runs))
            .where(Proposal.state == "stale")
            .order_by(Proposal.id.desc())
            .limit(limit)
        ).all()
        return [_proposal_row(p) for p in proposals]


@_cached
def runs(url: str, ver: tuple, page: int = 1, page_size: int = 25, status: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """One page of retest runs, newest first, with their claim key (metrics left out)."""
    where = [RetestRun.status == status] if status else []
    cols = [c for c in RetestRun.__table__.c if c.name not in ("metrics", "log", "artifacts")]
    with get_store(url).read() as s:
        total = s.scalar(select(func.count()).select_from(RetestRun).where(*where)) or 0
        rows = s.execute(
            select(*cols, Claim.key.label("claim_key"))
            .join(Claim, Claim.id == RetestRun.claim_id)
            .where(*where)
            .order_by(RetestRun.id.desc())
            .limit(page_size)
            .offset(max(page - 1, 0) * page_size)
        ).mappings().all()
    return total, [dict(r) for r in rows]


@_cached
def run_detail(url: str, ver: tuple, run_id: int) -> dict[str, Any] | None:
    with get_store(url).read() as s:
        run = s.get(RetestRun, run_id)
        if run is None:
            return None
        row = _row(run)
        row["claim_key"] = s.scalar(select(Claim.key).where(Claim.id == run.claim_id))
        return row


@_cached
def export_text(url: str, ver: tuple, fmt: str, inquiry: str | None = None) -> str:
    """The refreshed research prompt (claims.export), as Markdown or JSON; records nothing."""
    with get_store(url).read() as s:
        return render_export(s, fmt=fmt, inquiry=inquiry)


def duration_seconds(run: dict[str, Any]) -> float | None:
    start, end = run.get("started_at"), run.get("finished_at")
    if start and end:
        return (end - start).total_seconds()
    return None


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def _evidence_row(e: Evidence) -> dict[str, Any]:
    row = _row(e)
    row["paper"] = _row(e.paper) if e.paper else {"arxiv_id": e.paper_id, "title": e.paper_id}
    row["paper"].pop("embedding", None)
    session = object_session(e)
    if session is not None:
        row["abstract_changes"] = abstract_changes(session, e.id)
        row["cites"] = provenance(session, [e.paper_id]).get(e.paper_id, [])
    return row


def _proposal_row(p: Proposal) -> dict[str, Any]:
    row = _row(p)
    row["claim"] = _row(p.claim) if p.claim else None
    row["evidence"] = [_evidence_row(e) for e in sorted(p.evidence, key=lambda e: -e.relevance)]
    row["runs"] = [{k: v for k, v in _row(r).items() if k not in ("log",)} for r in p.retest_runs]
    return row


def pages(total: int, page_size: int) -> int:
    """How many pages `total` rows fill (at least one)."""
    return max(1, -(-total // page_size))
