"""Claim page: text and revisions, evidence, retest runs with plots, anchors, source notes."""

from __future__ import annotations

from functools import partial

import streamlit as st

from claims.models import REVIEWABLE_STANCES
from claims.settings import Settings
from claims.stopping import MIN_LABELS
from ui import badges, cards, charts, data, relevance
from ui.authoring import protocol_picker
from ui.decisions import decide_stance
from ui.diff import diff_html
from ui.plaintext import arxiv_link, plain


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def pick_claim(url: str, ver: tuple) -> str | None:
    keys = data.claim_keys(url, ver)
    if not keys:
        st.info("No claims yet. Import a document with `claims import --bundled`.")
        return None
    wanted = st.query_params.get("claim")
    index = keys.index(wanted) if wanted in keys else 0
    key = st.selectbox("Claim", keys, index=index, key=f"claim_pick_{wanted}")
    if key != wanted:
        st.query_params["claim"] = key
    return key


def render_head(d: dict) -> None:
    c = d["claim"]
    st.markdown(
        f"<h2 style='margin-bottom:0.2em'>{plain(c['key'])} {badges.badge(c['status'])}</h2>",
        unsafe_allow_html=True,
    )
    st.caption(
        f"{d['inquiry'].get('title', '')} · as of **{c['as_of']}** · revision {c['revision']} · "
        f"status since {_when(c['status_since'])} · last checked {_when(c['last_checked_at'])} · "
        f"last retested {_when(c['last_retested_at'])} · {d['pending']} pending proposal(s)"
    )
    st.markdown(
        "<div style='border-left:4px solid #9aa5c4;padding:0.4em 0.8em;font-size:1.1em;margin:0.5em 0'>"
        f"{plain(c['text'])}</div>",
        unsafe_allow_html=True,
    )
    if d["pending"]:
        st.page_link("views/review.py", label=f"Review {d['pending']} pending proposal(s)", icon=":material/rule:")


def render_revisions(d: dict) -> None:
    revs = d["revisions"]
    with st.expander(f"Revision history ({len(revs)})", expanded=len(revs) > 1):
        if not revs:
            st.caption("No revisions recorded.")
        for i, r in enumerate(revs):
            older = revs[i + 1] if i + 1 < len(revs) else None
            source = f"proposal #{r['proposal_id']}" if r.get("proposal_id") else "import"
            st.markdown(
                f"**Revision {r['revision']}** · {_when(r['changed_at'])} · approved by **{plain(r['approved_by'])}**"
                f" · from {source} · {badges.badge(r['status'])} · as of {plain(r['as_of'])}",
                unsafe_allow_html=True,
            )
            if older and older["text"] != r["text"]:
                st.markdown(diff_html(older["text"], r["text"]), unsafe_allow_html=True)
            if older and older["status"] != r["status"]:
                st.markdown(f"status {badges.badge(older['status'])} → {badges.badge(r['status'])}",
                            unsafe_allow_html=True)
            if r.get("note"):
                st.caption(plain(r["note"]))


def render_evidence(d: dict) -> None:
    ev = d["evidence"]
    st.subheader(f"Evidence ({d['evidence_total']})")
    if not ev:
        st.caption("No evidence found yet: the weekly run searches arXiv for newer work.")
        return
    stances = ["all"] + sorted({e["stance"] for e in ev})
    pick = st.segmented_control("Stance", stances, default="all", key="claim_stance")
    shown = [e for e in ev if pick in (None, "all") or e["stance"] == pick]
    if d["evidence_total"] > len(ev):
        st.caption(f"Showing the {len(ev)} most relevant of {d['evidence_total']}.")
    render_remaining(d)
    me = st.session_state.get("reviewer")
    for e in shown:
        with st.container(border=True):
            st.markdown(cards.evidence_block(e), unsafe_allow_html=True)
            if me is not None and me.can_decide:
                stance_controls(st.session_state["db_url"], e, me.name)
                relevance.buttons(st.session_state["db_url"], e, me.name)


