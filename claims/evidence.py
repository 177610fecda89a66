"""Evidence: what "newer than the claim" means, recording candidates and judgements.

The agent finds and judges papers; this module creates the `evidence` rows and writes
them (and a claim's `last_checked_at`), the stance through `claims.stances` (the one
writer of a row's stance, which `claims.versions` uses too). Its rules:

- **Newer than the claim** (`claims.window.is_newer_than_claim`): a paper is newer than a claim when
  its first version was published strictly after the last day the claim's as-of date
  covers (`Claim.as_of_end`). `~2024–2025` covers 2024-01-01..2025-12-31, so a
  2024-06 paper is not newer, a 2026-01 paper is. Undated papers are not newer. The
  export, the proposals and the UI all use this one rule (docs/agent.md).
- **Candidates** (`record_candidates`): a ranked paper becomes an `unjudged` row once;
  later searches refresh its relevance, rank and window but keep `found_at` and any
  judged stance.
- **Re-judge policy** (`evidence_to_judge`): every candidate of the claim (not those a
  reviewer marked irrelevant), in rank order, that is unjudged, failed for a service
  reason (`SERVICE_ERROR`: timeout, HTTP 5xx), or was judged against another model,
  prompt version, claim revision or paper version is judged (again). Those four are a
  judgement's cache key: with all four the same it is never repeated. How many are
  judged in one run, and in what order, is `claims.judging`'s budget.
- **Judgements** (`record_judgement`): stored with an audit entry and the claim revision
  and paper version they were made against, unless the row already holds a judgement
  with the same cache key (a resumed run does no double work).
- **Screening** (`claims.screening`): a candidate whose paper's title or abstract looks
  aimed at a model or a reviewer gets stance `flagged`, with the reasons in
  `judge_error`. It is never sent to the judge, never counts toward a proposal and is
  left out of the export; reviewers see it with a warning.
- **Who decided the stance**: a machine judgement (`judged_by`, `prompt_version`) is a
  suggestion until a reviewer confirms or corrects it (`confirm_stance`, `set_stance`:
  audited, checked like a review decision); a reviewed stance is never overwritten by
  the judge or the screen. Setting a stance marks the pending proposals that rested on
  the old one stale, and proposes afresh (`claims.proposing.mark_stale`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from claims import audit, stances, textgate
from claims.errors import BadInput, NotFound
from claims.models import REVIEWABLE_STANCES, Claim, Evidence, Paper, utcnow
from claims.vocabulary import Stance
from claims.proposing import mark_stale
from claims.reviewers import check_reviewer
from claims.screening import screen_paper

SERVICE_ERROR = "service:"  # prefix of judge failures worth retrying on a later run


@dataclass(frozen=True)
class Hit:
    """A paper ranked for a claim by the search."""

    paper_id: str
    relevance: float
    rank: int
    method: str


@dataclass(frozen=True)
class RecordedHit:
    evidence_id: int
    paper_id: str
    created: bool  # a new evidence row (else an existing one refreshed)


@dataclass(frozen=True)
class JudgeTask:
    """One evidence row to judge, with what the judge is shown."""

    evidence_id: int
    claim_text: str
    claim_as_of: str
    title: str
    summary: str
    published: str  # ISO date or ""
    rank: int = 0
    claim_revision: int = 1  # what the judge is shown: the claim's text at this revision
    paper_version: int = 1  # and the paper's abstract at this version
    carried: bool = False  # left unjudged (or failed for a service reason) before `carried_before`


@dataclass(frozen=True)
class StanceRecord:
    """A judgement to store (stance "failed" carries `judge_error`)."""

    stance: Stance
    confidence: float | None
    conditions: str
    rationale: str
    quote: str
    judged_by: str
    prompt_version: str
    judge_error: str | None = None
    # what the judgement cost (reported per run, not stored on the row)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def failed(self) -> bool:
        return self.stance == "failed"


def record_candidates(
    session: Session,
    claim_id: int,
    hits: Sequence[Hit],
    window: tuple[dt.date | None, dt.date | None],
    agent_run_id: int | None = None,
) -> list[RecordedHit]:
    """Upsert an evidence row per hit (see the module doc); in the hits' order."""
    ids = [h.paper_id for h in hits]
    existing = {
        e.paper_id: e
        for e in session.scalars(select(Evidence).where(Evidence.claim_id == claim_id, Evidence.paper_id.in_(ids)))
    }
    out = []
    for hit in hits:
        row = existing.get(hit.paper_id)
        created = row is None
        if row is None:
            row = Evidence(claim_id=claim_id, paper_id=hit.paper_id, found_at=utcnow())  # stance: unjudged
            session.add(row)
            existing[hit.paper_id] = row
        row.relevance, row.rank, row.method = hit.relevance, hit.rank, hit.method
        row.window_start, row.window_end = window
        if agent_run_id is not None:
            row.agent_run_id = agent_run_id
        session.flush()
        _apply_screen(session, row)
        out.append(RecordedHit(row.id, hit.paper_id, created))
    return out


