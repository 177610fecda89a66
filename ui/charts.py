"""Plots of a retest run, drawn with Altair from the run's stored metrics.

Four plots a researcher expects: pass@k curves (base vs. RL, with intervals), format
shares over training steps, token entropy over steps, and update sparsity per layer
(fp32 vs. bf16 view). Metrics come from the retest engine (retest.runner.plot_series,
docs/retest.md): flat keys `k`, `passk_base[_low|_high]`, `passk_rl[_low|_high]`,
`checkpoint_steps`, `format_shares` ({format: [share per checkpoint]}), `entropy` (per
checkpoint), `train_steps`/`train_entropy` (per GRPO step) and `sparsity` ({layer:
{changed_fp32, changed_bf16, ...}}). The readers also accept a few other shapes (a
list, a mapping x -> value, columns of lists, records); a missing or malformed series
shows "no data".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from ui import badges

PASS_KEYS = ("pass_at_k", "passk", "pass@k")
FORMAT_KEYS = ("format_shares", "formats", "format_share")
ENTROPY_KEYS = ("entropy", "entropy_per_step", "token_entropy")
SPARSITY_KEYS = ("update_sparsity", "sparsity")
X_NAMES = ("k", "step", "steps", "layer", "x")
Y_NAMES = ("mean", "value", "values", "y", "pass", "share", "entropy", "rate")
LOW_NAMES = ("low", "ci_low", "lo", "lower")
HIGH_NAMES = ("high", "ci_high", "hi", "upper")
MODEL_NAMES = {"base": "base", "rl": "RL", "grpo": "RL", "after": "RL", "before": "base", "trained": "RL"}


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None  # NaN -> None


def _first(d: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if n in d:
            return d[n]
    return None


def _pick(metrics: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if metrics.get(n) not in (None, {}, []):
            return metrics[n]
    return None


def points(obj: Any) -> list[dict[str, float]]:
    """One series as rows {x, y[, low, high]}, from any of the accepted shapes."""
    rows: list[dict[str, float]] = []
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            if isinstance(item, Mapping):
                x, y = _num(_first(item, X_NAMES)), _num(_first(item, Y_NAMES))
                row = {"x": x if x is not None else float(i), "y": y}
                lo, hi = _num(_first(item, LOW_NAMES)), _num(_first(item, HIGH_NAMES))
            elif isinstance(item, (list, tuple)) and len(item) >= 2:
                row = {"x": _num(item[0]), "y": _num(item[1])}
                lo, hi = (_num(item[2]), _num(item[3])) if len(item) >= 4 else (None, None)
            else:
                row, lo, hi = {"x": float(i), "y": _num(item)}, None, None
            if lo is not None and hi is not None:
                row.update(low=lo, high=hi)
            rows.append(row)
    elif isinstance(obj, Mapping):
        xs, ys = _first(obj, X_NAMES), _first(obj, Y_NAMES)
        if isinstance(xs, list) and isinstance(ys, list):
            lows, highs = _first(obj, LOW_NAMES), _first(obj, HIGH_NAMES)
            for i, (x, y) in enumerate(zip(xs, ys)):
                row = {"x": _num(x), "y": _num(y)}
                if isinstance(lows, list) and isinstance(highs, list) and i < min(len(lows), len(highs)):
                    row.update(low=_num(lows[i]), high=_num(highs[i]))
                rows.append(row)
        elif isinstance(ys, list):
            rows = points(ys)
        else:
            for x, v in obj.items():
                if isinstance(v, Mapping):
                    row = {"x": _num(x), "y": _num(_first(v, Y_NAMES))}
                    lo, hi = _num(_first(v, LOW_NAMES)), _num(_first(v, HIGH_NAMES))
                    if lo is not None and hi is not None:
                        row.update(low=lo, high=hi)
                elif isinstance(v, (list, tuple)) and len(v) == 3:
                    row = {"x": _num(x), "y": _num(v[0]), "low": _num(v[1]), "high": _num(v[2])}
                else:
                    row = {"x": _num(x), "y": _num(v)}
                rows.append(row)
    return [r for r in rows if r.get("x") is not None and r.get("y") is not None]


def _flat_pass_at_k(metrics: Mapping[str, Any]) -> dict[str, Any] | None:
    """The retest engine's flat keys (k, passk_base, passk_base_low, ...) as {model: columns}."""
    if not isinstance(metrics.get("k"), list):
        return None
    out = {}
    for model in ("base", "rl"):
        if isinstance(metrics.get(f"passk_{model}"), list):
            out[model] = {"k": metrics["k"], "mean": metrics[f"passk_{model}"],
                          "low": metrics.get(f"passk_{model}_low"), "high": metrics.get(f"passk_{model}_high")}
    return out or None


