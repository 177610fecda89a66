"""Add claim: a reviewer adds a dated claim of their own (the service behind `claims add`)."""

from __future__ import annotations

import streamlit as st

from ui import data
from ui.authoring import ADD_KEYS, NEW_INQUIRY, NO_PROTOCOL, add_claim, protocol_names


def render() -> None:
    url = st.session_state["db_url"]
    me = st.session_state.get("reviewer")
    st.header("Add a claim")
    if me is None or not me.can_decide:
        st.info("Adding a claim is a reviewer's act: sign in as a reviewer in the sidebar.")
        return
    inquiries = [i["slug"] for i in data.inquiries(url, data.version(url))]
    st.caption("The claim gets the next free key and a first revision recorded as yours. Dates such as ~2025, "
               "~2024-2025, 2025-05 or 2025-05-12, not after today. Later changes go through proposals.")
    st.text_area("Claim", key=ADD_KEYS["text"], placeholder="RL mostly reweights solutions the base model already samples")
    st.text_input("As of", key=ADD_KEYS["as_of"], placeholder="2025-06")
    choice = st.selectbox("Inquiry", [*inquiries, NEW_INQUIRY], key=ADD_KEYS["inquiry"])
    if choice == NEW_INQUIRY:
        st.text_input("New inquiry's slug", key=ADD_KEYS["slug"], placeholder="my-digest")
        st.text_input("Its question", key=ADD_KEYS["question"], placeholder="Does RL add new skills?")
    st.selectbox("Retest protocol", [NO_PROTOCOL, *protocol_names()], key=ADD_KEYS["protocol"])
    st.text_area("Anchor papers (one per line: arXiv id, then an optional label)", key=ADD_KEYS["anchors"],
                 placeholder="2504.07912 Does RL really incentivize reasoning?")
    st.button("Add claim", key="add_submit", type="primary", on_click=add_claim, args=(url, me.name))


render()
