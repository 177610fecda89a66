"""Factorial: the inquiry's question measured in the toy world (prior x optimizer grid).

Shows a stored grid's answer, its variance shares with intervals per outcome (table and
bars with error bars), and an outcome by prior and optimizer. Every text is shown plain.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from claims.factorial import assess_factorial, measured_answer
from ui import data, factorial
from ui.plaintext import plain


def render() -> None:
    url = st.session_state["db_url"]
    ver = data.version(url)
    st.title("Factorial: prior x optimizer")
    rows = factorial.runs(url, ver)
    if not rows:
        st.info("No factorial grid yet. `claims retest factorial --preset weekly` (or `claims weekly "
                "--factorial-every N`) records one here.")
        return
    run_id = st.selectbox("Grid", [r["id"] for r in rows], key="fx_run", format_func=lambda i: next(
        f"#{r['id']} · {r['preset']} · {r['executor']} · {r['status']}"
        + (f" · {r['finished']:%Y-%m-%d %H:%M}" if r["finished"] else "") for r in rows if r["id"] == i))
    stored = factorial.run_detail(url, ver, run_id)
    record = stored.record
    done = sum(1 for c in record.cells if c.status != "failed")
    st.caption(plain(f"Inquiry: {stored.question}"))
    st.markdown(plain(f"{record.status} · {done} of {len(record.cells)} cells · preset {record.preset} · executor "
                      f"{record.executor} · {record.seconds:.0f} s"))
    st.markdown(plain(measured_answer(record)))
    st.caption(plain("A toy-world experiment, not a literature finding: the shares depend on the levels chosen."))
    for flag in record.flags:
        st.warning(plain(f"Confound: {flag}"))
    may, why = assess_factorial(record)
    (st.success if may else st.info)(plain(("May propose a new finding: " if may else "A candidate only, not a proposal: ")
                                           + why))
    if record.log:
        with st.expander("Log"):
            st.code(record.log[-5000:])
    if not record.cells:  # failed or interrupted before any cell finished
        return
    shares = factorial.shares_frame(record)
    st.subheader("Variance shares")
    if shares.empty:
        st.info("No variance shares: too few cells finished.")
    else:
        st.dataframe(shares, hide_index=True,
                     column_config={c: st.column_config.NumberColumn(format="%.2f") for c in ("estimate", "low", "high")})
        st.altair_chart(factorial.shares_chart(shares), width="stretch")
    st.subheader("Outcome by prior and optimizer")
    outcomes = factorial.outcomes_of(record)
    if not outcomes:
        st.info("No outcomes measured.")
        return
    outcome = st.selectbox("Outcome", outcomes, key="fx_outcome")
    by_cell = factorial.outcome_frame(record, outcome)
    st.altair_chart(factorial.outcome_chart(by_cell, outcome), width="stretch")
    st.dataframe(factorial.outcome_table(record, by_cell), hide_index=True)
    if record.ranges:
        st.caption(plain("Ranges (what a reader can act on): the spread across optimizers at a fixed prior against "
                         "the spread across priors at a fixed optimizer."))
        st.dataframe(pd.DataFrame([{"outcome": o, **r} for o, r in record.ranges.items()]), hide_index=True)
    with st.expander(f"Cells ({len(record.cells)})"):
        st.dataframe(pd.DataFrame([{"prior": c.prior, "optimizer": c.optimizer, "pretrain_seed": c.pretrain_seed,
                                    "rl_seed": c.rl_seed, "status": c.status, "seconds": c.seconds,
                                    **{k: v for k, v in c.outcomes.items()}} for c in record.cells]), hide_index=True)
    with st.expander("Config"):
        st.json(record.config)
    with st.expander("Environment"):
        st.json(record.environment)


render()
