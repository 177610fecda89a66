"""Shared fixtures: a real SQLite file per test, settings pointing at a temp home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claims.settings import Settings
from claims.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
DEMO_CORPUS = REPO / "claims" / "data" / "demo-corpus.jsonl"
BUNDLED_DOC = REPO / "claims" / "data" / "rl-prior-vs-optimizer.txt"
DEV_LABELS = REPO.parent / "shared" / "eval" / "dev" / "labels.jsonl"


def pytest_configure(config: pytest.Config) -> None:
    # Never reach a model hub, whatever a library defaults to.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CLAIMS_HOME; the environment is cleaned of other CLAIMS_ settings."""
    for key in list(os.environ):
        if key.startswith("CLAIMS_"):
            monkeypatch.delenv(key)
    h = tmp_path / "home"
    monkeypatch.setenv("CLAIMS_HOME", str(h))
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
