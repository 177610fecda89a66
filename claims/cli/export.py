"""CLI commands of the core that need no agent: export (the refreshed prompt) and cron."""

from __future__ import annotations

import re
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


def check_schedule(value: str) -> str:
    """A cron schedule of 5 fields (digits, names, `*`, `/`, `,`, `-`); a usage error otherwise."""
    fields = value.split()
    if len(fields) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*/,-]+", f) for f in fields):
        raise typer.BadParameter(f"a cron schedule has 5 fields (minute hour day month weekday), "
                                 f"e.g. '0 6 * * 1'; got {value!r}")
    return " ".join(fields)


def check_output(value: Path | None) -> Path | None:
    """An output file whose folder exists and that is not a folder itself; a usage error otherwise."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(f"{value} is a folder: give a file name, e.g. {value / 'prompt.md'}")
    if not value.parent.is_dir():
        raise typer.BadParameter(f"no folder {value.parent}: create it first or write elsewhere")
    return value


def check_extra(ctx: typer.Context, value: str) -> str:
    """Extra `claims weekly` arguments, re-quoted so the crontab line runs exactly these words.

    They are parsed as `claims weekly` would parse them, so an unknown option or a bad
    value is refused now rather than failing the installed job every week.
    """
    import shlex

    from typer import TyperException

    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise typer.BadParameter("control characters (a newline would start another crontab line) are not allowed")
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{exc} in {value!r}") from None
    if "--help" in words:
        raise typer.BadParameter("--help is not an argument for the weekly job")
    root = ctx.find_root()
    get_command = getattr(root.command, "get_command", None)
    weekly = get_command(root, "weekly") if get_command is not None else None
    if weekly is not None:
        try:
            weekly.make_context("weekly", list(words), parent=root)
        except TyperException as exc:  # typer bundles its own click: its usage errors are these
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            raise typer.BadParameter(f"`claims weekly {shlex.join(words)}`: {message}") from None
    return shlex.join(words)


def cron(
    install: bool = typer.Option(False, "--install", help="Install the entry in the current user's crontab."),
    remove: bool = typer.Option(False, "--remove", help="Remove the entry from the current user's crontab."),
    schedule: str = typer.Option("0 6 * * 1", callback=check_schedule,
                                 help="Cron schedule: 5 fields, minute hour day month weekday (default: Mondays 06:00)."),
    extra: str = typer.Option("", callback=check_extra, help="Extra arguments for `claims weekly`, e.g. \"--no-llm\"."),
) -> None:
    """Print (or install, or remove) the crontab entry that runs `claims weekly` every week.

    The line carries no secrets: it sources $CLAIMS_HOME/claims.env (mode 0600), written
    here with every CLAIMS_* setting of this shell (database URL, LLM endpoint and key).

    Example: claims cron --install
    """
    from claims import cron as crontab

    if install and remove:
        raise BadInput("give --install or --remove, not both")
    if remove:
        removed = crontab.remove(load_settings().resolved_home / crontab.ENV_FILE)
        print("removed the claims entry" if removed else "there was no claims entry to remove")
        return
    settings = load_settings()
    line, env_file = crontab.prepare(settings.resolved_home, settings.resolved_database_url, schedule, extra)
    print(f"the job's settings (secrets included) are in {env_file} (mode 0600), which the line sources", file=sys.stderr)
    if install:
        crontab.install(line)
        print(f"installed:\n{line}")
    else:
        print(line)


def export(
    fmt: ExportFormat = typer.Option(ExportFormat.markdown, "--format", help="markdown (for pasting) or json."),
    since: Optional[str] = typer.Option(None, help="Only evidence published on or after this date (YYYY-MM-DD)."),
    max_tokens: Optional[int] = typer.Option(None, min=1, help="Trim the least important evidence to fit about N "
                                             "tokens (at least 1; default: no limit)."),
    inquiry: Optional[str] = typer.Option(None, help="Inquiry slug (default: the first imported)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", callback=check_output,
                                          help="Write to this file instead of stdout."),
    include_machine: bool = typer.Option(False, "--include-machine",
                                         help="Also give the LLM judge's stance of unreviewed candidates, "
                                              "marked as a machine suggestion (default: reviewed stances only)."),
) -> None:
    """The refreshed research prompt, rebuilt from the database.

    Stances appear only where a reviewer confirmed or set them; unreviewed candidates
    carry their id, date and a sanitised title; flagged papers are left out and counted.
    Example: claims export --max-tokens 1500 > prompt.md
    """
    import json

    from claims.export import build_export, record_export, render_markdown

    since_date = parse_date_option(since)
    with open_db().write() as s:
        data = build_export(s, inquiry, since_date, max_tokens, include_machine)
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n" if fmt is ExportFormat.json else render_markdown(data)
        if output:  # written before the export is recorded: a failed write records nothing
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise BadInput(f"cannot write {output}: {exc.strerror or exc}") from None
        record_export(s, data)
    if output:
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if data["trimmed"]:
        print(f"trimmed {len(data['trimmed'])} evidence item(s) to fit {max_tokens} tokens", file=sys.stderr)

