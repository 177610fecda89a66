"""Overview: every claim at a glance, filtered, searched and paginated."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from claims.models import CLAIM_STATUSES
from ui import badges, data

PAGE_SIZE = 50
SHORT = 110


def short(text: str, n: int = SHORT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def header(url: str, ver: tuple) -> None:
    t = data.totals(url, ver)
    cols = st.columns(2 + len(CLAIM_STATUSES))
    cols[0].metric("Claims", t["claims"])
    cols[1].metric("Pending proposals", t["pending"])
    for col, status in zip(cols[2:], CLAIM_STATUSES):
        col.markdown(f"{badges.badge(status)}<br><b style='font-size:1.4em'>{t['by_status'].get(status, 0)}</b>",
                     unsafe_allow_html=True)


def filters(url: str, ver: tuple) -> tuple[tuple[str, ...], int | None, str]:
    inquiries = data.inquiries(url, ver)
    c1, c2, c3 = st.columns([2, 2, 3])
    statuses = c1.multiselect("Status", CLAIM_STATUSES, key="ov_status", on_change=_first_page)
    options = [None] + [i["id"] for i in inquiries]
    names = {i["id"]: i["title"] or i["slug"] for i in inquiries}
    inquiry = c2.selectbox("Inquiry", options, format_func=lambda i: "All inquiries" if i is None else names[i],
                           key="ov_inquiry", on_change=_first_page)
    search = c3.text_input("Search key or text", key="ov_search", placeholder="e.g. entropy",
                           on_change=_first_page)
    return tuple(statuses), inquiry, search


def table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["key", "claim", "status", "as_of", "last_checked", "retest",
                                     "new_supporting", "new_contradicting", "pending"])
    df["claim"] = df["claim"].map(short)
    df["last_checked"] = df["last_checked"].map(lambda t: t.strftime("%Y-%m-%d") if t is not None and t == t else "never")
    return df


def render() -> None:
    url = st.session_state["db_url"]
    goto = st.session_state.pop("ov_goto", None)
    if goto:
        st.switch_page("views/claim.py", query_params={"claim": goto})
    ver = data.version(url)
    st.title("Claims")
    header(url, ver)
    statuses, inquiry, search = filters(url, ver)
    total, _ = data.overview(url, ver, statuses, inquiry, search, 1, 1)
    n_pages = data.pages(total, PAGE_SIZE)
    page = min(max(int(st.session_state.get("ov_page", 1)), 1), n_pages)
    st.session_state["ov_page"] = page
    total, rows = data.overview(url, ver, statuses, inquiry, search, page, PAGE_SIZE)
    if not rows:
        st.info("No claims match. Clear the filters, or import a document with `claims import`.")
        return
    df = table(rows)
    styled = df.style.map(badges.cell_style, subset=["status"]).map(badges.verdict_style, subset=["retest"])
    styled = styled.map(lambda v: "color:#0b4d1a;font-weight:600" if v else "color:#999", subset=["new_supporting"])
    styled = styled.map(lambda v: "color:#7a0000;font-weight:600" if v else "color:#999", subset=["new_contradicting"])
    event = st.dataframe(
        styled,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="ov_table",
        column_config={
            "key": st.column_config.TextColumn("Key", width=50),
            "claim": st.column_config.TextColumn("Claim", width=270),
            "status": st.column_config.TextColumn("Status", width=95),
            "as_of": st.column_config.TextColumn("As of", width=85),
            "last_checked": st.column_config.TextColumn("Last checked", width=95),
            "retest": st.column_config.TextColumn("Last retest", width=100),
            "new_supporting": st.column_config.NumberColumn("+ supporting", width=95,
                                                            help="Supporting evidence found since the claim's latest revision"),
            "new_contradicting": st.column_config.NumberColumn("+ contradicting", width=110,
                                                               help="Contradicting evidence found since the claim's latest revision"),
            "pending": st.column_config.NumberColumn("Pending", width=70, help="Pending proposals"),
        },
    )
    selected = event.selection.rows if event is not None and hasattr(event, "selection") else []
    if selected:
        st.switch_page("views/claim.py", query_params={"claim": rows[selected[0]]["key"]})
    c1, c2, c3 = st.columns([2, 1, 3])
    c1.number_input(f"Page (of {n_pages})", min_value=1, max_value=n_pages, step=1, key="ov_page")
    c3.caption(f"{total} claims match · showing {(page - 1) * PAGE_SIZE + 1}–{(page - 1) * PAGE_SIZE + len(rows)}. "
               "Select a row to open the claim.")
    c2.selectbox("Open claim", [r["key"] for r in rows], key="ov_open", index=None, placeholder="key",
                 on_change=_open_selected)


def _open_selected() -> None:
    st.session_state["ov_goto"] = st.session_state.get("ov_open")
    st.session_state["ov_open"] = None


def _first_page() -> None:
    st.session_state["ov_page"] = 1


render()
