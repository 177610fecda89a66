"""CLI command: `claims eval search` (ranking quality on a labelled corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from claims.cli.context import Format, cell, console, emit_json, load_settings, open_db, resolve_corpus
from claims.errors import BadInput

eval_app = typer.Typer(help="Measure the evidence search on your own labelled papers.", no_args_is_help=True)

LAST_EVAL = "eval/last-search.json"  # under the home folder: the UI shows the last evaluation
SHOWN = ("recall@10", "recall@20", "recall@50", "precision@10", "mrr", "ap@50", "wss@95")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(eval_app, name="eval")


@eval_app.command("search")
def search(
    corpus: str = typer.Option(..., "--corpus", help="Papers, one JSON object a line (as `claims search --corpus`)."),
    labels: Path = typer.Option(..., "--labels", help='Labels, one a line: {"claim": "C3", "paper": "2504.07912", '
                                "\"stance\": \"supports\"}; every labelled paper is relevant to its claim."),
    simulate: int = typer.Option(0, "--simulate", min=0, max=1000,
                                 help="Replay N labels per claim as a reviewer would (screen the top, label, "
                                 "re-rank) and report the figures after feedback."),
    no_context: bool = typer.Option(False, "--no-context", help="Leave the inquiry's question and notes out of the query."),
    no_exemplars: bool = typer.Option(False, "--no-exemplars", help="Leave the origin and anchor papers out of the query."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the recall curve (mean recall against papers "
                                      "screened: the ranking, BM25 and, with --simulate, after feedback) to this PNG."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, or json: {mean, bm25, claims, [feedback, curve]}, "
                               "each with recall@10, recall@20, recall@50, precision@10, mrr, ap@50, wss@95."),
) -> None:
    """Rank a labelled corpus for each labelled claim and score the ranking beside BM25.

    Claims come from the database by key (import their document first). Each claim's
    own origin and anchor papers are left out of the figures: they are known, not found.

    Example: claims eval search --corpus ../shared/eval/dev/papers.jsonl --labels ../shared/eval/dev/labels.jsonl --simulate 10
    """
    from agent.evaluation import evaluate

    path = resolve_corpus(corpus)
    assert path is not None
    if not labels.is_file():
        raise BadInput(f"no labels file {str(labels)!r}")
    settings = load_settings()
    report = evaluate(open_db(settings), path, labels, simulate, not no_context, not no_exemplars)
    data = report.to_json()
    if plot is not None:
        _plot(report.curve, plot, simulate)
    _remember(settings.resolved_home, {**data, "corpus": str(path), "labels_file": str(labels), "simulate": simulate})
    if fmt is Format.json:
        emit_json(data)
        return
    from rich.table import Table

    heads = ("R@10", "R@20", "R@50", "P@10", "MRR", "AP@50", "WSS@95")  # recall, precision; fits 80 columns
    table = Table("claim", "rel.", *heads, title=f"{report.papers} papers, {report.labels} labels "
                  "(R@k recall at k, P@10 precision at 10)", title_justify="left")
    for key, row in report.claims.items():
        table.add_row(cell(key), str(row["relevant"]), *(f"{row[m]:.2f}" for m in SHOWN))
    table.add_row("mean", "", *(f"{report.mean[m]:.2f}" for m in SHOWN))
    table.add_row("BM25", "", *(f"{report.bm25[m]:.2f}" for m in SHOWN))
    if report.feedback is not None:
        table.add_row(f"+{simulate} labels", "", *(f"{report.feedback[m]:.2f}" for m in SHOWN))
    console().print(table)
    if report.missing:
        console().print(cell(f"skipped (labelled, not in the database): {', '.join(report.missing)}"))


def _plot(curves: dict[str, list[float]], target: Path, simulate: int) -> None:
    """The recall curves as a PNG (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {"ranking": "ranking (hybrid, expanded query)", "bm25": "BM25 baseline",
             "feedback": f"after {simulate} reviewer labels (simulated)"}
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for key, ys in curves.items():
        ax.plot(range(1, len(ys) + 1), ys, label=names.get(key, key))
    ax.set_xlabel("papers screened")
    ax.set_ylabel("mean recall")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    try:
        fig.savefig(target, format="png", bbox_inches="tight")
    except OSError as exc:
        raise BadInput(f"cannot write the plot to {str(target)!r}: {exc.strerror}") from None
    finally:
        plt.close(fig)


def _remember(home: Path, data: dict) -> None:
    """Keep the last evaluation for the review app (best effort: a read-only home is fine)."""
    try:
        target = home / LAST_EVAL
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=1), encoding="utf-8")
    except OSError:
        pass