def pass_at_k_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Long form: k, model (base | RL), pass, low, high."""
    obj = _flat_pass_at_k(metrics) or _pick(metrics, PASS_KEYS)
    frames = []
    if isinstance(obj, list) and obj and isinstance(obj[0], Mapping) and "model" in obj[0]:
        by: dict[str, list[Any]] = {}
        for item in obj:
            by.setdefault(str(item["model"]), []).append(item)
        obj = by
    if isinstance(obj, Mapping):
        for name, series in obj.items():
            pts = points(series)
            if pts:
                df = pd.DataFrame(pts)
                df["model"] = MODEL_NAMES.get(str(name).lower(), str(name))
                frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["x", "y", "model"])
    return pd.concat(frames, ignore_index=True).rename(columns={"x": "k", "y": "pass"})


def format_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Long form: step, format, share."""
    obj = _pick(metrics, FORMAT_KEYS)
    rows: list[dict[str, Any]] = []
    if isinstance(obj, Mapping) and obj and all(_num(k) is not None for k in obj):
        obj = [{"step": k, **v} for k, v in obj.items() if isinstance(v, Mapping)]
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            if not isinstance(item, Mapping):
                continue
            step = _num(item.get("step", i))
            shares = item.get("shares", item)
            for name, share in shares.items():
                if name != "step" and _num(share) is not None:
                    rows.append({"step": step, "format": str(name), "share": _num(share)})
    elif isinstance(obj, Mapping):  # format -> series
        for name, series in obj.items():
            if name in X_NAMES:
                continue
            steps = obj.get("steps") or obj.get("step") or metrics.get("checkpoint_steps")
            if isinstance(series, list) and isinstance(steps, list):
                series = {"x": steps, "y": series}
            for p in points(series):
                rows.append({"step": p["x"], "format": str(name), "share": p["y"]})
    return pd.DataFrame(rows, columns=["step", "format", "share"])


def entropy_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Long form: step, entropy, source (policy during GRPO steps | samples at checkpoints)."""
    rows = []
    train = metrics.get("train_entropy")
    if isinstance(train, list) and isinstance(metrics.get("train_steps"), list):
        rows += [{"step": p["x"], "entropy": p["y"], "source": "policy (GRPO step)"}
                 for p in points({"x": metrics["train_steps"], "y": train})]
    obj = _pick(metrics, ENTROPY_KEYS)
    if isinstance(obj, list) and obj and not isinstance(obj[0], Mapping) and isinstance(metrics.get("checkpoint_steps"), list):
        obj = {"x": metrics["checkpoint_steps"], "y": obj}
    rows += [{"step": p["x"], "entropy": p["y"], "source": "samples (checkpoint)"} for p in points(obj)]
    return pd.DataFrame(rows, columns=["step", "entropy", "source"])


def sparsity_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Long form: layer, view (fp32 | bf16), unchanged (the share of weights the update left as they were)."""
    obj = _pick(metrics, SPARSITY_KEYS)
    rows = []
    if isinstance(obj, Mapping):
        for layer, v in obj.items():
            if not isinstance(v, Mapping):
                continue
            for view in ("fp32", "bf16"):
                changed = _num(v.get(f"changed_{view}"))
                unchanged = _num(v.get(f"unchanged_{view}", v.get(f"sparsity_{view}", v.get(view))))
                if unchanged is None and changed is not None:
                    unchanged = 1.0 - changed
                if unchanged is not None:
                    rows.append({"layer": str(layer), "view": view, "unchanged": unchanged})
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


def run_plots(metrics: Mapping[str, Any], key: str) -> None:
    """The four plots of a run, two per row; 'no data' where the run stored none."""
    cols = st.columns(2)
    for i, (name, frame, chart) in enumerate(PLOTS):
        with cols[i % 2]:
            try:
                df = frame(metrics or {})
            except (TypeError, ValueError, AttributeError, KeyError):
                df = pd.DataFrame()
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
    st.markdown(
        f"{badges.badge(verdict, badges.VERDICT_COLOURS)} <b>{run.get('protocol', '')}</b> "
        f"(v{run.get('protocol_version', '?')}, preset {run.get('preset', '?')}){effect}{took}",
        unsafe_allow_html=True,
    )
    if run.get("summary"):
        st.markdown(run["summary"])
    if run.get("decision_rule"):
        st.caption(f"Decision rule: {run['decision_rule']}")
    if run.get("reason"):
        st.caption(f"Why it ran: {run['reason']}")
    hw = hardware(run.get("environment") or {})
    if hw:
        st.caption(f"Hardware: {hw}")


def hardware(env: Mapping[str, Any]) -> str:
    """A one-line description of where a run ran, from its environment record."""
    hw = env.get("hardware") if isinstance(env.get("hardware"), Mapping) else {}
    parts = []
    if hw.get("gpu"):
        parts.append(f"GPU {hw['gpu']}")
    if hw.get("processor") or hw.get("machine"):
        parts.append(f"CPU {hw.get('processor') or hw.get('machine')}")
    if hw.get("cpu_threads"):
        parts.append(f"{hw['cpu_threads']} threads")
    keys = ("device", "gpu", "cpu", "torch", "transformers", "trl")
    parts += [f"{k} {env[k]}" for k in keys if isinstance(env.get(k), (str, int, float)) and env.get(k) != ""]
    return " · ".join(parts) if parts else (json.dumps(env, default=str)[:200] if env else "")
