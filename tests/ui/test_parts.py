"""The app's pure parts: the text diff, the metric readers behind the plots, identity rules, the command."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from ui.cli import streamlit_command
from ui import charts
from ui.diff import diff_html, word_diff
from ui.identity import resolve

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@given(texts, texts)
def test_word_diff_rebuilds_both_texts(old: str, new: str) -> None:
    pieces = word_diff(old, new)
    assert "".join(t for op, t in pieces if op != "insert") == old
    assert "".join(t for op, t in pieces if op != "delete") == new


def test_diff_marks_only_what_changed_and_escapes() -> None:
    out = diff_html("RL sharpens <priors>.", "RL sharpens <priors>, mostly.")
    assert out.startswith("RL sharpens &#60;priors&#62;") and "<priors>" not in out
    inserted = out.split('">', 1)[1].split("</ins>")[0]
    assert html.unescape(inserted) == ", mostly" and "<del" not in out
    assert html.unescape(out.rsplit("</ins>", 1)[1]) == "."
    assert '">old</del><ins' in diff_html("an old claim", "an new claim")
    assert "<ins" not in diff_html("same text", "same text")


def test_pass_at_k_reads_the_stored_series_with_intervals(metrics: dict) -> None:
    df = charts.pass_at_k_frame(charts.parse_metrics(metrics))
    assert set(df["model"]) == {"base", "RL"} and len(df) == 12
    rl1 = df[(df["model"] == "RL") & (df["k"] == 1)].iloc[0]
    assert (rl1["pass"], rl1["low"], rl1["high"]) == (0.78, 0.74, 0.82)
    base32 = df[(df["model"] == "base") & (df["k"] == 32)].iloc[0]
    assert (base32["pass"], base32["low"], base32["high"]) == (0.96, 0.94, 0.98)


def test_format_entropy_sparsity_frames(metrics: dict) -> None:
    m = charts.parse_metrics(metrics)
    fmt = charts.format_frame(m)
    assert set(fmt["format"]) == {"A", "B", "C", "other"} and fmt["step"].max() == 150 and len(fmt) == 16
    assert fmt[(fmt["format"] == "C") & (fmt["step"] == 100)]["share"].iloc[0] == 0.1
    ent = charts.entropy_frame(m)
    assert len(ent) == 9 and ent[ent["source"] == "samples (checkpoint)"]["step"].max() == 150
    assert ent[ent["source"] == "policy (GRPO step)"]["entropy"].tolist() == [0.22, 0.2, 0.15, 0.1, 0.06]
    sp = charts.sparsity_frame(m)
    row = sp[(sp["layer"] == "layer 0") & (sp["view"] == "bf16")].iloc[0]
    assert round(row["unchanged"], 2) == 0.30
    assert round(sp[(sp["layer"] == "all") & (sp["view"] == "fp32")]["unchanged"].iloc[0], 2) == 0.06


def test_the_stored_metrics_round_trip_through_the_one_typed_shape(metrics: dict) -> None:
    from retest.results import RunMetrics

    m = RunMetrics.model_validate(metrics)
    assert charts.parse_metrics(m.model_dump(mode="json")) == m


def test_missing_malformed_or_failed_metrics_give_no_plot() -> None:
    # not the stored shape at all: nothing to plot
    for bad in ({"entropy": [None, "x"]}, {"sparsity": [1, 2]}, {"k": "n/a"}, ["not", "a", "mapping"]):
        assert charts.parse_metrics(bad) is None
    # a failed run stores only its timings; series that do not align with their axis are not drawn
    for empty in ({}, None, {"timings": {"total": 3.2}, "toy_world": True},
                  {"k": [1, 2], "passk_base": [0.4], "checkpoint_steps": [0, 5], "entropy": [0.2],
                   "format_shares": {"A": [0.1]}}):
        m = charts.parse_metrics(empty)
        assert m is not None
        for _, frame, _ in charts.PLOTS:
            assert frame(m).empty


def test_identity_rules() -> None:
    assert not resolve("", False, []).can_decide
    assert resolve(" alice ", False, []).name == "alice"
    assert resolve("alice", False, []).can_decide
    off = resolve("mallory", True, ["alice"])
    assert not off.can_decide and "not on the reviewer list" in off.reason


def test_streamlit_command_is_headless_on_the_given_address(app_path) -> None:
    cmd = streamlit_command("127.0.0.1", 8599)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(app_path)
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--server.headless"] == "true" and flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8599" and flags["--browser.gatherUsageStats"] == "false"


def test_hardware_line_reads_the_retest_environment() -> None:
    env = {"torch": "2.13.0", "hardware": {"machine": "x86_64", "processor": "x86_64", "cpu_threads": 2, "gpu": "NVIDIA H100"}}
    assert charts.hardware(env) == "GPU NVIDIA H100 · CPU x86_64 · 2 threads · torch 2.13.0"


def test_the_serving_address_is_an_address_or_a_host_name() -> None:
    import pytest

    from claims.errors import BadInput
    from ui.cli import check_host

    assert check_host("127.0.0.1", False) == "127.0.0.1"
    assert check_host("[::1]", False) == "::1"
    assert check_host("review.lab.example", False) == "review.lab.example"
    assert check_host("0.0.0.0", True) == "0.0.0.0"
    for bad in ("", " ", "256.1.1.1", "1.2.3", "-x.example", "a" * 64, "http://x"):
        with pytest.raises(BadInput):
            check_host(bad, True)
    with pytest.raises(BadInput, match="--expose"):
        check_host("0.0.0.0", False)
