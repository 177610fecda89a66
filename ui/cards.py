"""HTML cards for rows the pages show in several places (evidence); all paper and LLM text goes through `plain`."""

from __future__ import annotations

from ui import badges
from ui.plaintext import arxiv_link, plain


def evidence_block(e: dict) -> str:
    p = e["paper"]
    conf = f" · confidence {e['confidence']:.2f}" if e.get("confidence") is not None else ""
    date = f" · {p['published']}" if p.get("published") else ""
    lines = [
        f"{badges.badge(e['stance'], badges.STANCE_COLOURS)} "
        f"{arxiv_link(p['arxiv_id'], p.get('title') or p['arxiv_id'])}"
        f" <span style='color:#666'>arXiv:{plain(p['arxiv_id'])}{plain(date)} · relevance {e['relevance']:.2f}{conf}</span>"
    ]
    if e.get("quote"):
        lines.append(f"<blockquote style='margin:0.3em 0 0.3em 0.5em'>“{plain(e['quote'])}”</blockquote>")
    if e.get("rationale"):
        lines.append(f"<div>{plain(e['rationale'])}</div>")
    if e.get("conditions"):
        lines.append(f"<div style='color:#555'><i>Conditions:</i> {plain(e['conditions'])}</div>")
    if e.get("judge_error"):
        lines.append(f"<div style='color:#7a0000'>Judge failed: {plain(e['judge_error'])}</div>")
    return "".join(lines)
