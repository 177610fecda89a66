"""What a claim's query is: its text, its inquiry's context, and its exemplar papers.

A claim's text alone is a short query. The database knows more, and each part is used
(measured on the dev set, docs/search.md):

- **context**: the inquiry's question and its source notes, embedded as one text; its
  cosine with a paper is added to the claim's with weight `W_CONTEXT`;
- **exemplars**: the claim's origin and anchor papers (anchors of the claim, or of its
  inquiry when they name no claim); a paper's best cosine with them is added with weight
  `W_EXEMPLAR`, so that a paper close to the paper a claim came from ranks high.

The lexical side (BM25) stays the claim text: adding the context or the exemplars' words
lowered AP@50 on the dev set. The threshold still applies to the claim's own cosine.
Weights are round numbers, measured, not fitted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.embeddings import DIM, MODEL_NAME, embed_texts, paper_text
from agent.ranking import BM25
from claims.models import Anchor, Claim, Inquiry, Paper, SourceNote

W_CONTEXT = 0.5
W_EXEMPLAR = 0.5


@dataclass(frozen=True)
class ClaimQuery:
    """Everything a claim is searched with."""

    claim_id: int
    key: str
    text: str
    context: str  # inquiry question and source notes ("" when none)
    exemplars: tuple[str, ...]  # arXiv ids of origin/anchor papers
    exemplar_texts: tuple[str, ...]  # their title and abstract when known, else the cited label

    def cache_key(self, model: str) -> str:
        """Hash of what the cached query vectors are computed from."""
        return hashlib.sha256(f"{model}\x00{self.text}\x00{self.context}".encode()).hexdigest()


@dataclass(frozen=True)
class Scores:
    """Claims x papers matrices."""

    cosine: np.ndarray  # the claim text's cosine (the threshold applies to it)
    dense: np.ndarray  # cosine + context + exemplars
    lexical: np.ndarray  # BM25 of the claim text


def load_queries(session: Session, claims: list[Claim]) -> list[ClaimQuery]:
    """The queries of these claims, built from what the database knows of them."""
    inquiry_ids = {c.inquiry_id for c in claims}
    inquiries = {i.id: i for i in session.scalars(select(Inquiry).where(Inquiry.id.in_(inquiry_ids)))}
    notes: dict[int, list[str]] = {}
    for n in session.scalars(select(SourceNote).where(SourceNote.inquiry_id.in_(inquiry_ids))
                             .order_by(SourceNote.position)):
        notes.setdefault(n.inquiry_id, []).append(f"{n.question} {n.summary}".strip())
    anchors: dict[int, list[Anchor]] = {}
    for a in session.scalars(select(Anchor).where(Anchor.inquiry_id.in_(inquiry_ids)).order_by(Anchor.position)):
        anchors.setdefault(a.inquiry_id, []).append(a)
    ids = {a.arxiv_id for rows in anchors.values() for a in rows}
    papers = {p.arxiv_id: p for p in session.scalars(select(Paper).where(Paper.arxiv_id.in_(ids)))}
    out = []
    for c in claims:
        inquiry = inquiries.get(c.inquiry_id)
        context = " ".join([inquiry.question if inquiry else ""] + notes.get(c.inquiry_id, [])).strip()
        own = [a for a in anchors.get(c.inquiry_id, []) if a.claim_id == c.id]
        chosen = own or [a for a in anchors.get(c.inquiry_id, []) if a.claim_id is None]
        texts = tuple(paper_text(papers[a.arxiv_id].title, papers[a.arxiv_id].summary)
                      if a.arxiv_id in papers else a.cited_label for a in chosen)
        out.append(ClaimQuery(c.id, c.key, c.text, context, tuple(a.arxiv_id for a in chosen), texts))
    return out


def embed_queries(queries: list[ClaimQuery], cached: dict[int, tuple[str, bytes]] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[str, bytes]]]:
    """(claim vectors, context vectors, the newly computed ones to cache by claim id)."""
    claim_v = np.zeros((len(queries), DIM), dtype=np.float32)
    ctx_v = np.zeros((len(queries), DIM), dtype=np.float32)
    todo = []
    for i, q in enumerate(queries):
        hit = (cached or {}).get(q.claim_id)
        if hit and hit[0] == q.cache_key(MODEL_NAME) and len(hit[1]) == 2 * DIM * 4:
            both = np.frombuffer(hit[1], dtype=np.float32)
            claim_v[i], ctx_v[i] = both[:DIM], both[DIM:]
        else:
            todo.append(i)
    fresh: dict[int, tuple[str, bytes]] = {}
    if todo:
        texts = [queries[i].text for i in todo] + [queries[i].context or queries[i].text for i in todo]
        vecs = embed_texts(texts)
        for n, i in enumerate(todo):
            claim_v[i], ctx_v[i] = vecs[n], vecs[len(todo) + n]
            if not queries[i].context:
                ctx_v[i] = 0.0
            fresh[queries[i].claim_id] = (queries[i].cache_key(MODEL_NAME),
                                          np.concatenate([claim_v[i], ctx_v[i]]).astype(np.float32).tobytes())
    return claim_v, ctx_v, fresh


def exemplar_scores(queries: list[ClaimQuery], paper_vectors: np.ndarray,
                    vectors_of: dict[str, np.ndarray]) -> np.ndarray:
    """(claims x papers): each paper's best cosine with the claim's exemplars (0 without any)."""
    out = np.zeros((len(queries), len(paper_vectors)), dtype=np.float32)
    missing = sorted({t for q in queries for pid, t in zip(q.exemplars, q.exemplar_texts) if pid not in vectors_of})
    extra = dict(zip(missing, embed_texts(missing))) if missing else {}
    for i, q in enumerate(queries):
        vecs = [vectors_of[pid] if pid in vectors_of else extra[t] for pid, t in zip(q.exemplars, q.exemplar_texts)]
        if vecs and len(paper_vectors):
            out[i] = (np.stack(vecs) @ paper_vectors.T).max(axis=0)
    return out


def score(queries: list[ClaimQuery], claim_v: np.ndarray, ctx_v: np.ndarray, paper_texts: list[str],
          paper_vectors: np.ndarray, vectors_of: dict[str, np.ndarray], use_context: bool = True,
          use_exemplars: bool = True) -> Scores:
    """Score every paper against every claim query (see the module doc)."""
    cosine = claim_v @ paper_vectors.T
    dense = cosine.copy()
    if use_context:
        dense += W_CONTEXT * (ctx_v @ paper_vectors.T)
    if use_exemplars:
        dense += W_EXEMPLAR * exemplar_scores(queries, paper_vectors, vectors_of)
    lexical = BM25(paper_texts).scores([q.text for q in queries])
    return Scores(cosine, dense, lexical)
