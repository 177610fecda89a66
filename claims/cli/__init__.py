"""The `claims` command: a thin shell over the library.

The core commands live here; `agent` and `ui` add theirs through the `claims.commands`
entry-point group (each package's `register(app)`), so the core imports neither; heavy
imports (torch, trl, langgraph, streamlit) stay inside the command bodies so that
`claims --help` is instant. So do imports of the library's own modules, in claims/cli/
and agent/cli/ only (every command module is imported to build `--help`): measured
with `python -c "import ..."`, best of 3 on a loaded 2-core machine, `claims.cli` takes
0.5 s, with `claims.store`, `claims.models` and `claims.queries` 4.5 s, with
`agent.weekly` and `agent.search` 7.3 s; on a quiet machine (2026-12-05) `claims --help`
takes 0.6 s and importing every module the commands defer adds 1.0 s. Library modules
import at the top (import-linter counts the deferred imports too: no cycle).
"""

from __future__ import annotations

import os
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
    from claims.cli import authoring, core, evidence, export, reviewers

    for module in (core, authoring, export, evidence, reviewers):
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
    """Entry point: run the app; every error is one line on stderr and a documented exit code.

    Exit codes (claims.errors): 0 done; 1 done with recorded failures, or an internal
    error; 2 bad input (usage errors included); 3 could not start; 4 conflict; 5 an
    external service failed; 130 interrupted. CLAIMS_DEBUG=1 re-raises unexpected
    exceptions with their traceback.
    """
    sys.exit(run())


def run(args: list[str] | None = None) -> int:
    """Run the `claims` app on `args` (default: sys.argv) and return its exit code."""
    from typer import TyperException

    try:
        code = build_app()(args, prog_name="claims", standalone_mode=False)
    except ClaimsError as exc:
        return fail(str(exc), exc.exit_code)
    except TyperException as exc:  # typer bundles its own click: its errors are not click's
        return usage_error(exc)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return fail("aborted", 1, prefix="")
    except KeyboardInterrupt:
        return fail("interrupted", 130, prefix="")
    except BrokenPipeError:  # `claims list | head -1`: the reader left; say nothing
        _silence_stdout()
        return 1
    except OSError as exc:
        return fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", 3)
    except Exception as exc:
        if os.environ.get("CLAIMS_DEBUG"):
            raise
        return fail(f"internal error: {type(exc).__name__}: {exc} (rerun with CLAIMS_DEBUG=1 for the traceback)", 1)
    if code == 130:
        return fail("interrupted", 130, prefix="")
    return code if isinstance(code, int) else 0


def usage_error(exc: Exception) -> int:
    """A usage error of the parser (unknown option, bad value, missing argument): exit 2."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `claims` or `claims review` alone: the help, exit 0
        print(exc.format_message())  # type: ignore[attr-defined]
        return 0
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    code = int(getattr(exc, "exit_code", 1) or 1)  # 2 for every usage error
    message = exc.format_message().replace("Value error, ", "")  # type: ignore[attr-defined]
    return fail(f"{message}{hint}", code)


def fail(message: str, code: int, prefix: str = "error: ") -> int:
    """Print `message` as one line on stderr (controls escaped, whitespace folded); return `code`."""
    from claims.cli.context import safe_text
    from claims.redaction import hide_secrets

    line = " ".join(safe_text(hide_secrets(message), multiline=True).split())
    try:
        print(f"{prefix}{line}", file=sys.stderr, flush=True)
    except OSError:
        pass
    return code


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
