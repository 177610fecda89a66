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

from claims.errors import BadInput

from claims.settings import Settings
from claims.store import Store, open_store


class Format(str, Enum):
    table = "table"
    json = "json"


def load_settings() -> Settings:
    return Settings()


def open_db(settings: Settings | None = None, migrate: bool = True) -> Store:
    """Open (and migrate) the database named by the settings."""
    settings = settings or load_settings()
    return open_store(settings.resolved_database_url, migrate=migrate)


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


def emit_json(obj: Any) -> None:
    """Print `obj` as JSON (dates as ISO strings), the stable format scripts read."""
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default))


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
            from rich.console import Console

            self._console = Console(stderr=True)

    def log(self, message: str) -> None:
        if not self.enabled:
            return
        if self._console is not None:
            self._console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")
        else:
            print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    __call__ = log

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        self.log(f"{name} ...")
        yield
        self.log(f"{name} done in {time.monotonic() - start:.1f}s")
