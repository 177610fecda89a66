"""Reviewer tokens through the CLI, as processes: a typed name stops being enough."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from claims.models import AuditEntry, Claim, Proposal, ReviewerAccount

CLAIMS = [sys.executable, "-m", "claims"]


def claims(home: Path, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    env["CLAIMS_HOME"] = str(home)
    if token is not None:
        env["CLAIMS_REVIEWER_TOKEN"] = token
    return subprocess.run([*CLAIMS, *args], env=env, capture_output=True, text=True, timeout=60)


def pending(store, n: int = 2) -> list[int]:  # type: ignore[no-untyped-def]
    with store.write() as s:
        c1 = s.query(Claim).filter_by(key="C1").one()
        rows = [Proposal(claim_id=c1.id, inquiry_id=c1.inquiry_id, kind="status", proposed_status="contested",
                         rationale="test", fingerprint=f"rv-{i}") for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [p.id for p in rows]


def test_tokens_are_shown_once_stored_hashed_and_required(bundled_store, home) -> None:
    first, second = pending(bundled_store)
    assert claims(home, "review", "approve", str(first), "--as", "alice").returncode == 0  # no accounts: a name

    added = claims(home, "reviewers", "add", "alice")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) >= 40 and "shown once" in added.stderr
    with bundled_store.read() as s:
        stored = s.query(ReviewerAccount).one()
        assert stored.token_hash.startswith("sha256:") and token not in stored.token_hash
        assert s.query(AuditEntry).filter_by(entity="reviewer", action="add").count() == 1
    assert token not in claims(home, "reviewers", "list").stdout

    refused = claims(home, "review", "approve", str(second), "--as", "alice")
    assert refused.returncode == 2 and "needs alice's token" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert claims(home, "review", "reject", str(second), "--as", "alice", "--comment", "no",
                  token="wrong").returncode == 2
    ok = claims(home, "review", "reject", str(second), "--as", "alice", "--comment", "off topic", token=token)
    assert ok.returncode == 0, ok.stderr
    with bundled_store.read() as s:
        assert s.get(Proposal, second).state == "rejected"

    assert claims(home, "reviewers", "revoke", "alice").returncode == 0
    assert "revoked" in claims(home, "reviewers", "list").stdout
    assert claims(home, "reviewers", "revoke", "alice").returncode == 2  # nothing active to revoke


def test_ui_refuses_an_allow_list_without_authentication(bundled_store, home, tmp_path) -> None:
    env_home = {"CLAIMS_REVIEWERS": '["alice"]'}
    result = subprocess.run([*CLAIMS, "ui", "--port", "1"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")},
                                 "CLAIMS_HOME": str(home), "HOME": str(tmp_path), **env_home})
    assert result.returncode == 3
    assert "refusing to serve the review app" in result.stderr and "claims reviewers add" in result.stderr
