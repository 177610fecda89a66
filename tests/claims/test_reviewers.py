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

    revoked = claims(home, "reviewers", "revoke", "alice", token=token)
    assert revoked.returncode == 2 and "last active admin" in revoked.stderr  # nobody left to manage accounts
    assert "admin" in claims(home, "reviewers", "list").stdout


def test_only_an_admin_adds_rekeys_or_revokes_accounts(bundled_store, home) -> None:
    (proposal,) = pending(bundled_store, 1)
    admin = claims(home, "reviewers", "add", "alice").stdout.strip()  # the first account: no token, an admin

    minted = claims(home, "reviewers", "add", "alice", "--as", "mallory")  # the old way: refused
    assert minted.returncode == 2 and minted.stdout == ""
    for args, tok in ((("add", "mallory"), None), (("add", "mallory"), "guess"), (("add", "alice"), None),
                      (("revoke", "alice"), None), (("add", "mallory", "--role", "admin"), "guess")):
        refused = claims(home, "reviewers", *args, token=tok)
        assert refused.returncode == 2 and "needs an admin's token" in refused.stderr, (args, refused.stderr)
        assert refused.stdout == "" and "Traceback" not in refused.stderr

    bob = claims(home, "reviewers", "add", "bob", token=admin)
    assert bob.returncode == 0, bob.stderr
    bob_token = bob.stdout.strip()
    by_bob = claims(home, "reviewers", "add", "mallory", token=bob_token)  # a reviewer is no admin
    assert by_bob.returncode == 2 and "needs an admin's token" in by_bob.stderr
    assert claims(home, "reviewers", "add", "bob", "--role", "bogus", token=admin).returncode == 2

    assert claims(home, "reviewers", "revoke", "bob", token=admin).returncode == 0
    with bundled_store.read() as s:
        actions = [(e.actor, e.action, e.entity_id) for e in s.query(AuditEntry).filter_by(entity="reviewer")]
    assert ("alice", "add", "alice") in actions and ("alice", "revoke", "bob") in actions
    listed = claims(home, "reviewers", "list", "--format", "json").stdout
    assert '"role": "admin"' in listed and '"role": "reviewer"' in listed

    # accounts have existed: a decision still needs a token, never only a name
    refused = claims(home, "review", "approve", str(proposal), "--as", "bob", token=bob_token)
    assert refused.returncode == 2 and "token" in refused.stderr


def test_with_every_account_revoked_decisions_stay_refused_until_the_owner_recovers(bundled_store, home) -> None:
    from claims.models import ReviewerAccount, utcnow

    (proposal,) = pending(bundled_store, 1)
    claims(home, "reviewers", "add", "alice")
    with bundled_store.write() as s:  # a database from before roles: every account revoked
        for account in s.query(ReviewerAccount):
            account.revoked_at = utcnow()
    refused = claims(home, "review", "approve", str(proposal), "--as", "mallory")
    assert refused.returncode == 2 and "claims reviewers recover NAME" in refused.stderr
    recovered = claims(home, "reviewers", "recover", "carol")
    assert recovered.returncode == 0, recovered.stderr
    carol = recovered.stdout.strip()
    assert claims(home, "reviewers", "recover", "mallory").returncode == 2  # an admin exists again: no second way in
    ok = claims(home, "review", "approve", str(proposal), "--as", "carol", token=carol)
    assert ok.returncode == 0, ok.stderr
    with bundled_store.read() as s:
        assert s.query(AuditEntry).filter_by(entity="reviewer", action="recover_admin").count() == 1


def test_ui_refuses_an_allow_list_without_authentication(bundled_store, home, tmp_path) -> None:
    env_home = {"CLAIMS_REVIEWERS": '["alice"]'}
    result = subprocess.run([*CLAIMS, "ui", "--port", "1"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")},
                                 "CLAIMS_HOME": str(home), "HOME": str(tmp_path), **env_home})
    assert result.returncode == 3
    assert "refusing to serve the review app" in result.stderr and "claims reviewers add" in result.stderr
