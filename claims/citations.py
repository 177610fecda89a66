"""Forward citations: which papers cite the papers claims rest on (the `citations` rows).

The agent fetches them (agent/s2.py); this module stores them, says which papers the
claims rest on, and gives each citing paper its provenance ("cites arXiv:2504.07912").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.models import Anchor, Citation, Claim

HELD = ("flagged", "withdrawn")  # anchors a reviewer marked: nothing should rest on them


@dataclass(frozen=True)
class CitationIn:
    """One citing paper of one cited arXiv paper."""

    cited_arxiv_id: str
    citing_s2_id: str
    title: str
    citing_arxiv_id: str | None = None
    doi: str | None = None
    url: str | None = None
    published: dt.date | None = None


def cited_papers(session: Session, claim_ids: Sequence[int]) -> list[str]:
    """The arXiv ids the claims rest on: the anchors of their inquiries (not flagged or withdrawn)."""
    inquiries = set(session.scalars(select(Claim.inquiry_id).where(Claim.id.in_(list(claim_ids)))))
    rows = session.scalars(select(Anchor.arxiv_id).where(Anchor.inquiry_id.in_(inquiries), Anchor.status.not_in(HELD)))
    return sorted(set(rows))


def record_citations(session: Session, rows: Sequence[CitationIn]) -> int:
    """Store the citations not stored before; the number added."""
    have = {(c, s) for c, s in session.execute(select(Citation.cited_arxiv_id, Citation.citing_s2_id).where(
        Citation.cited_arxiv_id.in_({r.cited_arxiv_id for r in rows})))}
    added = 0
    for r in rows:
        if (r.cited_arxiv_id, r.citing_s2_id) in have:
            continue
        have.add((r.cited_arxiv_id, r.citing_s2_id))
        session.add(Citation(cited_arxiv_id=r.cited_arxiv_id, citing_s2_id=r.citing_s2_id, title=r.title,
                             citing_arxiv_id=r.citing_arxiv_id, doi=r.doi, url=r.url, published=r.published))
        added += 1
    session.flush()
    return added


def provenance(session: Session, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    """For each arXiv paper among `paper_ids` that cites a paper claims rest on: ["cites arXiv:X", ...]."""
    out: dict[str, list[str]] = {}
    for citing, cited in session.execute(select(Citation.citing_arxiv_id, Citation.cited_arxiv_id).where(
            Citation.citing_arxiv_id.in_(list(paper_ids))).order_by(Citation.cited_arxiv_id)):
        out.setdefault(citing, []).append(f"cites arXiv:{cited}")
    return out
