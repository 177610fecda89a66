"""Forward citations in the search: papers citing what the claims rest on join the candidate pool.

For the claims searched, the papers they rest on (`claims.citations.cited_papers`) are
asked of Semantic Scholar for citing papers published since the earliest
`last_checked_at` of those claims (all of them on a first search). Every citation is
stored (`citations`: a citing paper without an arXiv id keeps its DOI or Semantic
Scholar id and link); citing papers with an arXiv id join the fetched papers (an
arXiv record of the same id wins), so they are ranked, recorded and judged like the
sweep's. If Semantic Scholar is unreachable the search says so and goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.s2 import CitationFetch, fetch_citing
from claims.citations import CitationIn, cited_papers, record_citations
from claims.papers import PaperRecord
from claims.settings import Settings
from claims.store import Store


@dataclass
class CitingResult:
    """What forward citations added to one search."""

    cited: list[str] = field(default_factory=list)
    citations: int = 0
    stored: int = 0
    added: list[str] = field(default_factory=list)  # arXiv ids that joined the pool
    requests: list[str] = field(default_factory=list)
    error: str | None = None


def add_citing(store: Store, settings: Settings, claim_ids: list[int], since: dt.date | None,
               records: dict[str, PaperRecord], say: Callable[[str], None],
               fetch: Callable[..., CitationFetch] = fetch_citing) -> CitingResult:
    """Fetch the citing papers, store the citations, and add the arXiv ones to `records` (in place)."""
    out = CitingResult()
    with store.read() as session:
        out.cited = cited_papers(session, claim_ids)
    if not out.cited or settings.s2_max_citations == 0:
        return out
    say(f"citations: asking Semantic Scholar for papers citing {len(out.cited)} paper(s) the claims rest on")
    got = fetch(settings, out.cited, since, say)
    out.requests, out.error, out.citations = [str(r) for r in got.requests], got.error, len(got.papers)
    rows = [CitationIn(p.cited, p.s2_id, p.title, p.arxiv_id, p.doi, p.link, p.published) for p in got.papers]
    with store.write() as session:
        out.stored = record_citations(session, rows)
    for p in got.papers:
        rec = p.to_record()
        if rec is not None and rec.arxiv_id not in records and rec.arxiv_id not in out.cited:
            records[rec.arxiv_id] = rec
            out.added.append(rec.arxiv_id)
    say(f"citations: {out.citations} citing paper(s), {len(out.added)} new arXiv candidate(s), "
        f"{len(got.requests)} request(s)")
    return out


def describe(result: Any) -> str:
    """One line for reports."""
    if result.error:
        return f"Semantic Scholar unavailable: {result.error}"
    return f"{result.citations} citing paper(s) of {len(result.cited)}, {len(result.added)} new candidate(s)"
