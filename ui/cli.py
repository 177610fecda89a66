"""The `claims ui` command (the Streamlit review app), registered as a `claims.commands` plugin."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from claims.cli.context import load_settings, open_db
from claims.errors import ConfigError


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
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 exposes it to the network)."),
    port: int = typer.Option(8501, min=1, max=65535, help="Port to listen on (1-65535)."),
) -> None:
    """Serve the review app (Streamlit) on HOST:PORT; Ctrl-C stops it.

    Example: claims ui --port 8502, then open http://127.0.0.1:8502
    """
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
    cmd = streamlit_command(host, port)
    env = {**os.environ, "CLAIMS_DATABASE_URL": settings.resolved_database_url}
    print(f"review app on http://{host}:{port} (database {store.where})",
          file=sys.stderr, flush=True)
    os.execve(sys.executable, cmd, env)  # the server replaces this process: signals reach it directly


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("ui")(ui)
