"""The review app driven by Streamlit's AppTest against a seeded SQLite file."""

from __future__ import annotations

import html

import html as html_module
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from claims import review
from claims.models import AuditEntry, Claim, ClaimRevision, Proposal

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"

TIMEOUT = 30


def open_app(name: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    if name:
        at.text_input(key="reviewer_name_input").input(name).run()
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, key: str):  # type: ignore[no-untyped-def]
    return at.button(key=key)


def claim(store, key: str) -> Claim:  # type: ignore[no-untyped-def]
    with store.read() as s:
        return s.scalar(select(Claim).where(Claim.key == key))


def revisions(store, key: str) -> list[ClaimRevision]:  # type: ignore[no-untyped-def]
    with store.read() as s:
        c = s.scalar(select(Claim).where(Claim.key == key))
        return list(s.scalars(select(ClaimRevision).where(ClaimRevision.claim_id == c.id).order_by(ClaimRevision.revision)))


def proposal(store, pid: int) -> Proposal:  # type: ignore[no-untyped-def]
    with store.read() as s:
        return s.get(Proposal, pid)


def markdown_text(at: AppTest) -> str:
    """The markdown the pages sent, with character references decoded (as a browser shows it)."""
    return html_module.unescape("\n".join(m.value for m in at.markdown))


def test_overview_lists_claims_with_counts(review_store):
    store, _ = review_store
    at = open_app()
    df = at.dataframe[0].value
    assert list(df["key"]) == ["C1", "C2", "C3", "C4", "C5"]
    c1 = df[df["key"] == "C1"].iloc[0]
    assert (c1["new_contradicting"], c1["new_supporting"], c1["pending"], c1["retest"]) == (1, 1, 1, "consistent")
    assert df[df["key"] == "C3"].iloc[0]["pending"] == 2
    at.text_input(key="ov_search").input("C3").run()
    assert list(at.dataframe[0].value["key"]) == ["C3"]
    at.text_input(key="ov_search").input("").run()
    at.multiselect(key="ov_status").select("holds").run()
    assert "No claims match" in at.main.info[0].value


def test_claim_page_shows_evidence_runs_and_history(review_store):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = "C1"
    at.run()
    goto(at, "claim")
    html = markdown_text(at)
    assert "https://arxiv.org/abs/2601.00001" in html and "contradicts" in html
    assert "ProRL expands the reasoning boundary." in html and "with KL resets" in html
    assert html.index("2601.00001") < html.index("2601.00002")  # sorted by relevance
    assert "approved by <b>" in html or "approved by **" in html
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # pass@k, formats, entropy, sparsity
    assert "no data" not in " ".join(c.value for c in at.caption)


def test_approve_changes_claim_and_records_reviewer(review_store):
    store, ids = review_store
    at = goto(open_app("alice"), "review")
    button(at, f"p{ids['status']}_approve").click().run()
    assert "Approved proposal" in at.success[0].value
    c1 = claim(store, "C1")
    assert (c1.status, c1.revision) == ("contested", 2)
    last = revisions(store, "C1")[-1]
    assert (last.approved_by, last.proposal_id, last.status) == ("alice", ids["status"], "contested")
    assert proposal(store, ids["status"]).state == "approved"
    assert not any(b.key == f"p{ids['status']}_approve" for b in at.button)  # gone from the queue
    with store.read() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.actor == "alice", AuditEntry.action == "approve"))


def test_approve_with_edits_uses_the_edited_text(review_store):
    store, ids = review_store
    at = goto(open_app("alice"), "review")
    pid = ids["text"]
    at.text_area(key=f"p{pid}_text").input("Edited wording of the claim.").run()
    button(at, f"p{pid}_edit").click().run()
    c3 = claim(store, "C3")
    assert c3.text == "Edited wording of the claim." and c3.revision == 2
    assert revisions(store, "C3")[-1].approved_by == "alice"


def test_reject_needs_a_comment_and_leaves_the_claim(review_store):
    store, ids = review_store
    before = claim(store, "C3")
    at = goto(open_app("alice"), "review")
    pid = ids["text"]
    button(at, f"p{pid}_reject").click().run()
    assert "say why" in at.error[0].value
    assert proposal(store, pid).state == "pending"
    at.text_input(key=f"p{pid}_comment").input("Too strong a hedge.").run()
    button(at, f"p{pid}_reject").click().run()
    p = proposal(store, pid)
    assert (p.state, p.reviewer, p.comment) == ("rejected", "alice", "Too strong a hedge.")
    after = claim(store, "C3")
    assert (after.text, after.status, after.revision) == (before.text, before.status, before.revision)
    assert len(revisions(store, "C3")) == 1


def test_concurrent_decision_shows_message_and_fresh_state(review_store):
    store, ids = review_store
    pid = ids["status"]
    before = claim(store, "C1")
    at = goto(open_app("alice"), "review")
    assert any(b.key == f"p{pid}_approve" for b in at.button)
    with store.write() as s:  # another reviewer wins between render and click
        review.reject(s, pid, "bob", "not convinced")
    button(at, f"p{pid}_approve").click().run()
    message = html.unescape(at.main.warning[0].value).replace("\u200b", "")  # as a browser shows it
    assert f"#{pid}" in message and "already rejected by bob" in message
    assert not any(b.key == f"p{pid}_approve" for b in at.button)
    c1 = claim(store, "C1")
    assert (c1.status, c1.revision) == (before.status, 1)
    assert proposal(store, pid).reviewer == "bob"


