"""The core commands as a user runs them: init, info, export, review approve/reject.

Each runs `claims` as a process on a real SQLite file and checks what the user sees
(exit code, the printed line) and what the database holds afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from claims import __version__
from tests.cli.conftest import add_proposal, claims, clean_env, db_url, error_line


def rows(home: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(home / "claims.db") as con:
        return con.execute(sql, params).fetchall()


def claim_row(home: Path, key: str) -> tuple:
    """(status, revision, text) of a claim, read from the SQLite file."""
    return rows(home, "SELECT status, revision, text FROM claims WHERE key = ?", key)[0]


def test_init_creates_the_database_and_a_second_init_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(home)
    first = claims("init", env=env)
    assert first.returncode == 0, first.stderr
    assert "schema empty -> " in first.stdout and (home / "claims.db").is_file()
    head = first.stdout.rsplit("-> ", 1)[1].strip()
    second = claims("init", env=env)
    assert second.returncode == 0, second.stderr
    assert f"schema {head} -> {head}" in second.stdout
    assert rows(home, "SELECT version_num FROM alembic_version") == [(head,)]


def test_info_says_where_the_data_lives_and_what_it_holds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(home)
    empty = claims("info", env=env)
    assert empty.returncode == 0, empty.stderr
    assert "not initialised yet: run `claims init`" in empty.stdout
    assert claims("import", "--bundled", env=env).returncode == 0
    data = json.loads(claims("info", "--format", "json", env=env).stdout)
    assert data["version"] == __version__ and data["home"] == str(home)
    assert data["database_url"] == db_url(home) and data["schema"]
    assert (data["inquiries"], data["claims"], data["papers"], data["pending_proposals"]) == (1, 5, 0, 0)
    table = claims("info", env=env)
    assert table.returncode == 0 and f"home               {home}\n" in table.stdout
    assert "claims             5\n" in table.stdout and "llm_base_url       -\n" in table.stdout


def test_export_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(home)
    assert claims("import", "--bundled", env=env).returncode == 0
    failed = claims("export", "-o", str(tmp_path / "missing" / "prompt.md"), env=env)
    error_line(failed, 2)
    assert rows(home, "SELECT count(*) FROM exports") == [(0,)]  # a refused export records nothing

    out = claims("export", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Research prompt: Does the pretrained model prior limit RL search capability")
    assert "RL updates only 5–30% of parameters" in out.stdout and "arXiv:2504.07912" in out.stdout
    assert rows(home, "SELECT count(*) FROM exports") == [(1,)]

    target = tmp_path / "prompt.md"
    to_file = claims("export", "-o", str(target), env=env)
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == "" and to_file.stderr == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == out.stdout

    as_json = claims("export", "--format", "json", "-o", str(tmp_path / "prompt.json"), env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads((tmp_path / "prompt.json").read_text(encoding="utf-8"))
    assert [a["id"] for a in data["anchors"]][:2] == ["2504.07912", "2505.11711"]


@pytest.fixture(scope="module")
def proposals(bundled_home: Path) -> dict[str, int]:
    """Pending proposals: C1 -> contested, C3 -> weakened, a new wording for C4."""
    url = db_url(bundled_home)
    return {"C1": add_proposal(url, "C1"), "C3": add_proposal(url, "C3", proposed_status="weakened"),
            "C4": add_proposal(url, "C4", kind="text", proposed_status=None, proposed_text="C4, reworded")}


def test_approve_writes_a_revision_and_deciding_again_is_a_conflict(bundled_home: Path, proposals) -> None:
    env = clean_env(bundled_home)
    pid = proposals["C1"]
    r = claims("review", "approve", str(pid), "--as", "alice", "--comment", "read the paper", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"approved proposal {pid} (C1) as alice\n"
    assert claim_row(bundled_home, "C1")[:2] == ("contested", 2)
    assert rows(bundled_home, "SELECT state, reviewer FROM proposals WHERE id = ?", pid) == [("approved", "alice")]

    for again in (["approve", str(pid), "--as", "bob"], ["reject", str(pid), "--as", "bob", "--comment", "no"]):
        line = error_line(claims("review", *again, env=env), 4)
        assert f"proposal {pid}" in line and "already" in line
    assert claim_row(bundled_home, "C1")[:2] == ("contested", 2)  # the losing decision changed nothing
    listed = json.loads(claims("review", "list", "--state", "approved", "--format", "json", env=env).stdout)
    assert [p["id"] for p in listed] == [pid]


def test_reject_keeps_the_claim_and_a_rejected_proposal_cannot_be_approved(bundled_home: Path, proposals) -> None:
    env = clean_env(bundled_home)
    pid = proposals["C3"]
    empty = claims("review", "reject", str(pid), "--as", "bob", "--comment", " ", env=env)
    assert "needs a comment" in error_line(empty, 2)
    r = claims("review", "reject", str(pid), "--as", "bob", "--comment", "a different setting", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"rejected proposal {pid} as bob\n"
    assert claim_row(bundled_home, "C3")[:2] == ("unreviewed", 1)
    error_line(claims("review", "approve", str(pid), "--as", "alice", env=env), 4)
    assert rows(bundled_home, "SELECT state, reviewer, comment FROM proposals WHERE id = ?", pid) == [
        ("rejected", "bob", "a different setting")]


def test_approve_with_an_edit_and_a_bad_status(bundled_home: Path, proposals) -> None:
    env = clean_env(bundled_home)
    pid = proposals["C4"]
    bad = claims("review", "approve", str(pid), "--as", "alice", "--status", "bogus", env=env)
    assert "'bogus' is not one of 'unreviewed'" in error_line(bad, 2)
    r = claims("review", "approve", str(pid), "--as", "alice", "--text", "C4, as edited by alice", env=env)
    assert r.returncode == 0, r.stderr
    assert claim_row(bundled_home, "C4")[1:] == (2, "C4, as edited by alice")
