"""HTML cards for rows the pages show in several places (evidence); all paper and LLM text goes through `plain`."""

from __future__ import annotations

from claims.dates import format_published
from claims.vocabulary import REVIEWABLE_STANCES
from ui import badges
from ui.plaintext import arxiv_link, plain


def evidence_block(e: dict) -> str:
    p = e["paper"]
    conf = f" · confidence {e['confidence']:.2f}" if e.get("confidence") is not None else ""
    shown = format_published(p.get("published"), p.get("published_precision"))
    date = f" · {plain(shown)}" if shown else ""
    lines = [
        f"{badges.badge(e['stance'], badges.STANCE_COLOURS)} "
        f"{arxiv_link(p['arxiv_id'], p.get('title') or p['arxiv_id'])}"
        f" <span style='color:#666'>arXiv:{plain(p['arxiv_id'])}{date} · relevance {e['relevance']:.2f}{conf}</span>"
    ]
    if e.get("quote"):
        lines.append(f"<blockquote style='margin:0.3em 0 0.3em 0.5em'>“{plain(e['quote'])}”</blockquote>")
    if e.get("rationale"):
        lines.append(f"<div>{plain(e['rationale'])}</div>")
    if e.get("conditions"):
        lines.append(f"<div style='color:#555'><i>Conditions:</i> {plain(e['conditions'])}</div>")
    lines.append(f"<div style='color:#555;font-size:0.9em'>{provenance(e)}</div>")
    if e.get("cites"):
        lines.append(f"<div style='color:#555;font-size:0.9em'>Found through citations: {plain('; '.join(e['cites']))}</div>")
    if e.get("abstract_changes"):
        lines.append(abstract_change_html(e["abstract_changes"][-1]))
    if e.get("relevance_label") or e.get("ranker"):
        from ui.relevance import label_line  # here: it loads streamlit and the store; cards are plain HTML

        lines.append(f"<div style='color:#555;font-size:0.9em'>{label_line(e)}</div>")
    if e.get("stance") == "flagged":
        reasons = (e.get("judge_error") or "").removeprefix("screened: ")
        lines.append("<div style='color:#7a3b00;background:#fff4e0;padding:0.2em 0.5em'>&#9888; Flagged: this paper's "
                     "text looks aimed at a model or a reviewer, so it was not sent to the judge and never counts "
                     f"toward a proposal. Read it on arXiv before setting a stance. Reasons: {plain(reasons)}</div>")
    elif e.get("judge_error"):
        lines.append(f"<div style='color:#7a0000'>Judge failed: {plain(e['judge_error'])}</div>")
    return "".join(lines)


def abstract_change_html(change: dict) -> str:
    """A new version's abstract beside the old one, with the stance judged on the old."""
    kept = f"; the stance a reviewer set ({plain(change['kept_by_reviewer'])}) was kept" if change.get("kept_by_reviewer") else ""
    cell = "style='vertical-align:top;padding:0.3em;border:1px solid #ddd;width:50%'"
    return (f"<div style='color:#7a3b00;margin-top:0.3em'>Abstract changed in v{plain(change.get('new_version'))} "
            f"(judged {plain(change.get('old_stance'))} on v{plain(change.get('old_version'))}{kept}):</div>"
            f"<table style='width:100%;font-size:0.9em'><tr><th>v{plain(change.get('old_version'))} (old)</th>"
            f"<th>v{plain(change.get('new_version'))} (new)</th></tr><tr><td {cell}>{plain(change.get('old_abstract'))}</td>"
            f"<td {cell}>{plain(change.get('new_abstract'))}</td></tr></table>")


def provenance(e: dict) -> str:
    """Who decided the stance: a reviewer, or the machine (a suggestion until confirmed)."""
    if e.get("stance_reviewed_by"):
        return f"Stance reviewed by {plain(e['stance_reviewed_by'])}"
    if e.get("stance") in REVIEWABLE_STANCES:
        by = ", ".join(plain(x) for x in (e.get("judged_by"), e.get("prompt_version")) if x) or "LLM judge"
        return f"Machine suggestion ({by}): not confirmed by a reviewer"
    return "Not judged"
