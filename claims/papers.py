"""Papers as last seen: one row per arXiv id, the newest version wins.

Sources (the arXiv client, a local corpus) produce `PaperRecord`s; `upsert_papers`
writes them: a paper seen again is deduplicated by its id, an older version never
replaces a newer one, and a new version (v2, ...) is recorded in the audit log.

A new version that is a withdrawal (`PaperRecord.withdrawn`, decided by the source:
`agent.arxiv.is_withdrawn`) is recorded as a `paper.withdrawn` audit entry naming that
version; `withdrawn_papers` reads them back. Evidence on a withdrawn paper never counts
toward a proposal, and a pending proposal that rested on it is stale (`claims.staleness`).
A later version that is not a withdrawal lifts it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.audit import record
from claims.models import AuditEntry, Paper, utcnow
from claims.versions import rejudge_changed

_NEW_ID = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5}$")
_VERSION = re.compile(r"^(?P<id>.+?)v(?P<v>\d+)$")


@dataclass
class PaperRecord:
    """One paper as a source returned it (`version` None: the source does not say)."""

    arxiv_id: str
    title: str
    summary: str = ""
    published: dt.date | None = None
    published_precision: str = "day"
    updated: dt.date | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    version: int | None = None
    withdrawn: bool = False  # the latest version is a withdrawal (see agent.arxiv.is_withdrawn)


@dataclass
class UpsertResult:
    """What an upsert did, by arXiv id."""

    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """`'2504.07912v2'` -> `('2504.07912', 2)`; accepts URLs and `arXiv:` prefixes."""
    text = raw.strip()
    if "/abs/" in text:
        text = text.split("/abs/", 1)[1]
    if text.lower().startswith("arxiv:"):
        text = text[6:]
    m = _VERSION.match(text)
    if m:
        return m["id"], int(m["v"])
    return text, None


def id_month(arxiv_id: str) -> dt.date | None:
    """The month a new-style id (YYMM.NNNNN) says its first version was submitted."""
    m = _NEW_ID.match(split_arxiv_id(arxiv_id)[0])
    if not m:
        return None
    month = int(m["mm"])
    if not 1 <= month <= 12:
        return None
    return dt.date(2000 + int(m["yy"]), month, 1)


def upsert_papers(
    session: Session, papers: Iterable[PaperRecord], source: str = "arxiv", actor: str = "agent"
) -> UpsertResult:
    """Insert or refresh papers; returns which ids were created, got a new version, or not."""
    incoming: dict[str, PaperRecord] = {}
    for rec in papers:
        key, version = split_arxiv_id(rec.arxiv_id)
        rec.arxiv_id = key
        rec.version = rec.version or version
        kept = incoming.get(key)
        if kept is None or (rec.version or 0) > (kept.version or 0):
            incoming[key] = rec
    result = UpsertResult()
    if not incoming:
        return result
    existing = {
        p.arxiv_id: p for p in session.scalars(select(Paper).where(Paper.arxiv_id.in_(list(incoming))))
    }
    now = utcnow()
    for key, rec in incoming.items():
        row = existing.get(key)
        if row is None:
            session.add(_new_row(rec, source, now))
            result.created.append(key)
            if rec.withdrawn:
                record(session, actor, "paper.withdrawn", "paper", key, version=rec.version or 1, source=source)
            continue
        row.last_seen_at = now
        if rec.version is not None and rec.version > row.version:
            old_version, old_title, old_summary = row.version, row.title, row.summary or ""
            _refresh(row, rec)
            if (rec.summary or "") != old_summary and old_summary and not rec.withdrawn:
                rejudge_changed(session, key, old_summary, rec.summary or "", old_version, rec.version, actor=actor)
            row.version = rec.version
            result.new_versions.append(key)
            record(
                session, actor, "paper.new_version", "paper", key,
                old_version=old_version, new_version=rec.version,
                title_changed=old_title != rec.title, old_title=old_title, source=source,
            )
            if rec.withdrawn:
                record(session, actor, "paper.withdrawn", "paper", key, version=rec.version, source=source)
        elif rec.version is None or rec.version == row.version:
            _fill_missing(row, rec)
            result.unchanged.append(key)
        else:
            result.unchanged.append(key)  # an older version: keep what we have
    session.flush()
    return result


def withdrawn_papers(session: Session, paper_ids: Iterable[str]) -> dict[str, int]:
    """The papers among `paper_ids` whose current version is a withdrawal: id -> that version."""
    ids = sorted(set(paper_ids))
    if not ids:
        return {}
    current = dict(session.execute(select(Paper.arxiv_id, Paper.version).where(Paper.arxiv_id.in_(ids))).all())
    notices = session.execute(select(AuditEntry.entity_id, AuditEntry.details).where(
        AuditEntry.action == "paper.withdrawn", AuditEntry.entity == "paper", AuditEntry.entity_id.in_(ids)))
    out: dict[str, int] = {}
    for pid, details in notices:
        version = (details or {}).get("version")
        if version is not None and version == current.get(pid):
            out[pid] = version
    return out


def _new_row(rec: PaperRecord, source: str, now: dt.datetime) -> Paper:
    return Paper(
        arxiv_id=rec.arxiv_id,
        version=rec.version or 1,
        title=rec.title,
        summary=rec.summary,
        published=rec.published,
        published_precision=rec.published_precision,
        updated=rec.updated,
        authors=list(rec.authors),
        categories=list(rec.categories),
        source=source,
        first_seen_at=now,
        last_seen_at=now,
    )


def _refresh(row: Paper, rec: PaperRecord) -> None:
    """Take a newer version's text; its embedding is stale if the text changed."""
    if (row.title, row.summary) != (rec.title, rec.summary):
        row.embedding = None
        row.embedding_model = None
    row.title, row.summary = rec.title, rec.summary
    row.updated = rec.updated or row.updated
    row.authors = list(rec.authors) or row.authors
    row.categories = list(rec.categories) or row.categories
    if rec.published is not None:  # v1 date: a more precise one is welcome
        row.published, row.published_precision = rec.published, rec.published_precision


def _fill_missing(row: Paper, rec: PaperRecord) -> None:
    """Same version seen again: fill only what the stored row lacks."""
    if not row.summary and rec.summary:
        row.summary = rec.summary
        row.embedding = None
        row.embedding_model = None
    if rec.published is not None and (
        row.published is None or (row.published_precision != "day" and rec.published_precision == "day")
    ):
        row.published, row.published_precision = rec.published, rec.published_precision
    row.updated = row.updated or rec.updated
    row.authors = row.authors or list(rec.authors)
    row.categories = row.categories or list(rec.categories)
