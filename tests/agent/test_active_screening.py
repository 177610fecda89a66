"""`claims eval search --active`: a reviewer screening in the ranker's order, the ranker learning as labels come in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.active import figures
from claims.errors import BadInput
from claims.store import Store
from tests.conftest import DEMO_CORPUS, DEV_LABELS

FIGS = {"recall@10", "recall@20", "recall@50", "recall@100", "screened_for_95", "wss@95"}
# Labels that bear no likeness to C2's text (RL and the base model's prior): six benchmarks of
# computer-use and coding agents. A ranking that does not learn finds them last.
AGENT_BENCHMARKS = ("2404.07972", "2406.12045", "2506.22598", "2508.18993", "2605.17526", "2610.07557")


def _labels(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps({"claim": "C2", "paper": p, "stance": "supports"}) + "\n"
                            for p in AGENT_BENCHMARKS))
    return path


def test_screening_figures_of_a_known_order() -> None:
    order = [f"p{i}" for i in range(100)]
    f = figures(order, {"p0", "p9", "p39"})  # all three needed for 95%: found by the 40th paper screened
    two_thirds = pytest.approx(2 / 3, abs=1e-4)
    assert (f["recall@10"], f["recall@20"], f["recall@50"]) == (two_thirds, two_thirds, 1.0)
    assert f["screened_for_95"] == 40 and f["wss@95"] == pytest.approx(0.60 - 0.05)


def test_active_screening_learns_what_the_query_cannot_see(bundled_store: Store, tmp_path: Path) -> None:
    from claims.cli import build_app

    png = tmp_path / "active.png"
    args = ["--labels", str(_labels(tmp_path)), "--active", "--format", "json", "--plot", str(png)]
    result = CliRunner().invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    active = data["active"]
    assert FIGS <= set(active["mean"]) and FIGS <= set(active["static"]) and FIGS <= set(active["bm25"])
    c2 = active["claims"]["C2"]
    assert c2["relevant"] == 6 and FIGS <= set(c2) and FIGS <= set(c2["static"]) and FIGS <= set(c2["bm25"])
    # The static order reaches the sixth agent paper near the end of the corpus; screening that learns
    # from each label gets there in less than half the papers.
    assert c2["static"]["screened_for_95"] > 140
    assert c2["screened_for_95"] < c2["static"]["screened_for_95"] / 2
    assert c2["wss@95"] > c2["static"]["wss@95"] + 0.4 and active["mean"]["wss@95"] == c2["wss@95"]
    assert set(active["curve"]) == {"active", "static", "bm25"} and active["curve"]["active"][-1] == 1.0
    assert data["claims"]["C2"]["relevant"] == 6 and "r-precision" in data["claims"]["C2"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_active_table_in_batches(bundled_store: Store, tmp_path: Path) -> None:
    from claims.cli import build_app

    result = CliRunner().invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), "--labels",
                                              str(_labels(tmp_path)), "--active", "--batch", "5"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Active screening (re-ranked every 5 label(s))" in out
    assert "R-P" in out and "screened" in out and "WSS@95" in out
    rows = [line for line in out.splitlines() if "│" in line]
    assert any(r.split("│")[1].strip() == "C2" and r.split("│")[2].strip() == "6" and "active" in r for r in rows)
    assert sum("static" in r for r in rows) == 2 and sum("BM25" in r for r in rows) >= 2  # C2 and the mean


def test_plot_without_matplotlib_is_one_clear_error(bundled_store: Store, tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    from claims.cli import build_app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    result = CliRunner().invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), "--labels",
                                              str(_labels(tmp_path)), "--active", "--plot", str(tmp_path / "x.png")])
    assert isinstance(result.exception, BadInput) and "needs matplotlib" in str(result.exception)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.skipif(not DEV_LABELS.exists(), reason="dev labels not present")
def test_on_dev_labels_make_screening_shorter_for_every_claim(bundled_store: Store) -> None:
    from claims.cli import build_app

    result = CliRunner().invoke(build_app(), ["eval", "search", "--corpus", str(DEV_LABELS.parent / "papers.jsonl"),
                                              "--labels", str(DEV_LABELS), "--active", "--format", "json"])
    assert result.exit_code == 0, result.output
    active = json.loads(result.stdout)["active"]
    assert active["mean"]["wss@95"] >= active["static"]["wss@95"] + 0.05 >= active["bm25"]["wss@95"] + 0.1
    for key, row in active["claims"].items():
        assert row["screened_for_95"] <= row["static"]["screened_for_95"], key
