"""Add a claim and pick a claim's protocol from the app: callbacks over `claims.authoring`.

The same service as `claims add` and `claims protocol attach|detach`: the reviewer is
checked there again (allow-list, token), and every outcome is a flash message.
"""

from __future__ import annotations

import streamlit as st

from claims.authoring import NewClaim
from claims.authoring import add_claim as add
from claims.authoring import set_protocol as set_
from claims.errors import ClaimsError
from claims.protocols import protocol_catalog, suggestions
from ui import data
from ui.decisions import flash
from ui.identity import TOKEN_KEY

NEW_INQUIRY = "+ a new inquiry"
NO_PROTOCOL = "(none)"
ADD_KEYS = {k: f"add_{k}" for k in ("text", "as_of", "inquiry", "slug", "question", "protocol", "anchors")}


def protocol_names() -> list[str]:
    """The installed protocols (from the retest package's `claims.protocols` entry point)."""
    return sorted(protocol_catalog())


def add_claim(url: str, reviewer: str) -> None:
    """Callback of the Add claim form."""
    get = st.session_state.get
    inquiry = get(ADD_KEYS["inquiry"]) or NEW_INQUIRY
    new_one = inquiry == NEW_INQUIRY
    protocol = get(ADD_KEYS["protocol"])
    anchors = tuple(line.strip() for line in (get(ADD_KEYS["anchors"]) or "").splitlines() if line.strip())
    new = NewClaim(text=get(ADD_KEYS["text"]) or "", as_of=get(ADD_KEYS["as_of"]) or "",
                   inquiry=(get(ADD_KEYS["slug"]) or "").strip() if new_one else inquiry,
                   question=(get(ADD_KEYS["question"]) or "").strip() or None if new_one else None,
                   protocol=None if protocol in (None, NO_PROTOCOL) else protocol, anchors=anchors)
    try:
        with data.get_store(url).write() as s:
            added = add(s, new, reviewer, st.session_state.get("allow_list") or None, st.session_state.get(TOKEN_KEY))
    except ClaimsError as exc:
        flash("error", f"Claim not added: {exc}")
        return
    data.bump_version()
    for k in ("text", "as_of", "anchors", "question", "slug"):
        st.session_state[ADD_KEYS[k]] = ""
    st.query_params["claim"] = added.key
    flash("success", f"Added {added.key} to {added.inquiry} (as of {added.as_of}), first revision by {reviewer}.")


def set_protocol(url: str, key: str, reviewer: str, widget: str) -> None:
    """Callback of the protocol picker on the claim page."""
    choice = st.session_state.get(widget)
    protocol = None if choice in (None, NO_PROTOCOL) else choice
    try:
        with data.get_store(url).write() as s:
            r = set_(s, key, protocol, reviewer, st.session_state.get("allow_list") or None, st.session_state.get(TOKEN_KEY))
    except ClaimsError as exc:
        flash("error", f"{key}: protocol not changed: {exc}")
        return
    data.bump_version()
    if r.before == r.after:
        flash("info", f"{key} already uses {r.after or 'no protocol'}.")
    else:
        flash("success", f"{key}: protocol {r.before or '-'} → {r.after or '-'}, set by {reviewer}.")


def protocol_picker(url: str, claim: dict, can_decide: bool, reviewer: str | None) -> None:
    """The claim's protocol, with the protocols' own suggestion; a picker for reviewers."""
    catalog = protocol_catalog()
    hint = suggestions(claim["key"], catalog)
    current = claim.get("protocol")
    note = f" · suggested by the protocols: {', '.join(hint)}" if hint and current not in hint else ""
    st.caption(f"Retest protocol: **{current or 'none'}**{note}")
    if not can_decide or not reviewer:
        return
    options = [NO_PROTOCOL, *sorted(catalog)]
    widget = f"protocol_{claim['key']}"
    c1, c2, _ = st.columns([2, 1, 3])
    c1.selectbox("Protocol", options, index=options.index(current) if current in options else 0, key=widget,
                 label_visibility="collapsed")
    c2.button("Set protocol", key=f"{widget}_set", on_click=set_protocol, args=(url, claim["key"], reviewer, widget))
