"""The weekly report: one typed model, what it reads from the database, its Markdown.

`WeeklyReport` is the one definition. The weekly job (`agent.weekly.build_report`)
produces it; `weekly-<date>-run<N>.json` and `claims weekly --format json` are its
`model_dump(mode="json")` (the keys of the first version, plus `status`,
`judge_status` and `judge_failures`); `read_report` reads a file back; `render_report`
writes the Markdown beside it. A run without the LLM judge says so at the top:
"rank only (no LLM judge: <reason>)".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.anchor_changes import AnchorChange, difference_texts
from claims.dates import format_published
from claims.models import Anchor, Claim, Evidence, Proposal
from claims.screening import sanitise_title
from claims.strength import run_label


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewEvidence(_Model):
    id: str  # arXiv id
    title: str
    published: str | None
    stance: str
    confidence: float | None
    relevance: float


class AnchorProblem(_Model):
    id: str
    status: str
    differences: list[str]


class RetestOutcome(_Model):
    """One retest the weekly job ran (or tried to)."""

    id: int | None  # the RetestRun row
    claim: str
    protocol: str
    preset: str
    status: str  # succeeded | failed | interrupted
    verdict: str | None = None
    effect_size: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    summary: str = ""
    duration_s: float = 0.0
    may_propose: bool = False  # strong enough to back a status proposal (claims.strength.assess_strength)
    strength: str = ""  # why (not)


class PendingProposal(_Model):
    id: int
    claim: str | None
    kind: str
    proposed: str


class ApiRequests(_Model):
    arxiv: int = 0
    llm: int = 0
    semantic_scholar: list[str] = Field(default_factory=list)  # each request: "GET path -> status (seconds)"


class Judging(_Model):
    """What judging cost in the run, and what its budget left for the next (claims.judging)."""

    budget: int | None = None  # judgements allowed per run (None: no judge)
    judged: int = 0
    failed: int = 0
    requests: int = 0  # chat completions sent
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    left_unjudged: dict[str, int] = Field(default_factory=dict)  # per claim: over the budget, judged next run


class WeeklyFacts(_Model):
    """What the database says about a weekly run since it started."""

    claims_checked: list[str]
    new_evidence: dict[str, list[NewEvidence]]
    anchor_problems: list[AnchorProblem]
    proposals_pending: list[PendingProposal]
    proposals_new: list[int]


class WeeklyReport(_Model):
    run_id: int
    started_at: str  # ISO, UTC
    finished_at: str
    status: str = Field(description="succeeded | failed | interrupted")
    exit_code: int
    duration_s: float
    mode: str  # judge | rank-only | none (the agent failed)
    mode_reason: str
    judge_status: str = Field(description='"LLM judge <model>" or "rank only (no LLM judge: <reason>)"')
    judge_failures: int = 0
    source: str
    source_error: str | None
    imported: str | None
    claims_checked: list[str]
    new_evidence: dict[str, list[NewEvidence]]
    anchor_problems: list[AnchorProblem]
    retests: list[RetestOutcome]
    retests_skipped: list[str]
    factorial: list[str] = []  # the scheduled factorial grid: what it did, or why it did not run
    proposals_new: list[int]
    proposals_pending: list[PendingProposal]
    failures: list[str]
    timings: dict[str, float]
    api_requests: ApiRequests
    agent_run_id: int | None
    judging: Judging = Judging()

    @property
    def rank_only(self) -> bool:
        return self.mode != "judge"


def judge_status(mode: str, reason: str, model: str | None) -> str:
    """The loud one-liner about the LLM judge."""
    if mode == "judge":
        return f"LLM judge {model or reason}"
    if mode == "none":
        return f"no agent run ({reason})"
    return f"rank only (no LLM judge: {reason})"


def weekly_facts(session: Session, started: dt.datetime) -> WeeklyFacts:
    """Claims checked, evidence found and proposals written since `started`; open anchor problems."""
    keys = dict(session.execute(select(Claim.id, Claim.key)).all())
    checked = list(session.scalars(select(Claim.key).where(Claim.last_checked_at >= started)
                                   .order_by(Claim.position, Claim.id)))
    new_ev: dict[str, list[NewEvidence]] = {}
    for e in session.scalars(select(Evidence).where(Evidence.found_at >= started).order_by(Evidence.claim_id, Evidence.rank)):
        new_ev.setdefault(keys[e.claim_id], []).append(NewEvidence(
            id=e.paper_id, title=e.paper.title, published=format_published(e.paper.published, e.paper.published_precision),
            stance=e.stance, confidence=e.confidence, relevance=round(e.relevance, 4)))
    anchors = [AnchorProblem(id=a.arxiv_id, status=a.status, differences=difference_texts(a.differences))
               for a in session.scalars(select(Anchor).where(Anchor.status.in_(("mismatch", "not_found")))
                                        .order_by(Anchor.position))]
    pending = session.scalars(select(Proposal).where(Proposal.state == "pending")
                              .order_by(Proposal.created_at, Proposal.id)).all()
    return WeeklyFacts(
        claims_checked=checked, new_evidence=new_ev, anchor_problems=anchors,
        proposals_pending=[PendingProposal(id=p.id, claim=keys.get(p.claim_id), kind=p.kind, proposed=_proposed(p))
                           for p in pending],
        proposals_new=[p.id for p in pending if p.created_at >= started],
    )


def _proposed(p: Proposal) -> str:
    if p.proposed_status:
        return p.proposed_status
    if p.kind == "anchor":
        return AnchorChange.from_payload(p.payload).describe()
    return (p.proposed_text or "")[:120]


def read_report(path: Path) -> WeeklyReport:
    """A report file written by the weekly job."""
    return WeeklyReport.model_validate_json(path.read_text())


def _fmt_effect(r: RetestOutcome) -> str:
    if r.effect_size is None:
        return ""
    ci = f" [{r.ci_low:+.3f}, {r.ci_high:+.3f}]" if r.ci_low is not None and r.ci_high is not None else ""
    return f", effect {r.effect_size:+.3f}{ci}"


RESULTS = {0: "all done", 1: "done, with failures (recorded below)", 3: "could not start",
           130: "interrupted (Ctrl-C): stopped early, what was left stays queued"}


def render_report(report: WeeklyReport) -> str:
    """Markdown for people; the JSON beside it is for scripts."""
    out = [f"# Weekly run {report.run_id} \u2014 {report.started_at[:16].replace('T', ' ')} UTC", ""]
    if report.mode == "none":
        out += [f"> **{report.judge_status}**: no papers were searched or judged this run.", ""]
    elif report.rank_only:
        out += [f"> **{report.judge_status}**: no stance was judged; candidates are ranked by relevance only.", ""]
    elif report.judge_failures:
        out += [f"> **The LLM judge failed on {report.judge_failures} paper(s)**: they stay unjudged "
                "and are retried next run.", ""]
    out += [f"- Result: **{RESULTS.get(report.exit_code, report.status)}** (exit code {report.exit_code}) "
            f"in {report.duration_s:.0f} s",
            f"- Judge: {report.judge_status}",
            f"- Papers from: {report.source}" + (f" \u2014 **unreachable**: {report.source_error}" if report.source_error else ""),
            f"- Requests: {report.api_requests.arxiv} to arXiv, {report.api_requests.llm} judgements by the LLM, "
            f"{len(report.api_requests.semantic_scholar)} to Semantic Scholar (forward citations)"]
    out += [f"  - Semantic Scholar: {line}" for line in report.api_requests.semantic_scholar]
    j = report.judging
    if j.budget is not None:
        out.append(f"- Judging: {j.judged} judged, {j.failed} failed; {j.requests} requests, {j.prompt_tokens} prompt + "
                   f"{j.completion_tokens} completion tokens, {j.seconds:.1f} s (budget {j.budget} per run)")
    if j.left_unjudged:
        out.append(f"- **Left unjudged by the budget: {sum(j.left_unjudged.values())}** ("
                   + ", ".join(f"{k} {n}" for k, n in j.left_unjudged.items()) + "); judged first next run")
    if report.imported:
        out.append(f"- First run: {report.imported}")
    out += ["", f"## Claims checked ({len(report.claims_checked)})", ""]
    any_new = False
    for key in report.claims_checked:
        items = report.new_evidence.get(key, [])
        any_new |= bool(items)
        out.append(f"### {key}: {len(items)} new candidate(s)")
        for e in items:
            conf = f" {e.confidence:.2f}" if e.confidence is not None else ""
            out.append(f"- arXiv:{e.id} ({e.published or 'undated'}) **{e.stance}**{conf} \u2014 "
                       f"\"{sanitise_title(e.title)}\" (relevance {e.relevance:.3f})")
    if not any_new:
        out += ["", "_No new evidence since the last run._"]
    out += ["", "## Anchor problems", ""]
    out += [f"- arXiv:{a.id}: {a.status} \u2014 " + "; ".join(a.differences or ["no details"]) for a in report.anchor_problems] or ["- none"]
    out += ["", "## Retests", ""]
    for r in report.retests:
        weight = "" if not r.strength else (" \u2014 strong: may back a proposal once replicated on new seeds" if r.may_propose
                                            else f" \u2014 not evidence for a proposal: {r.strength}")
        out.append(f"- {r.claim} `{r.protocol}` ({run_label(r.preset)}): {r.status}, verdict **{r.verdict or '-'}**"
                   f"{_fmt_effect(r)} in {r.duration_s:.0f} s" + (f" \u2014 {r.summary}" if r.summary else "") + weight)
    out += [f"- skipped: {s}" for s in report.retests_skipped]
    out += [f"- factorial grid: {s}" for s in report.factorial]
    if not report.retests and not report.retests_skipped and not report.factorial:
        out.append("- none due")
    out += ["", f"## Proposals waiting for review ({len(report.proposals_pending)}, {len(report.proposals_new)} new)", ""]
    for p in report.proposals_pending:
        new = " (new)" if p.id in report.proposals_new else ""
        out.append(f"- #{p.id} {p.claim or '-'} {p.kind} \u2192 {p.proposed}{new}")
    if not report.proposals_pending:
        out.append("- none")
    out += ["", "Review them with `claims ui` (or `claims review list`).", "", "## Failures", ""]
    out += [f"- {f}" for f in report.failures] or ["- none"]
    out += ["", "## Timings (s)", ""] + [f"- {k}: {v:.1f}" for k, v in report.timings.items()]
    return "\n".join(out) + "\n"