def render_remaining(d: dict) -> None:
    """The stopping aid: relevant papers probably left among the unlabelled candidates (claims/stopping.py)."""
    est = d.get("remaining")
    if est is None:
        if d.get("labels"):
            st.caption(f"{d['labels']} relevance label(s) so far: from {MIN_LABELS} on, this page estimates how "
                       "many relevant papers remain unseen.")
        return
    st.info(f"Still to find: {est.sentence()}\n\n{est.basis()}", icon=":material/flag:")


def stance_controls(url: str, e: dict, reviewer: str) -> None:
    """Confirm the judge's stance, or set one (a reviewed stance is what the export carries)."""
    key = f"ev{e['id']}_stance"
    c1, c2, c3, _ = st.columns([1.2, 1.4, 1, 3])
    if e["stance"] in REVIEWABLE_STANCES and not e.get("stance_reviewed_by"):
        c1.button("Confirm stance", key=f"ev{e['id']}_confirm",
                  on_click=partial(decide_stance, url, e, reviewer, "confirm", key))
    current = e["stance"] if e["stance"] in REVIEWABLE_STANCES else None
    c2.selectbox("Stance", REVIEWABLE_STANCES, index=REVIEWABLE_STANCES.index(current) if current else None,
                 key=key, label_visibility="collapsed", placeholder="Set stance…")
    c3.button("Set stance", key=f"ev{e['id']}_set", on_click=partial(decide_stance, url, e, reviewer, "set", key))


def render_runs(d: dict) -> None:
    st.subheader(f"Retest runs ({len(d['runs'])})")
    if not d["runs"]:
        st.caption("No retest runs for this claim.")
        return
    for i, run in enumerate(d["runs"]):
        label = f"Run #{run['id']} · {run['protocol']} · {run['status']} · {run.get('verdict') or 'no verdict'}"
        with st.expander(label, expanded=i == 0):
            charts.run_summary(run)
            charts.run_plots(run.get("metrics") or {}, key=f"claim_run_{run['id']}")


def render_anchors(d: dict) -> None:
    st.subheader("Anchor papers")
    if not d["anchors"]:
        st.caption("No anchor papers cited.")
    for a in d["anchors"]:
        diffs = "; ".join(str(x) for x in (a.get("differences") or []))
        verified = ""
        if a.get("verified_title"):
            verified = f" · arXiv says: <i>{plain(a['verified_title'])}</i> ({plain(a.get('verified_published') or '?')})"
        st.markdown(
            f"{badges.badge(a['status'], badges.ANCHOR_COLOURS)} "
            f"{arxiv_link(a['arxiv_id'], 'arXiv:' + a['arxiv_id'])}"
            f" cited as “{plain(a['cited_label'])}” ({plain(a['cited_date'])}){verified}"
            + (f"<br><span style='color:#7a3b00'>Differs: {plain(diffs)}</span>" if diffs else ""),
            unsafe_allow_html=True,
        )


def render_notes(d: dict) -> None:
    with st.expander(f"Source notes ({len(d['notes'])})"):
        for n in d["notes"]:
            st.markdown(f"**{plain(n['question'])}**<br>{plain(n['summary'])}", unsafe_allow_html=True)


def render() -> None:
    url = st.session_state["db_url"]
    ver = data.version(url)
    key = pick_claim(url, ver)
    if key is None:
        return
    d = data.claim_detail(url, ver, key)
    if d is None:
        st.error(f"No claim {plain(key)}.")
        return
    render_head(d)
    me = st.session_state.get("reviewer")
    protocol_picker(url, d["claim"], bool(me is not None and me.can_decide), me.name if me is not None else None)
    render_revisions(d)
    render_evidence(d)
    relevance.render_last_eval(Settings().resolved_home, key)
    render_runs(d)
    render_anchors(d)
    render_notes(d)


render()
