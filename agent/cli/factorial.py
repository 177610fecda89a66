"""CLI commands: `claims retest factorial` (run the prior x optimizer grid of an inquiry) and
`claims retest factorial analyse TABLE.csv` (the same analysis of any outcome table)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from claims.cli.context import Format, Progress, emit_json, load_settings, open_db, safe_text
from retest.factorial import EXECUTORS, FACTORIAL_PRESETS

# The choices come from the engine's one list of names (an unknown one is a usage error: exit 2).
FactorialPreset = Enum("FactorialPreset", {n: n for n in FACTORIAL_PRESETS}, type=str)  # type: ignore[misc]
Executor = Enum("Executor", {n: n for n in EXECUTORS}, type=str)  # type: ignore[misc]


def register(app: typer.Typer) -> None:
    """Add `factorial` (a command that runs the grid, with `analyse` beneath it) to `claims retest`."""
    from agent.cli.retest import retest_app

    group = typer.Typer(invoke_without_command=True, no_args_is_help=False, add_completion=False)
    group.callback()(factorial)
    group.command("analyse")(analyse)
    retest_app.add_typer(group, name="factorial")


def factorial(
    ctx: typer.Context,
    preset: FactorialPreset = typer.Option(FactorialPreset["weekly"], "--preset",
                                           help="weekly (~10 min on 2 cores, confounds flagged), full (hours on a CPU) or gpu."),
    executor: Executor = typer.Option(Executor["local"], "--executor",
                                      help="local (sequential, in this process) or ray (one Ray task per cell)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", envvar="RAY_ADDRESS", show_envvar=True,
                                              help="Join this Ray cluster (with --executor ray); default: start a local one."),
    inquiry: Optional[str] = typer.Option(None, "--inquiry", help="Slug of the inquiry the grid is stored for (default: the first)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table (the answer) or json (the stored record)."),
) -> None:
    """Run the prior x optimizer factorial and store it as a run of the inquiry.

    Measures how much of the post-RL outcome (pass@1, pass@256, the
    reachable set, KL) the pretraining prior explains and how much the
    optimizer, with 95% intervals from a mixed model (bases nested in
    priors, RL seeds; a toy world: shares depend on the levels chosen).
    `claims retest factorial analyse TABLE.csv` analyses a table of
    outcomes from a grid run elsewhere. Progress (cells done of
    total, ETA) goes to stderr; finished cells are cached, so a killed
    grid resumes where it stopped. A grid strong enough to act on (preset
    full or gpu, every cell done, no validity flag) proposes a new finding.

    Exit codes: 0 done; 1 failed or some cells failed; 2 bad option (or
    Ray not installed); 130 interrupted (Ctrl-C; recorded).

    Example: claims retest factorial --preset weekly --executor ray --format json
    """
    if ctx.invoked_subcommand is not None:  # `factorial analyse ...`: the grid's options do not apply
        return
    from agent.factorial import check_request, run_and_store

    check_request(preset.value, executor.value)  # before opening anything: a missing Ray is exit 2
    settings = load_settings()
    store = open_db(settings)
    progress = Progress()
    out = run_and_store(store, settings.retest_cache_dir, preset=preset.value, executor=executor.value,
                        ray_address=ray_address if executor.value == "ray" else None, inquiry=inquiry,
                        say=progress.log, reason="run from the command line")
    record = out.record
    if fmt is Format.json:
        emit_json(as_json(out))
    else:
        print_answer(out)
    if out.interrupted:
        print("interrupted: finished cells are cached; run the same command again to resume", file=sys.stderr)
        raise typer.Exit(130)
    if record.status != "succeeded":
        if record.status == "failed":
            print(safe_text(record.log[-2000:], multiline=True), file=sys.stderr)
        raise typer.Exit(1)


def as_json(out: Any) -> dict[str, Any]:
    """The stored record as the issue states it: executor, cells, shares (+ id, strength, proposals)."""
    from claims.factorial import assess_factorial, measured_answer

    record = out.record
    may, why = assess_factorial(record)
    return {"id": out.id, **record.model_dump(mode="json"), "measured_answer": measured_answer(record),
            "may_propose": may, "why": why, "proposals": out.proposals, "notes": out.notes}


def print_answer(out: Any) -> None:
    """The answer, a table of shares per outcome, and what was proposed."""
    from claims.factorial import COMPONENTS, measured_answer

    record = out.record
    done = sum(1 for c in record.cells if c.status != "failed")
    print(f"factorial run {out.id}: {record.status}, {done} of {len(record.cells)} cells, "
          f"executor {record.executor}, {record.seconds:.0f} s")
    if record.status in ("failed", "interrupted"):
        return
    print(safe_text(measured_answer(record), multiline=True))
    if record.shares:
        print()
        print(f"{'outcome':<18}" + "".join(f"{c:>24}" for c in COMPONENTS))
        for outcome, shares in record.shares.items():
            cells = [getattr(shares, c) for c in COMPONENTS]  # None: a component a grid stored before had not
            print(f"{safe_text(outcome):<18}" + "".join(
                f"{f'{s.estimate:.2f} [{s.low:.2f}, {s.high:.2f}]' if s is not None else '-':>24}" for s in cells))
    for pid in out.proposals:
        print(f"proposed a new finding (proposal {pid}): review it with `claims review list` or `claims ui`")
    for note in out.notes:
        print(safe_text(note))


def analyse(
    table: Path = typer.Argument(..., help="CSV with the header prior,optimizer,pretrain_seed,rl_seed,outcome,value.",
                                 show_default=False),
    fmt: Format = typer.Option(Format.table, "--format", help="table (shares with intervals) or json."),
) -> None:
    """Analyse a table of grid outcomes: the variance shares with 95% intervals.

    One row per run and outcome; pretraining seeds are nested in priors
    (seed 0 under two priors is two different base models). Per outcome:
    the shares of the designed prior, optimizer and their interaction,
    and of base to base (pretrain_seed), base x optimizer and RL-seed
    noise (residual), each with a generalized confidence interval
    (docs/factorial.md). Runs analysed as they are: a missing RL seed
    is not imputed. JSON: shares[outcome][component] = {estimate, low,
    high}, with variances, df, ranges and notes per outcome.

    Exit codes: 0 done; 2 a table that cannot be read or analysed (the
    line at fault named).

    Example: claims retest factorial analyse grid.csv --format json
    """
    from claims.errors import BadInput, DocumentError
    from retest.factorial.table import TableError, analyse_table, decode, report

    import importlib.util

    if importlib.util.find_spec("scipy") is None:
        raise BadInput("the analysis needs scipy: pip install 'claims-tracker[retest]'")
    try:
        data = table.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {table}: {exc.strerror or exc}") from None
    try:
        result = report(analyse_table(decode(data)))
    except TableError as exc:
        raise DocumentError(exc.reason, line=exc.line, path=str(table)) from None
    if fmt is Format.json:
        emit_json({"table": str(table), **result})
    else:
        print_table(result)


def print_table(result: dict[str, Any]) -> None:
    """Per outcome: each component's share, its interval and its variance; then the notes."""
    from rich.table import Table

    from claims.cli.context import cell, console
    from retest.factorial.analysis import COMPONENTS

    out = console()
    grid = Table("outcome", "component", "share", "95% interval", "variance", "df", title=None)
    terms = {"prior": "P", "optimizer": "O", "interaction": "PO", "pretrain_seed": "S", "base_x_optimizer": "SO",
             "residual": "E"}
    for outcome, shares in result["shares"].items():
        for i, c in enumerate(COMPONENTS):
            s = shares[c]
            grid.add_row(cell(outcome) if i == 0 else "", c, f"{s['estimate']:.3f}", f"[{s['low']:.3f}, {s['high']:.3f}]",
                         f"{result['variances'][outcome][c]:.3g}", str(result["df"][outcome][terms[c]]))
    out.print(grid)
    out.print(result["method"])
    for outcome, notes in result["notes"].items():
        for note in notes:
            out.print(f"{safe_text(outcome)}: {safe_text(note)}")
