"""Your own claims: `claims add`, `claims edit`, `claims protocol` (library and command)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from claims.authoring import NewClaim, add_claim, propose_edit, set_protocol
from claims.errors import BadInput, Conflict, NotAllowed
from claims.models import AuditEntry, Claim, ClaimRevision, Inquiry, Proposal
from claims.protocols import bundled_hints, protocol_catalog
from claims.reviewers import add_reviewer

REPO = Path(__file__).resolve().parents[2]


def claims(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")} | {"CLAIMS_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120, stdin=subprocess.DEVNULL)


def count(store, model) -> int:
    with store.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_protocol_hints_have_one_source_the_retest_specs():
    from retest.protocols import PROTOCOLS

    first: dict[str, str] = {}
    for name, spec in PROTOCOLS.items():  # several protocols may name one claim: the first is its default
        first.setdefault(spec.claim_hint, name)
    assert bundled_hints() == first and set(first) == {"C1", "C2", "C3", "C4", "C5"}
    assert set(protocol_catalog()) == set(PROTOCOLS)
    assert not (REPO / "claims" / "data" / "bundled-protocols.json").exists()


def test_add_creates_an_inquiry_and_a_claim_with_an_audited_first_revision(bundled_store):
    with bundled_store.write() as s:
        added = add_claim(s, NewClaim("RL mostly reweights what the base model samples", "2025-06", "mine",
                                      question="Does RL add skills?", protocol="passk-boundary",
                                      anchors=("2504.07912 Does RL really incentivize reasoning?",)), "alice")
    assert (added.key, added.inquiry_created, added.protocol, added.anchors) == ("C6", True, "passk-boundary", ["2504.07912"])
    with bundled_store.read() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C6"))
        assert (claim.as_of, claim.as_of_precision, claim.protocol, claim.inquiry.slug) == ("2025-06", "month", "passk-boundary", "mine")
        rev = s.scalar(select(ClaimRevision).where(ClaimRevision.claim_id == claim.id))
        assert (rev.revision, rev.approved_by) == (1, "alice")
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "add"))
        assert (entry.actor, entry.entity_id) == ("alice", "C6")
        assert [a.cited_date for a in claim.inquiry.anchors] == ["2025-04"]


@pytest.mark.parametrize("new, fragment", [
    (NewClaim("RL sharpens the prior", "2099-01", "mine", question="Q?"), "after today"),
    (NewClaim("RL sharpens the prior", "2025-13", "mine", question="Q?"), "month 13"),
    (NewClaim("RL sharpens\x1b[2J the prior", "2025", "mine", question="Q?"), "U+001B"),
    (NewClaim("RL sharpens \u202ethe prior", "2025", "mine", question="Q?"), "U+202E"),
    (NewClaim("   ", "2025", "mine", question="Q?"), "empty"),
    (NewClaim("RL sharpens the prior", "2025", "nope"), "give --question"),
    (NewClaim("RL sharpens the prior", "2025", "mine", question="Q?", key="C1"), "is taken"),
    (NewClaim("RL sharpens the prior", "2025", "mine", question="Q?", key="1 bad"), "claim key"),
    (NewClaim("RL sharpens the prior", "2025", "mine", question="Q?", protocol="no-such"), "unknown protocol"),
    (NewClaim("RL sharpens the prior", "2025", "mine", question="Q?", anchors=("not-an-id",)), "arXiv id"),
])
def test_add_refuses_bad_input_and_writes_nothing(bundled_store, new, fragment):
    before = (count(bundled_store, Claim), count(bundled_store, Inquiry), count(bundled_store, AuditEntry))
    with pytest.raises(BadInput, match=fragment.replace("[", r"\[").replace("+", r"\+")):
        with bundled_store.write() as s:
            add_claim(s, new, "alice", today=dt.date(2026, 1, 1))
    assert (count(bundled_store, Claim), count(bundled_store, Inquiry), count(bundled_store, AuditEntry)) == before


def test_add_refuses_the_same_claim_twice_whatever_the_case_and_spacing(bundled_store):
    with bundled_store.read() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        slug, text = c1.inquiry.slug, c1.text
    with pytest.raises(BadInput, match="already C1"):
        with bundled_store.write() as s:
            add_claim(s, NewClaim("  " + text.upper().replace(" ", "  "), "2025", slug), "alice")


def test_add_needs_the_reviewer_token_once_accounts_exist(bundled_store):
    with bundled_store.write() as s:
        token = add_reviewer(s, "alice")
    with pytest.raises(NotAllowed):
        with bundled_store.write() as s:
            add_claim(s, NewClaim("RL sharpens the prior", "2025", "mine", question="Q?"), "alice", token="wrong")
    with bundled_store.write() as s:
        assert add_claim(s, NewClaim("RL sharpens the prior", "2025", "mine", question="Q?"), "alice", token=token).key == "C6"


def test_edit_writes_a_pending_proposal_and_changes_nothing_until_approved(bundled_store):
    with bundled_store.write() as s:
        r = propose_edit(s, "C2", "bob", status="contested", as_of="2025-03", comment="a newer paper")
    assert not r.approved
    with bundled_store.read() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C2"))
        p = s.get(Proposal, r.proposal_id)
        assert (claim.status, claim.as_of, claim.revision) == ("unreviewed", "~2025", 1)
        assert (p.state, p.kind, p.proposed_status, p.payload, p.created_by) == ("pending", "text", "contested", {"as_of": "2025-03"}, "bob")
    with pytest.raises(Conflict):
        with bundled_store.write() as s:
            propose_edit(s, "C2", "bob", status="contested", as_of="2025-03")
    with pytest.raises(BadInput, match="nothing to change"):
        with bundled_store.write() as s:
            propose_edit(s, "C2", "bob", status="unreviewed")


def test_edit_with_approve_applies_it_through_the_review_service(bundled_store):
    with bundled_store.write() as s:
        r = propose_edit(s, "C3", "alice", text="Format collapse within one epoch", approve=True)
    assert (r.approved, r.revision) == (True, 2)
    with bundled_store.read() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C3"))
        assert claim.text == "Format collapse within one epoch"
        assert [(v.revision, v.approved_by) for v in claim.revisions] == [(1, "import"), (2, "alice")]
        assert s.get(Proposal, r.proposal_id).state == "approved"
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "alice")))
        assert {"propose", "approve", "revise", "edit_approved_at_once"} <= actions


def test_edit_approve_is_refused_to_someone_off_the_allow_list_and_writes_nothing(bundled_store):
    with pytest.raises(NotAllowed):
        with bundled_store.write() as s:
            propose_edit(s, "C3", "mallory", text="Something else", approve=True, allowed_reviewers=["alice"])
    assert count(bundled_store, Proposal) == 0


def test_protocol_attach_and_detach_are_audited(bundled_store):
    with bundled_store.write() as s:
        r = set_protocol(s, "C4", "update-sparsity", "alice")
    # C4's default is the first of its two protocols; both stay suggestions
    assert (r.before, r.after, r.suggested) == ("label-free-search", "update-sparsity",
                                                 ["entropy-schedule", "label-free-search"])
    with bundled_store.write() as s:
        r = set_protocol(s, "C1", None, "alice")
    assert (r.before, r.after, r.suggested) == ("passk-boundary", None, ["passk-boundary"])
    with bundled_store.read() as s:
        assert {c.key: c.protocol for c in s.scalars(select(Claim))}["C4"] == "update-sparsity"
        assert s.scalar(select(Claim.protocol).where(Claim.key == "C1")) is None
        assert sorted(s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "claim"))) == ["attach_protocol", "detach_protocol"]
    with pytest.raises(BadInput, match="unknown protocol"):
        with bundled_store.write() as s:
            set_protocol(s, "C4", "nope", "alice")


def test_the_commands_end_to_end(tmp_path):
    home = tmp_path / "home"
    assert claims("import", "--bundled", home=home).returncode == 0
    r = claims("add", "RL mostly reweights what the base model samples", "--as-of", "2025-06", "--inquiry", "mine",
               "--question", "Does RL add skills?", "--protocol", "format-collapse", "--as", "alice", home=home)
    assert r.returncode == 0, r.stderr
    assert "added C6" in r.stdout
    listed = {c["key"]: c for c in json.loads(claims("list", "--format", "json", home=home).stdout)}
    assert (listed["C6"]["as_of"], listed["C6"]["protocol"], listed["C6"]["inquiry"]) == ("2025-06", "format-collapse", "mine")
    shown = json.loads(claims("show", "C6", "--format", "json", home=home).stdout)
    assert [(v["revision"], v["approved_by"]) for v in shown["revisions"]] == [(1, "alice")]
    assert "r1" in claims("show", "C6", home=home).stdout and "by alice" in claims("show", "C6", home=home).stdout

    bad = claims("add", "Another", "--as-of", "2025-02-30", "--inquiry", "mine", "--as", "alice", home=home)
    assert bad.returncode == 2 and bad.stderr.startswith("error: as-of date") and bad.stdout == ""
    dup = claims("add", "rl mostly reweights what the base model samples", "--as-of", "2025", "--inquiry", "mine",
                 "--as", "alice", home=home)
    assert dup.returncode == 2 and "already C6" in dup.stderr

    r = claims("edit", "C6", "--status", "contested", "--as", "bob", "--comment", "see 2506.01234", home=home)
    assert r.returncode == 0 and "pending review" in r.stdout
    assert json.loads(claims("show", "C6", "--format", "json", home=home).stdout)["status"] == "unreviewed"
    again = claims("edit", "C6", "--status", "contested", "--as", "bob", home=home)
    assert again.returncode == 4
    r = claims("edit", "C6", "--as-of", "2025-07", "--as", "alice", "--approve", home=home)
    assert r.returncode == 0 and "revision 2" in r.stdout

    r = claims("protocol", "attach", "C6", "passk-boundary", "--as", "alice", home=home)
    assert r.returncode == 0 and "format-collapse -> passk-boundary" in r.stdout
    r = claims("protocol", "attach", "C2", "passk-boundary", "--as", "alice", home=home)
    assert "suggested for C2 by the protocols themselves: update-sparsity" in r.stdout
    assert claims("protocol", "attach", "C6", "nope", "--as", "alice", home=home).returncode == 2
    hints = {p["name"]: p["claim_hint"] for p in json.loads(claims("protocol", "list", "--format", "json", home=home).stdout)}
    assert hints == {"passk-boundary": "C1", "update-sparsity": "C2", "format-collapse": "C3",
                     "label-free-search": "C4", "entropy-schedule": "C4",
                     "hard-samples": "C5", "calibration": "C5", "prior-corruption": "C5"}
