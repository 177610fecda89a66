"""The one writer of an evidence row's stance and the judgement behind it.

Every change of `Evidence.stance` (and of the fields that say who decided it and how:
confidence, rationale, quote, conditions, judged_by, prompt_version, judged_at,
judge_error, the judged revisions, stance_reviewed_by/at) is made here, by one of:

- `judge`: a machine judgement (`claims.evidence.record_judgement`);
- `flag` / `unflag`: the screen (`claims.evidence`, `claims.screening`);
- `send_back`: back to `unjudged`, to be judged again (a new abstract: `claims.versions`);
- `review`: a reviewer confirms the stance or sets another (`claims.evidence`).

The rule that holds for all of them: a reviewed stance is never overwritten by the
machine (the judge, the screen, a new abstract); the machine writers return False and
change nothing. Callers write the audit entries (they know the context). Pure row edits:
no session, no queries, so `claims.evidence` and `claims.versions` can both use it.
"""

from __future__ import annotations

from claims.models import Evidence, utcnow
from claims.vocabulary import JudgedStance, Stance


def reviewed(row: Evidence) -> bool:
    """Whether a reviewer decided the row's stance (confirmed or set it)."""
    return row.stance_reviewed_by is not None


def judge(row: Evidence, stance: Stance, confidence: float | None, *, conditions: str, rationale: str, quote: str,
          judged_by: str, prompt_version: str, judge_error: str | None, claim_revision: int,
          paper_version: int | None) -> bool:
    """Store a machine judgement made against `claim_revision` and `paper_version`; False (nothing
    changed) on a reviewed or flagged row."""
    if reviewed(row) or row.stance == "flagged":
        return False
    row.stance, row.confidence = stance, confidence
    row.conditions, row.rationale, row.quote = conditions, rationale, quote
    row.judged_by, row.prompt_version, row.judge_error = judged_by, prompt_version, judge_error
    row.judged_claim_revision, row.judged_paper_version = claim_revision, paper_version
    row.judged_at = utcnow()
    return True


def flag(row: Evidence, reason: str) -> bool:
    """The screen flags the row: stance `flagged`, the machine judgement cleared, `reason` kept in
    `judge_error`. False on a reviewed row or one already flagged."""
    if reviewed(row) or row.stance == "flagged":
        return False
    row.stance, row.confidence, row.judged_by, row.prompt_version = "flagged", None, None, None
    row.rationale, row.quote, row.conditions = "", "", ""
    row.judge_error = reason
    return True


def unflag(row: Evidence) -> bool:
    """The screen no longer flags the row: back to `unjudged`. False unless it was flagged (and unreviewed)."""
    if reviewed(row) or row.stance != "flagged":
        return False
    row.stance, row.judge_error = "unjudged", None
    return True


def send_back(row: Evidence, rationale: str) -> bool:
    """A machine stance goes back to `unjudged` (judged again on the next run), `rationale` saying
    why. False on a reviewed row."""
    if reviewed(row):
        return False
    row.stance, row.confidence, row.judged_by, row.judged_at = "unjudged", None, None, None
    row.rationale = rationale
    return True


def review(row: Evidence, reviewer: str, stance: JudgedStance | None = None, comment: str = "") -> None:
    """A reviewer confirms the row's stance (`stance` None) or sets it (confidence 1.0, no judge
    error, `comment` as the rationale when given); from now on it is a reviewed stance."""
    if stance is not None:
        row.stance, row.confidence, row.judge_error = stance, 1.0, None
        if comment:
            row.rationale = comment
    row.stance_reviewed_by, row.stance_reviewed_at = reviewer, utcnow()
