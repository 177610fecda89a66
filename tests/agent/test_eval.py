"""`claims eval search`: the figures, the JSON shape, the dev-set acceptance, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.evaluation import metrics
from claims.errors import BadInput
from claims.store import Store
from tests.conftest import DEMO_CORPUS, DEV_LABELS

KEYS = {"recall@10", "recall@20", "precision@10", "mrr", "ap@50", "wss@95"}


def test_metrics_of_a_known_order() -> None:
    order = [f"p{i}" for i in range(100)]
    m = metrics(order, {"p1", "p4", "p30"})  # found at ranks 2, 5 and 31
    assert m["recall@10"] == pytest.approx(2 / 3, abs=1e-4) and m["recall@50"] == 1.0
    assert m["precision@10"] == 0.2 and m["mrr"] == 0.5
    assert m["ap@50"] == pytest.approx((1 / 2 + 2 / 5 + 3 / 31) / 3, abs=1e-4)
    assert m["wss@95"] == pytest.approx((100 - 31) / 100 - 0.05, abs=1e-4)  # all 3 needed for 95%
    assert metrics(order, {"p0"})["wss@95"] == pytest.approx(0.99 - 0.05)


@pytest.mark.skipif(not DEV_LABELS.exists(), reason="dev labels not present")
def test_dev_set_beats_bm25_and_feedback_reaches_recall(bundled_store: Store, home: Path, tmp_path: Path) -> None:
    from claims.cli import build_app

    png = tmp_path / "curve.png"
    result = CliRunner().invoke(build_app(), ["eval", "search", "--corpus", str(DEV_LABELS.parent / "papers.jsonl"),
                                              "--labels", str(DEV_LABELS), "--simulate", "10", "--format", "json",
                                              "--plot", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for part in ("mean", "bm25", "feedback"):
        assert KEYS <= set(data[part])
    assert set(data["claims"]) == {"C1", "C2", "C3", "C4", "C5"}
    assert all(KEYS <= set(row) for row in data["claims"].values())
    assert data["mean"]["recall@20"] >= data["bm25"]["recall@20"] + 0.10
    assert data["feedback"]["recall@20"] >= 0.8
    assert len(data["curve"]["feedback"]) == data["papers"] - 4  # the 4 anchors are known, not found
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    last = json.loads((home / "eval" / "last-search.json").read_text())
    assert last["mean"] == data["mean"] and last["simulate"] == 10


def test_bad_labels_and_unknown_claims(bundled_store: Store, tmp_path: Path) -> None:
    from claims.cli import build_app

    runner = CliRunner()
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"claim": "C1", "paper": "2504.07912", "stance": "supports"}\nnot json\n')
    result = runner.invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), "--labels", str(bad)])
    assert isinstance(result.exception, BadInput) and ":2:" in str(result.exception)  # exit 2, naming the line
    other = tmp_path / "other.jsonl"
    other.write_text('{"claim": "Z9", "paper": "2504.07912", "stance": "supports"}\n')
    result = runner.invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), "--labels", str(other)])
    assert isinstance(result.exception, BadInput) and "claims import" in str(result.exception)
    missing = runner.invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), "--labels", "nope.jsonl"])
    assert isinstance(missing.exception, BadInput) and "nope.jsonl" in str(missing.exception)


def test_labels_of_unknown_claims_are_reported_as_skipped(bundled_store: Store, tmp_path: Path) -> None:
    from claims.cli import build_app

    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"claim": "C2", "paper": "2509.21128", "stance": "supports"}\n'
                      '{"claim": "X7", "paper": "2509.21128", "stance": "supports"}\n')
    result = CliRunner().invoke(build_app(), ["eval", "search", "--corpus", str(DEMO_CORPUS), "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert "C2" in result.stdout and "skipped (labelled, not in the database): X7" in result.stdout
