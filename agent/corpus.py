"""A paper source that reads a local JSON Lines corpus (air-gapped machines, demos, tests).

One paper a line: `id` (arXiv id, a version suffix allowed), `title`, `summary`,
`published` (first version: YYYY-MM or YYYY-MM-DD), optional `updated`, `authors`,
`categories`. Every paper is a candidate for every query: the ranking does the work.
Categories filter a sweep only for papers that list some.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from pathlib import Path

from claims.dates import parse_paper_date
from claims.errors import BadInput, DocumentError
from claims.papers import PaperRecord, split_arxiv_id


def parse_line(line: str, lineno: int = 0, path: str | None = None) -> PaperRecord:
    """One corpus line -> a PaperRecord; raises DocumentError naming the line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"not JSON: {exc.msg}", line=lineno, path=path) from exc
    except RecursionError:
        raise DocumentError("not JSON: nested too deeply", line=lineno, path=path) from None
    if not isinstance(obj, dict):
        raise DocumentError("expected a JSON object per line", line=lineno, path=path)
    missing = [k for k in ("id", "title") if not str(obj.get(k) or "").strip()]
    if missing:
        raise DocumentError(f"missing {', '.join(missing)}", line=lineno, path=path)
    try:
        published, precision = parse_paper_date(obj.get("published"))
        updated, _ = parse_paper_date(obj.get("updated"))
    except ValueError as exc:
        raise DocumentError(f"bad date: {exc}", line=lineno, path=path) from exc
    arxiv_id, version = split_arxiv_id(str(obj["id"]))
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=" ".join(str(obj["title"]).split()),
        summary=" ".join(str(obj.get("summary") or "").split()),
        published=published,
        published_precision=precision,
        updated=updated,
        authors=[str(a) for a in obj.get("authors") or []],
        categories=[str(c) for c in obj.get("categories") or []],
    )


def read_corpus(path: Path) -> list[PaperRecord]:
    """All papers of a JSON Lines file (blank lines skipped)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read corpus {path}: {exc.strerror or exc}") from exc
    if b"\x00" in raw:
        raise BadInput(f"corpus {path} is a binary file, not JSON Lines (one paper a line)")
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(f"not UTF-8 text (byte {exc.start})", line=line, path=str(path)) from None
    return [parse_line(line, i, str(path)) for i, line in enumerate(lines, 1) if line.strip()]


def check_corpus(path: Path | None) -> Path | None:
    """`path` once every line of it reads as a paper (BadInput/DocumentError otherwise): checked before a run starts."""
    if path is not None:
        read_corpus(path)
    return path


def in_window(paper: PaperRecord, start: dt.date | None, end: dt.date | None) -> bool:
    """Whether the paper's first-version date (as precise as known) overlaps the window."""
    if paper.published is None:
        return start is None and end is None
    first = last = paper.published
    if paper.published_precision == "month":
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    elif paper.published_precision == "year":
        last = first.replace(month=12, day=31)
    return (start is None or last >= start) and (end is None or first <= end)


class CorpusSource:
    """The PaperSource over a local file; makes no HTTP requests."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = f"corpus:{self.path}"
        self.requests = 0
        self._papers: list[PaperRecord] | None = None

    @property
    def papers(self) -> list[PaperRecord]:
        if self._papers is None:
            self._papers = read_corpus(self.path)
        return self._papers

    def sweep(self, categories: list[str], start: dt.date | None, end: dt.date | None) -> list[PaperRecord]:
        watched = set(categories)
        return [
            p for p in self.papers
            if in_window(p, start, end) and (not p.categories or watched.intersection(p.categories))
        ]

    def query(self, text: str, start: dt.date | None, end: dt.date | None, max_results: int) -> list[PaperRecord]:
        return [p for p in self.papers if in_window(p, start, end)]

    def lookup(self, ids: list[str]) -> dict[str, PaperRecord]:
        wanted = {split_arxiv_id(i)[0] for i in ids}
        return {p.arxiv_id: p for p in self.papers if p.arxiv_id in wanted}
