"""Review queue: pending proposals, oldest first; approve, approve with edits, or reject."""

from __future__ import annotations

from functools import partial

import streamlit as st

from claims.anchor_changes import AnchorAction, AnchorChange, CitedAnchor
from claims.models import CLAIM_STATUSES
from ui import badges, cards, charts, data
from ui.decisions import decide, edit_keys
from ui.diff import diff_html
from ui.identity import Reviewer
from ui.plaintext import plain

PAGE_SIZE = 10
KIND_LABELS = {
    "status": "status change",
    "text": "new wording",
    "anchor": "anchor change",
    "new_claim": "new claim",
    "retire": "retire claim",
}


ANCHOR_ACTIONS: dict[AnchorAction, str] = {
    "replace": "replace the id", "flag": "flag for a person", "remove": "remove the anchor",
    "correct": "correct the citation", "withdrawn": "flag as withdrawn"}


def anchor_change(p: dict) -> None:
    """An anchor proposal as an anchor change: the citation now, what would change, the ranked candidates."""
    change = AnchorChange.from_payload(p.get("payload"))
    now = change.current or CitedAnchor(arxiv_id=change.arxiv_id or "")
    left, right = st.columns(2)
    with left:
        st.markdown("**Current anchor**")
        found = f"<br>the id names: {plain(now.found_title)}" if now.found_title else ""
        st.markdown(f"arXiv:{plain(change.arxiv_id or '')} ({plain(now.cited_date)}) — "
                    f"{plain(now.cited_label)}{found}", unsafe_allow_html=True)
    with right:
        st.markdown(f"**Proposed: {ANCHOR_ACTIONS[change.kind]}**")
        if change.kind == "replace":
            best = change.best
            title, published = (best.title or "", best.published) if best else ("", None)
            st.markdown(f"arXiv:{plain(str(change.replace_with))} — {plain(title)} "
                        f"(first version {plain(published or 'unknown')})")
        changed = [f"**{k.replace('_', ' ')}** → {plain(v)}"
                   for k, v in (("cited_date", change.cited_date), ("cited_label", change.cited_label)) if v]
        if changed:
            st.markdown(", ".join(changed))
    rows = change.candidates or []
    if rows:
        st.caption("Papers that may have been meant, best first (score: 0.6 label + 0.25 claim + 0.15 date fit)")
        st.markdown("<br>".join(
            f"{i}. arXiv:{plain(c.id)} — {plain(str(c.title))} · first version "
            f"{plain(c.published or 'unknown')} · score {c.score:.2f}"
            + (" · fits" if c.fits else "") for i, c in enumerate(rows, 1)), unsafe_allow_html=True)


def current_vs_proposed(p: dict) -> None:
    if p["kind"] == "anchor":
        anchor_change(p)
        return
    claim = p.get("claim") or {}
    cur_text, cur_status = claim.get("text", ""), claim.get("status")
    new_text = p.get("proposed_text") or cur_text
    new_status = p.get("proposed_status") or cur_status
    left, right = st.columns(2)
    with left:
        st.markdown("**Current**")
        if claim:
            st.markdown(f"{badges.badge(cur_status)} as of {plain(claim.get('as_of', ''))} · "
                        f"revision {claim.get('revision')}<br>{plain(cur_text)}", unsafe_allow_html=True)
        else:
            st.caption("No claim yet (this proposal adds one).")
    with right:
        st.markdown("**Proposed**")
        arrow = f"{badges.badge(cur_status)} → " if cur_status and new_status != cur_status else ""
        as_of = (p.get("payload") or {}).get("as_of") or claim.get("as_of", "")
        st.markdown(f"{arrow}{badges.badge(new_status or 'unreviewed')} as of {plain(str(as_of))}<br>"
                    f"{diff_html(cur_text, new_text)}", unsafe_allow_html=True)


def support(p: dict) -> None:
    if p.get("evidence"):
        with st.expander(f"Evidence behind it ({len(p['evidence'])})", expanded=len(p["evidence"]) <= 3):
            for e in p["evidence"]:
                st.markdown(cards.evidence_block(e), unsafe_allow_html=True)
    if p.get("runs"):
        with st.expander(f"Retest runs behind it ({len(p['runs'])})"):
            for run in p["runs"]:
                charts.run_summary(run)
                charts.run_plots(run.get("metrics") or {}, key=f"rq_{p['id']}_run_{run['id']}")


