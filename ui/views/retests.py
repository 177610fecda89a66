"""Retests: every run with status, config, duration, hardware and verdict, and its plots."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from claims.models import RUN_STATUSES
from ui import badges, charts, data

PAGE_SIZE = 25


def render() -> None:
    url = st.session_state["db_url"]
    ver = data.version(url)
    st.title("Retests")
    status = st.selectbox("Status", [None, *RUN_STATUSES], format_func=lambda s: s or "any", key="rt_status")
    total, _ = data.runs(url, ver, 1, 1, status)
    n_pages = data.pages(total, PAGE_SIZE)
    page = min(max(int(st.session_state.get("rt_page", 1)), 1), n_pages)
    st.session_state["rt_page"] = page
    total, rows = data.runs(url, ver, page, PAGE_SIZE, status)
    if not rows:
        st.info("No retest runs yet. `claims retest run` or the weekly job records them here.")
        return
    df = pd.DataFrame([{
        "run": r["id"],
        "claim": r["claim_key"],
        "protocol": r["protocol"],
        "preset": r["preset"],
        "status": r["status"],
        "verdict": r.get("verdict") or "",
        "effect": r.get("effect_size"),
        "duration_s": data.duration_seconds(r),
        "hardware": charts.hardware(r.get("environment") or {}),
        "created": r["created_at"],
    } for r in rows])
    st.dataframe(df.style.map(badges.verdict_style, subset=["verdict", "status"]), hide_index=True,
                 column_config={"effect": st.column_config.NumberColumn(format="%+.3f"),
                                "duration_s": st.column_config.NumberColumn("duration (s)", format="%.0f"),
                                "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    st.number_input(f"Page (of {n_pages})", min_value=1, max_value=n_pages, step=1, key="rt_page")
    run_id = st.selectbox("Show run", [r["id"] for r in rows], key="rt_run",
                          format_func=lambda i: next(f"#{r['id']} · {r['claim_key']} · {r['protocol']}" for r in rows if r["id"] == i))
    run = data.run_detail(url, ver, run_id)
    if run is None:
        return
    charts.run_summary(run)
    charts.run_plots(run.get("metrics") or {}, key=f"rt_{run_id}")
    with st.expander("Config"):
        st.json(run.get("config") or {})
    with st.expander("Environment"):
        st.json(run.get("environment") or {})
    if run.get("log"):
        with st.expander("Log"):
            st.code(run["log"][-5000:])


render()
