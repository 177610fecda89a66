"""Evidence search: fetch new papers, rank them against claims, write evidence rows.

One run fetches once for all claims, then ranks every fetched paper against every
claim in one matrix product, each claim seeing only papers inside its own window:

- claims checked before: the weekly sweep of the watched categories since the
  earliest of their `last_checked_at` (a one-day overlap; duplicates are merged);
  its cost grows with the week's papers, not with the number of claims;
- claims never checked: backfill, one targeted query per claim over its window (from
  its as-of date to today) plus one id lookup of the inquiry's anchor papers;
- `--since DATE`: the sweep for every claim from that date;
- a local corpus (`corpus=`): every paper of the file (from `since` if given).

Papers are upserted (newest version wins), embedded once (cached in the database),
and the best candidates above `search_threshold` become Evidence rows (stance
"unjudged"; a judged stance is never overwritten), up to a limit per claim: recall first
on a claim's first search (`search_backfill_limit`, 50), `search_top_k` (20) on later
weekly sweeps, `limit=` for both. The query is the claim with its inquiry's context and
exemplar papers (agent/queries.py); a claim with reviewer labels is re-ranked by its
feedback model (agent/feedback.py), whose version is recorded on each row (`ranker`). Each fetch is recorded as
a Sweep row, a failed one too, before `SourceUnavailable` propagates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from agent.citing import add_citing
from agent.embeddings import DIM, MODEL_NAME, embed_texts, from_blob, from_shipped, paper_text, to_blob
from agent.feedback import features, model_version, rerank
from agent.queries import embed_queries, load_queries, score
from agent.ranking import DEFAULT_METHOD, fuse, top_candidates
from agent.sources import PaperSource, open_source
from claims.citations import provenance
from claims.dates import format_published
from claims.errors import NotFound, SourceUnavailable
from claims.evidence import Hit, mark_checked, record_candidates, store_embeddings
from claims.models import Anchor, Claim, Paper, utcnow
from claims.papers import PaperRecord, upsert_papers
from claims.relevance import cached_query_vectors, claim_labels, set_rankers, store_query_vectors
from claims.runs import SweepRecord, record_sweeps
from claims.settings import Settings
from claims.store import Store

BACKFILL_RESULTS = 200  # per new claim: one request of the best matches in its window


@dataclass
class Candidate:
    """A paper ranked for a claim."""

    arxiv_id: str
    title: str
    published: dt.date | None
    score: float  # cosine similarity of claim and paper (the threshold applies to it)
    rank: int  # 1-based, in the ranking method's order
    evidence_id: int | None = None
    method: str = "hybrid"
    ranker: str = ""
    provenance: list[str] = field(default_factory=list)  # e.g. ["cites arXiv:2504.07912"] (forward citations)
    precision: str = "day"  # of `published`: day | month | year

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.arxiv_id,
            "title": self.title,
            "published": format_published(self.published, self.precision),
            "score": round(self.score, 4),
            "rank": self.rank,
            "evidence_id": self.evidence_id,
            "method": self.method,
            "ranker": self.ranker,
            "provenance": list(self.provenance),
        }


@dataclass
class SearchReport:
    """What a search run found, fetched and wrote."""

    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    new_evidence: dict[str, list[int]] = field(default_factory=dict)
    requests: int = 0
    papers_seen: int = 0
    source: str = ""
    window: tuple[dt.date | None, dt.date | None] = (None, None)
    errors: list[str] = field(default_factory=list)
    citing: Any = None  # agent.citing.CitingResult: forward citations (arXiv runs with CLAIMS_S2_CITATIONS)

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """The `claims search --format json` shape: claim key -> ranked candidates."""
        return {key: [c.to_json() for c in cands] for key, cands in self.candidates.items()}


@dataclass
class _ClaimView:
    id: int
    key: str
    text: str
    start: dt.date | None  # its window's first day
    backfill: bool
    anchor_ids: list[str]
    first: bool = False  # never searched before: the generous limit
    query: Any = None  # agent.queries.ClaimQuery
    labels: Any = None  # claims.relevance.ClaimLabels


@dataclass
class _Fetch:
    mode: str
    start: dt.date | None
    end: dt.date | None
    papers: list[PaperRecord] = field(default_factory=list)
    requests: int = 0
    error: str | None = None


def search_claims(
    store: Store,
    settings: Settings,
    claim_keys: list[str] | None = None,
    corpus: Path | None = None,
    since: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    agent_run_id: int | None = None,
    limit: int | None = None,
) -> SearchReport:
    """Search for evidence on the given claims (all by default); see the module doc."""
    say = progress or (lambda _m: None)
    today = utcnow().date()
    claims = _load_claims(store, claim_keys, since, corpus is not None)
    source = open_source(settings, corpus)
    report = SearchReport(source=source.name)
    if not claims:
        return report
    fetches = _fetch(source, settings, claims, since, today, corpus is not None, say)
    report.requests = sum(f.requests for f in fetches)
    failed = [f for f in fetches if f.error]
    if failed:
        with store.write() as session:
            record_sweeps(session, _sweeps(source, fetches))
        raise SourceUnavailable("; ".join(f"{f.mode}: {f.error}" for f in failed))

    records = {p.arxiv_id: p for f in fetches for p in f.papers}
    if corpus is None and settings.s2_citations:
        starts = [c.start for c in claims]
        cite_since = since or (None if None in starts else min(s for s in starts if s is not None))
        report.citing = add_citing(store, settings, [c.id for c in claims], cite_since, records, say)
        if report.citing.error:
            report.errors.append(f"citations: Semantic Scholar unavailable: {report.citing.error}")
    report.papers_seen = len(records)
    starts = [f.start for f in fetches]
    report.window = (None if None in starts else min(starts), None if corpus else today)  # type: ignore[type-var]
    with store.write() as session:
        upsert_papers(session, list(records.values()), source="corpus" if corpus else "arxiv")
    known = _known_papers(store, claims, set(records))
    ids = sorted(records) + known  # known: exemplars and labelled papers, to train on, never candidates
    vectors, papers = _paper_vectors(store, ids, say)
    for p in papers[len(records):]:
        p["train_only"] = True
    hits, rankers, fresh = _rank(store, settings, claims, papers, vectors, say, limit)

    with store.write() as session:
        store_query_vectors(session, fresh)
        store_embeddings(session, {ids[i]: to_blob(vectors[i]) for i, p in enumerate(papers) if not p["cached"]},
                         MODEL_NAME)
        for claim, claim_hits in zip(claims, hits):
            window = (claim.start, None if corpus else today)
            cands, created = _write_evidence(session, claim, claim_hits, papers, window, agent_run_id, rankers[claim.id])
            set_rankers(session, {c.evidence_id: rankers[claim.id] for c in cands if c.evidence_id is not None})
            report.candidates[claim.key] = cands
            report.new_evidence[claim.key] = created
        mark_checked(session, [c.id for c in claims])
        record_sweeps(session, _sweeps(source, fetches))
        if report.citing is not None:
            found = provenance(session, [c.arxiv_id for cands in report.candidates.values() for c in cands])
            for cands in report.candidates.values():
                for c in cands:
                    c.provenance = found.get(c.arxiv_id, [])
    new = sum(len(v) for v in report.new_evidence.values())
    say(f"{new} new evidence rows for {len(claims)} claims from {len(ids)} papers")
    return report


def _load_claims(store: Store, keys: list[str] | None, since: dt.date | None, offline: bool) -> list[_ClaimView]:
    with store.read() as session:
        query = select(Claim).order_by(Claim.inquiry_id, Claim.position, Claim.id)
        if keys:
            query = query.where(Claim.key.in_(keys))
        rows = list(session.scalars(query))
        missing = sorted(set(keys or []) - {c.key for c in rows})
        if missing:
            raise NotFound(f"no claim {', '.join(missing)}")
        anchors: dict[int, list[Anchor]] = {}
        for a in session.scalars(select(Anchor).where(Anchor.inquiry_id.in_({c.inquiry_id for c in rows}))):
            anchors.setdefault(a.inquiry_id, []).append(a)
        out = []
        for c in rows:
            backfill = c.last_checked_at is None and since is None and not offline
            if offline or since is not None:
                start = since
            elif backfill:
                start = c.as_of_start
            else:
                start = c.last_checked_at.date()  # type: ignore[union-attr]
            ids = [a.arxiv_id for a in anchors.get(c.inquiry_id, []) if a.claim_id in (None, c.id)]
            out.append(_ClaimView(c.id, c.key, c.text, start, backfill, ids, c.last_checked_at is None))
        labels = claim_labels(session, [c.id for c in out])
        for view, query in zip(out, load_queries(session, rows)):
            view.query, view.labels = query, labels.get(view.id)
        return out


def _known_papers(store: Store, claims: list[_ClaimView], fetched: set[str]) -> list[str]:
    """Exemplar and labelled papers in the database but not fetched now (training rows of the re-ranker)."""
    wanted = set()
    for c in claims:
        wanted |= set(c.query.exemplars)  # their cached vectors, not a fresh embedding each run
        if c.labels is not None:
            wanted |= set(c.labels.relevant) | set(c.labels.irrelevant)
    wanted -= fetched
    if not wanted:
        return []
    with store.read() as session:
        return sorted(session.scalars(select(Paper.arxiv_id).where(Paper.arxiv_id.in_(wanted))))


def _fetch(
    source: PaperSource,
    settings: Settings,
    claims: list[_ClaimView],
    since: dt.date | None,
    today: dt.date,
    offline: bool,
    say: Callable[[str], None],
) -> list[_Fetch]:
    """Run the sweep and/or the backfill queries; failures are kept on the fetch."""
    fetches: list[_Fetch] = []
    swept = [c for c in claims if not c.backfill]
    if swept:
        start = None if any(c.start is None for c in swept) else min(c.start for c in swept)  # type: ignore[type-var]
        end = None if offline else today
        f = _Fetch("sweep", start, end)
        say(f"sweep {source.name} {', '.join(settings.arxiv_categories)} from {start or 'the start'} to {end or 'now'}")
        _run(f, source, lambda: source.sweep(settings.arxiv_categories, start, end))
        fetches.append(f)
    fresh = [c for c in claims if c.backfill]
    if fresh:
        start = min(c.start for c in fresh if c.start) if any(c.start for c in fresh) else None
        f = _Fetch("backfill", start, today)

        def backfill() -> list[PaperRecord]:
            found: list[PaperRecord] = []
            anchor_ids = sorted({i for c in fresh for i in c.anchor_ids})
            if anchor_ids:
                say(f"backfill: looking up {len(anchor_ids)} anchor papers")
                found.extend(source.lookup(anchor_ids).values())
            for c in fresh:
                say(f"backfill {c.key}: targeted query from {c.start}")
                found.extend(source.query(c.text, c.start, today, BACKFILL_RESULTS))
            return found

        _run(f, source, backfill)
        fetches.append(f)
    return fetches


def _run(fetch: _Fetch, source: PaperSource, call: Callable[[], list[PaperRecord]]) -> None:
    before = source.requests
    try:
        fetch.papers = call()
    except SourceUnavailable as exc:
        fetch.error = str(exc)
    fetch.requests = source.requests - before


def _paper_vectors(
    store: Store, ids: list[str], say: Callable[[str], None]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Embeddings of the papers (cached ones reused), and the papers' fields for ranking."""
    papers: list[dict[str, Any]] = []
    vectors = np.zeros((len(ids), DIM), dtype=np.float32)
    todo: list[int] = []
    with store.read() as session:
        rows = {p.arxiv_id: p for p in session.scalars(select(Paper).where(Paper.arxiv_id.in_(ids)))}
        for i, pid in enumerate(ids):
            p = rows[pid]
            papers.append({"id": pid, "title": p.title, "summary": p.summary, "published": p.published,
                           "precision": p.published_precision, "cached": False})
            if p.embedding is not None and p.embedding_model == MODEL_NAME and len(p.embedding) == DIM * 4:
                vectors[i] = from_blob(p.embedding)
                papers[-1]["cached"] = True
            else:
                todo.append(i)
    texts = {i: paper_text(papers[i]["title"], papers[i]["summary"]) for i in todo}
    shipped = {todo[j]: v for j, v in from_shipped(list(texts.values())).items()}
    rest = [i for i in todo if i not in shipped]
    if todo:
        say(f"embedding {len(rest)} papers ({len(ids) - len(todo)} cached"
            + (f", {len(shipped)} from the shipped demo vectors)" if shipped else ")"))
    for i, v in shipped.items():
        vectors[i] = v
    if rest:
        vectors[rest] = embed_texts([texts[i] for i in rest])
    return vectors, papers