def controls(url: str, p: dict, me: Reviewer) -> None:
    keys = edit_keys(p["id"])
    claim = p.get("claim") or {}
    st.text_input("Comment (required to reject)", key=keys["comment"])
    if p["kind"] in ("status", "text", "new_claim", "retire"):
        with st.expander("Edit before approving"):
            st.text_area("Text", value=p.get("proposed_text") or claim.get("text", ""), key=keys["text"])
            status = p.get("proposed_status") or claim.get("status") or "unreviewed"
            st.selectbox("Status", CLAIM_STATUSES, index=CLAIM_STATUSES.index(status), key=keys["status"])
    c1, c2, c3, _ = st.columns([1, 1.4, 1, 3])
    c1.button("Approve", key=f"p{p['id']}_approve", type="primary",
              on_click=partial(decide, url, p, me.name, "approve"))
    if p["kind"] in ("status", "text", "new_claim", "retire"):
        c2.button("Approve with edits", key=f"p{p['id']}_edit", on_click=partial(decide, url, p, me.name, "edit"))
    c3.button("Reject", key=f"p{p['id']}_reject", on_click=partial(decide, url, p, me.name, "reject"))


def _target(p: dict, claim: dict) -> str:
    if p["kind"] == "anchor":
        return f"arXiv:{plain(AnchorChange.from_payload(p.get('payload')).arxiv_id or '')}"
    return plain(claim.get("key", "new"))


def proposal_card(url: str, p: dict, me: Reviewer) -> None:
    claim = p.get("claim") or {}
    with st.container(border=True):
        st.markdown(
            f"#### #{p['id']} · {KIND_LABELS.get(p['kind'], p['kind'])} · {_target(p, claim)}\n"
            f"proposed by {plain(p['created_by'])} on {p['created_at']:%Y-%m-%d %H:%M} UTC"
        )
        replaces = (p.get("payload") or {}).get("replaces")
        if replaces:
            st.caption(f"Replaces stale proposal #{int(replaces)}: the evidence behind it changed (see below).")
        current_vs_proposed(p)
        if p.get("rationale"):
            st.markdown(f"**Why:** {plain(p['rationale'])}")
        support(p)
        if me.can_decide:
            controls(url, p, me)


def stale_section(url: str, ver: tuple) -> None:
    """Proposals whose evidence changed under them: shown, never decided (claims.staleness)."""
    rows = data.stale_proposals(url, ver)
    if not rows:
        return
    st.subheader(f"Stale proposals ({len(rows)})")
    st.caption("The evidence behind these changed after they were written (a stance set, a paper withdrawn or "
               "flagged). They cannot be approved as they stand; a fresh proposal replaces one when the evidence "
               "still calls for it.")
    for p in rows:
        stale = (p.get("payload") or {}).get("stale") or {}
        fresh = stale.get("replaced_by") or []
        then = ("replaced by " + ", ".join(f"#{i}" for i in fresh)) if fresh else "nothing replaces it"
        claim = p.get("claim") or {}
        with st.container(border=True):
            st.markdown(f"#### #{p['id']} · STALE · {KIND_LABELS.get(p['kind'], plain(p['kind']))} · "
                        f"{plain(claim.get('key', '-'))} → {plain(p.get('proposed_status') or '')}")
            st.markdown(f"**Stale:** {plain(stale.get('reason') or 'its evidence changed')} ({plain(then)})")
            if p.get("rationale"):
                st.markdown(f"**It said:** {plain(p['rationale'])}")


def render() -> None:
    url = st.session_state["db_url"]
    me: Reviewer = st.session_state["reviewer"]
    ver = data.version(url)
    st.title("Review queue")
    total, _ = data.pending_proposals(url, ver, 1, 1)
    n_pages = data.pages(total, PAGE_SIZE)
    page = min(max(int(st.session_state.get("rq_page", 1)), 1), n_pages)
    st.session_state["rq_page"] = page
    total, proposals = data.pending_proposals(url, ver, page, PAGE_SIZE)
    if not me.can_decide:
        st.info(f"Read-only: {me.reason}. Enter your name in the sidebar to approve or reject.",
                icon=":material/visibility:")
    if not proposals:
        st.success("Nothing to review: no pending proposals.")
        stale_section(url, ver)
        return
    st.caption(f"{total} pending, oldest first · page {page} of {n_pages}")
    for p in proposals:
        proposal_card(url, p, me)
    st.number_input(f"Page (of {n_pages})", min_value=1, max_value=n_pages, step=1, key="rq_page")
    stale_section(url, ver)


render()
