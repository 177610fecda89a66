"""HTML cards for rows the pages show in several places (evidence)."""

from __future__ import annotations

import html

from ui import badges

ARXIV = "https://arxiv.org/abs/{}"  # a link only: the app never fetches it


def evidence_block(e: dict) -> str:
    p = e["paper"]
    conf = f" · confidence {e['confidence']:.2f}" if e.get("confidence") is not None else ""
    date = f" · {p['published']}" if p.get("published") else ""
    lines = [
        f"{badges.badge(e['stance'], badges.STANCE_COLOURS)} "
        f"<a href='{ARXIV.format(html.escape(p['arxiv_id']))}' target='_blank'>{html.escape(p.get('title') or p['arxiv_id'])}</a>"
        f" <span style='color:#666'>arXiv:{html.escape(p['arxiv_id'])}{date} · relevance {e['relevance']:.2f}{conf}</span>"
    ]
    if e.get("quote"):
        lines.append(f"<blockquote style='margin:0.3em 0 0.3em 0.5em'>“{html.escape(e['quote'])}”</blockquote>")
    if e.get("rationale"):
        lines.append(f"<div>{html.escape(e['rationale'])}</div>")
    if e.get("conditions"):
        lines.append(f"<div style='color:#555'><i>Conditions:</i> {html.escape(e['conditions'])}</div>")
    if e.get("judge_error"):
        lines.append(f"<div style='color:#7a0000'>Judge failed: {html.escape(e['judge_error'])}</div>")
    return "".join(lines)
