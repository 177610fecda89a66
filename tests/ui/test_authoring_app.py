"""The review app's Add claim page and the protocol picker on the claim page (Streamlit AppTest)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from claims.models import AuditEntry, Claim, ClaimRevision

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
TIMEOUT = 30


def signed_in(name: str | None, claim: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if claim:
        at.query_params["claim"] = claim
    at.run()
    if name:
        at.text_input(key="reviewer_name_input").input(name).run()
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_reviewer_adds_a_claim_to_a_new_inquiry(bundled_store):
    at = goto(signed_in("erin"), "add")
    at.text_area(key="add_text").input("RL mostly reweights what the base model samples")
    at.text_input(key="add_as_of").input("2025-06")
    at.selectbox(key="add_inquiry").select("+ a new inquiry").run()
    at.text_input(key="add_slug").input("mine")
    at.text_input(key="add_question").input("Does RL add skills?")
    at.selectbox(key="add_protocol").select("update-sparsity")
    at.text_area(key="add_anchors").input("2504.07912 Does RL really incentivize reasoning?")
    at.button(key="add_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Added C6 to mine" in s.value for s in at.success)
    with bundled_store.read() as s:
        c6 = s.scalar(select(Claim).where(Claim.key == "C6"))
        assert (c6.as_of, c6.protocol, c6.inquiry.slug) == ("2025-06", "update-sparsity", "mine")
        assert s.scalar(select(ClaimRevision.approved_by).where(ClaimRevision.claim_id == c6.id)) == "erin"


def test_a_bad_date_is_an_error_and_adds_nothing(bundled_store):
    at = goto(signed_in("erin"), "add")
    at.text_area(key="add_text").input("Another finding")
    at.text_input(key="add_as_of").input("2099")
    at.button(key="add_submit").click().run()
    assert any("after today" in e.value for e in at.error)
    with bundled_store.read() as s:
        assert len(s.scalars(select(Claim)).all()) == 5


def test_a_visitor_without_a_name_gets_no_form(bundled_store):
    at = goto(signed_in(None), "add")
    assert not [b for b in at.button if b.key == "add_submit"]


def test_the_protocol_picker_attaches_and_detaches(bundled_store):
    with bundled_store.write() as s:
        s.scalar(select(Claim).where(Claim.key == "C4")).protocol = None
    at = goto(signed_in("erin", claim="C4"), "claim")
    assert any("Retest protocol: **none**" in c.value for c in at.caption)
    at.selectbox(key="protocol_C4").select("passk-boundary").run()
    at.button(key="protocol_C4_set").click().run()
    assert not at.exception
    with bundled_store.read() as s:
        assert s.scalar(select(Claim.protocol).where(Claim.key == "C4")) == "passk-boundary"
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "attach_protocol")) == "erin"
    at.selectbox(key="protocol_C4").select("(none)").run()
    at.button(key="protocol_C4_set").click().run()
    with bundled_store.read() as s:
        assert s.scalar(select(Claim.protocol).where(Claim.key == "C4")) is None


def test_the_claim_page_shows_the_protocols_suggestion_and_no_picker_to_visitors(bundled_store):
    with bundled_store.write() as s:
        s.scalar(select(Claim).where(Claim.key == "C2")).protocol = None
    at = goto(signed_in(None, claim="C2"), "claim")
    assert any("suggested by the protocols: update-sparsity" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "protocol_C2_set"]
