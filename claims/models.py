"""The data model (SQLAlchemy 2.x typed ORM). Timestamps are `*_at`, in UTC.

Tables: inquiries, claims, claim_revisions, source_notes, papers, anchors, evidence,
retest_runs, factorial_runs, retest_plans, proposals (+ proposal_evidence, proposal_retest_runs),
audit_log, reviewers, agent_runs, sweeps, exports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from claims.vocabulary import (  # noqa: F401  (the stored words, re-exported beside the tables)
    ANCHOR_STATUSES,
    CLAIM_STATUSES,
    PROPOSAL_STATES,
    REVIEWABLE_STANCES,
    RUN_STATUSES,
    STANCES,
    VERDICTS,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PROPOSAL_KINDS = (
    "status",  # change the claim's status
    "text",  # change the claim's wording (and/or as-of date)
    "anchor",  # correct an anchor's cited label/date
    "new_claim",  # add a claim (from a changed document)
    "retire",  # a claim vanished from a changed document: mark superseded
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Inquiry(Base):
    """An imported inquiring line (one document)."""

    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    # identity: sha256 of the whole normalised question (claims.document.question_key); the slug is only a name
    question_key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    prompt_role: Mapped[str] = mapped_column(Text, default="")
    prompt_tasks: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    claims: Mapped[list[Claim]] = relationship(back_populates="inquiry", order_by="Claim.position")
    notes: Mapped[list[SourceNote]] = relationship(order_by="SourceNote.position")
    anchors: Mapped[list[Anchor]] = relationship(order_by="Anchor.position")


class Claim(Base):
    """A dated claim; changed only through the review service."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    as_of: Mapped[str] = mapped_column(String(40))  # as written, e.g. "~2024–2025"
    as_of_start: Mapped[dt.date] = mapped_column(Date)
    as_of_end: Mapped[dt.date] = mapped_column(Date)
    as_of_precision: Mapped[str] = mapped_column(String(10))  # year | month | day | range
    status: Mapped[str] = mapped_column(String(20), default="unreviewed", index=True)
    status_since: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    protocol: Mapped[str | None] = mapped_column(String(60), nullable=True)
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_retested_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # cached query vector (claim + context + exemplars) and the hash of what it was computed from
    query_embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    query_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="claims")
    revisions: Mapped[list[ClaimRevision]] = relationship(order_by="ClaimRevision.revision")


class ClaimRevision(Base):
    """One dated state of a claim: revision 1 is the import, later ones approvals."""

    __tablename__ = "claim_revisions"
    __table_args__ = (UniqueConstraint("claim_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    as_of: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    approved_by: Mapped[str] = mapped_column(String(200))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class SourceNote(Base):
    """A "Sources" entry of a document: a question and its summary."""

    __tablename__ = "source_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)


class Paper(Base):
    """An arXiv paper as last seen (newest version)."""

    __tablename__ = "papers"

    arxiv_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # without version
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    published: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    published_precision: Mapped[str] = mapped_column(String(10), default="day")
    updated: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(40), default="arxiv")  # arxiv | corpus
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding_model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Anchor(Base):
    """A paper cited by an inquiry (or a claim), as written, with its verification."""

    __tablename__ = "anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    arxiv_id: Mapped[str] = mapped_column(String(40), index=True)
    cited_label: Mapped[str] = mapped_column(Text)
    cited_date: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="unchecked")
    differences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    verified_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_published: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # when the label does not match the id: papers that may have been meant, best first
    # ({"id", "title", "published", "score", ...}; see agent/intended.py)
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")


