"""Run `claims` as a real process against a temporary CLAIMS_HOME."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

REPO = Path(__file__).resolve().parents[2]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with CLAIMS_HOME=home and no other CLAIMS_ setting; no colour, wide lines."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CLAIMS_") and k not in ("FORCE_COLOR", "NO_COLOR", "TERM", "COLUMNS")}
    if "CLAIMS_RETEST_WORKERS" in os.environ:  # the suite trains retest runs in order (tests/conftest.py)
        env["CLAIMS_RETEST_WORKERS"] = os.environ["CLAIMS_RETEST_WORKERS"]
    env.update(CLAIMS_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="200", **extra)
    return env


def claims(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """`claims ARGS...` as a process (the installed entry point's code: claims.cli:main)."""
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=timeout, stdin=subprocess.DEVNULL)


def error_line(r: subprocess.CompletedProcess, code: int) -> str:
    """Assert the process failed with `code`, printed nothing on stdout and one line on stderr; return it."""
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert r.stdout == "", r.stdout
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def add_proposal(url: str, key: str = "C1", **fields: object) -> int:
    """A pending proposal on claim `key`, written to the database as the agent would."""
    from claims.models import Claim, Proposal
    from claims.store import open_store

    store = open_store(url)
    try:
        with store.write() as s:
            claim = s.scalar(select(Claim).where(Claim.key == key))
            fingerprint = hashlib.sha256(f"{key} {sorted(fields.items())}".encode()).hexdigest()
            defaults = {"kind": "status", "proposed_status": "contested", "rationale": "a newer paper contradicts it"}
            p = Proposal(claim_id=claim.id, inquiry_id=claim.inquiry_id, fingerprint=fingerprint, **(defaults | fields))
            s.add(p)
            s.flush()
            return p.id
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def bundled_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CLAIMS_HOME with the bundled document imported through the CLI (claims C1..C5)."""
    home = tmp_path_factory.mktemp("cli") / "home"
    r = claims("import", "--bundled", env=clean_env(home))
    assert r.returncode == 0, r.stderr
    return home


def db_url(home: Path) -> str:
    return f"sqlite:///{home / 'claims.db'}"
