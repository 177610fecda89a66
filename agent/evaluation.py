"""`claims eval search`: ranking quality on a labelled corpus, beside BM25, with simulated feedback.

Inputs: a corpus (JSON Lines, as `claims search --corpus`) and labels, one JSON object a
line `{"claim": "C3", "paper": "2504.07912", "stance": "origin"}`; every labelled paper
is relevant to its claim, whatever the stance; a paper without a label bears on no
claim. Claims are the database's, by key (import the document first).

Each claim ranks every corpus paper. The claim's exemplars (its origin and anchor papers
that the database already knows, see agent/queries.py) are left out of the ranking and
of its relevant set, for every method: they are known, not found.

Figures per claim (with its count of relevant papers) and on average: recall@10,
recall@20, recall@50, precision@10, MRR, AP@50, R-precision (precision in the top R, R the
claim's relevant papers) and WSS@95 (work saved over sampling at 95% recall: the share of the corpus left
unscreened when 95% of the relevant papers are found, minus 0.05). BM25 of the claim
text over the same corpus is the baseline, computed in the same run.

`simulate=N` replays the labels as a reviewer would: screen the top unscreened candidate,
label it from the file, re-rank with the feedback model (agent/feedback.py), N labels per
claim; the figures are then those of the order "screened first, then the re-ranked rest".

`active=True` replays a whole screening, re-ranking after every `batch` labels, beside the
static ranking and BM25 read as fixed orders (agent/active.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from agent.active import ActiveReport, curve, figures, screen
from agent.corpus import read_corpus
from agent.embeddings import embed_texts, paper_text
from agent.feedback import features, score_rows
from agent.queries import embed_queries, load_queries, score
from agent.ranking import fuse
from claims.errors import BadInput, DocumentError
from claims.models import Claim
from claims.papers import split_arxiv_id
from claims.store import Store

METRICS = ("recall@10", "recall@20", "recall@50", "precision@10", "mrr", "ap@50", "r-precision", "wss@95")


def read_labels(path: Path) -> dict[str, set[str]]:
    """Claim key -> relevant arXiv ids; raises BadInput naming the bad line."""
    if not path.is_file():
        raise BadInput(f"no labels file {path}")
    out: dict[str, set[str]] = defaultdict(set)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"labels file {path} is not UTF-8 text (byte {exc.start}): expected JSON Lines") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[str(row["claim"])].add(split_arxiv_id(str(row["paper"]))[0])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DocumentError(f"expected {{\"claim\", \"paper\", \"stance\"}}: {exc}", line=n, path=str(path)) from exc
    return dict(out)


def metrics(order: list[str], relevant: set[str]) -> dict[str, float]:
    """The figures of one ranked list of ids against its relevant set."""
    hits = np.array([p in relevant for p in order], dtype=bool)
    total = max(len(relevant), 1)
    found = np.cumsum(hits)
    out = {f"recall@{k}": float(found[:k][-1] / total) if len(order) else 0.0 for k in (10, 20, 50)}
    out["precision@10"] = float(hits[:10].sum() / 10)
    first = np.flatnonzero(hits)
    out["mrr"] = float(1.0 / (first[0] + 1)) if len(first) else 0.0
    top = hits[:50]
    out["ap@50"] = float(sum(found[i] / (i + 1) for i in np.flatnonzero(top)) / min(total, 50))
    out["r-precision"] = float(hits[:len(relevant)].sum() / total) if relevant else 0.0
    need = int(np.ceil(0.95 * len(relevant)))
    reach = np.flatnonzero(found >= need)
    screened = (reach[0] + 1) if len(reach) and need else len(order)
    out["wss@95"] = float((len(order) - screened) / max(len(order), 1) - 0.05)
    return {k: round(v, 4) for k, v in out.items()}


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in METRICS} if rows else {k: 0.0 for k in METRICS}


@dataclass
class EvalReport:
    """What `claims eval search` prints."""

    papers: int
    labels: int
    mean: dict[str, float]
    bm25: dict[str, float]
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    feedback: dict[str, float] | None = None
    curve: dict[str, list[float]] = field(default_factory=dict)  # method -> mean recall after k screened
    missing: list[str] = field(default_factory=list)  # labelled claim keys not in the database (skipped)
    active: Any = None  # agent.active.ActiveReport, with --active

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"papers": self.papers, "labels": self.labels, "mean": self.mean,
                               "bm25": self.bm25, "claims": self.claims, "missing_claims": self.missing}
        if self.feedback is not None:
            out["feedback"] = self.feedback
            out["curve"] = self.curve
        if self.active is not None:
            out["active"] = self.active.to_json()
        return out


@dataclass
class Prepared:
    """A labelled corpus scored against its claims: what every figure is computed from."""

    ids: list[str]
    texts: list[str]
    vectors: np.ndarray
    queries: list[Any]  # agent.queries.ClaimQuery, the labelled claims in the database
    scores: Any  # agent.queries.Scores
    hybrid: np.ndarray  # the static ranking's order scores (claims x papers)
    labels: dict[str, set[str]]

    def relevant(self, i: int) -> tuple[set[str], np.ndarray]:
        """Claim i's relevant set (its exemplars left out) and the mask of rows it may rank."""
        known = set(self.queries[i].exemplars)
        return self.labels[self.queries[i].key] - known, np.array([pid not in known for pid in self.ids])


