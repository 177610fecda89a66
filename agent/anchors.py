"""Anchor verification: does each cited arXiv paper exist, and say what was cited?

For each anchor the source is asked for the paper by id. Then:
- label: the cited label is often a description, not the title, so it is compared
  by meaning: the cosine similarity of its embedding with the title's (and with
  title + abstract's), the larger of the two, must reach LABEL_MATCH;
- date: the cited date (e.g. "2025-05", "~2025") must cover the first version's
  date; an arXiv id also encodes the month of its first version (2510.13786 was
  first submitted in 2025-10), which is checked even when no source answers.

Status: verified, mismatch (with the differences: a code and a readable sentence each,
`claims.anchor_changes.Difference`), not_found
(the source answered without it) or unchecked (no source reachable, nothing cached).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.embeddings import embed_texts, paper_text
from agent.intended import CANDIDATE_MATCH, Candidate, cached_papers, gather, rank_candidates, supported_claim
from agent.sources import open_source
from claims.anchor_changes import Difference
from claims.anchors import AnchorResult, record_anchor_checks
from claims.dates import format_published, parse_as_of
from claims.errors import SourceUnavailable
from claims.models import Anchor, Paper
from claims.papers import PaperRecord, id_month, split_arxiv_id, upsert_papers
from claims.settings import Settings
from claims.store import Store
from claims.versions import papers_claims_rest_on

# Cosine similarity at which a cited label counts as naming the paper. Measured on the
# dev corpus: the bundled anchors' true labels score 0.48-0.98 against their papers,
# while labels against unrelated titles score 0.20 (median) and 0.30 (90th percentile).
LABEL_MATCH = 0.35


@dataclass
class AnchorCheck:
    """The outcome of checking one anchor."""

    arxiv_id: str
    status: str
    differences: list[Difference] = field(default_factory=list)
    cited_label: str = ""
    cited_date: str = ""
    verified_title: str | None = None
    verified_published: dt.date | None = None
    verified_precision: str = "day"  # of verified_published: day | month | year
    label_similarity: float | None = None
    anchor_id: int | None = None
    candidates: list[Candidate] = field(default_factory=list)  # when the label does not name the paper

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.arxiv_id,
            "status": self.status,
            "differences": [d.text for d in self.differences],
            "cited_label": self.cited_label,
            "cited_date": self.cited_date,
            "title": self.verified_title,
            "published": format_published(self.verified_published, self.verified_precision),
            "label_similarity": None if self.label_similarity is None else round(self.label_similarity, 3),
            "candidates": [c.to_json() for c in self.candidates],
        }


def _interval(date: dt.date, precision: str) -> tuple[dt.date, dt.date]:
    if precision == "month":
        return date, date.replace(day=calendar.monthrange(date.year, date.month)[1])
    if precision == "year":
        return date, date.replace(month=12, day=31)
    return date, date


def date_differences(arxiv_id: str, cited: str, paper: PaperRecord | None) -> list[Difference]:
    """What is wrong with a cited date, against the paper's record or else its id (pure)."""
    try:
        as_of = parse_as_of(cited)
    except ValueError:
        return [Difference(code="date", text=f"cited date {cited!r} is not a date")] if cited.strip() else []
    if paper is not None and paper.published is not None:
        lo, hi = _interval(paper.published, paper.published_precision)
        if hi < as_of.start or lo > as_of.end:
            shown = format_published(paper.published, paper.published_precision)
            return [Difference(code="date", text=f"cited date {cited} but the first version is dated {shown}")]
        return []
    month = id_month(arxiv_id)
    if month is not None:
        lo, hi = _interval(month, "month")
        if hi < as_of.start or lo > as_of.end:
            return [Difference(code="date", text=f"cited date {cited} but the arXiv id {arxiv_id} says its first "
                               f"version is from {month:%Y-%m}")]
    return []


def label_similarities(labels: list[str], papers: list[PaperRecord]) -> list[float]:
    """Similarity of each cited label to its paper: max over title and title + abstract."""
    if not labels:
        return []
    n = len(labels)
    vecs = embed_texts(labels + [p.title for p in papers] + [paper_text(p.title, p.summary) for p in papers])
    lab, title, full = vecs[:n], vecs[n : 2 * n], vecs[2 * n :]
    return [float(max(lab[i] @ title[i], lab[i] @ full[i])) for i in range(n)]


