"""The paper an anchor meant: when the cited label does not name the paper at the id.

A label that does not match its paper usually means a wrong id, not a wrong label, so
relabelling the anchor with the title found at the id would cite the wrong paper. This
module looks for the paper that was meant and ranks the candidates:

- pool: the source's text query for the cited label, and for the label with the claim
  the anchor supports (arXiv: relevance-ordered `all:` terms over title and abstract;
  a corpus: its papers), both within the cited date widened by DATE_SLACK_DAYS, plus
  the papers already cached in the database in that window (all that is left offline);
- meaning: `label` is the label's cosine with the paper (max over title and title +
  abstract, as in `agent.anchors`); `claim` is the supported claim's cosine with the
  paper's title + abstract;
- date: 1 when the first version falls within the cited date, falling linearly to 0 a
  year away;
- score = 0.6 label + 0.25 claim + 0.15 date (the label says which paper was meant, the
  claim what it was cited for, the date breaks ties between versions of one idea).

A candidate *fits* when its label similarity reaches CANDIDATE_MATCH, its claim similarity reaches the search threshold, and
its first version is within DATE_SLACK_DAYS of the cited date. The proposal rule
(`claims.anchor_rules.propose_anchor`) replaces the id with the best fitting candidate, or
flags the anchor for a person when none fits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from agent.embeddings import embed_texts, paper_text
from claims.dates import format_published, parse_as_of
from claims.errors import SourceUnavailable
from claims.models import Anchor, Claim, Paper
from claims.papers import PaperRecord
from claims.screening import screen_paper

# Label similarity at which a candidate counts as the paper meant. Higher than
# agent.anchors.LABEL_MATCH (0.35, "does this label name this one paper?") because the
# best of many papers is taken: on the dev corpus the bundled anchors' true labels score
# 0.52-0.98 against their papers, while the best *other* paper of the whole corpus scores
# 0.42-0.57 (0.46 median); the date window removes most of those.
CANDIDATE_MATCH = 0.5
DATE_SLACK_DAYS = 45  # a v1 submitted late in the month before the cited one still fits
MAX_CANDIDATES = 5  # ranked alternatives kept per anchor
QUERY_RESULTS = 50  # papers asked of the source per query
WEIGHTS = (0.6, 0.25, 0.15)  # label, claim, date


@dataclass(frozen=True)
class Candidate:
    """A paper that may be the one an anchor meant."""

    arxiv_id: str
    title: str
    published: dt.date | None
    score: float
    label_similarity: float
    claim_similarity: float
    date_fit: float
    fits: bool
    found_by: str  # "query" (the source answered it) or "cache" (papers already in the database)
    precision: str = "day"  # of `published`: day | month | year

    def to_json(self) -> dict[str, Any]:
        return {"id": self.arxiv_id, "title": self.title,
                "published": format_published(self.published, self.precision),
                "score": round(self.score, 3), "label_similarity": round(self.label_similarity, 3),
                "claim_similarity": round(self.claim_similarity, 3), "date_fit": round(self.date_fit, 3),
                "fits": self.fits, "found_by": self.found_by}


def cited_window(cited_date: str) -> tuple[dt.date, dt.date] | None:
    """The days a cited date covers (None when there is no usable date)."""
    try:
        as_of = parse_as_of(cited_date)
    except ValueError:
        return None
    return as_of.start, as_of.end


def days_outside(published: dt.date | None, window: tuple[dt.date, dt.date] | None) -> int | None:
    """Days between a first-version date and the cited window (0 inside; None if unknown)."""
    if window is None:
        return 0
    if published is None:
        return None
    start, end = window
    return max((start - published).days, (published - end).days, 0)


def date_fit(published: dt.date | None, window: tuple[dt.date, dt.date] | None) -> float:
    """1 inside the cited window, falling linearly to 0 a year away (0 when the date is unknown)."""
    gap = days_outside(published, window)
    return 0.0 if gap is None else max(0.0, 1.0 - gap / 365)


def rank_candidates(
    label: str, claim_text: str, cited_date: str, papers: Sequence[PaperRecord], found_by: dict[str, str],
    label_match: float, claim_match: float, exclude: str = "",
    embed: Callable[[list[str]], Any] | None = None,
) -> list[Candidate]:
    """Score each paper as the one the label meant; best first, at most MAX_CANDIDATES.

    A paper the injection screen flags (`claims.screening`) is never a candidate: a
    reviewer would otherwise be offered a hostile paper as the anchor's replacement.
    """
    embed = embed or embed_texts
    pool = [p for p in {p.arxiv_id: p for p in papers}.values()
            if p.arxiv_id != exclude and p.title and not screen_paper(p.title, p.summary or "").flagged]
    if not pool or not label.strip():
        return []
    window = cited_window(cited_date)
    vecs = embed([label, claim_text or label] + [p.title for p in pool]
                 + [paper_text(p.title, p.summary) for p in pool])
    lab, claim, n = vecs[0], vecs[1], len(pool)
    titles, fulls = vecs[2 : 2 + n], vecs[2 + n :]
    out = []
    for i, p in enumerate(pool):
        ls = float(max(lab @ titles[i], lab @ fulls[i]))
        cs = float(claim @ fulls[i]) if claim_text else ls
        df = date_fit(p.published, window)
        gap = days_outside(p.published, window)
        fits = ls >= label_match and cs >= claim_match and gap is not None and gap <= DATE_SLACK_DAYS
        score = WEIGHTS[0] * ls + WEIGHTS[1] * cs + WEIGHTS[2] * df
        out.append(Candidate(p.arxiv_id, p.title, p.published, score, ls, cs, df, fits, found_by.get(p.arxiv_id, "query"),
                             p.published_precision))
    out.sort(key=lambda c: (not c.fits, -c.score, c.arxiv_id))
    return out[:MAX_CANDIDATES]


def supported_claim(session: Any, anchor: Anchor, label: str) -> str:
    """The text of the claim an anchor supports: its own claim, else the inquiry's claim closest to the label."""
    if anchor.claim_id is not None:
        claim = session.get(Claim, anchor.claim_id)
        return claim.text if claim is not None else ""
    texts = list(session.scalars(select(Claim.text).where(Claim.inquiry_id == anchor.inquiry_id,
                                                          Claim.status != "superseded")))
    if not texts:
        return ""

    vecs = embed_texts([label, *texts])
    return texts[int((vecs[1:] @ vecs[0]).argmax())]


