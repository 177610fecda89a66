"""The paper-source seam: arXiv (live API or a mirror) or a local JSON Lines corpus.

A source answers three questions: the new papers of some categories in a date window
(the weekly sweep), papers matching a text in a window (backfill for a new claim),
and papers by id (anchor verification). Windows are inclusive dates in GMT; `None`
leaves that end open. `requests` counts the HTTP requests made so far.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from agent.arxiv import ArxivSource
from agent.corpus import CorpusSource
from claims.papers import PaperRecord
from claims.settings import Settings


class PaperSource(Protocol):
    name: str  # recorded in sweeps.source: "arxiv" or "corpus:<path>"
    requests: int

    def sweep(self, categories: list[str], start: dt.date | None, end: dt.date | None) -> list[PaperRecord]:
        """Every paper of these categories first submitted in the window."""
        ...

    def query(self, text: str, start: dt.date | None, end: dt.date | None, max_results: int) -> list[PaperRecord]:
        """Papers matching `text` in the window (at most `max_results`)."""
        ...

    def lookup(self, ids: list[str]) -> dict[str, PaperRecord]:
        """The papers with these ids (without version), by id; missing ids are absent."""
        ...


def _arxiv(settings: Settings, corpus: Path | None) -> PaperSource:
    return ArxivSource(settings)


def _corpus(settings: Settings, corpus: Path | None) -> PaperSource:
    if corpus is None:
        raise ValueError("the corpus source needs a file")
    return CorpusSource(corpus)


SOURCES: dict[str, Callable[[Settings, Path | None], PaperSource]] = {"arxiv": _arxiv, "corpus": _corpus}


def open_source(settings: Settings, corpus: Path | None = None) -> PaperSource:
    """The local corpus when a file is given, the arXiv API otherwise."""
    return SOURCES["corpus" if corpus is not None else "arxiv"](settings, corpus)
