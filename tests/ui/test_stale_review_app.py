"""The review app shows stale proposals as stale (plain text, no buttons) and refuses to approve one."""

from __future__ import annotations

import html
from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from claims.evidence import set_stance
from claims.models import Claim, Evidence, Proposal

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"


def review_page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="reviewer_name_input").input(name).run()
    at.switch_page("views/review.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def contra_evidence(store) -> int:  # type: ignore[no-untyped-def]
    with store.read() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        return s.scalar(select(Evidence.id).where(Evidence.claim_id == c1.id, Evidence.paper_id == "2601.00001"))


def test_a_proposal_gone_stale_while_on_screen_is_refused_then_shown_as_stale(review_store) -> None:
    store, ids = review_store
    pid = ids["status"]  # C1 -> contested, resting on the contradiction from arXiv:2601.00001
    at = review_page("alice")
    assert any(b.key == f"p{pid}_approve" for b in at.button)

    with store.write() as s:  # meanwhile another reviewer discounts the paper behind it
        set_stance(s, contra_evidence(store), "unrelated", "bob")

    at.button(key=f"p{pid}_approve").click().run()
    error = html.unescape(at.error[0].value).replace("\u200b", "")
    assert f"Proposal #{pid}: proposal {pid} is stale and cannot be approved as it stands" in error
    with store.read() as s:
        assert s.get(Proposal, pid).state == "stale"
        assert s.scalar(select(Claim.status).where(Claim.key == "C1")) == "unreviewed"

    at = review_page("alice")
    shown = html.unescape("\n".join(m.value for m in at.markdown))
    assert f"#{pid} · STALE · status change · C1 → contested" in shown
    assert "a reviewer (bob) set arXiv:\u200b2601.00001" in shown  # plain text (no link can form)
    assert not any(b.key == f"p{pid}_approve" for b in at.button)  # never decided from the app
    with store.read() as s:
        fresh = s.get(Proposal, pid).payload["stale"]["replaced_by"]
    # C1 keeps a confident supporting paper and no contradiction now: a fresh `holds` replaces it
    assert fresh and f"(replaced by #{fresh[0]})" in shown
    assert any(b.key == f"p{fresh[0]}_approve" for b in at.button)
    assert any(f"Replaces stale proposal #{pid}" in c.value for c in at.caption)
