"""The `claims ui` command (the Streamlit review app), registered as a `claims.commands` plugin.

The library is imported inside the command body, as in every command module (why: `claims.cli`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from pathlib import Path

import typer

from claims.cli.context import load_settings, open_db
from claims.errors import BadInput, ConfigError

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
ALL_INTERFACES = ("0.0.0.0", "::")


def check_host(host: str, expose: bool) -> str:
    """The address to serve on, checked: an IP address or a host name (RFC 1123).

    Serving on every interface (0.0.0.0, ::) shows the review app to the network and
    needs `expose`; an empty value, a malformed address (256.1.1.1) or name is refused.
    """
    value = host.strip()
    try:
        address = str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        labels = value.rstrip(".").split(".")
        if (not value or len(value) > 253 or not all(_LABEL.match(label) for label in labels)
                or all(label.isdigit() for label in labels)):
            raise BadInput(f"--host {host!r} is not an IP address or a host name "
                           "(for example 127.0.0.1, ::1 or localhost)") from None
        return value
    if address in ALL_INTERFACES and not expose:
        raise BadInput(f"--host {address} serves the review app on every network interface; "
                       "add --expose to mean it, or use 127.0.0.1")
    return address


def app_path() -> Path:
    """The app's entry script (ui/app.py)."""
    return Path(__file__).with_name("app.py")


def streamlit_command(host: str, port: int) -> list[str]:
    """The `streamlit run` command line that serves the app."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]


def oidc_configured() -> bool:
    """Is there an [auth] section in a secrets.toml Streamlit reads (project or user folder)?"""
    for folder in (Path.cwd() / ".streamlit", Path.home() / ".streamlit"):
        secrets = folder / "secrets.toml"
        if secrets.is_file() and "[auth" in secrets.read_text(errors="replace"):
            return True
    return False


def ui(
    host: str = typer.Option("127.0.0.1", help="Address to listen on: an IP address or host name (0.0.0.0 needs --expose)."),
    port: int = typer.Option(8501, min=1, max=65535, help="Port to listen on (1-65535)."),
    expose: bool = typer.Option(False, "--expose", help="Allow --host 0.0.0.0 or :: (every network interface)."),
) -> None:
    """Serve the review app (Streamlit) on HOST:PORT; Ctrl-C stops it.

    Example: claims ui --port 8502, then open http://127.0.0.1:8502
    """
    host = check_host(host, expose)
    try:
        import streamlit  # noqa: F401
    except ImportError as exc:
        raise ConfigError("streamlit is not installed: pip install 'claims-tracker[ui]'") from exc
    settings = load_settings()
    store = open_db(settings)  # migrate before serving, so the app finds its tables
    if settings.reviewers:
        from claims.reviewers import tokens_required
        from ui.identity import auth_mode

        with store.read() as s:
            tokens = tokens_required(s)
        try:
            auth_mode(list(settings.reviewers), oidc_configured(), tokens)
        except ValueError as exc:
            store.dispose()
            raise ConfigError(f"refusing to serve the review app: {exc}") from None
    store.dispose()
    if host in ALL_INTERFACES:
        print(f"warning: the review app is served on every network interface ({host}); anyone who can reach "
              "this machine can open it", file=sys.stderr, flush=True)
    cmd = streamlit_command(host, port)
    env = {**os.environ, "CLAIMS_DATABASE_URL": settings.resolved_database_url}
    print(f"review app on http://{host}:{port} (database {store.where})",
          file=sys.stderr, flush=True)
    os.execve(sys.executable, cmd, env)  # the server replaces this process: signals reach it directly


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("ui")(ui)