class Evidence(Base):
    """A paper found for a claim: its relevance and (once judged) its stance."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("claim_id", "paper_id"),
        Index("ix_evidence_claim_relevance", "claim_id", "relevance"),
        Index("ix_evidence_claim_stance", "claim_id", "stance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.arxiv_id"), index=True)
    relevance: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(40))  # dense | lexical | hybrid
    window_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    window_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    found_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    stance: Mapped[str] = mapped_column(String(20), default="unjudged")
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    conditions: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    quote: Mapped[str] = mapped_column(Text, default="")
    judged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    judged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    judge_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # what the judgement was made against (with judged_by and prompt_version: the judgement's cache key)
    judged_claim_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    judged_paper_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agent_run_id: Mapped[int | None] = mapped_column(ForeignKey("agent_runs.id"), nullable=True)
    # who decided the stance: a reviewer (confirmed or corrected), else the machine (judged_by, prompt_version)
    stance_reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    stance_reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # a reviewer's relevance label (relevant | irrelevant), which trains the claim's re-ranker
    relevance_label: Mapped[str | None] = mapped_column(String(20), nullable=True)
    labelled_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    labelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ranker: Mapped[str | None] = mapped_column(String(80), nullable=True)  # version of the ranking that placed it

    paper: Mapped[Paper] = relationship()


class RetestRun(Base):
    """One run of a retest protocol for a claim (a toy-world experiment)."""

    __tablename__ = "retest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(60))
    protocol_version: Mapped[str] = mapped_column(String(20), default="1")
    preset: Mapped[str] = mapped_column(String(40), default="smoke")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    reason: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)
    effect_size: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision_rule: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifacts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    log: Mapped[str] = mapped_column(Text, default="")
    # how strong the run is as evidence (claims.retests.RunStrength as JSON; {} for older runs)
    strength: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class FactorialRun(Base):
    """One prior x optimizer grid run for an inquiry (a toy-world experiment on the question itself).

    Written only through `claims.factorial.record_factorial`; the JSON columns hold the
    shapes of `claims.factorial.FactorialRecord` (cells, variance shares, ranges).
    """

    __tablename__ = "factorial_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    preset: Mapped[str] = mapped_column(String(40))
    executor: Mapped[str] = mapped_column(String(20), default="local")
    status: Mapped[str] = mapped_column(String(20))  # succeeded | partial | failed | interrupted
    levels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cells: Mapped[list[Any]] = mapped_column(JSON, default=list)
    shares: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ranges: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answer: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    strength: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class RetestPlan(Base):
    """A planning decision: queue or skip a retest of a claim, and why."""

    __tablename__ = "retest_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    protocol: Mapped[str | None] = mapped_column(String(60), nullable=True)
    decision: Mapped[str] = mapped_column(String(20))  # queue | skip
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    agent_run_id: Mapped[int | None] = mapped_column(ForeignKey("agent_runs.id"), nullable=True)
    retest_run_id: Mapped[int | None] = mapped_column(ForeignKey("retest_runs.id"), nullable=True)


proposal_evidence = Table(
    "proposal_evidence",
    Base.metadata,
    Column("proposal_id", ForeignKey("proposals.id"), primary_key=True),
    Column("evidence_id", ForeignKey("evidence.id"), primary_key=True),
)

proposal_retest_runs = Table(
    "proposal_retest_runs",
    Base.metadata,
    Column("proposal_id", ForeignKey("proposals.id"), primary_key=True),
    Column("retest_run_id", ForeignKey("retest_runs.id"), primary_key=True),
)


class Proposal(Base):
    """A proposed change to a claim (or an anchor); pending until a reviewer decides."""

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True, index=True)
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    proposed_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    proposed_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rationale: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    created_by: Mapped[str] = mapped_column(String(200), default="agent")
    reviewer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    claim: Mapped[Claim | None] = relationship()
    evidence: Mapped[list[Evidence]] = relationship(secondary=proposal_evidence)
    retest_runs: Mapped[list[RetestRun]] = relationship(secondary=proposal_retest_runs)


class AuditEntry(Base):
    """One write made by a person or the agent."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReviewerAccount(Base):
    """A reviewer who proves who they are with a secret token (only its hash is kept)."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="reviewer", server_default="reviewer")  # admin | reviewer
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AgentRun(Base):
    """One run of the agent (or of the weekly job): counts, timings, models, errors."""

    __tablename__ = "agent_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="agent")  # agent | weekly
    mode: Mapped[str] = mapped_column(String(40), default="")  # e.g. "judge", "rank-only"
    thread_id: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    models: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Sweep(Base):
    """One fetch of new papers from a source over a date window."""

    __tablename__ = "sweeps"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))  # "arxiv" or "corpus:<path>"
    mode: Mapped[str] = mapped_column(String(20), default="sweep")  # sweep | backfill
    window_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    window_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    papers_seen: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Export(Base):
    """A refreshed research prompt as exported, kept to say what changed since."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))


class Citation(Base):
    """A paper that cites a paper claims rest on (origin or anchor), as Semantic Scholar reported it.

    A citing paper with an arXiv id is also a candidate paper (`papers`, then evidence);
    one without is kept here with its DOI or Semantic Scholar id and its link.
    """

    __tablename__ = "citations"
    __table_args__ = (UniqueConstraint("citing_s2_id", "cited_arxiv_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cited_arxiv_id: Mapped[str] = mapped_column(String(40), index=True)
    citing_s2_id: Mapped[str] = mapped_column(String(64))
    citing_arxiv_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    doi: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    published: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    found_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