def _rank(
    store: Store,
    settings: Settings,
    claims: list[_ClaimView],
    papers: list[dict[str, Any]],
    vectors: np.ndarray,
    say: Callable[[str], None],
    limit: int | None,
) -> tuple[list[list[Any]], dict[int, str], dict[int, tuple[str, bytes]]]:
    """Per claim: kept hits (best first), the ranker version, and query vectors to cache."""
    base_ranker = "hybrid-q1"  # hybrid of the expanded dense query and BM25 of the claim text
    if not papers:
        return [[] for _ in claims], {c.id: base_ranker for c in claims}, {}
    say(f"ranking {len(papers)} papers against {len(claims)} claims")
    allowed = np.ones((len(claims), len(papers)), dtype=bool)
    published = [p["published"] for p in papers]
    train_only = np.array([bool(p.get("train_only")) for p in papers])
    for j, c in enumerate(claims):
        if c.start is not None:
            allowed[j] = [d is None or d >= c.start for d in published]
        allowed[j] &= ~train_only
    queries = [c.query for c in claims]
    with store.read() as session:
        cached = cached_query_vectors(session, [c.id for c in claims])
    claim_v, ctx_v, fresh = embed_queries(queries, cached)
    ids = [p["id"] for p in papers]
    texts = [paper_text(p["title"], p["summary"]) for p in papers]
    s = score(queries, claim_v, ctx_v, texts, vectors, dict(zip(ids, vectors)))
    order = fuse(s.dense, s.lexical)
    index = {pid: i for i, pid in enumerate(ids)}
    hits, rankers = [], {}
    feats = None
    for j, c in enumerate(claims):
        row, ranker = order[j], base_ranker
        if c.labels is not None:
            ex = [p for p in c.query.exemplars if p in index]
            pos = [p for p in c.labels.relevant if p in index]
            neg = [p for p in c.labels.irrelevant if p in index]
            if feats is None:  # TF-IDF of this run's papers, once for every labelled claim
                feats = features(vectors, texts)
            out = rerank(feats, row, [index[p] for p in ex], [index[p] for p in pos], [index[p] for p in neg])
            if out.trained:
                row, ranker = out.order, model_version([*ex, *pos], neg)
            row = row.copy()
            row[[index[p] for p in neg]] = -np.inf  # a reviewer said not relevant: no longer a candidate
        keep = limit or (settings.search_backfill_limit if c.first else settings.search_top_k)
        hits.append(top_candidates(row[None, :], s.cosine[j][None, :], keep, settings.search_threshold,
                                   allowed[j][None, :])[0])
        rankers[c.id] = ranker
    return hits, rankers, fresh


def _write_evidence(
    session: Any,
    claim: _ClaimView,
    hits: list[Any],
    papers: list[dict[str, Any]],
    window: tuple[dt.date | None, dt.date | None],
    agent_run_id: int | None,
    ranker: str = "",
) -> tuple[list[Candidate], list[int]]:
    recorded = record_candidates(
        session, claim.id, [Hit(papers[h.paper]["id"], h.score, h.rank, DEFAULT_METHOD) for h in hits], window, agent_run_id)
    cands = []
    for hit, rec in zip(hits, recorded):
        p = papers[hit.paper]
        cands.append(Candidate(rec.paper_id, p["title"], p["published"], hit.score, hit.rank, rec.evidence_id,
                               DEFAULT_METHOD, ranker, precision=p.get("precision") or "day"))
    return cands, [r.evidence_id for r in recorded if r.created]


def _sweeps(source: PaperSource, fetches: list[_Fetch]) -> list[SweepRecord]:
    return [SweepRecord(source.name, f.mode, f.start, f.end, len(f.papers), f.requests, f.error) for f in fetches]
