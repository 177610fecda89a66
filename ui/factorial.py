"""The factorial page's data and plots: variance shares with intervals, the outcome by prior and optimizer.

Frames are pure (a stored `claims.factorial.FactorialRecord` in, a long-form DataFrame
out) and tested apart from Streamlit; the charts are Altair, drawn by ui/views/factorial.py.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import select

from claims.factorial import COMPONENTS, HEADLINE, FactorialRecord, StoredFactorial, get_factorial
from claims.models import FactorialRun, Inquiry
from ui.data import get_store

COLOURS = {"prior": "#4c78a8", "optimizer": "#e45756", "interaction": "#72b7b2", "pretrain_seed": "#f58518",
           "base_x_optimizer": "#b279a2", "residual": "#bab0ac"}


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def runs(url: str, ver: tuple) -> list[dict[str, Any]]:
    """Every stored grid, newest first: id, inquiry, preset, executor, status, cells, finished."""
    with get_store(url).read() as s:
        rows = s.execute(select(FactorialRun.id, Inquiry.slug, FactorialRun.preset, FactorialRun.executor,
                                FactorialRun.status, FactorialRun.seconds, FactorialRun.finished_at)
                         .join(Inquiry, Inquiry.id == FactorialRun.inquiry_id)
                         .order_by(FactorialRun.id.desc()).limit(200)).all()
    return [{"id": r[0], "inquiry": r[1], "preset": r[2], "executor": r[3], "status": r[4], "seconds": r[5],
             "finished": r[6]} for r in rows]


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def run_detail(url: str, ver: tuple, run_id: int) -> StoredFactorial:
    with get_store(url).read() as s:
        return get_factorial(s, run_id)


def outcomes_of(record: FactorialRecord) -> list[str]:
    """The outcomes measured, headline ones first (pass@256, pass@1), then the rest as stored."""
    seen = [o for c in record.cells for o in c.outcomes]
    names = list(dict.fromkeys([*record.shares, *seen]))
    return sorted(names, key=lambda o: (o not in HEADLINE, HEADLINE.index(o) if o in HEADLINE else 0, o.endswith("_gain")))


def shares_frame(record: FactorialRecord) -> pd.DataFrame:
    """Long form: outcome, component (claims.factorial.COMPONENTS), estimate, low, high. A grid stored
    before the mixed model has four components (its `prior` included the bases: `pretrain_seed` is left out)."""
    old = {o: s.base_x_optimizer is None for o, s in record.shares.items()}
    rows = [{"outcome": o, "component": c, "estimate": x.estimate, "low": x.low, "high": x.high}
            for o in outcomes_of(record) if (s := record.shares.get(o)) for c in COMPONENTS
            if (x := getattr(s, c)) is not None and not (old[o] and c == "pretrain_seed")]
    return pd.DataFrame(rows, columns=["outcome", "component", "estimate", "low", "high"])


def outcome_frame(record: FactorialRecord, outcome: str) -> pd.DataFrame:
    """One outcome by prior and optimizer: mean, lowest and highest over the seeds, and how many runs."""
    rows = [{"prior": c.prior, "optimizer": c.optimizer, "value": c.outcomes[outcome]}
            for c in record.cells if c.status != "failed" and outcome in c.outcomes]
    cols = ["prior", "optimizer", "mean", "low", "high", "runs"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows).groupby(["prior", "optimizer"], sort=False)["value"]
    out = df.agg(mean="mean", low="min", high="max", runs="count").reset_index()
    return out[cols]


def outcome_table(record: FactorialRecord, df: pd.DataFrame) -> pd.DataFrame:
    """The mean outcome as a table: a row per prior, a column per optimizer, in the grid's level order."""
    if df.empty:
        return pd.DataFrame(columns=["prior"])
    table = df.pivot(index="prior", columns="optimizer", values="mean")
    rows = [p for p in record.levels.get("prior", []) if p in table.index] or list(table.index)
    cols = [o for o in record.levels.get("optimizer", []) if o in table.columns] or list(table.columns)
    return table.loc[rows, cols].rename_axis(columns=None).reset_index()


def shares_chart(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    import altair as alt

    colour = alt.Color("component:N", scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
                       title="share of", sort=list(COLOURS))
    base = alt.Chart(df).encode(x=alt.X("outcome:N", title=None, sort=None), xOffset=alt.XOffset("component:N", sort=list(COLOURS)))
    bars = base.mark_bar().encode(y=alt.Y("estimate:Q", title="share of the variance", scale=alt.Scale(domain=[0, 1])),
                                  color=colour, tooltip=["outcome", "component", alt.Tooltip("estimate:Q", format=".0%"),
                                                         alt.Tooltip("low:Q", format=".0%"), alt.Tooltip("high:Q", format=".0%")])
    errors = base.mark_rule(color="black").encode(y="low:Q", y2="high:Q")
    return (bars + errors).properties(title="Variance shares with 95% intervals (toy world)", height=300)


def outcome_chart(df: pd.DataFrame, outcome: str):  # type: ignore[no-untyped-def]
    import altair as alt

    base = alt.Chart(df).encode(x=alt.X("optimizer:N", title="optimizer", sort=None),
                                color=alt.Color("prior:N", title="prior (mixture/amount)"))
    line = base.mark_line(point=True).encode(y=alt.Y("mean:Q", title=f"{outcome} after RL (mean over seeds)"),
                                             tooltip=["prior", "optimizer", alt.Tooltip("mean:Q", format=".3f"),
                                                      alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"), "runs"])
    spread = base.mark_rule(opacity=0.6).encode(y="low:Q", y2="high:Q")
    return (spread + line).properties(title=f"{outcome} by prior and optimizer (bars: lowest to highest seed)", height=300)
