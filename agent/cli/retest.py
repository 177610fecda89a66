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
    """Run a protocol and record the result as a retest run of the claim.

    Progress per phase goes to stderr; a crashed run is recorded as failed with its log
    (exit code 1). Cached phases (base model, GRPO run) are reused; a replication's new
    seeds train new ones.

    Example: claims retest run passk-boundary --claim C1 --preset standard --replicate
    """
    from agent.retests import to_record
    from claims.retests import record_run
    from retest.presets import preset as load_preset
    from retest.protocols import PROTOCOLS
    from retest.runner import run_protocol

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
        from sqlalchemy import select

        from claims.models import Claim

        if s.scalar(select(Claim.id).where(Claim.key == claim)) is None:
            raise BadInput(f"no claim {claim!r}: try `claims list`")
        reason = "run from the command line"
        if replicate:  # the next block of seeds, recorded in the run's config and strength
            from agent.retests import replicated_config

            config, replication = replicated_config(s, claim, protocol, config, rl_seeds=seeds)
            seeds, reason = None, f"{reason}: {replication}"
            print(replication, file=sys.stderr)
    progress = Progress()
    result = run_protocol(protocol, preset.value, seeds=seeds, cache_dir=settings.retest_cache_dir,
                          artifacts_dir=settings.retest_artifacts_dir, progress=progress.log, config=config,
                          workers=settings.retest_workers)
    record = to_record(result, reason=reason)
    with store.write() as s:
        run_id = record_run(s, claim, record).id
    from claims.strength import describe_strength

    strength = describe_strength(record.strength)
    if fmt is Format.json:
        emit_json({"id": run_id, "claim": claim, **record.model_dump(mode="json"), "strength": strength})
    else:
        print(f"retest run {run_id} for {claim}: {result.status}", end="")
        if result.verdict:
            print(f", verdict {result.verdict}, effect {result.effect_size:+.3f} "
                  f"[{result.ci_low:+.3f}, {result.ci_high:+.3f}]")
        else:
            print()
        print(safe_text(result.summary, multiline=True))
        print(f"strength: {strength['label']}, {strength['rl_seeds']} RL seed(s), {strength['pretrain_seeds']} "
              f"pretraining seed(s), seeds {strength['rl_seed_ids']} / {strength['pretrain_seed_ids']}; "
              f"{'strong' if strength['may_propose'] else 'not strong, never counts'}: {safe_text(strength['why'])}")
        if strength["may_propose"]:
            print(f"counts toward a status proposal {strength['counts']}")
        if result.status == "failed":
            print(safe_text(result.log[-2000:], multiline=True), file=sys.stderr)
    if result.status == "interrupted":
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130)
    if result.status != "succeeded":
        raise typer.Exit(1)
