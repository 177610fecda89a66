"""Shared fixtures: a real SQLite file per test, settings pointing at a temp home."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from claims.settings import Settings
from claims.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
DEMO_CORPUS = REPO / "claims" / "data" / "demo-corpus.jsonl"
BUNDLED_DOC = REPO / "claims" / "data" / "rl-prior-vs-optimizer.txt"
DEV_LABELS = REPO.parent / "shared" / "eval" / "dev" / "labels.jsonl"


def unshipped_corpus(folder: Path) -> Path:
    """The demo corpus with every abstract changed by a word: its vectors are not shipped, so a run embeds them
    all (a long phase, for tests that interrupt one; `agent.embeddings.from_shipped`)."""
    import json

    rows = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]
    path = folder / "unshipped-corpus.jsonl"
    path.write_text("".join(json.dumps({**r, "summary": f"{r.get('summary') or ''} Unshipped."}) + "\n" for r in rows))
    return path


def pytest_configure(config: pytest.Config) -> None:
    # Never reach a model hub, whatever a library defaults to.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("CLAIMS_S2_CITATIONS", "false")  # never the public Semantic Scholar API
    # The Ctrl-C tests send SIGINT to the commands they start. A run launched in the background
    # of a non-interactive shell inherits SIGINT ignored, and an ignored signal stays ignored
    # across exec; a handled one is reset to the default, so the children get Python's Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Retest blocks are built in order in tests (one worker: no pool of spawned processes per
    # test process); tests/retest/test_parallel.py sets 2 and checks the side-by-side builds.
    os.environ.setdefault("CLAIMS_RETEST_WORKERS", "1")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CLAIMS_HOME; the environment is cleaned of other CLAIMS_ settings."""
    for key in list(os.environ):
        if key.startswith("CLAIMS_") and not key.startswith("CLAIMS_TEST_") and key != "CLAIMS_RETEST_WORKERS":
            monkeypatch.delenv(key)
    h = tmp_path / "home"
    monkeypatch.setenv("CLAIMS_HOME", str(h))
    monkeypatch.setenv("CLAIMS_S2_CITATIONS", "false")  # tests that want citations point them at a loopback server
    return h


@pytest.fixture
def db_url(home: Path) -> str:
    return f"sqlite:///{home / 'claims.db'}"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings()


@pytest.fixture
def store(db_url: str) -> Store:
    """An initialised (migrated) empty SQLite store."""
    s = open_store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def bundled_store(store: Store) -> Store:
    """A store with the bundled document imported (claims C1..C5)."""
    from claims.importer import import_bundled

    import_bundled(store)
    return store


def _postgres_store(admin_url: str) -> Store:
    """A fresh database on the PostgreSQL server at `admin_url`, migrated."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"claims_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return open_store(make_url(admin_url).set(database=name).render_as_string(hide_password=False))


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, db_url: str) -> Store:
    """The same store tests on SQLite and, where CLAIMS_TEST_POSTGRES_URL is set, PostgreSQL."""
    if request.param == "sqlite":
        s = open_store(db_url)
    else:
        url = os.environ.get("CLAIMS_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("PostgreSQL store tests need CLAIMS_TEST_POSTGRES_URL (set by .ci/run)")
        s = _postgres_store(url)
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One retest cache for the whole run: the smoke base model and the GRPO runs the protocols
    share are built once and reused by every smoke-preset test, as the weekly job reuses them."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return tmp_path_factory.mktemp("smoke-cache")
