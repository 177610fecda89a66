"""CLI command: `claims retest factorial` (the prior x optimizer grid of an inquiry)."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Any, Optional

import typer

from claims.cli.context import Format, Progress, emit_json, load_settings, open_db, safe_text
from retest.factorial import EXECUTORS, FACTORIAL_PRESETS

# The choices come from the engine's one list of names (an unknown one is a usage error: exit 2).
FactorialPreset = Enum("FactorialPreset", {n: n for n in FACTORIAL_PRESETS}, type=str)  # type: ignore[misc]
Executor = Enum("Executor", {n: n for n in EXECUTORS}, type=str)  # type: ignore[misc]


def register(app: typer.Typer) -> None:
    """Add `factorial` to the `claims retest` group."""
    from agent.cli.retest import retest_app

    retest_app.command("factorial")(factorial)


def factorial(
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
    optimizer, with 95% intervals from a hierarchical bootstrap (a toy
    world: shares depend on the levels chosen). Progress (cells done of
    total, ETA) goes to stderr; finished cells are cached, so a killed
    grid resumes where it stopped. A grid strong enough to act on (preset
    full or gpu, every cell done, no validity flag) proposes a new finding.

    Exit codes: 0 done; 1 failed or some cells failed; 2 bad option (or
    Ray not installed); 130 interrupted (Ctrl-C; recorded).

    Example: claims retest factorial --preset weekly --executor ray --format json
    """
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
            cells = [getattr(shares, c) for c in COMPONENTS]
            print(f"{safe_text(outcome):<18}" + "".join(f"{f'{s.estimate:.2f} [{s.low:.2f}, {s.high:.2f}]':>24}" for s in cells))
    for pid in out.proposals:
        print(f"proposed a new finding (proposal {pid}): review it with `claims review list` or `claims ui`")
    for note in out.notes:
        print(safe_text(note))
