"""CLI commands: `claims retest protocols` and `claims retest run PROTOCOL --claim KEY`."""

from __future__ import annotations

import dataclasses
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from claims.cli.context import Format, Progress, emit_json, load_settings, open_db, safe_text
from claims.errors import BadInput
from retest.presets import PRESETS

MAX_SEEDS = 50  # RL seeds a command line may ask for (the standard preset uses 3): more is a typo, not a plan

retest_app = typer.Typer(
    help="Re-test claims with small controlled experiments (toy worlds, tiny models, GRPO).",
    no_args_is_help=True,
)


# The choices of --preset come from retest.presets.PRESETS (the one list of names).
Preset = Enum("Preset", {name: name for name in PRESETS}, type=str)  # type: ignore[misc]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(retest_app, name="retest")


@retest_app.command("protocols")
def protocols(
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """List the retest protocols: the claim each tests, its rerun interval and decision rule.

    Example: claims retest protocols --format json
    """
    from retest.protocols import PROTOCOLS

    rows = [p.to_dict() for p in PROTOCOLS.values()]
    if fmt is Format.json:
        emit_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("protocol", "version", "claim", "every", "decision rule")
    for p in PROTOCOLS.values():
        table.add_row(p.name, p.version, p.claim_hint, f"{p.interval_days} d", p.decision_rule)
    Console().print(table)


@retest_app.command("run")
def run(
    protocol: str = typer.Argument(..., help="Protocol name (see `claims retest protocols`)."),
    claim: str = typer.Option(..., "--claim", help="Key of the claim the result is recorded for, e.g. C1."),
    preset: Preset = typer.Option(Preset["smoke"], "--preset", help="smoke (1 seed, <1 min), standard (3 seeds, <10 min), gpu (needs --model-dir and --problems) or model-smoke (the gpu path at tiny sizes, on the CPU: a few minutes; needs both too)."),
    seeds: Optional[int] = typer.Option(None, "--seeds", min=1, max=MAX_SEEDS, help=f"Number of RL seeds, 1-{MAX_SEEDS} (overrides the preset)."),
    model_dir: Optional[Path] = typer.Option(None, "--model-dir", exists=True, file_okay=False,
                                             help="gpu preset: a local Hugging Face model directory (with --problems)."),
    problems: Optional[Path] = typer.Option(None, "--problems", exists=True, dir_okay=False,
                                            help="gpu preset: JSONL of {\"prompt\", \"answer\"} (with --model-dir)."),
    chat_template: bool = typer.Option(True, "--chat-template/--no-chat-template",
                                       help="With --model-dir: send each prompt through the model's chat template (a "
                                            "chat model; the default) or as written (--no-chat-template: a base model)."),
    replicate: bool = typer.Option(False, "--replicate",
                                   help="Run on the next block of seeds: RL and pretraining seeds that no earlier "
                                        "standard or gpu run of this protocol for the claim used (new base models; "
                                        "a real model keeps its revision and gets new RL seeds). A strong run counts "
                                        "toward a proposal only once replicated so."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json (the stored record)."),
) -> None:
    """Run a protocol, record the result as a retest run of the claim, and propose from it.

    Progress per phase goes to stderr; a crashed run is recorded as failed with its log
    (exit code 1), an interrupted one as interrupted (exit code 130). Cached phases (base
    model, GRPO run) are reused; a replication's new seeds train new ones. The claim's
    status proposal goes through the same gate as the weekly job's (`agent.retests.run_retest`:
    only strong runs, replicated on new seeds, count): the command prints what it proposed,
    or why nothing was.

    Example: claims retest run passk-boundary --claim C1 --preset standard --replicate
    """
    from agent.retests import Replication, RetestRequest, run_retest
    from claims.queries import claim_exists
    from claims.strength import describe_strength
    from retest.presets import preset as load_preset
    from retest.protocols import PROTOCOLS

    try:  # the gpu preset's model directory and problem file, checked before anything runs
        config = load_preset(preset.value, model_dir=model_dir, problems_file=problems)
        config = dataclasses.replace(config, chat_template=chat_template)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if protocol not in PROTOCOLS:
        raise BadInput(f"unknown protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
    settings = load_settings()
    store = open_db(settings)
    with store.read() as s:  # fail fast on an unknown claim, before minutes of training
        if not claim_exists(s, claim):
            raise BadInput(f"no claim {claim!r}: try `claims list`")
    progress = Progress()
    done = run_retest(store, settings, RetestRequest(
        claim, protocol, preset.value, reason="run from the command line", actor="retest", config=config,
        rl_seeds=seeds, replication=Replication.YES if replicate else Replication.NO), progress.log)
    record, proposal = done.record, done.proposal
    strength = describe_strength(record.strength)
    proposed = [{"id": p.id, "proposed_status": p.proposed_status} for p in proposal.written]
    if fmt is Format.json:
        emit_json({"id": done.run_id, "claim": claim, **record.model_dump(mode="json"), "strength": strength,
                   "proposals": proposed, "not_proposed": proposal.why_not})
    else:
        print(f"retest run {done.run_id} for {claim}: {record.status}", end="")
        if record.verdict and record.effect_size is not None:
            print(f", verdict {record.verdict}, effect {record.effect_size:+.3f} "
                  f"[{record.ci_low or 0.0:+.3f}, {record.ci_high or 0.0:+.3f}]")
        else:
            print()
        print(safe_text(record.summary, multiline=True))
        print(f"strength: {strength['label']}, {strength['rl_seeds']} RL seed(s), {strength['pretrain_seeds']} "
              f"pretraining seed(s), seeds {strength['rl_seed_ids']} / {strength['pretrain_seed_ids']}; "
              f"{'strong' if strength['may_propose'] else 'not strong, never counts'}: {safe_text(strength['why'])}")
        if strength["may_propose"]:
            print(f"counts toward a status proposal {strength['counts']}")
        for p in proposal.written:
            print(f"proposed: #{p.id} {claim} -> {p.proposed_status} (see `claims review show {p.id}`)")
        if not proposal.written:
            print(f"no status proposal: {safe_text(proposal.why_not)}")
        if record.status == "failed":
            print(safe_text(record.log[-2000:], multiline=True), file=sys.stderr)
    if done.interrupted:
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130)
    if record.status != "succeeded":
        raise typer.Exit(1)
