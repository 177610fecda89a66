"""Relevance buttons on evidence cards, and the figures of the last `claims eval search`.

A reviewer's "Relevant" / "Not relevant" click is stored through claims.relevance
(audited, checked like any decision); the claim's feedback model learns from it on the
next search (docs/search.md).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

from claims.errors import ClaimsError
from claims.relevance import mark_relevance
from ui import data
from ui.decisions import flash
from ui.identity import TOKEN_KEY
from ui.plaintext import plain

LAST_EVAL = "eval/last-search.json"  # written by `claims eval search` under the home folder
SHOWN = ("recall@10", "recall@20", "recall@50", "precision@10", "ap@50", "r-precision", "wss@95")


def mark(url: str, evidence: dict[str, Any], reviewer: str, label: str) -> None:
    """Callback of the Relevant / Not relevant buttons."""
    eid = evidence["id"]
    try:
        with data.get_store(url).write() as s:
            mark_relevance(s, eid, label, reviewer, st.session_state.get("allow_list") or None,
                           st.session_state.get(TOKEN_KEY))
    except ClaimsError as exc:
        flash("error", f"Evidence #{eid}: {exc}")
        return
    data.bump_version()
    flash("success", f"Evidence #{eid}: marked {label} by {reviewer}; the next search re-ranks this claim.")


def buttons(url: str, e: dict[str, Any], reviewer: str) -> None:
    """The two relevance buttons of one evidence card (the current label is disabled)."""
    c1, c2, _ = st.columns([1, 1.2, 4.2])
    c1.button("Relevant", key=f"ev{e['id']}_relevant", disabled=e.get("relevance_label") == "relevant",
              on_click=partial(mark, url, e, reviewer, "relevant"))
    c2.button("Not relevant", key=f"ev{e['id']}_irrelevant", disabled=e.get("relevance_label") == "irrelevant",
              on_click=partial(mark, url, e, reviewer, "irrelevant"))


def label_line(e: dict[str, Any]) -> str:
    """HTML: the reviewer's relevance label and the ranker that placed the row."""
    parts = []
    if e.get("relevance_label"):
        parts.append(f"Marked {plain(e['relevance_label'])} by {plain(e.get('labelled_by') or '?')}")
    if e.get("ranker"):
        parts.append(f"ranked by {plain(e['ranker'])}")
    return " · ".join(parts)


def last_eval(home: Path) -> dict[str, Any] | None:
    """The last `claims eval search` report, if any (an unreadable file counts as none)."""
    try:
        return json.loads((home / LAST_EVAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def render_last_eval(home: Path, claim_key: str) -> None:
    """The last evaluation's recall figures: this claim, the mean, BM25 and after feedback."""
    report = last_eval(home)
    with st.expander("Search quality (last `claims eval search`)"):
        if not report:
            st.caption("No evaluation yet: run `claims eval search --corpus PAPERS --labels LABELS`.")
            return
        rows = []
        if claim_key in report.get("claims", {}):
            rows.append({"": claim_key, **{m: report["claims"][claim_key].get(m) for m in SHOWN}})
        rows.append({"": "mean", **{m: report["mean"].get(m) for m in SHOWN}})
        rows.append({"": "BM25", **{m: report["bm25"].get(m) for m in SHOWN}})
        if report.get("feedback"):
            rows.append({"": f"after {report.get('simulate')} labels", **{m: report["feedback"].get(m) for m in SHOWN}})
        st.table(rows)
        active = report.get("active")
        if active:
            mine = active.get("claims", {}).get(claim_key)
            parts = [f"{name}: {figs.get('screened_for_95')} papers screened for 95% recall, "
                     f"WSS@95 {figs.get('wss@95')}"
                     for name, figs in (("this claim", mine), ("mean", active.get("mean")),
                                        ("static ranking", active.get("static")), ("BM25", active.get("bm25")))
                     if figs]
            st.caption(plain("Active screening (re-trained as labels come in): " + "; ".join(parts)))
        st.caption(plain(f"{report.get('papers')} papers, {report.get('labels')} labels: "
                         f"{report.get('corpus', '')}"))
