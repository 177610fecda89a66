"""CLI commands: `claims search` (evidence search) and `claims anchors verify`."""

from __future__ import annotations

from typing import Optional

import typer

from claims.cli.context import Format, Progress, cell, console, emit_json, load_settings, open_db, parse_date_option, resolve_corpus
from claims.dates import format_published
from claims.errors import SourceUnavailable

anchors_app = typer.Typer(help="Check the anchor papers that documents cite.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("search")(search)
    app.add_typer(anchors_app, name="anchors")
    anchors_app.command("verify")(verify)


def search(
    claim: Optional[list[str]] = typer.Option(None, "--claim", help="Search only this claim (repeatable)."),
    since: Optional[str] = typer.Option(None, "--since", help="Search papers from this date (YYYY-MM-DD) on, "
                                        "overriding each claim's window."),
    corpus: Optional[str] = typer.Option(None, "--corpus", help="Rank the papers of this JSON Lines file (or `demo`, the shipped demo corpus) "
                                          "instead of asking arXiv."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, or json: {claim key: [{id, title, "
                               "published, score, rank, evidence_id, method, ranker}, ...]}."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, max=10000, help="Candidates kept per claim "
                                        "(default: CLAIMS_SEARCH_BACKFILL_LIMIT on a claim's first search, "
                                        "CLAIMS_SEARCH_TOP_K on later sweeps)."),
) -> None:
    """Search for newer papers on the claims and record the ranked candidates as evidence.

    Claims checked before get the weekly sweep of the watched categories since their last check; new claims get targeted queries over their window from their as-of date.

    Example: claims search --corpus claims/data/demo-corpus.jsonl --format json
    """
    from agent.corpus import check_corpus
    from agent.search import search_claims

    corpus = check_corpus(resolve_corpus(corpus))
    settings = load_settings()
    store = open_db(settings)
    progress = Progress()
    report = search_claims(store, settings, claim_keys=claim or None, corpus=corpus,
                           since=parse_date_option(since), progress=progress, limit=limit)
    if fmt is Format.json:
        emit_json(report.to_json())
        return
    from rich.table import Table

    out = console()
    if not report.candidates:
        out.print("no claims yet: try `claims import --bundled`")
        return
    for key, cands in report.candidates.items():
        table = Table("rank", "score", "id", "published", "title", title=cell(f"{key}: {len(cands)} candidates "
                      f"({len(report.new_evidence.get(key, []))} new)"), title_justify="left")
        for c in cands:
            table.add_row(str(c.rank), f"{c.score:.2f}", cell(c.arxiv_id), format_published(c.published, c.precision) or "", cell(c.title))
        out.print(table)
    start, end = report.window
    out.print(cell(f"{report.papers_seen} papers from {report.source} ({start or 'start'} to {end or 'now'}), "
                  f"{report.requests} requests"))


def verify(
    corpus: Optional[str] = typer.Option(None, "--corpus", help="Look the papers up in this JSON Lines file (or `demo`, the shipped demo corpus) "
                                          "instead of arXiv."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, or json: [{id, status, differences, "
                               "cited_label, cited_date, title, published, label_similarity, candidates: "
                               "[{id, title, published, score, fits, ...}]}, ...]."),
) -> None:
    """Check each anchor paper: does it exist, do its title and first-version date match the citation?

    Status per anchor: verified, mismatch (with the differences), not_found, or unchecked (no source reachable; exit code 5).
    When the label names another paper (or the id none), the papers that may have been meant are ranked as candidates.

    Example: claims anchors verify --corpus claims/data/demo-corpus.jsonl
    """
    from agent.anchors import verify_anchors
    from agent.corpus import check_corpus

    corpus = check_corpus(resolve_corpus(corpus))
    settings = load_settings()
    checks = verify_anchors(open_db(settings), settings, corpus=corpus, progress=Progress())
    if fmt is Format.json:
        emit_json([c.to_json() for c in checks])
    else:
        from rich.table import Table

        table = Table("id", "status", "cited", "record", "differences")
        for c in checks:
            record = f"{c.verified_title or ''} ({c.verified_published or '?'})" if c.verified_title else ""
            table.add_row(cell(c.arxiv_id), cell(c.status), cell(f"{c.cited_label} ({c.cited_date})"), cell(record),
                          cell("\n".join(d.text for d in c.differences)))
        console().print(table if checks else "no anchors yet: try `claims import --bundled`")
    if any(c.status == "unchecked" for c in checks):
        raise SourceUnavailable("some anchors could not be checked: no source reachable")
