"""Export benchmark: how much of what the refreshed prompt lists bears on its claim (rank-only mode, dev set).

    HF_HUB_OFFLINE=1 python benchmarks/export_bench.py [--dev DIR] [--json]

What it does: imports the bundled document into a fresh SQLite database, runs the agent
the way a new user meets it (`claims agent run --no-llm --corpus DEV/papers.jsonl`:
rank only, no judge), builds the export (`claims export`) and scores what it lists
against the dev labels (a paper with no label for a claim does not bear on it):

- **export, claim level**: precision of the unreviewed papers listed under the claims
  (listed under a claim it is labelled for), and the share of the labelled newer papers
  it lists (newer than the claim, anchors aside), per claim and overall; beside the old
  behaviour (the 5 most relevant newer rows per claim by cosine, no cut), computed on
  the same rows;
- **export, inquiry level**: papers listed once under the inquiry, and how many of them
  bear on some claim;
- **the cut on every row** (as if every paper were newer than its claim, since the dev
  set has few newer labelled papers): precision and recall of the labelled pairs, and
  leave-one-claim-out cross-validation of the cut's two parameters (chosen on four
  claims for precision >= 0.8, tested on the fifth).

Prints figures; nothing here is a pass/fail test (tests/claims/test_export_dev.py is).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CLAIMS_S2_CITATIONS", "false")
DEV = REPO.parent / "shared" / "eval" / "dev"
OLD_PER_CLAIM = 5
CV_TARGET = 0.8
CV_GRID = list(itertools.product(range(1, 11), (-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0)))


def read_labels(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            out[row["claim"]].add(row["paper"])
    return dict(out)


def run(dev: Path, target: float = CV_TARGET) -> dict[str, Any]:
    """Import, rank-only agent run over the dev corpus, export; the figures as plain data."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from agent.run import run_agent
    from claims.window import is_newer_than_claim
    from claims.export import build_export
    from claims.importer import import_bundled
    from claims.listing import RankedRow, inquiry_papers, standings
    from claims.models import Anchor, Claim, Evidence
    from claims.settings import Settings
    from claims.store import open_store

    labels = read_labels(dev / "labels.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'claims.db'}")
        store = open_store(settings.resolved_database_url)
        import_bundled(store)
        t0 = time.monotonic()
        run_agent(store, settings, corpus=dev / "papers.jsonl", use_llm=False)
        t_run = time.monotonic() - t0
        t0 = time.monotonic()
        with store.read() as s:
            data = build_export(s)
            t_export = time.monotonic() - t0
            claims = {c.key: c for c in s.scalars(select(Claim).order_by(Claim.position))}
            anchors = set(s.scalars(select(Anchor.arxiv_id)))
            rows = list(s.scalars(select(Evidence).options(selectinload(Evidence.paper))))
            key_of = {c.id: k for k, c in claims.items()}
            newer = {(key_of[e.claim_id], e.paper_id): is_newer_than_claim(e.paper.published, claims[key_of[e.claim_id]].as_of_end)
                     for e in rows}
            ends = {k: c.as_of_end for k, c in claims.items()}
            published = {e.paper_id: e.paper.published for e in rows}
        store.dispose()

    table = standings(RankedRow(key_of[e.claim_id], e.paper_id, e.relevance, e.rank) for e in rows
                      if e.paper_id not in anchors)  # as the export reads them
    keys = list(claims)
    labelled_newer = {k: {p for p in labels.get(k, set()) - anchors
                          if p in published and is_newer_than_claim(published[p], ends[k])} for k in keys}

    # the export as built (claim level: unreviewed items; rank-only has no reviewed ones)
    export_claims: dict[str, dict[str, Any]] = {}
    for c in data["claims"]:
        listed = [e["id"] for e in c["evidence"] if e["review"] == "unreviewed"]
        export_claims[c["key"]] = score_claim(listed, labels.get(c["key"], set()), labelled_newer[c["key"]])
    inquiry = [{"id": e["id"], "near": e["near_claims"],
                "bears_on": sorted(k for k in keys if e["id"] in labels.get(k, set()))} for e in data["inquiry_evidence"]]

    # the old behaviour on the same rows: the 5 most relevant newer rows per claim, no cut
    old_claims = {}
    for k in keys:
        mine = sorted((e for e in rows if key_of[e.claim_id] == k and newer[(k, e.paper_id)] and e.paper_id not in anchors),
                      key=lambda e: (-e.relevance, e.paper_id))[:OLD_PER_CLAIM]
        old_claims[k] = score_claim([e.paper_id for e in mine], labels.get(k, set()), labelled_newer[k])

    # the cut on every row (dates aside), and its cross-validation across claims
    relevant = {k: labels.get(k, set()) - anchors for k in keys}
    pairs = {(k, p): s for (k, p), s in table.items() if p not in anchors}
    every = {k: score_claim([p for (kk, p), s in pairs.items() if kk == k and s.confident], relevant[k], relevant[k])
             for k in keys}
    return {"papers": sum(1 for _ in (dev / "papers.jsonl").open()), "labels": sum(len(v) for v in labels.values()),
            "seconds": {"agent_run": round(t_run, 1), "export": round(t_export, 2)},
            "export": {"claims": export_claims, "overall": overall(export_claims), "inquiry": inquiry,
                       "inquiry_bearing": sum(bool(i["bears_on"]) for i in inquiry)},
            "old": {"claims": old_claims, "overall": overall(old_claims)},
            "every_row": {"claims": every, "overall": overall(every),
                          "inquiry": [{"id": p, "near": near, "bears_on": sorted(k for k in keys if p in relevant[k])}
                                      for p, near in inquiry_papers(pairs).items()]},
            "cross_validation": cross_validate(pairs, relevant, keys, target)}


