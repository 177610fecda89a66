"""CLI commands: `claims agent run` (the review agent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from claims.cli.context import Format, Progress, emit_json, load_settings, open_db, parse_date_option, resolve_corpus, safe_text

if TYPE_CHECKING:
    from agent.run import AgentSummary

agent_app = typer.Typer(help="The review agent: search, judge, verify anchors, plan retests, propose.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(agent_app, name="agent")
    agent_app.command("run")(run)


def run(
    claim: Optional[list[str]] = typer.Option(None, "--claim", help="Check only this claim (repeatable)."),
    corpus: Optional[str] = typer.Option(None, "--corpus", help="Rank the papers of this JSON Lines file (or `demo`, the shipped demo corpus) "
                                          "instead of asking arXiv."),
    since: Optional[str] = typer.Option(None, "--since", help="Search papers from this date (YYYY-MM-DD) on."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Rank only: do not call the judge endpoint."),
    retest: Optional[list[str]] = typer.Option(None, "--retest", help="Request a retest of this claim "
                                               "(repeatable; still within CLAIMS_RETEST_BUDGET)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, or json: the run summary (see docs/agent.md)."),
) -> None:
    """Revisit the claims and turn what is found into proposals for reviewers.

    Searches newer papers, judges every candidate's stance with the LLM endpoint
    within CLAIMS_JUDGE_BUDGET judgements a run (what is left is said, and judged
    next run) (CLAIMS_LLM_BASE_URL; without one it ranks only and says so), verifies anchor
    papers, plans retests and writes pending proposals. It never changes a claim.
    A run that was killed is resumed by the next run with the same options.

    Exit codes: 0 done; 1 done, some claims failed; 2 bad input; 3 could not start;
    5 the paper source was unreachable (the rest was done).

    Example: claims agent run --corpus claims/data/demo-corpus.jsonl --no-llm
    """
    from agent.corpus import check_corpus
    from agent.run import run_agent

    corpus = check_corpus(resolve_corpus(corpus))
    since_date = parse_date_option(since)
    settings = load_settings()
    store = open_db(settings)
    summary = run_agent(store, settings, claim_keys=claim or None, corpus=corpus, since=since_date,
                        use_llm=not no_llm, request_retests=retest or None, progress=Progress())
    if fmt is Format.json:
        emit_json(summary.to_json())
    else:
        print_summary(summary)
    if summary.failures:
        raise typer.Exit(1)
    if summary.source_error:
        raise typer.Exit(5)


def print_summary(summary: AgentSummary) -> None:
    """The human summary of a run; a run without the judge says so first."""
    from claims.reports import judge_status

    lines = [judge_status(summary.mode, summary.mode_reason, summary.model)] if summary.mode != "judge" else []
    lines += [
        f"agent run {summary.agent_run_id}{' (resumed)' if summary.resumed else ''}: "
        f"mode {summary.mode} ({summary.mode_reason})",
        f"claims checked:    {summary.claims_checked} ({', '.join(summary.claims) or 'none'})",
        f"papers seen:       {summary.papers_seen} ({summary.requests} requests)",
        f"papers judged:     {summary.papers_judged} ({summary.judge_failures} failed)",
        *([f"judging cost:      {summary.judge_requests} requests, {summary.prompt_tokens} prompt + "
           f"{summary.completion_tokens} completion tokens, {summary.judge_seconds:.1f}s (budget {summary.judge_budget})"]
          if summary.mode == "judge" else []),
        *([f"left unjudged:     {sum(summary.left_unjudged.values())} over the budget, judged next run ("
           + ", ".join(f"{k} {n}" for k, n in summary.left_unjudged.items()) + ")"] if summary.left_unjudged else []),
        f"anchors checked:   {summary.anchors.get('checked', 0)} "
        + " ".join(f"{k}={v}" for k, v in sorted((summary.anchors.get('statuses') or {}).items())),
        f"proposals written: {len(summary.proposals_written)}"
        + (f" (ids {', '.join(map(str, summary.proposals_written))}; see `claims review list`)"
           if summary.proposals_written else ""),
        f"retests queued:    {len(summary.retests_planned)}"
        + "".join(f"\n  {p['claim']} {p['protocol']}: {p['reason']}" for p in summary.retests_planned),
    ]
    if summary.source_error:
        lines.append(f"paper source unavailable: {summary.source_error}")
    if summary.anchors.get("error"):
        lines.append(f"anchors not verified: {summary.anchors['error']}")
    lines += [f"failure: {f}" for f in summary.failures]
    lines.append(f"took {summary.timings.get('total', 0):.1f}s")
    print(safe_text("\n".join(lines), multiline=True))
