"""The agent's `claims` subcommands: search, anchors, agent, retest, weekly.

Registered through the `claims.commands` entry-point group (see pyproject.toml), so the
core `claims` package never imports the agent. The library is imported inside the
command bodies, to keep `claims --help` fast (measured: see `claims.cli`).
"""

from __future__ import annotations

import os

import typer

HF_DEFAULTS = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
"""The Hugging Face libraries' own switches, defaulted once for the `claims` process (a user's
value wins). Every model the agent loads is local (the bundled embedder, cached retest models),
so the hub is never asked; tokenizers does not warn when a retest worker starts. They are set
here, at the entry point, because huggingface_hub reads them once, when it is first imported."""


def register(app: typer.Typer) -> None:
    """Add the agent's command groups to the `claims` app (and default `HF_DEFAULTS` for the process)."""
    for name, value in HF_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from agent.cli import agent, evaluate, factorial, retest, search, weekly

    for module in (search, agent, retest, factorial, weekly, evaluate):
        module.register(app)
