"""Plots of a retest run, drawn with Altair from the run's stored metrics.

Four plots a researcher expects: pass@k curves (base vs. RL, with intervals), format
shares over training steps, token entropy over steps, and update sparsity per layer
(fp32 vs. bf16 view). The stored metrics are read back once into their one typed
shape, `retest.results.RunMetrics` (written by retest.runner.plot_series,
docs/retest.md); a run whose metrics do not fit it, or whose series are empty (a
failed run), shows "no data".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from claims.retests import RunStrength
from claims.strength import describe_strength
from retest.results import Environment, RunMetrics
from ui import badges


def parse_metrics(stored: Any) -> RunMetrics | None:
    """A run's stored metrics as the typed series, or None when they do not fit."""
    return RunMetrics.from_stored(stored)


def pass_at_k_frame(m: RunMetrics) -> pd.DataFrame:
    """Long form: k, pass, low, high, model (base | RL)."""
    rows = []
    for model, mean, low, high in (("base", m.passk_base, m.passk_base_low, m.passk_base_high),
                                   ("RL", m.passk_rl, m.passk_rl_low, m.passk_rl_high)):
        if len(mean) != len(m.k):
            continue
        band = len(low) == len(high) == len(m.k)
        for i, k in enumerate(m.k):
            rows.append({"k": k, "pass": mean[i], "low": low[i] if band else None,
                         "high": high[i] if band else None, "model": model})
    return pd.DataFrame(rows, columns=["k", "pass", "low", "high", "model"])


def format_frame(m: RunMetrics) -> pd.DataFrame:
    """Long form: step, format, share (one row per checkpoint and format)."""
    rows = [{"step": step, "format": fmt, "share": share}
            for fmt, shares in m.format_shares.items() if len(shares) == len(m.checkpoint_steps)
            for step, share in zip(m.checkpoint_steps, shares)]
    return pd.DataFrame(rows, columns=["step", "format", "share"])


def entropy_frame(m: RunMetrics) -> pd.DataFrame:
    """Long form: step, entropy, source (policy during GRPO steps | samples at checkpoints)."""
    rows = []
    if len(m.train_entropy) == len(m.train_steps):
        rows += [{"step": s, "entropy": e, "source": "policy (GRPO step)"} for s, e in zip(m.train_steps, m.train_entropy)]
    if len(m.entropy) == len(m.checkpoint_steps):
        rows += [{"step": s, "entropy": e, "source": "samples (checkpoint)"} for s, e in zip(m.checkpoint_steps, m.entropy)]
    return pd.DataFrame(rows, columns=["step", "entropy", "source"])


def sparsity_frame(m: RunMetrics) -> pd.DataFrame:
    """Long form: layer, view (fp32 | bf16), unchanged (the share of weights the update left as they were)."""
    rows = [{"layer": layer, "view": view, "unchanged": 1.0 - getattr(v, f"changed_{view}")}
            for layer, v in m.sparsity.items() for view in ("fp32", "bf16")]
    return pd.DataFrame(rows, columns=["layer", "view", "unchanged"])


