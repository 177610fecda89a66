"""The review service: approvals write revisions, rejections do not, one decision wins."""

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from claims.errors import AlreadyDecided, BadInput, NotAllowed
from claims.importer import import_bundled
from claims.models import CLAIM_STATUSES, AuditEntry, Claim, ClaimRevision, Proposal
from claims.review import ClaimState, approve, reject, resolve_change


def add_proposal(store, key="C1", **fields):
    with store.write() as s:
        claim = s.scalar(select(Claim).where(Claim.key == key))
        p = Proposal(claim_id=claim.id, inquiry_id=claim.inquiry_id, fingerprint=f"fp-{key}-{fields}", rationale="test",
                     **({"kind": "status", "proposed_status": "contested"} | fields))
        s.add(p)
        s.flush()
        return p.id


def claim(store, key="C1"):
    with store.read() as s:
        return s.scalar(select(Claim).where(Claim.key == key))


def revisions(store, key="C1"):
    with store.read() as s:
        c = s.scalar(select(Claim).where(Claim.key == key))
        return s.scalar(select(func.count()).select_from(ClaimRevision).where(ClaimRevision.claim_id == c.id))


def test_approve_changes_claim_and_writes_revision_and_audit(any_store):
    import_bundled(any_store)
    pid = add_proposal(any_store)
    with any_store.write() as s:
        approve(s, pid, "alice", "read the paper")
    c = claim(any_store)
    assert (c.status, c.revision) == ("contested", 2)
    with any_store.read() as s:
        rev = s.scalar(select(ClaimRevision).where(ClaimRevision.claim_id == c.id, ClaimRevision.revision == 2))
        assert (rev.approved_by, rev.proposal_id, rev.status) == ("alice", pid, "contested")
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "alice")) >= 2


def test_reject_changes_nothing_but_the_proposal(any_store):
    import_bundled(any_store)
    pid = add_proposal(any_store)
    with pytest.raises(BadInput, match="comment"):
        with any_store.write() as s:
            reject(s, pid, "bob", "")
    with any_store.write() as s:
        reject(s, pid, "bob", "different setting")
    c = claim(any_store)
    assert (c.status, c.revision) == ("unreviewed", 1) and revisions(any_store) == 1
    with any_store.read() as s:
        p = s.get(Proposal, pid)
        assert (p.state, p.reviewer, p.comment) == ("rejected", "bob", "different setting")


def test_a_proposal_is_decided_once(any_store):
    import_bundled(any_store)
    pid = add_proposal(any_store)
    with any_store.write() as s:
        approve(s, pid, "alice")
    with pytest.raises(AlreadyDecided, match="already approved by alice"):
        with any_store.write() as s:
            reject(s, pid, "bob", "no")
    assert revisions(any_store) == 2


def test_approve_with_edits_and_text_proposals(store):
    import_bundled(store)
    pid = add_proposal(store, "C2", kind="text", proposed_text="RL updates few parameters.", payload={"as_of": "2025-06"})
    with store.write() as s:
        approve(s, pid, "carol", edits={"text": "RL updates 5-30% of parameters (edited)."})
    c = claim(store, "C2")
    assert (c.text, c.as_of, c.as_of_precision, c.revision) == ("RL updates 5-30% of parameters (edited).", "2025-06", "month", 2)


def test_allow_list_and_empty_names_are_refused(store):
    import_bundled(store)
    pid = add_proposal(store)
    for name, allowed in (("mallory", ["alice"]), ("  ", None)):
        with pytest.raises(NotAllowed):
            with store.write() as s:
                approve(s, pid, name, allowed_reviewers=allowed)
    assert claim(store).revision == 1


RACE = textwrap.dedent("""
    import sys, time
    from claims.store import open_store
    from claims.review import approve
    from claims.errors import AlreadyDecided
    store = open_store(sys.argv[1], migrate=False)
    while time.time() < float(sys.argv[3]):
        time.sleep(0.001)
    try:
        with store.write() as s:
            approve(s, int(sys.argv[2]), "reviewer-" + sys.argv[4])
        print("won")
    except AlreadyDecided as e:
        print("lost:", e)
""")


def test_two_processes_approving_the_same_proposal_write_one_revision(any_store, tmp_path):
    import time

    import_bundled(any_store)
    pid = add_proposal(any_store)
    script = tmp_path / "race.py"
    script.write_text(RACE)
    go = str(time.time() + 2.0)
    procs = [subprocess.Popen([sys.executable, str(script), any_store.url, str(pid), go, str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    results = sorted(o[0].split(":")[0].strip() for o in outs)
    assert results == ["lost", "won"], outs
    assert revisions(any_store) == 2


LOOP = textwrap.dedent("""
    import sys
    from sqlalchemy import select
    from claims.store import open_store
    from claims.models import Claim
    store = open_store(sys.argv[1], migrate=False)
    for _ in range(int(sys.argv[2])):
        with store.write() as s:
            c = s.scalar(select(Claim).where(Claim.key == "C1"))
            c.revision = c.revision + 1
""")


def test_two_writer_processes_lose_no_update(store, tmp_path):
    import_bundled(store)
    script = tmp_path / "loop.py"
    script.write_text(LOOP)
    n = 150
    procs = [subprocess.Popen([sys.executable, str(script), store.url, str(n)], stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert claim(store).revision == 1 + 2 * n


states = st.builds(ClaimState, text=st.text(min_size=1).filter(str.strip), as_of=st.sampled_from(["~2025", "2025-05", "~2024-2025"]),
                   status=st.sampled_from(CLAIM_STATUSES), revision=st.integers(1, 50))


@given(states, st.sampled_from(CLAIM_STATUSES))
def test_status_approval_sets_status_and_bumps_revision_once(current, status):
    nxt = resolve_change("status", current, None, status)
    if status == current.status:
        assert nxt is None
    else:
        assert (nxt.status, nxt.revision, nxt.text) == (status, current.revision + 1, current.text)


@given(states, st.text(min_size=1).filter(str.strip), st.one_of(st.none(), st.sampled_from(CLAIM_STATUSES)))
def test_edits_override_the_proposal(current, edited_text, edited_status):
    nxt = resolve_change("text", current, "proposed wording", None, edits={"text": edited_text, "status": edited_status})
    expected_status = edited_status or current.status
    if nxt is not None:
        assert nxt.text == edited_text.strip() and nxt.status == expected_status
        assert nxt.revision == current.revision + 1


@given(states, st.text().filter(lambda s: s not in CLAIM_STATUSES and s != ""))
def test_unknown_statuses_are_refused(current, status):
    with pytest.raises(BadInput):
        resolve_change("status", current, None, status)
