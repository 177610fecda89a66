"""The weekly report as Markdown, from its JSON form (pure)."""

from __future__ import annotations

from typing import Any


def _fmt_effect(r: dict[str, Any]) -> str:
    if r.get("effect_size") is None:
        return ""
    ci = f" [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]" if r.get("ci_low") is not None else ""
    return f", effect {r['effect_size']:+.3f}{ci}"


def render_report(report: dict[str, Any]) -> str:
    """Markdown for people; the JSON beside it is for scripts."""
    out = [f"# Weekly run {report['run_id']} \u2014 {report['started_at'][:16].replace('T', ' ')} UTC", ""]
    status = {0: "all done", 1: "done, with failures (recorded below)", 3: "could not start"}.get(report["exit_code"], "?")
    out += [f"- Result: **{status}** (exit code {report['exit_code']}) in {report['duration_s']:.0f} s",
            f"- Mode: {report['mode']} ({report['mode_reason']})",
            f"- Papers from: {report['source']}" + (f" \u2014 **unreachable**: {report['source_error']}" if report["source_error"] else ""),
            f"- Requests: {report['api_requests']['arxiv']} to arXiv, {report['api_requests']['llm']} judgements by the LLM"]
    if report.get("imported"):
        out.append(f"- First run: {report['imported']}")
    out += ["", f"## Claims checked ({len(report['claims_checked'])})", ""]
    any_new = False
    for key in report["claims_checked"]:
        items = report["new_evidence"].get(key, [])
        any_new |= bool(items)
        out.append(f"### {key}: {len(items)} new candidate(s)")
        for e in items:
            conf = f" {e['confidence']:.2f}" if e.get("confidence") is not None else ""
            out.append(f"- arXiv:{e['id']} ({e['published'] or 'undated'}) **{e['stance']}**{conf} \u2014 {e['title']} (relevance {e['relevance']:.3f})")
    if not any_new:
        out += ["", "_No new evidence since the last run._"]
    out += ["", "## Anchor problems", ""]
    out += [f"- arXiv:{a['id']}: {a['status']} \u2014 " + "; ".join(a["differences"] or ["no details"]) for a in report["anchor_problems"]] or ["- none"]
    out += ["", "## Retests", ""]
    for r in report["retests"]:
        out.append(f"- {r['claim']} `{r['protocol']}` ({r['preset']}): {r['status']}, verdict **{r['verdict'] or '-'}**{_fmt_effect(r)}"
                   f" in {r['duration_s']:.0f} s" + (f" \u2014 {r['summary']}" if r.get("summary") else ""))
    out += [f"- skipped: {s}" for s in report["retests_skipped"]]
    if not report["retests"] and not report["retests_skipped"]:
        out.append("- none due")
    out += ["", f"## Proposals waiting for review ({len(report['proposals_pending'])}, {len(report['proposals_new'])} new)", ""]
    for p in report["proposals_pending"]:
        new = " (new)" if p["id"] in report["proposals_new"] else ""
        out.append(f"- #{p['id']} {p['claim'] or '-'} {p['kind']} \u2192 {p['proposed']}{new}")
    if not report["proposals_pending"]:
        out.append("- none")
    out += ["", "Review them with `claims ui` (or `claims review list`).", "", "## Failures", ""]
    out += [f"- {f}" for f in report["failures"]] or ["- none"]
    out += ["", "## Timings (s)", ""] + [f"- {k}: {v:.1f}" for k, v in report["timings"].items()]
    return "\n".join(out) + "\n"