def pass_at_k_chart(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    import altair as alt

    base = alt.Chart(df).encode(
        x=alt.X("k:Q", scale=alt.Scale(type="log", base=2), title="k (samples per problem)"),
        color=alt.Color("model:N", scale=alt.Scale(domain=["base", "RL"], range=["#4c78a8", "#e45756"]), title=None),
    )
    line = base.mark_line(point=True).encode(y=alt.Y("pass:Q", title="pass@k", scale=alt.Scale(domain=[0, 1])),
                                             tooltip=["model", "k", "pass"])
    if {"low", "high"} <= set(df.columns) and df["low"].notna().any():
        band = base.mark_area(opacity=0.2).encode(y="low:Q", y2="high:Q")
        return (band + line).properties(title="pass@k: base vs RL (95% interval)", height=260)
    return line.properties(title="pass@k: base vs RL", height=260)


def format_chart(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    import altair as alt

    return alt.Chart(df).mark_area().encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("share:Q", stack="normalize", title="share of samples"),
        color=alt.Color("format:N", title="format"),
        tooltip=["step", "format", alt.Tooltip("share:Q", format=".2f")],
    ).properties(title="Format shares over training", height=260)


def entropy_chart(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    import altair as alt

    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("step:Q", title="training step"), y=alt.Y("entropy:Q", title="token entropy (nats)"),
        color=alt.Color("source:N", title=None, scale=alt.Scale(range=["#72b7b2", "#b279a2"]),
                        legend=alt.Legend(orient="top")),
        tooltip=["source", "step", alt.Tooltip("entropy:Q", format=".3f")],
    ).properties(title="Entropy over training", height=260)


def sparsity_chart(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    import altair as alt

    return alt.Chart(df).mark_bar().encode(
        x=alt.X("layer:N", title=None, sort=None),
        xOffset="view:N",
        y=alt.Y("unchanged:Q", title="share of weights unchanged", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("view:N", scale=alt.Scale(domain=["fp32", "bf16"], range=["#4c78a8", "#f58518"]), title="view"),
        tooltip=["layer", "view", alt.Tooltip("unchanged:Q", format=".1%")],
    ).properties(title="Update sparsity per layer", height=260)


PLOTS = (
    ("pass@k", pass_at_k_frame, pass_at_k_chart),
    ("format shares", format_frame, format_chart),
    ("entropy", entropy_frame, entropy_chart),
    ("update sparsity", sparsity_frame, sparsity_chart),
)


def run_plots(stored: Any, key: str) -> None:
    """The four plots of a run, two per row; 'no data' where the run stored none."""
    m = parse_metrics(stored)
    cols = st.columns(2)
    for i, (name, frame, chart) in enumerate(PLOTS):
        with cols[i % 2]:
            df = frame(m) if m is not None else pd.DataFrame()
            if df.empty:
                st.caption(f"{name}: no data")
            else:
                st.altair_chart(chart(df), key=f"{key}_{i}")


def run_summary(run: dict[str, Any]) -> None:
    """Verdict, effect and interval, timing, hardware and config of a run."""
    verdict = run.get("verdict") or run.get("status") or "none"
    effect = ""
    if run.get("effect_size") is not None:
        effect = f" · effect {run['effect_size']:+.3f}"
        if run.get("ci_low") is not None and run.get("ci_high") is not None:
            effect += f" [{run['ci_low']:+.3f}, {run['ci_high']:+.3f}]"
    start, end = run.get("started_at"), run.get("finished_at")
    took = f" · took {(end - start).total_seconds():.0f} s" if start and end else ""
    strength = describe_strength(RunStrength.model_validate(run.get("strength") or {"preset": run.get("preset", "")}))
    st.markdown(
        f"{badges.badge(verdict, badges.VERDICT_COLOURS)} <b>{run.get('protocol', '')}</b> "
        f"(v{run.get('protocol_version', '?')}, {strength['label']}){effect}{took}",
        unsafe_allow_html=True,
    )
    if strength["may_propose"]:
        st.caption(f"Strong enough to back a proposal once replicated on new seeds "
                   f"(`claims retest run --replicate`): {strength['why']}.")
    else:
        st.caption(f"Not evidence for a proposal: {strength['why']}.")
    if run.get("summary"):
        st.markdown(run["summary"])
    if run.get("decision_rule"):
        st.caption(f"Decision rule: {run['decision_rule']}")
    if run.get("reason"):
        st.caption(f"Why it ran: {run['reason']}")
    hw = hardware(run.get("environment") or {})
    if hw:
        st.caption(f"Hardware: {hw}")


def hardware(stored: Any) -> str:
    """A one-line description of where a run ran, from its stored environment."""
    env = Environment.from_stored(stored)
    if env is None:
        return ""
    hw = env.hardware
    parts = []
    if hw.gpu:
        parts.append(f"GPU {hw.gpu}")
    if hw.processor or hw.machine:
        parts.append(f"CPU {hw.processor or hw.machine}")
    if hw.cpu_threads:
        parts.append(f"{hw.cpu_threads} threads")
    parts += [f"{name} {version}" for name, version in
              (("torch", env.torch), ("transformers", env.transformers), ("trl", env.trl)) if version]
    return " · ".join(parts)