def prepare(store: Store, corpus: Path, labels_path: Path, use_context: bool = True,
            use_exemplars: bool = True) -> Prepared:
    """Read the corpus and labels, embed the papers, score them against the labelled claims."""
    labels = read_labels(labels_path)
    papers = read_corpus(corpus)
    if not papers:
        raise BadInput(f"the corpus {corpus} has no papers")
    with store.read() as session:
        claims = list(session.scalars(select(Claim).where(Claim.key.in_(list(labels))).order_by(Claim.id)))
        if not claims:
            raise BadInput(f"none of the labelled claims ({', '.join(sorted(labels))}) is in the database: "
                           "import their document first (`claims import`)")
        queries = load_queries(session, claims)
    ids = [p.arxiv_id for p in papers]
    texts = [paper_text(p.title, p.summary) for p in papers]
    vectors = embed_texts(texts)
    claim_v, ctx_v, _ = embed_queries(queries)
    s = score(queries, claim_v, ctx_v, texts, vectors, dict(zip(ids, vectors)), use_context, use_exemplars)
    return Prepared(ids, texts, vectors, queries, s, fuse(s.dense, s.lexical), labels)


def evaluate(store: Store, corpus: Path, labels_path: Path, simulate: int = 0,
             use_context: bool = True, use_exemplars: bool = True, active: bool = False,
             batch: int = 1) -> EvalReport:
    """Rank the corpus for every labelled claim; see the module doc."""
    prep = prepare(store, corpus, labels_path, use_context, use_exemplars)
    ids, s, hybrid, queries = prep.ids, prep.scores, prep.hybrid, prep.queries
    ours, base, fed, curves = [], [], [], defaultdict(list)
    report_claims: dict[str, dict[str, Any]] = {}
    if simulate:
        feats = features(prep.vectors, prep.texts)
    for i, q in enumerate(queries):
        relevant, keep = prep.relevant(i)
        order = _order(hybrid[i], keep, ids)
        row = {"relevant": len(relevant), **metrics(order, relevant)}
        bm = metrics(_order(s.lexical[i], keep, ids), relevant)
        row["bm25"] = bm
        ours.append(row)
        base.append(bm)
        curves["ranking"].append(_curve(order, relevant))
        curves["bm25"].append(_curve(_order(s.lexical[i], keep, ids), relevant))
        if simulate:
            sim_order = _simulate(q, feats, hybrid[i], ids, keep, relevant, simulate)
            row["feedback"] = metrics(sim_order, relevant)
            fed.append(row["feedback"])
            curves["feedback"].append(_curve(sim_order, relevant))
        report_claims[q.key] = row
    report = EvalReport(len(ids), sum(len(v) for v in prep.labels.values()), mean(ours), mean(base), report_claims)
    report.missing = sorted(set(prep.labels) - {q.key for q in queries})
    if simulate:
        report.feedback = mean(fed)
    report.curve = {k: [round(float(x), 4) for x in np.mean(v, axis=0)] for k, v in curves.items()}
    if active:
        report.active = replay(prep, batch)
    return report


def replay(prep: Prepared, batch: int = 1) -> Any:
    """Active screening of every claim (agent/active.py) beside the static ranking and BM25."""
    out = ActiveReport(batch)
    feats = features(prep.vectors, prep.texts)
    curves: dict[str, list[np.ndarray]] = defaultdict(list)
    index = {pid: j for j, pid in enumerate(prep.ids)}
    s = prep.scores
    for i, q in enumerate(prep.queries):
        relevant, keep = prep.relevant(i)
        exemplars = [index[e] for e in q.exemplars if e in index]
        is_rel = np.array([pid in relevant for pid in prep.ids])
        rows = screen(feats, prep.hybrid[i], keep, exemplars, is_rel, score_rows, batch)
        orders = {"active": [prep.ids[j] for j in rows], "static": _order(prep.hybrid[i], keep, prep.ids),
                  "bm25": _order(s.lexical[i], keep, prep.ids)}
        out.claims[q.key] = {"relevant": len(relevant), **figures(orders["active"], relevant),
                             "static": figures(orders["static"], relevant), "bm25": figures(orders["bm25"], relevant)}
        for name, order in orders.items():
            curves[name].append(curve(order, relevant))
    width = min((len(c) for v in curves.values() for c in v), default=0)
    out.curve = {k: [round(float(x), 4) for x in np.mean([c[:width] for c in v], axis=0)] for k, v in curves.items()}
    return out


def _order(row: np.ndarray, keep: np.ndarray, ids: list[str]) -> list[str]:
    return [ids[j] for j in np.argsort(-row, kind="stable") if keep[j]]


def _curve(order: list[str], relevant: set[str]) -> np.ndarray:
    return np.cumsum([p in relevant for p in order]) / max(len(relevant), 1)


def _simulate(q: Any, feats: Any, base: np.ndarray, ids: list[str], keep: np.ndarray, relevant: set[str],
              n: int) -> list[str]:
    """Screen-label-rerank n times; the screened papers first, then the re-ranked rest."""
    index = {pid: j for j, pid in enumerate(ids)}
    exemplars = [index[e] for e in q.exemplars if e in index]
    screened: list[int] = []
    pos: list[int] = []
    neg: list[int] = []
    order_row = base
    for _ in range(n):
        candidates = [j for j in np.argsort(-order_row, kind="stable") if keep[j] and j not in screened]
        if not candidates:
            break
        top = int(candidates[0])
        screened.append(top)
        (pos if ids[top] in relevant else neg).append(top)
        order_row = score_rows(feats, base, exemplars, pos, neg)
    seen = set(screened)
    rest = [ids[j] for j in np.argsort(-order_row, kind="stable") if keep[j] and j not in seen]
    return [ids[j] for j in screened] + rest