SCREENED = "screened: "  # prefix of judge_error on a flagged row


def _apply_screen(session: Session, row: Evidence) -> None:
    """Flag (or, when the rules no longer flag it, unflag) an unreviewed row by its paper's text."""
    if stances.reviewed(row):
        return
    paper = session.get(Paper, row.paper_id)
    outcome = screen_paper(paper.title if paper else "", paper.summary if paper else "")
    if outcome.flagged:
        if stances.flag(row, SCREENED + "; ".join(outcome.reasons)):
            audit.record(session, "agent", "flag", "evidence", row.id, paper=row.paper_id,
                         reasons=list(outcome.reasons))
    else:
        stances.unflag(row)


def mark_checked(session: Session, claim_ids: Iterable[int], at: dt.datetime | None = None) -> None:
    """Set the claims' `last_checked_at` (the next sweep starts there)."""
    when = at or utcnow()
    for row in session.scalars(select(Claim).where(Claim.id.in_(list(claim_ids)))):
        row.last_checked_at = when


def evidence_to_judge(session: Session, claim_key: str, model: str, prompt_version: str,
                      only: Collection[int] | None = None,
                      carried_before: dt.datetime | None = None) -> list[JudgeTask]:
    """The claim's candidates that need a judgement, in rank order (module doc).

    `only`: just these evidence ids (those a run selected; done ones drop out, so a
    resumed run does no double work). `carried_before`: the run's start; a row waiting
    for a judgement since before it is marked `carried`.
    """
    claim = session.scalar(select(Claim).where(Claim.key == claim_key))
    if claim is None:
        raise NotFound(f"no claim {claim_key}")
    q = (select(Evidence.id, Evidence.rank, Evidence.stance, Evidence.judge_error, Evidence.found_at,
                Paper.title, Paper.summary, Paper.published, Paper.version)
         .join(Paper, Paper.arxiv_id == Evidence.paper_id)
         .where(Evidence.claim_id == claim.id)
         .where(or_(Evidence.relevance_label.is_(None), Evidence.relevance_label != "irrelevant"))
         .where(Evidence.stance != "flagged", Evidence.stance_reviewed_by.is_(None))
         .where(or_(
             Evidence.stance == "unjudged",
             Evidence.judge_error.startswith(SERVICE_ERROR),
             Evidence.judged_by != model,
             Evidence.prompt_version != prompt_version,
             Evidence.judged_claim_revision != claim.revision,
             Evidence.judged_paper_version != Paper.version,
         ))
         .order_by(Evidence.rank, Evidence.relevance.desc(), Evidence.id))
    if only is not None:
        q = q.where(Evidence.id.in_(list(only)))
    out = []
    for eid, rank, stance, error, found_at, title, summary, published, version in session.execute(q).all():
        waiting = stance == "unjudged" or (error or "").startswith(SERVICE_ERROR)
        carried = carried_before is not None and waiting and found_at < carried_before
        out.append(JudgeTask(eid, claim.text, claim.as_of, title, summary or "",
                             published.isoformat() if published else "", rank, claim.revision, version or 1, carried))
    return out


