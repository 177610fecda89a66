"""The agent's `claims` subcommands: search, anchors, agent, retest, weekly.

Registered through the `claims.commands` entry-point group (see pyproject.toml), so the
core `claims` package never imports the agent.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the agent's command groups to the `claims` app."""
    from agent.cli import agent, evaluate, factorial, retest, search, weekly

    for module in (search, agent, retest, factorial, weekly, evaluate):
        module.register(app)