def test_visitor_without_a_name_cannot_decide(review_store):
    at = goto(open_app(), "review")
    assert not [b for b in at.button if b.key and b.key.endswith(("_approve", "_reject", "_edit"))]
    assert any("Read-only" in i.value for i in at.info)
    assert any("No authentication (single user on localhost)" in w.value for w in at.sidebar.warning)


def test_allow_list_without_authentication_is_refused(review_store, monkeypatch):
    monkeypatch.setenv("CLAIMS_REVIEWERS", json.dumps(["carol"]))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert any("Refusing to serve the review app" in e.value and "claims reviewers add" in e.value for e in at.error)
    assert not at.text_input  # no name box: a typed name would prove nothing
    assert not [b for b in at.button if b.key and b.key.endswith("_approve")]


def sign_in(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="reviewer_token_input").input(token).run()
    return goto(at, "review")


def approve_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.key and b.key.endswith("_approve")]


def test_reviewer_tokens_gate_the_decide_buttons(review_store, monkeypatch):
    from claims.reviewers import add_reviewer, revoke_reviewer

    store, ids = review_store
    monkeypatch.setenv("CLAIMS_REVIEWERS", json.dumps(["carol"]))
    with store.write() as s:
        carol = add_reviewer(s, "carol")
        dave = add_reviewer(s, "dave", token=carol, role="admin")
    at = goto(open_app(), "review")
    assert not [t for t in at.text_input if t.key == "reviewer_name_input"]  # no typed names
    assert not approve_buttons(at)
    at = sign_in("carol")  # a name is not a token
    assert not approve_buttons(at) and any("not valid" in e.value for e in at.sidebar.error)
    assert not approve_buttons(sign_in(dave))  # a valid token, but dave is not on the allow-list
    at = sign_in(carol)
    assert approve_buttons(at) and any("carol" in c.value for c in at.sidebar.caption)
    at.button(key=f"p{ids['other']}_approve").click().run()
    assert proposal(store, ids["other"]).state == "approved" and proposal(store, ids["other"]).reviewer == "carol"
    with store.write() as s:
        revoke_reviewer(s, "carol", token=dave)
    at.run()
    assert not approve_buttons(at)


def test_review_service_refuses_a_decision_without_the_token(review_store):
    from claims.errors import NotAllowed
    from claims.reviewers import add_reviewer

    store, ids = review_store
    with store.write() as s:
        carol = add_reviewer(s, "carol")
        dave = add_reviewer(s, "dave", token=carol)
    for name, token in (("carol", None), ("carol", "guess"), ("carol", dave), ("mallory", carol)):
        with pytest.raises(NotAllowed):
            with store.write() as s:
                review.approve(s, ids["status"], name, token=token)
    assert proposal(store, ids["status"]).state == "pending"
    with store.write() as s:
        review.approve(s, ids["status"], "carol", token=carol)
    assert proposal(store, ids["status"]).reviewer == "carol"


def test_oidc_login_gives_the_identity(review_store):
    store, ids = review_store
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x",
                          "client_id": "id", "client_secret": "s",
                          "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"}
    at.user = {"is_logged_in": False}
    at.run()
    goto(at, "review")
    assert not [b for b in at.button if b.key and b.key.endswith("_approve")]
    assert not at.sidebar.warning  # no "without authentication" notice when login is configured
    at.user = {"is_logged_in": True, "email": "dana@example.org"}
    at.run()
    button(at, f"p{ids['other']}_approve").click().run()
    assert revisions(store, "C3")[-1].approved_by == "dana@example.org"


def test_retests_and_export_pages_render(review_store):
    store, _ = review_store
    at = goto(open_app(), "retests")
    df = at.dataframe[0].value
    assert list(df["verdict"]) == ["consistent"] and df["duration_s"].iloc[0] == 52
    assert len(at.get("vega_lite_chart")) == 4
    at = goto(at, "export")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download Markdown", "Download JSON"]
    source = "\n".join(c.value for c in at.code)  # shown as source, never rendered
    assert claim(store, "C1").text[:60] in source and not markdown_text(at).count(claim(store, "C1").text[:60])


def test_uninitialised_database_says_what_to_run(db_url):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert "claims import --bundled" in at.error[0].value


def test_reviewer_confirms_and_sets_stances_on_the_claim_page(review_store):
    from claims.models import Evidence

    store, _ = review_store
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = "C1"
    at.run()
    at.text_input(key="reviewer_name_input").input("erin").run()
    goto(at, "claim")
    shown = markdown_text(at)
    assert "Machine suggestion" in shown and "not confirmed by a reviewer" in shown
    with store.read() as s:
        contra = s.query(Evidence).filter_by(paper_id="2601.00001").one().id
        supp = s.query(Evidence).filter_by(paper_id="2601.00002").one().id
    at.button(key=f"ev{contra}_confirm").click().run()
    at.selectbox(key=f"ev{supp}_stance").select("refines").run()
    at.button(key=f"ev{supp}_set").click().run()
    assert not at.exception
    with store.read() as s:
        a, b = s.get(Evidence, contra), s.get(Evidence, supp)
        assert (a.stance, a.stance_reviewed_by) == ("contradicts", "erin")
        assert (b.stance, b.stance_reviewed_by) == ("refines", "erin")
    assert "Stance reviewed by erin" in markdown_text(at)
    assert not [b for b in at.button if b.key == f"ev{contra}_confirm"]  # confirmed once


def test_visitor_without_a_name_gets_no_stance_controls(review_store):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["claim"] = "C1"
    at.run()
    goto(at, "claim")
    assert not [b for b in at.button if b.key and b.key.startswith("ev")]
