"""Databases that cannot be used: one line on stderr, exit 3, never a traceback or a password.

Every case runs the real `claims` process against a real file (or an unreachable server).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from claims.redaction import redact_url, scrub

PASSWORD = "Hunter2-s3cret"


def claims(*args: str, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env, timeout=timeout)


def one_line_error(r: subprocess.CompletedProcess, code: int = 3) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    return r.stderr


@pytest.fixture
def env(home):
    return {**os.environ, "CLAIMS_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def truncated(home: Path, env: dict) -> None:
    assert claims("import", "--bundled", env=env).returncode == 0
    db = home / "claims.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def foreign_sqlite(home: Path, env: dict) -> None:
    with sqlite3.connect(home / "claims.db") as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")


def foreign_alembic(home: Path, env: dict) -> None:
    with sqlite3.connect(home / "claims.db") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9f1c2a7e0b3d')")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")


BAD_FILES = {
    "text": lambda home, env: (home / "claims.db").write_text("hello, this is a note\n" * 20),
    "random bytes": lambda home, env: (home / "claims.db").write_bytes(os.urandom(64 * 1024)),
    "truncated": truncated,
    "another app's SQLite": foreign_sqlite,
    "another app's alembic": foreign_alembic,
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_file_that_is_not_a_claims_database_is_refused(kind, home, env):
    home.mkdir(parents=True, exist_ok=True)
    BAD_FILES[kind](home, env)
    before = (home / "claims.db").read_bytes()
    for command in (["info"], ["init"], ["list"]):
        err = one_line_error(claims(*command, env=env))
        assert f"{home / 'claims.db'} is not a claims database (" in err, (command, err)
    if kind.startswith("another app"):
        assert (home / "claims.db").read_bytes() == before, "no table of ours was added to another app's database"


def test_a_newer_schema_is_named_and_left_alone(home, env):
    assert claims("import", "--bundled", env=env).returncode == 0
    with sqlite3.connect(home / "claims.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfacecafe'")
    for command in (["list"], ["init"], ["info"], ["import", "--bundled"]):
        err = one_line_error(claims(*command, env=env))
        assert "this database is at revision f00dfacecafe, newer than this version of claims-tracker" in err
        assert "upgrade the package" in err
    with sqlite3.connect(home / "claims.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("f00dfacecafe",)]


def _run_unprivileged() -> list[str]:
    """A prefix that runs a command as nobody when we are root (root writes anywhere)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import claims.cli"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip("user nobody cannot run this checkout's Python (a private folder above it)")
    return prefix


@pytest.mark.parametrize("imported", [False, True], ids=["empty", "with a database"])
def test_weekly_on_a_read_only_data_folder_exits_3(imported, env):
    prefix = _run_unprivileged()
    top = Path(tempfile.mkdtemp(prefix="claims-ro-"))
    try:
        top.chmod(0o755)
        home = top / "home"
        home.mkdir()
        env = {**env, "CLAIMS_HOME": str(home)}
        if imported:
            assert claims("import", "--bundled", env=env).returncode == 0
            for p in home.iterdir():
                p.chmod(0o644)
        home.chmod(0o555)
        r = subprocess.run([*prefix, sys.executable, "-m", "claims", "weekly", "--corpus", "demo", "--no-llm",
                            "--max-retests", "0"], capture_output=True, text=True, env=env, timeout=120)
        err = one_line_error(r)
        assert str(home) in err and "writable" in err
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_a_data_folder_that_cannot_be_created_exits_3(tmp_path, env):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**env, "CLAIMS_HOME": str(blocker / "home")}
    for command in (["list"], ["weekly", "--corpus", "demo", "--no-llm", "--max-retests", "0"], ["cron"]):
        err = one_line_error(claims(*command, env=env))
        assert str(blocker) in err, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


COMMANDS = [["list"], ["info"], ["init"], ["show", "C1"], ["review", "list"], ["export"],
            ["import", "--bundled"], ["weekly", "--corpus", "demo", "--no-llm", "--max-retests", "0"], ["cron"]]


def test_no_command_shows_the_database_password(home, env):
    url = f"postgresql+psycopg://bob:{PASSWORD}@127.0.0.1:{free_port()}/claims"
    env = {**env, "CLAIMS_DATABASE_URL": url}
    for command in COMMANDS:
        r = claims(*command, env=env)
        out = r.stdout + r.stderr
        assert PASSWORD not in out, (command, out)
        assert "Traceback" not in out, (command, out)
        if command != ["cron"]:
            assert r.returncode == 3 and "bob:***@127.0.0.1" in r.stderr, (command, r.stderr)
    written = [p for p in home.rglob("*") if p.is_file() and p.name != "claims.env"]
    assert (home / "claims.env").exists()  # the secrets' one place, mode 0600 (see test_cron)
    for path in written:
        assert PASSWORD not in path.read_text(errors="replace"), path


@pytest.mark.parametrize("url,hidden", [
    ("postgresql+psycopg://bob:pw1234@db.example:5432/claims", "pw1234"),
    ("postgresql+psycopg://bob:p%40ss%2Fw0rd@db/claims", "p@ss/w0rd"),
    ("postgresql+psycopg://bob:se@cret@[::1/claims", "se@cret"),  # unparsable: still no userinfo
    ("mysql://u:topsecret@h:notaport/d", "topsecret"),
])
def test_redaction_never_returns_the_password(url, hidden):
    shown = redact_url(url)
    assert hidden not in shown and "***" in shown
    assert hidden not in scrub(f"cannot connect to {url} as bob with {hidden}", url)


def test_redaction_keeps_urls_without_secrets():
    assert redact_url("sqlite:////srv/claims/claims.db") == "sqlite:////srv/claims/claims.db"
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"


@pytest.mark.postgres
@pytest.mark.slow
def test_a_weekly_run_on_postgres_never_shows_the_password(home, env):
    """A reachable server (trust auth ignores the password): progress, report, prompt and cron files stay clean."""
    admin = os.environ.get("CLAIMS_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("needs CLAIMS_TEST_POSTGRES_URL (set by .ci/run)")
    from sqlalchemy.engine import make_url

    from tests.conftest import _postgres_store

    store = _postgres_store(admin)
    url = make_url(store.url).set(password=PASSWORD).render_as_string(hide_password=False)
    store.dispose()
    env = {**env, "CLAIMS_DATABASE_URL": url}
    runs = [claims("weekly", "--corpus", "demo", "--no-llm", "--max-retests", "0", env=env, timeout=300),
            claims("info", env=env), claims("init", env=env), claims("export", env=env)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
        assert PASSWORD not in r.stdout + r.stderr
    assert ":***@" in runs[0].stderr  # the progress line names the database, redacted
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.parent.name == "reports" for p in files)
    for path in files:
        assert PASSWORD not in path.read_text(errors="replace"), path