def record_judgement(session: Session, evidence_id: int, result: StanceRecord, agent_run_id: int | None,
                     actor: str = "agent", claim_revision: int | None = None,
                     paper_version: int | None = None) -> bool:
    """Store one judgement made against `claim_revision` and `paper_version` (default: the
    current ones) unless the row holds one with the same cache key already; stored?"""
    e = session.get(Evidence, evidence_id)
    if e is None:
        raise NotFound(f"no evidence {evidence_id}")
    revision = claim_revision if claim_revision is not None else session.get(Claim, e.claim_id).revision
    version = paper_version if paper_version is not None else e.paper.version
    if (e.stance not in ("unjudged", "failed") and e.judged_by == result.judged_by
            and e.prompt_version == result.prompt_version
            and e.judged_claim_revision == revision and e.judged_paper_version == version):
        return False
    if not stances.judge(e, result.stance, result.confidence, conditions=result.conditions,
                         rationale=result.rationale, quote=result.quote, judged_by=result.judged_by,
                         prompt_version=result.prompt_version, judge_error=result.judge_error,
                         claim_revision=revision, paper_version=version):
        return False  # a reviewer decided it, or the screen keeps it from the judge
    if agent_run_id is not None:
        e.agent_run_id = agent_run_id
    audit.record(session, actor, "judge", "evidence", e.id, stance=result.stance, confidence=result.confidence,
                 model=result.judged_by, prompt_version=result.prompt_version, error=result.judge_error,
                 claim_revision=revision, paper_version=version)
    return True


def row_for_reviewer(session: Session, evidence_id: int, reviewer: str, allowed: Sequence[str] | None,
                     token: str | None) -> tuple[str, Evidence]:
    """The checked reviewer name (`check_reviewer`) and the evidence row they act on."""
    name = check_reviewer(session, reviewer, allowed, token)
    e = session.get(Evidence, evidence_id)
    if e is None:
        raise NotFound(f"no evidence {evidence_id}")
    return name, e


def confirm_stance(session: Session, evidence_id: int, reviewer: str, allowed: Sequence[str] | None = None,
                   token: str | None = None) -> Evidence:
    """A reviewer confirms the machine's stance: from now on it is a reviewed stance."""
    name, e = row_for_reviewer(session, evidence_id, reviewer, allowed, token)
    if e.stance not in REVIEWABLE_STANCES:
        raise BadInput(f"evidence {evidence_id} has no stance to confirm ({e.stance}); set one with "
                       f"`claims evidence set {evidence_id} --stance S`")
    stances.review(e, name)
    audit.record(session, name, "confirm_stance", "evidence", e.id, stance=e.stance, machine=e.judged_by)
    return e


def set_stance(session: Session, evidence_id: int, stance: str, reviewer: str, allowed: Sequence[str] | None = None,
               token: str | None = None, comment: str = "") -> Evidence:
    """A reviewer sets (corrects) the stance; the machine's judgement is kept in the audit log."""
    if stance not in REVIEWABLE_STANCES:
        raise BadInput(f"unknown stance {stance!r}; expected one of {', '.join(REVIEWABLE_STANCES)}")
    comment = textgate.comment(comment)
    name, e = row_for_reviewer(session, evidence_id, reviewer, allowed, token)
    audit.record(session, name, "set_stance", "evidence", e.id, stance=stance, before=e.stance,
                 machine=e.judged_by, confidence_before=e.confidence, comment=comment)
    stances.review(e, name, stance, comment)
    mark_stale(session, evidence_ids=[e.id], actor=name)  # a pending proposal resting on the old stance is stale
    return e


def store_embeddings(session: Session, vectors: dict[str, bytes], model: str) -> None:
    """Cache the papers' embeddings (`arxiv_id -> blob`) computed by `model`."""
    if not vectors:
        return
    for row in session.scalars(select(Paper).where(Paper.arxiv_id.in_(list(vectors)))):
        row.embedding, row.embedding_model = vectors[row.arxiv_id], model
