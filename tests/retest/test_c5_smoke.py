"""C5a hard-samples and C5b calibration end to end at the smoke preset (one shared cache: one
pretraining serves both; C5b adds a short SFT teaching the confidence digit)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from retest.protocols import PROTOCOLS
from retest.runner import run_protocol

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = tmp_path_factory.mktemp("c5-smoke")
    (home / "cache").symlink_to(smoke_cache)  # the run's shared smoke cache: one pretraining for all
    return home


def run(name: str, home: Path):  # -> RetestResult
    result = run_protocol(name, "smoke", cache_dir=home / "cache", artifacts_dir=home / "artifacts")
    assert result.status == "succeeded", result.log
    return result


def _flag_known(name: str, flag: str) -> bool:
    """A raised flag is one the spec stated before the run (it opens with the words before the spec's colon)."""
    return any(flag.startswith(s.split(":")[0]) for s in PROTOCOLS[name].validity_flags)


def test_hard_samples_selects_a_hard_slice_and_decides(home: Path) -> None:
    result = run("hard-samples", home)
    d = result.metrics.details
    assert set(d["arms"]) == {"hard/group", "hard/none", "typical/group", "typical/none"}
    sl = d["slices"][0]
    assert sl["hard"] >= 2 and sl["hard"] == sl["typical"]
    assert sl["hard_rate"] <= 1 / 16 < sl["typical_rate"]  # the hard slice is what the base rarely solves
    assert d["reward"] == "format-credit" and set(d["usual_problems"]["arms"]) == {"hard/group", "typical/group"}
    assert result.verdict in ("consistent", "inconsistent", "inconclusive")
    assert result.ci_low <= result.effect_size <= result.ci_high and len(result.metrics.effect.per_seed) == 1
    assert all(_flag_known("hard-samples", f) for f in result.flags)
    assert result.summary.startswith("Toy-world result") and "answer-only share" in result.summary
    assert json.loads(Path(result.artifacts.metrics).read_text())["details"]["slices"] == d["slices"]


def test_calibration_teaches_the_digit_and_compares_rewards(home: Path) -> None:
    result = run("calibration", home)
    d = result.metrics.details
    assert d["stated_share"]["base"] >= 0.8  # the short SFT taught the base to state a confidence
    assert d["base_model"]["measured_format_accuracy"]["0"]["C"] is not None  # taught its own accuracy per format
    assert all(0 <= d["ece"][k] <= 1 for k in ("base", "binary", "brier"))
    assert sum(d["reliability"]["base"]["count"]) > 0
    assert min(d["train_reward"]["brier"]) >= -1 and 0 <= min(d["train_reward"]["binary"]) <= 1
    assert result.effect_size == pytest.approx(d["ece"]["binary"] - d["ece"]["brier"], abs=1e-3)  # details: 4 places
    assert all(_flag_known("calibration", f) for f in result.flags)
    assert "ECE base" in result.summary and result.verdict in ("consistent", "inconsistent", "inconclusive")
