"""Export: a preview of the refreshed research prompt, with Markdown and JSON downloads."""

from __future__ import annotations

import streamlit as st

from ui import data


def render() -> None:
    url = st.session_state["db_url"]
    ver = data.version(url)
    st.title("Export")
    st.caption("The refreshed research prompt: the claims with their current status, dates, evidence and "
               "verified anchor papers, ready to paste into an LLM. Same output as `claims export`.")
    inquiries = data.inquiries(url, ver)
    slug = None
    if len(inquiries) > 1:
        slug = st.selectbox("Inquiry", [i["slug"] for i in inquiries], key="ex_inquiry")
    try:
        markdown = data.export_text(url, ver, "markdown", slug)
        as_json = data.export_text(url, ver, "json", slug)
    except ImportError:
        st.warning("This installation has no exporter (claims.export).")
        return
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("Download Markdown", markdown, file_name="research-prompt.md", mime="text/markdown",
                       key="dl_md", on_click="ignore", type="primary")
    c2.download_button("Download JSON", as_json, file_name="research-prompt.json", mime="application/json",
                       key="dl_json", on_click="ignore")
    # Shown as source, never rendered: the export carries paper titles, and rendered
    # Markdown would let a title fetch an image or draw a link in the reviewer's browser.
    st.code(markdown, language="markdown")


render()