def check_anchor(
    arxiv_id: str, cited_label: str, cited_date: str, paper: PaperRecord | None, similarity: float | None,
    found: bool | None,
) -> AnchorCheck:
    """Decide an anchor's status (pure). `found` None: no source could be asked."""
    check = AnchorCheck(arxiv_id, "unchecked", cited_label=cited_label, cited_date=cited_date)
    check.differences = date_differences(arxiv_id, cited_date, paper)
    if paper is None:
        if found is False:
            check.status = "not_found"
            check.differences.insert(0, Difference(code="not_found", text=f"no paper {arxiv_id} in the source"))
        return check
    check.verified_title, check.verified_published = paper.title, paper.published
    check.verified_precision = paper.published_precision
    check.label_similarity = similarity
    if paper.withdrawn:
        version = f" v{paper.version}" if paper.version else ""
        check.differences.insert(0, Difference(code="withdrawn", text=f"arXiv:{arxiv_id}{version} is withdrawn: its "
                                                "latest version says so or has no content"))
    if similarity is not None and similarity < LABEL_MATCH:
        check.differences.insert(0, Difference(
            code="label", text=f"cited label {cited_label!r} does not match the paper's title {paper.title!r} "
            f"(similarity {similarity:.2f} < {LABEL_MATCH})",
        ))
    check.status = "mismatch" if check.differences else "verified"
    return check


def verify_anchors(
    store: Store,
    settings: Settings,
    corpus: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[AnchorCheck]:
    """Check every anchor against the source (arXiv or a corpus) and record the outcome."""
    say = progress or (lambda _m: None)
    with store.read() as session:
        anchors = [
            (a.id, split_arxiv_id(a.arxiv_id)[0], a.cited_label, a.cited_date)
            for a in session.scalars(select(Anchor).order_by(Anchor.inquiry_id, Anchor.position, Anchor.id))
        ]
    if not anchors:
        return []
    with store.read() as session:
        evidence_ids = papers_claims_rest_on(session)  # a new version of these re-judges them (claims.versions)
    ids = sorted({a[1] for a in anchors} | set(evidence_ids))
    source = open_source(settings, corpus)
    say(f"looking up {len({a[1] for a in anchors})} anchor papers and {len(ids) - len({a[1] for a in anchors})} "
        f"papers of confident evidence in {source.name}")
    reachable = True
    try:
        records = source.lookup(ids)
    except SourceUnavailable as exc:
        say(f"source unavailable: {exc}; using papers already in the database")
        reachable, records = False, {}
    with store.write() as session:
        if records:
            upsert_papers(session, list(records.values()), source="corpus" if corpus else "arxiv")
        if not reachable:
            records = {p.arxiv_id: _as_record(p) for p in session.scalars(select(Paper).where(Paper.arxiv_id.in_(ids)))}
    known = [a for a in anchors if a[1] in records]
    sims = dict(zip((a[0] for a in known), label_similarities([a[2] for a in known], [records[a[1]] for a in known])))
    checks = []
    for anchor_id, pid, label, cited in anchors:
        paper = records.get(pid)
        found = True if paper else (False if reachable else None)
        check = check_anchor(pid, label, cited, paper, sims.get(anchor_id), found)
        check.anchor_id = anchor_id
        checks.append(check)
    wrong = [c for c in checks if c.status == "not_found" or (
        c.status == "mismatch" and c.label_similarity is not None and c.label_similarity < LABEL_MATCH)]
    for check in wrong:
        reachable = _find_intended(store, settings, source, check, reachable, say)
    _record(store, checks)
    counts = {s: sum(c.status == s for c in checks) for s in ("verified", "mismatch", "not_found", "unchecked")}
    say("anchors: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    return checks


def _find_intended(store: Store, settings: Settings, source: Any, check: AnchorCheck, reachable: bool,
                   say: Callable[[str], None]) -> bool:
    """Rank the papers the anchor may have meant into `check.candidates`; whether the source still answers."""
    with store.read() as session:
        anchor = session.get(Anchor, check.anchor_id)
        claim_text = supported_claim(session, anchor, check.cited_label) if anchor is not None else ""
    found: list[PaperRecord] = []
    if reachable:
        found, reachable = gather(source, check.cited_label, claim_text, check.cited_date, say)
    with store.write() as session:
        if found:
            upsert_papers(session, found, source="corpus" if source.name.startswith("corpus") else "arxiv")
        cached = cached_papers(session, check.cited_date)
    by = {p.arxiv_id: "cache" for p in cached} | {p.arxiv_id: "query" for p in found}
    check.candidates = rank_candidates(check.cited_label, claim_text, check.cited_date, found + cached, by,
                                       CANDIDATE_MATCH, settings.search_threshold, exclude=check.arxiv_id)
    fitting = [c for c in check.candidates if c.fits]
    say(f"anchor {check.arxiv_id}: the label names another paper; {len(check.candidates)} candidate(s), "
        + (f"best fit {fitting[0].arxiv_id} ({fitting[0].score:.2f})" if fitting else "none fits"))
    return reachable


def _as_record(p: Paper) -> PaperRecord:
    return PaperRecord(
        arxiv_id=p.arxiv_id, title=p.title, summary=p.summary, published=p.published,
        published_precision=p.published_precision, updated=p.updated, version=p.version,
    )


def _record(store: Store, checks: list[AnchorCheck]) -> None:
    results = [AnchorResult(c.anchor_id, c.status, tuple(c.differences), c.verified_title, c.verified_published,
                            tuple(x.to_json() for x in c.candidates))
               for c in checks if c.anchor_id is not None]
    with store.write() as session:
        record_anchor_checks(session, results)