def score_claim(listed: list[str], relevant: set[str], wanted: set[str]) -> dict[str, Any]:
    hits = [p for p in listed if p in relevant]
    return {"listed": len(listed), "relevant_listed": len(hits), "wanted": len(wanted),
            "found": len(set(hits) & wanted), "ids": listed,
            "precision": round(len(hits) / len(listed), 3) if listed else None,
            "recall": round(len(set(hits) & wanted) / len(wanted), 3) if wanted else None}


def overall(per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    listed = sum(c["listed"] for c in per.values())
    hits = sum(c["relevant_listed"] for c in per.values())
    wanted = sum(c["wanted"] for c in per.values())
    found = sum(c["found"] for c in per.values())
    return {"listed": listed, "relevant_listed": hits, "wanted": wanted, "found": found,
            "precision": round(hits / listed, 3) if listed else None,
            "recall": round(found / wanted, 3) if wanted else None}


def cross_validate(pairs: dict[tuple[str, str], Any], relevant: dict[str, set[str]], keys: list[str],
                   target: float) -> dict[str, Any]:
    """Leave one claim out: choose (rank cut, specificity) on four claims for precision >= target, test on the fifth.

    The z floor (claims.listing.MIN_Z) is kept as it is: a guard, not fitted.
    """
    from claims.listing import MIN_Z

    def passes(s: Any, k: int, m: float) -> bool:
        return s.rank <= k and s.z is not None and s.z >= MIN_Z and (s.margin is None or s.margin >= m)

    def counts(params: tuple[int, float], claims: list[str]) -> tuple[int, int]:
        sel = [(c, p) for (c, p), s in pairs.items() if c in claims and passes(s, *params)]
        tp = sum(p in relevant[c] for c, p in sel)
        return tp, len(sel) - tp

    folds, tp_all, fp_all = {}, 0, 0
    for held in keys:
        train = [k for k in keys if k != held]
        best = None
        for params in CV_GRID:
            tp, fp = counts(params, train)
            if tp + fp and tp / (tp + fp) >= target and (best is None or (tp, -fp) > (best[0], -best[1])):
                best = (tp, fp, params)
        if best is None:
            folds[held] = None
            continue
        tp, fp = counts(best[2], [held])
        tp_all, fp_all = tp_all + tp, fp_all + fp
        folds[held] = {"rank_cut": best[2][0], "specificity": best[2][1], "listed": tp + fp, "relevant_listed": tp}
    total = sum(len(relevant[k]) for k in keys)
    return {"target": target, "folds": folds, "precision": round(tp_all / (tp_all + fp_all), 3) if tp_all + fp_all else None,
            "recall": round(tp_all / total, 3) if total else None, "listed": tp_all + fp_all}


def show(r: dict[str, Any]) -> None:
    def fig(x: Any) -> str:
        return "-" if x is None else f"{x:.2f}"

    print(f"== the export in rank-only mode on the dev set ({r['papers']} papers, {r['labels']} labels; "
          f"agent run {r['seconds']['agent_run']} s, export {r['seconds']['export']} s) ==")
    print(f"{'claim':6s} {'listed':>7s} {'relevant':>9s} {'precision':>10s} {'labelled newer':>15s} {'listed of them':>15s}"
          f" {'recall':>7s} | old: {'listed':>6s} {'relevant':>9s} {'precision':>10s} {'recall':>7s}")
    for k, c in r["export"]["claims"].items():
        o = r["old"]["claims"][k]
        print(f"{k:6s} {c['listed']:7d} {c['relevant_listed']:9d} {fig(c['precision']):>10s} {c['wanted']:15d} "
              f"{c['found']:15d} {fig(c['recall']):>7s} |      {o['listed']:6d} {o['relevant_listed']:9d} "
              f"{fig(o['precision']):>10s} {fig(o['recall']):>7s}")
    c, o = r["export"]["overall"], r["old"]["overall"]
    print(f"{'all':6s} {c['listed']:7d} {c['relevant_listed']:9d} {fig(c['precision']):>10s} {c['wanted']:15d} "
          f"{c['found']:15d} {fig(c['recall']):>7s} |      {o['listed']:6d} {o['relevant_listed']:9d} "
          f"{fig(o['precision']):>10s} {fig(o['recall']):>7s}")
    inq = r["export"]["inquiry"]
    print(f"\nunder the inquiry: {len(inq)} paper(s), {r['export']['inquiry_bearing']} bearing on some claim"
          + "".join(f"\n  arXiv:{i['id']} near {', '.join(i['near'])}; labelled for {', '.join(i['bears_on']) or 'none'}"
                    for i in inq))
    e = r["every_row"]
    print("\n== the cut on every row (dates aside; anchors left out) ==")
    for k, c in e["claims"].items():
        print(f"{k:6s} listed {c['listed']:3d}  relevant {c['relevant_listed']:3d}  precision {fig(c['precision'])}  "
              f"recall {fig(c['recall'])} of {c['wanted']}")
    print(f"{'all':6s} listed {e['overall']['listed']:3d}  relevant {e['overall']['relevant_listed']:3d}  "
          f"precision {fig(e['overall']['precision'])}  recall {fig(e['overall']['recall'])} of {e['overall']['wanted']}")
    inq = e["inquiry"]
    print(f"under the inquiry (dates aside): {len(inq)} paper(s), {sum(bool(i['bears_on']) for i in inq)} bearing on some claim"
          + "".join(f"\n  arXiv:{i['id']} near {', '.join(i['near'])}; labelled for {', '.join(i['bears_on']) or 'none'}"
                    for i in inq))
    cv = r["cross_validation"]
    print(f"\nleave-one-claim-out (cut chosen on 4 claims for precision >= {cv['target']}, tested on the 5th): "
          f"precision {fig(cv['precision'])}, recall {fig(cv['recall'])}, {cv['listed']} listed")
    for k, f in cv["folds"].items():
        print(f"  {k}: " + ("no cut reaches the target" if f is None else
                            f"rank <= {f['rank_cut']}, specificity >= {f['specificity']}: "
                            f"{f['relevant_listed']} of {f['listed']} relevant"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=DEV, help="folder with papers.jsonl and labels.jsonl")
    parser.add_argument("--target", type=float, default=CV_TARGET, help="precision the cross-validation aims at")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (args.dev / "labels.jsonl").exists():
        sys.exit(f"no dev set at {args.dev}")
    result = run(args.dev, args.target)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        show(result)


if __name__ == "__main__":
    main()
