"""What every command shares: settings, the database, output and progress."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from claims.errors import BadInput, ConfigError
from claims.models import CLAIM_STATUSES, PROPOSAL_STATES
from claims.settings import Settings
from claims.store import Store, open_store
from claims.textgate import safe_text  # noqa: F401  (the CLI's name for it; its home is claims.textgate)


class Format(str, Enum):
    table = "table"
    json = "json"


# Choices built from the one list in claims.models, so an option accepts exactly what is stored.
ClaimStatus = Enum("ClaimStatus", {s: s for s in CLAIM_STATUSES}, type=str)  # type: ignore[misc]
ProposalState = Enum("ProposalState", {s: s for s in (*PROPOSAL_STATES, "all")}, type=str)  # type: ignore[misc]

MAX_ID = 2**63 - 1  # the largest row id SQLite and PostgreSQL (bigint) store


# The reviewer's token, for every command that decides or records something as a reviewer.
REVIEWER_TOKEN = typer.Option(None, "--token", envvar="CLAIMS_REVIEWER_TOKEN", show_envvar=True,
                              help="Your reviewer token, when reviewer tokens are in use (`claims reviewers add`).")


def load_settings() -> Settings:
    """The settings from the environment; a bad value is a ConfigError (exit 3) naming the variable."""
    import re

    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from claims.redaction import register_secrets, secrets_of

    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(settings_problem(exc)) from None
    except SettingsError as exc:  # a list setting that is not JSON
        m = re.search(r'field "(\w+)"', str(exc))
        var = f"CLAIMS_{m.group(1).upper()}" if m else "a CLAIMS_* list setting"
        raise ConfigError(f"{var} must be a JSON list, e.g. '[\"alice\", \"bob\"]' ({exc})") from None
    register_secrets(*secrets_of(settings))
    return settings


_SECRET_SETTINGS = {"llm_api_key", "database_url"}  # never echoed: they may carry passwords


def settings_problem(exc: Any) -> str:
    """What is wrong with each invalid setting: the variable, its value, the rule, what it sets, the default."""
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else "?"
        field = Settings.model_fields.get(name)
        got = err.get("input")
        if name in _SECRET_SETTINGS:
            got = "<hidden>"
        elif name.endswith("_url") and isinstance(got, str) and got:
            from claims.redaction import redact_url

            got = redact_url(got)
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        line = f"CLAIMS_{name.upper()}={got} is invalid ({msg[:1].lower()}{msg[1:]})"
        if field is not None:
            if field.description:
                line += f"; it sets: {field.description.rstrip('.')}"
            if field.default is not None:
                line += f"; set a valid value or unset it for the default ({field.default!r})"
        problems.append(line)
    return "; ".join(problems)


def open_db(settings: Settings | None = None, migrate: bool = True) -> Store:
    """Open (and migrate) the database named by the settings."""
    settings = settings or load_settings()
    return open_store(settings.resolved_database_url, migrate=migrate)


def finite(value: float | None) -> float | None:
    """A typer callback: refuse nan and infinity (a `min=` bound lets nan through)."""
    import math

    import typer

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"expects a finite number, got {value}")
    return value


def parse_date_option(value: str | None, option: str = "--since") -> dt.date | None:
    """A YYYY-MM-DD option value; BadInput (exit 2) otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} expects a date such as 2025-06-01, got {value!r}") from None


def resolve_corpus(value: str | Path | None) -> Path | None:
    """`demo` names the shipped demo corpus (real papers, offline); anything else is a JSONL path."""
    if value is None:
        return None
    if str(value) == "demo":
        from importlib import resources

        return Path(str(resources.files("claims") / "data" / "demo-corpus.jsonl"))
    path = Path(value)
    if not path.is_file():
        raise BadInput(f"no corpus file {str(value)!r} (one JSON paper per line; or `--corpus demo`)")
    return path


def console(stderr: bool = False) -> Any:
    """A Rich console that prints strings literally: no markup, no emoji codes, no highlighting.

    Pass untrusted values through `safe_text` first (Rich keeps ESC sequences otherwise).
    """
    from rich.console import Console

    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def cell(value: object) -> Any:
    """A table cell for untrusted text: a Rich `Text` (never parsed as markup), controls escaped."""
    from rich.text import Text

    return Text(safe_text(value, multiline=True))


def emit_json(obj: Any) -> None:
    """Print `obj` as JSON (dates as ISO strings), the stable format scripts read; no secret value."""
    from claims.redaction import hide_secrets

    print(hide_secrets(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default)))


def _json_default(o: Any) -> Any:
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class Progress:
    """Progress on a terminal (rich), plain timestamped log lines otherwise (cron).

    Always writes to stderr so that `--format json` output on stdout stays clean.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._console = None
        if self.tty and enabled:
            self._console = console(stderr=True)

    def log(self, message: str) -> None:
        if not self.enabled:
            return
        from claims.redaction import hide_secrets

        message = safe_text(hide_secrets(message))
        if self._console is not None:
            from rich.text import Text

            self._console.print(Text.assemble((time.strftime("%H:%M:%S"), "dim"), " ", message))
        else:
            print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    __call__ = log

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        self.log(f"{name} ...")
        yield
        self.log(f"{name} done in {time.monotonic() - start:.1f}s")
