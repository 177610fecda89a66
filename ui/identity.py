"""Who is reviewing: Streamlit's OIDC login when configured, else a name asked once per session.

A visitor without a name, or whose name is not on the allow-list
(`CLAIMS_REVIEWERS`), browses read-only: pages hide the decide buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

NAME_KEY = "reviewer_name"
NAME_INPUT_KEY = "reviewer_name_input"


@dataclass(frozen=True)
class Reviewer:
    """The visitor as the pages see them."""

    name: str | None
    authenticated: bool  # identity from an OIDC login, not typed in
    allowed: bool  # may approve and reject
    reason: str = ""  # why not allowed (shown to the visitor)

    @property
    def can_decide(self) -> bool:
        return self.allowed and bool(self.name)


def auth_configured() -> bool:
    """True when st.secrets has an [auth] section (st.login can run)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def resolve(name: str | None, authenticated: bool, allow_list: list[str]) -> Reviewer:
    """Apply the allow-list to a name (pure; the rules the pages rely on)."""
    name = (name or "").strip() or None
    if name is None:
        return Reviewer(None, authenticated, False, "no reviewer name: browsing read-only")
    if allow_list and name not in allow_list:
        return Reviewer(name, authenticated, False, f"{name} is not on the reviewer list: browsing read-only")
    return Reviewer(name, authenticated, True)


def _oidc_name() -> str | None:
    user = st.user
    if not user.get("is_logged_in"):
        return None
    for field in ("email", "preferred_username", "name", "sub"):
        value = user.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _remember_name() -> None:
    st.session_state[NAME_KEY] = (st.session_state.get(NAME_INPUT_KEY) or "").strip() or None


def _forget_name() -> None:
    st.session_state[NAME_KEY] = None
    st.session_state[NAME_INPUT_KEY] = ""


def sidebar(allow_list: list[str]) -> Reviewer:
    """Render the identity box in the sidebar and return the current reviewer."""
    with st.sidebar:
        st.subheader("Reviewer")
        if auth_configured():
            name = _oidc_name()
            if name:
                st.caption(f"Signed in as **{name}**")
                st.button("Log out", on_click=st.logout, key="logout")
            else:
                st.button("Log in to review", on_click=st.login, key="login", type="primary")
            me = resolve(name, True, allow_list)
        else:
            st.warning("Running without authentication: approvals record the name typed here.",
                       icon=":material/lock_open:")
            name = st.session_state.get(NAME_KEY)
            if name:
                st.caption(f"Reviewing as **{name}**")
                st.button("Change name", on_click=_forget_name, key="change_name")
            else:
                st.text_input("Your name (to approve or reject)", key=NAME_INPUT_KEY,
                              on_change=_remember_name, placeholder="e.g. alice")
            me = resolve(name, False, allow_list)
        if not me.allowed:
            st.info(me.reason.capitalize(), icon=":material/visibility:")
    return me
