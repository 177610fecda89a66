"""Parsing the dates documents write: `~2025`, `~2024–2025`, `2025-05`, `2025-05-12`.

Pure functions; a parsed date keeps the text as written plus the interval it covers.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
TILDES = "\u223c\u301c\uff5e\u02dc"
_POINT = r"\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?"
_DATE_RE = re.compile(rf"^(?P<approx>~|c\.\s*|ca\.\s*)?\s*(?P<a>{_POINT})(?:\s*(?:-|to)\s*~?\s*(?P<b>{_POINT}))?$")


@dataclass(frozen=True)
class AsOf:
    """A date as written, and the interval of days it covers."""

    raw: str
    start: dt.date
    end: dt.date
    precision: str  # year | month | day | range
    approximate: bool = False


def normalize_dashes(text: str) -> str:
    """Unicode dashes to '-', tildes to '~'."""
    for d in DASHES:
        text = text.replace(d, "-")
    for t in TILDES:
        text = text.replace(t, "~")
    return text


def _point(text: str) -> tuple[dt.date, dt.date, str]:
    parts = [int(p) for p in text.split("-")]
    year = parts[0]
    if not 1900 <= year <= 2100:
        raise ValueError(f"year {year} out of range")
    if len(parts) == 1:
        return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"
    month = parts[1]
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range")
    last = calendar.monthrange(year, month)[1]
    if len(parts) == 2:
        return dt.date(year, month, 1), dt.date(year, month, last), "month"
    day = dt.date(year, month, parts[2])  # raises on a bad day
    return day, day, "day"


def parse_as_of(text: str) -> AsOf:
    """Parse a document date; raises ValueError saying what was expected."""
    raw = text.strip()
    norm = normalize_dashes(raw).strip().strip("()").strip()
    m = _DATE_RE.match(norm)
    if not m:
        raise ValueError(
            f"expected a date such as ~2025, ~2024-2025, 2025-05 or 2025-05-12, got {raw!r}"
        )
    start, end, precision = _point(m["a"])
    if m["b"]:
        b_start, b_end, _ = _point(m["b"])
        if b_end < start:
            raise ValueError(f"date range {raw!r} ends before it starts")
        end, precision = b_end, "range"
    return AsOf(raw=raw, start=start, end=end, precision=precision, approximate=bool(m["approx"]))


def format_as_of(value: AsOf) -> str:
    """The canonical text of a parsed date (ASCII, `~` kept); parsing it gives the same interval."""
    def point(d: dt.date, precision: str) -> str:
        if precision == "year":
            return f"{d.year}"
        if precision == "month":
            return f"{d.year}-{d.month:02d}"
        return d.isoformat()

    prefix = "~" if value.approximate else ""
    if value.precision != "range":
        return prefix + point(value.start, value.precision)
    start, end = value.start, value.end
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        unit = "year"
    elif start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]:
        unit = "month"
    else:
        unit = "day"
    return f"{prefix}{point(start, unit)} to {point(end, unit)}" if unit != "year" else f"{prefix}{start.year}-{end.year}"


def parse_paper_date(text: str | None) -> tuple[dt.date | None, str]:
    """A paper's `published` field (YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)."""
    if not text:
        return None, "day"
    text = text.strip()[:10]
    start, _end, precision = _point(text)
    return start, precision


def format_published(value: dt.date | dt.datetime | str | None, precision: str | None = "day") -> str | None:
    """A paper's date at the precision it is known: `2026-01-12`, `2026-01` or `2026` (None: undated).

    Every place that shows a paper's published date goes through this, so a month-only
    date is never printed with an invented day.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):  # already text (e.g. read back from JSON): parsed at the precision it shows
        value, shown = parse_paper_date(value)
        precision = shown if shown != "day" else precision
        if value is None:
            return None
    day = value.date() if isinstance(value, dt.datetime) else value
    if precision == "year":
        return f"{day.year}"
    if precision == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def future_reason(as_of: AsOf, today: dt.date, what: str = "date") -> str | None:
    """Why `as_of` cannot be a finding's date (None if it can): it starts after today, or its
    range ends after the end of today's year (`~2025-2099`: a claim cannot cover the future)."""
    if as_of.start > today:
        return f"{what} {as_of.raw!r} is after today ({today.isoformat()})"
    if as_of.end > dt.date(today.year, 12, 31):
        return f"{what} {as_of.raw!r} ends in {as_of.end.year}, after this year ({today.year})"
    return None
