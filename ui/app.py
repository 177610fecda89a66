"""The review app's entry point: `streamlit run ui/app.py` (or `claims ui`).

Reads the database URL from the claims settings (CLAIMS_DATABASE_URL / CLAIMS_HOME),
asks who is reviewing (ui.identity) and hands over to the pages under ui/views/.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from claims.errors import ClaimsError
from claims.redaction import redact_url
from claims.settings import Settings
from ui import data, identity
from ui.decisions import show_flashes
from ui.plaintext import plain

VIEWS = Path(__file__).parent / "views"

# An emoji icon becomes an inline data: URL; a ":material/...:" page icon would make every
# browser fetch the favicon from a third-party host (the navigation icons are a bundled font).
st.set_page_config(page_title="Claims review", page_icon="\u2705", layout="wide")

settings = Settings()
url = settings.resolved_database_url
st.session_state["db_url"] = url
st.session_state["allow_list"] = list(settings.reviewers)

nav = st.navigation(
    [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/table_rows:", default=True),
        st.Page(VIEWS / "claim.py", title="Claim", icon=":material/article:"),
        st.Page(VIEWS / "review.py", title="Review queue", icon=":material/rule:"),
        st.Page(VIEWS / "retests.py", title="Retests", icon=":material/science:"),
        st.Page(VIEWS / "factorial.py", title="Factorial", icon=":material/grid_on:"),
        st.Page(VIEWS / "add.py", title="Add claim", icon=":material/add_circle:"),
        st.Page(VIEWS / "export.py", title="Export", icon=":material/download:"),
    ]
)

with st.sidebar:
    st.caption(f"Database: `{redact_url(url)}`")

try:
    initialised = data.is_initialised(url)
except ClaimsError as exc:  # a foreign file, a newer schema: say so instead of a traceback
    st.error(plain(str(exc)))
    st.stop()
if not initialised:
    st.error(f"The database at `{redact_url(url)}` is not initialised. "
             "Run `claims import --bundled` first.")
    st.stop()
try:
    mode = identity.auth_mode(list(settings.reviewers), identity.auth_configured(), data.tokens_required(url))
except ValueError as exc:
    st.error(plain(f"Refusing to serve the review app: {exc}"))
    st.stop()
st.session_state["reviewer"] = identity.sidebar(url, mode, list(settings.reviewers))

show_flashes()
nav.run()
