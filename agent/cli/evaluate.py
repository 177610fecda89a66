"""CLI command: `claims eval search` (ranking quality on a labelled corpus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from claims.cli.context import Format, cell, console, emit_json, load_settings, open_db, resolve_corpus
from claims.errors import BadInput

eval_app = typer.Typer(help="Measure the evidence search on your own labelled papers.", no_args_is_help=True)

LAST_EVAL = "eval/last-search.json"  # under the home folder: the UI shows the last evaluation
SHOWN = ("recall@10", "recall@20", "recall@50", "precision@10", "mrr", "ap@50", "r-precision", "wss@95")


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
    active: bool = typer.Option(False, "--active", help="Replay the labels as a reviewer screening in the ranker's "
                                "order, re-ranking as labels come in; print the recall curve, papers screened for "
                                "95%% recall and WSS@95 beside BM25 and the static ranking."),
    batch: int = typer.Option(1, "--batch", min=1, max=100, help="With --active: labels screened between re-rankings."),
    no_context: bool = typer.Option(False, "--no-context", help="Leave the inquiry's question and notes out of the query."),
    no_exemplars: bool = typer.Option(False, "--no-exemplars", help="Leave the origin and anchor papers out of the query."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the recall curves (mean recall against papers "
                                      "screened: the ranking, BM25 and, with --simulate, after feedback; with "
                                      "--active, active screening beside the static ranking and BM25) to this PNG "
                                      "(needs matplotlib)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, or json: {mean, bm25, claims, [feedback, curve], "
                               "[active]}, each with recall@10, recall@20, recall@50, precision@10, mrr, ap@50, "
                               "r-precision, wss@95; active: {batch, mean, static, bm25, claims, curve}, each with "
                               "recall@10/20/50/100, screened_for_95, wss@95."),
) -> None:
    """Rank a labelled corpus for each labelled claim and score the ranking beside BM25.

    Claims come from the database by key (import their document first). Each claim's
    own origin and anchor papers are left out of the figures: they are known, not found.

    Example: claims eval search --corpus ../shared/eval/dev/papers.jsonl --labels ../shared/eval/dev/labels.jsonl --simulate 10

    Active screening: claims eval search --corpus PAPERS --labels LABELS --active [--batch 5] --plot curves.png
    """
    from agent.evaluation import evaluate

    path = resolve_corpus(corpus)
    assert path is not None
    if not labels.is_file():
        raise BadInput(f"no labels file {str(labels)!r}")
    settings = load_settings()
    if plot is not None:
        _check_plotting()
    report = evaluate(open_db(settings), path, labels, simulate, not no_context, not no_exemplars, active, batch)
    data = report.to_json()
    if plot is not None:
        if report.active is not None:
            _plot(report.active.curve, plot, simulate, f"active screening (re-ranked every {batch} label(s))")
        else:
            _plot(report.curve, plot, simulate)
    _remember(settings.resolved_home, {**data, "corpus": str(path), "labels_file": str(labels), "simulate": simulate})
    if fmt is Format.json:
        emit_json(data)
        return
    from rich.table import Table

    heads = ("R@10", "R@20", "R@50", "P@10", "MRR", "AP@50", "R-P", "WSS@95")  # fits 80 columns
    table = Table("claim", "rel.", *heads, title=f"{report.papers} papers, {report.labels} labels "
                  "(rel. relevant papers; R@k recall at k, P@10 precision at 10, R-P R-precision)",
                  title_justify="left")
    for key, row in report.claims.items():
        table.add_row(cell(key), str(row["relevant"]), *(f"{row[m]:.2f}" for m in SHOWN))
    table.add_row("mean", "", *(f"{report.mean[m]:.2f}" for m in SHOWN))
    table.add_row("BM25", "", *(f"{report.bm25[m]:.2f}" for m in SHOWN))
    if report.feedback is not None:
        table.add_row(f"+{simulate} labels", "", *(f"{report.feedback[m]:.2f}" for m in SHOWN))
    console().print(table)
    if report.active is not None:
        console().print(_active_table(report.active))
    if report.missing:
        console().print(cell(f"skipped (labelled, not in the database): {', '.join(report.missing)}"))


def _active_table(active: Any) -> Any:
    """Per claim: active screening, the static ranking and BM25, as a reviewer reading down each order."""
    from rich.table import Table

    from agent.active import FIGURES

    ks = [m for m in FIGURES if m.startswith("recall@")]
    table = Table("claim", "rel.", "order", *(f"R@{m.split('@')[1]}" for m in ks), "screened", "WSS@95",
                  title=f"Active screening (re-ranked every {active.batch} label(s)): recall after k screened, "
                  "papers screened to reach 95% recall", title_justify="left")
    data = active.to_json()
    rows = [(key, str(row["relevant"]), row) for key, row in data["claims"].items()]
    rows.append(("mean", "", {**data["mean"], "static": data["static"], "bm25": data["bm25"]}))
    for key, rel, row in rows:
        for n, (name, figs) in enumerate((("active", row), ("static", row["static"]), ("BM25", row["bm25"]))):
            table.add_row(cell(key) if n == 0 else "", rel if n == 0 else "", name,
                          *(f"{figs[m]:.2f}" for m in ks), f"{figs['screened_for_95']:g}", f"{figs['wss@95']:.2f}",
                          end_section=n == 2)
    return table


def _check_plotting() -> None:
    """--plot needs matplotlib: say so before any work, not after."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise BadInput("--plot needs matplotlib, which is not installed: `pip install matplotlib`, or leave --plot out")


def _plot(curves: dict[str, list[float]], target: Path, simulate: int, active: str = "") -> None:
    """The recall curves as a PNG (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {"ranking": "ranking (hybrid, expanded query)", "bm25": "BM25 baseline",
             "feedback": f"after {simulate} reviewer labels (simulated)", "static": "static ranking (no labels)",
             "active": active}
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
