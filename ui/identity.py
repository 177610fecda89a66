"""Who is reviewing, in one of three modes (`auth_mode`):

- tokens: reviewer accounts exist (`claims reviewers add NAME`); the visitor signs in
  with their secret token, and the review service checks it again on every decision;
- oidc: Streamlit's OIDC login (`st.login`, an [auth] section in secrets.toml);
- open: no authentication, for a single user on localhost: the typed name is recorded.
  Refused when an allow-list (`CLAIMS_REVIEWERS`) is set, since a typed name proves nothing.

A visitor who is not signed in, or not on the allow-list, browses read-only: pages hide
the decide buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from claims.reviewers import authenticate
from ui.data import get_store
from ui.plaintext import plain

NAME_KEY = "reviewer_name"
NAME_INPUT_KEY = "reviewer_name_input"
TOKEN_KEY = "reviewer_token"
TOKEN_INPUT_KEY = "reviewer_token_input"

NO_AUTH_WITH_ALLOW_LIST = (
    "CLAIMS_REVIEWERS is set but the app has no authentication, so anyone could type an allowed name. "
    "Add reviewer tokens (`claims reviewers add NAME`) or configure an OIDC login ([auth] in "
    ".streamlit/secrets.toml), or unset CLAIMS_REVIEWERS for a single user on localhost."
)


def auth_mode(allow_list: list[str], oidc: bool, tokens: bool) -> str:
    """tokens, oidc or open; ValueError(why) when an allow-list has no authentication behind it."""
    if tokens:
        return "tokens"
    if oidc:
        return "oidc"
    if allow_list:
        raise ValueError(NO_AUTH_WITH_ALLOW_LIST)
    return "open"


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


def _sign_in_with_token(url: str) -> None:
    token = (st.session_state.get(TOKEN_INPUT_KEY) or "").strip()
    st.session_state[TOKEN_INPUT_KEY] = ""
    with get_store(url).read() as s:
        name = authenticate(s, token)
    st.session_state[NAME_KEY], st.session_state[TOKEN_KEY] = (name, token) if name else (None, None)
    st.session_state["token_failed"] = name is None


def _sign_out() -> None:
    st.session_state[NAME_KEY] = st.session_state[TOKEN_KEY] = None


def _token_box(url: str, allow_list: list[str]) -> Reviewer:
    name, token = st.session_state.get(NAME_KEY), st.session_state.get(TOKEN_KEY)
    if name and token:
        with get_store(url).read() as s:  # revoked since sign-in?
            if authenticate(s, token) != name:
                _sign_out()
                name = None
    if name:
        st.caption(f"Signed in with a reviewer token as **{plain(name)}**")
        st.button("Sign out", on_click=_sign_out, key="sign_out")
        return resolve(name, True, allow_list)
    st.text_input("Reviewer token (to approve or reject)", key=TOKEN_INPUT_KEY, type="password",
                  on_change=_sign_in_with_token, args=(url,))
    if st.session_state.get("token_failed"):
        st.error("That token is not valid (or was revoked).")
    return Reviewer(None, False, False, "not signed in: browsing read-only")


def sidebar(url: str, mode: str, allow_list: list[str]) -> Reviewer:
    """Render the identity box in the sidebar and return the current reviewer."""
    with st.sidebar:
        st.subheader("Reviewer")
        if mode == "tokens":
            me = _token_box(url, allow_list)
        elif mode == "oidc":
            name = _oidc_name()
            if name:
                st.caption(f"Signed in as **{plain(name)}**")
                st.button("Log out", on_click=st.logout, key="logout")
            else:
                st.button("Log in to review", on_click=st.login, key="login", type="primary")
            me = resolve(name, True, allow_list)
        else:
            st.warning("No authentication (single user on localhost): approvals record the name typed here.",
                       icon=":material/lock_open:")
            name = st.session_state.get(NAME_KEY)
            if name:
                st.caption(f"Reviewing as **{plain(name)}**")
                st.button("Change name", on_click=_forget_name, key="change_name")
            else:
                st.text_input("Your name (to approve or reject)", key=NAME_INPUT_KEY,
                              on_change=_remember_name, placeholder="e.g. alice")
            me = resolve(name, False, allow_list)
        if not me.allowed:
            st.info(me.reason.capitalize(), icon=":material/visibility:")
    return me
