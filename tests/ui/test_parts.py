"""The app's pure parts: the text diff, the metric readers behind the plots, identity rules, the command."""

from __future__ import annotations

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
    assert out.startswith("RL sharpens &lt;priors&gt;")
    assert '">, mostly</ins>.' in out and "<del" not in out
    assert '">old</del><ins' in diff_html("an old claim", "an new claim")
    assert "<ins" not in diff_html("same text", "same text")


def test_pass_at_k_reads_columns_with_intervals(metrics: dict) -> None:
    df = charts.pass_at_k_frame(metrics)
    assert set(df["model"]) == {"base", "RL"} and len(df) == 12
    rl1 = df[(df["model"] == "RL") & (df["k"] == 1)].iloc[0]
    assert (rl1["pass"], rl1["low"], rl1["high"]) == (0.78, 0.74, 0.82)


def test_pass_at_k_reads_mappings_and_records() -> None:
    mapping = {"pass_at_k": {"base": {"1": 0.4, "8": 0.8}, "rl": {"1": {"mean": 0.7, "low": 0.6, "high": 0.8}}}}
    df = charts.pass_at_k_frame(mapping)
    assert sorted(df["k"]) == [1.0, 1.0, 8.0]
    records = {"pass_at_k": [{"model": "base", "k": 1, "value": 0.4}, {"model": "rl", "k": 1, "value": 0.7}]}
    assert sorted(charts.pass_at_k_frame(records)["pass"]) == [0.4, 0.7]


def test_format_entropy_sparsity_frames(metrics: dict) -> None:
    fmt = charts.format_frame(metrics)
    assert set(fmt["format"]) == {"A", "B", "C", "other"} and fmt["step"].max() == 150
    assert fmt[(fmt["format"] == "C") & (fmt["step"] == 100)]["share"].iloc[0] == 0.1
    records = charts.format_frame({"format_shares": [{"step": 0, "A": 0.2, "B": 0.8}]})
    assert len(records) == 2
    by_step = charts.format_frame({"format_shares": {"0": {"A": 0.2, "B": 0.8}, "10": {"A": 0.9, "B": 0.1}}})
    assert len(by_step) == 4
    ent = charts.entropy_frame({"entropy": [0.3, 0.2, 0.1]})
    assert list(ent["step"]) == [0.0, 1.0, 2.0]
    ent = charts.entropy_frame(metrics)
    assert len(ent) == 9 and ent[ent["source"] == "samples (checkpoint)"]["step"].max() == 150
    sp = charts.sparsity_frame(metrics)
    row = sp[(sp["layer"] == "layer 0") & (sp["view"] == "bf16")].iloc[0]
    assert round(row["unchanged"], 2) == 0.30


def test_missing_or_malformed_metrics_give_empty_frames() -> None:
    for bad in ({}, {"pass_at_k": "n/a"}, {"entropy": [None, "x"]}, {"update_sparsity": [1, 2]}):
        for _, frame, _ in charts.PLOTS:
            assert frame(bad).empty


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
