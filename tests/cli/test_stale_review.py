"""A stale proposal through the real `claims` process: listed and shown as stale, approve refused (exit 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from claims.models import Claim, Evidence, Paper
from claims.proposing import propose_for_claim_key
from claims.store import open_store
from tests.cli.conftest import claims, clean_env, db_url, error_line


def test_stale_after_a_reviewer_sets_another_stance(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(home)
    assert claims("import", "--bundled", env=env).returncode == 0
    store = open_store(db_url(home))
    try:
        with store.write() as s:
            c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
            s.add(Paper(arxiv_id="2601.00001", title="RL finds new paths", summary="...", published=dt.date(2026, 2, 1)))
            s.flush()
            e = Evidence(claim_id=c1.id, paper_id="2601.00001", relevance=0.8, rank=1, method="hybrid",
                         stance="contradicts", confidence=0.9, judged_by="judge")
            s.add(e)
            s.flush()
            eid = e.id
            [pid] = propose_for_claim_key(s, "C1")
    finally:
        store.dispose()

    shown = claims("review", "show", str(pid), env=env)
    assert shown.returncode == 0 and "state: pending" in shown.stdout and "1 confident contradiction" in shown.stdout

    r = claims("evidence", "set", str(eid), "--stance", "unrelated", "--as", "ann", env=env)
    assert r.returncode == 0, r.stderr

    listed = claims("review", "list", env=env)
    assert listed.returncode == 0 and "no pending proposals" in listed.stdout
    assert "1 stale proposal(s) (their evidence changed; they cannot be approved)" in listed.stdout
    stale = claims("review", "list", "--state", "stale", env=env).stdout
    assert f"#{pid:<5} C1    status    stale" in stale
    assert "STALE: a reviewer (ann) set arXiv:2601.00001" in stale and "nothing replaces it" in stale

    shown = claims("review", "show", str(pid), env=env).stdout
    assert "state: STALE" in shown and f"evidence {eid}: arXiv:2601.00001 unrelated, set by ann (rested on contradicts)" in shown

    line = error_line(claims("review", "approve", str(pid), "--as", "bob", env=env), 4)
    assert f"proposal {pid} is stale and cannot be approved as it stands" in line
    store = open_store(db_url(home))
    try:
        with store.read() as s:
            assert s.scalar(select(Claim.status).where(Claim.key == "C1")) == "unreviewed"  # nothing applied
    finally:
        store.dispose()
