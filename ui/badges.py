"""Colours for claim statuses, anchor states, stances and verdicts, and badges that use them.

One palette for the whole app, chosen so that a glance tells good from bad: green
holds, amber weakened, orange contested, red overturned, grey unreviewed/superseded.
"""

from __future__ import annotations

import html

# (background, text) pairs; backgrounds light enough for dark text to stay readable.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "unreviewed": ("#e0e0e0", "#333333"),
    "holds": ("#b9e4c0", "#0b4d1a"),
    "weakened": ("#ffe8a3", "#6b4e00"),
    "contested": ("#ffc78a", "#7a3b00"),
    "overturned": ("#f5a3a3", "#7a0000"),
    "superseded": ("#cfd3e6", "#2b3154"),
}
ANCHOR_COLOURS = {
    "verified": STATUS_COLOURS["holds"],
    "unchecked": STATUS_COLOURS["unreviewed"],
    "mismatch": STATUS_COLOURS["contested"],
    "not_found": STATUS_COLOURS["overturned"],
}
STANCE_COLOURS = {
    "supports": STATUS_COLOURS["holds"],
    "refines": STATUS_COLOURS["weakened"],
    "contradicts": STATUS_COLOURS["overturned"],
    "unrelated": STATUS_COLOURS["unreviewed"],
    "unjudged": STATUS_COLOURS["unreviewed"],
    "failed": STATUS_COLOURS["superseded"],
    "flagged": STATUS_COLOURS["weakened"],
}
VERDICT_COLOURS = {
    "consistent": STATUS_COLOURS["holds"],
    "inconclusive": STATUS_COLOURS["weakened"],
    "inconsistent": STATUS_COLOURS["overturned"],
    "failed": STATUS_COLOURS["overturned"],
    "running": STATUS_COLOURS["superseded"],
    "queued": STATUS_COLOURS["unreviewed"],
}
_FALLBACK = ("#eeeeee", "#333333")


def badge(label: str, palette: dict[str, tuple[str, str]] = STATUS_COLOURS) -> str:
    """An inline HTML pill for `label`, coloured from `palette`."""
    bg, fg = palette.get(label, _FALLBACK)
    return (
        f'<span style="background:{bg};color:{fg};padding:0.1em 0.55em;border-radius:0.8em;'
        f'font-weight:600;font-size:0.9em;white-space:nowrap">{html.escape(label or "none")}</span>'
    )


def cell_style(value: object, palette: dict[str, tuple[str, str]] = STATUS_COLOURS) -> str:
    """CSS for a table cell holding a status (for pandas Styler.map)."""
    if not isinstance(value, str) or value not in palette:
        return ""
    bg, fg = palette[value]
    return f"background-color: {bg}; color: {fg}; font-weight: 600"


def verdict_style(value: object) -> str:
    return cell_style(value, VERDICT_COLOURS)
