"""Where a paper falls against a claim's as-of window: the one rule the export, the proposals and the UI share.

A claim's as-of date covers an interval of days [`as_of_start`, `as_of_end`] (`claims.dates`:
"~2025" covers 2025-01-01..2025-12-31, "~2024–2025" 2024-01-01..2025-12-31, "2025-05"
2025-05-01..2025-05-31). A paper, by its first version's date, is

- **newer** than the claim when published strictly after `as_of_end` (`is_newer_than_claim`);
- **inside** the window (contemporaneous) when `as_of_start <= published <= as_of_end`;
- **older** when published before `as_of_start`;
- **undated** when its date is unknown (never newer).

What each place counts for a proposal is in `claims.status_rules`.
"""

from __future__ import annotations

import datetime as dt


def is_newer_than_claim(published: dt.date | None, as_of_end: dt.date) -> bool:
    """True when a paper published on `published` is newer than a claim dated up to `as_of_end`.

    Strictly after the end of the claim's as-of window; an undated paper is never newer.
    """
    return published is not None and published > as_of_end


def place_in_window(published: dt.date | None, start: dt.date, end: dt.date) -> str:
    """Where a paper falls against a claim's as-of window: "older", "inside", "newer" or "undated"."""
    if published is None:
        return "undated"
    if is_newer_than_claim(published, end):
        return "newer"
    return "inside" if published >= start else "older"
