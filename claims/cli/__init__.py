"""The `claims` command: a thin shell over the library.

The core commands live here; `agent` and `ui` add theirs through the `claims.commands`
entry-point group (each package's `register(app)`), so the core imports neither; heavy
imports (torch, trl, langgraph, streamlit) stay inside the command bodies so that
`claims --help` is instant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer

from claims.errors import ClaimsError


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="claims",
        help="A literature-claims tracker that re-tests its own claims.\n\n"
        "Example: claims import --bundled && claims list",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    from claims.cli import core, export

    for module in (core, export):
        module.register(app)
    for register in plugins():
        register(app)
    return app


def plugins() -> list[Callable[[typer.Typer], None]]:
    """The `register(app)` functions of the installed packages that add subcommands.

    Packages (agent, ui, third parties) list one under the `claims.commands` entry-point
    group; the core imports none of them by name.
    """
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group="claims.commands"), key=lambda ep: ep.name)]


def main() -> None:
    """Entry point: run the app, turning project errors into one line and an exit code."""
    app = build_app()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ClaimsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
        raise
