"""CLI command of the main job: `claims weekly`."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from agent.cli.retest import Preset
from claims.cli.context import (Progress, emit_json, finite, load_settings, open_db, parse_date_option, resolve_corpus,
                                safe_text)


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("weekly")(weekly)


def weekly(
    corpus: Optional[str] = typer.Option(None, help="Offline paper source: a JSONL file, or `demo` for the shipped demo corpus. Default: arXiv."),
    since: Optional[str] = typer.Option(None, help="Search from this date (YYYY-MM-DD) instead of the last sweep."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Rank only; do not call the LLM judge."),
    max_retests: int = typer.Option(3, min=0, help="At most this many retests this run (the rest stay queued)."),
    retest_minutes: float = typer.Option(30.0, min=0, callback=finite, help="Start no retest after this many minutes of retesting."),
    retest_preset: Preset = typer.Option("standard", help="Retest preset: smoke, standard or gpu."),
    factorial_every: int = typer.Option(0, "--factorial-every", min=0, max=520,
                                        help="Run the weekly-preset prior x optimizer grid every N weeks, within "
                                             "--retest-minutes (0: never)."),
    no_export: bool = typer.Option(False, "--no-export", help="Do not write the refreshed prompt beside the report."),
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", help="text, or json to print the report's JSON on stdout."),
) -> None:
    """One run of the whole loop, safe from cron (one run at a time).

    Without a judge endpoint (or with --no-llm) the report says "rank only (no LLM
    judge: <reason>)" at the top. Ctrl-C stops the run: the retest under way is
    recorded as interrupted and the queued ones stay queued.

    Exit codes: 0 all done; 1 done with recorded failures; 3 could not start (config,
    lock, database); 130 interrupted (Ctrl-C; the report says what was done).

    Example: claims weekly --corpus demo --retest-preset smoke
    """
    from agent.weekly import WeeklyOptions, run_weekly
    from claims.lock import run_lock
    from claims.reports import render_report

    settings = load_settings()
    say = Progress()
    from agent.corpus import check_corpus

    options = WeeklyOptions(corpus=check_corpus(resolve_corpus(corpus)), since=parse_date_option(since), use_llm=not no_llm, max_retests=max_retests,
                            retest_minutes=retest_minutes, retest_preset=retest_preset.value, export=not no_export,
                            factorial_every=factorial_every)
    with run_lock(settings.resolved_home / "weekly.lock", say):
        store = open_db(settings)
        say(f"weekly run: database {store.where}")
        result = run_weekly(store, settings, options, say)
    if fmt == "json":
        emit_json(result.report.model_dump(mode="json"))
    else:
        print(safe_text(render_report(result.report), multiline=True))
        for name, path in result.paths.items():
            print(f"{name}: {path}")
        print("Review the proposals: claims ui   (or: claims review list)")
    raise typer.Exit(result.exit_code)