def gather(source: Any, label: str, claim_text: str, cited_date: str, say: Callable[[str], None]) -> tuple[list[PaperRecord], bool]:
    """Papers the source returns for the label (and label + claim) near the cited date; (papers, reachable)."""
    window = cited_window(cited_date)
    start = window[0] - dt.timedelta(days=DATE_SLACK_DAYS) if window else None
    end = window[1] + dt.timedelta(days=DATE_SLACK_DAYS) if window else None
    found: list[PaperRecord] = []
    try:
        for text in dict.fromkeys([label, f"{label} {claim_text}".strip()]):
            found += source.query(text, start, end, QUERY_RESULTS)
    except SourceUnavailable as exc:
        say(f"intended paper: {source.name} unavailable ({exc}); ranking the papers already in the database")
        return found, False
    return found, True


def cached_papers(session: Any, cited_date: str) -> list[PaperRecord]:
    """Papers already in the database whose first version is near the cited date."""
    window = cited_window(cited_date)
    query = select(Paper)
    if window is not None:
        query = query.where(Paper.published >= window[0] - dt.timedelta(days=DATE_SLACK_DAYS),
                            Paper.published <= window[1] + dt.timedelta(days=DATE_SLACK_DAYS))
    return [PaperRecord(arxiv_id=p.arxiv_id, title=p.title, summary=p.summary or "", published=p.published,
                        published_precision=p.published_precision, updated=p.updated, version=p.version)
            for p in session.scalars(query)]
