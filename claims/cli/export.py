"""CLI commands of the core that need no agent: export (the refreshed prompt) and cron."""

from __future__ import annotations

import shutil
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from claims.cli.context import load_settings, open_db, parse_date_option
from claims.errors import BadInput


class ExportFormat(str, Enum):
    markdown = "markdown"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("cron")(cron)
    app.command("export")(export)


def cron(
    install: bool = typer.Option(False, "--install", help="Install the entry in the current user's crontab."),
    remove: bool = typer.Option(False, "--remove", help="Remove the entry from the current user's crontab."),
    schedule: str = typer.Option("0 6 * * 1", help="Cron schedule (default: Mondays 06:00)."),
    extra: str = typer.Option("", help="Extra arguments for `claims weekly`, e.g. \"--no-llm\"."),
) -> None:
    """Print (or install, or remove) the crontab entry that runs `claims weekly` every week.

    Example: claims cron --install
    """
    from claims import cron as crontab

    if install and remove:
        raise BadInput("give --install or --remove, not both")
    if remove:
        print("removed the claims entry" if crontab.remove() else "there was no claims entry to remove")
        return
    settings = load_settings()
    exe = shutil.which("claims") or f"{sys.executable} -m claims"
    env = {"CLAIMS_HOME": str(settings.resolved_home), "CLAIMS_DATABASE_URL": settings.resolved_database_url}
    if settings.llm_base_url:
        env["CLAIMS_LLM_BASE_URL"] = settings.llm_base_url
    log = str(settings.resolved_home / "logs" / "weekly.log")
    (settings.resolved_home / "logs").mkdir(parents=True, exist_ok=True)
    line = crontab.cron_line(schedule, f"{exe} weekly {extra}".strip(), env, log)
    if install:
        crontab.install(line)
        print(f"installed:\n{line}")
    else:
        print(line)


def export(
    fmt: ExportFormat = typer.Option(ExportFormat.markdown, "--format", help="markdown (for pasting) or json."),
    since: Optional[str] = typer.Option(None, help="Only evidence published on or after this date (YYYY-MM-DD)."),
    max_tokens: Optional[int] = typer.Option(None, help="Trim the least important evidence to fit about N tokens."),
    inquiry: Optional[str] = typer.Option(None, help="Inquiry slug (default: the first imported)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
) -> None:
    """The refreshed research prompt, rebuilt from the database.

    Example: claims export --max-tokens 1500 > prompt.md
    """
    import json

    from claims.export import build_export, record_export, render_markdown

    with open_db().write() as s:
        data = build_export(s, inquiry, parse_date_option(since), max_tokens)
        record_export(s, data)
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n" if fmt is ExportFormat.json else render_markdown(data)
    if output:
        output.write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if data["trimmed"]:
        print(f"trimmed {len(data['trimmed'])} evidence item(s) to fit {max_tokens} tokens", file=sys.stderr)
