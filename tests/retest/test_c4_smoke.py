"""C4a label-free-search and C4b entropy-schedule end to end at the smoke preset (one shared cache:
one pretraining serves both; C4b adds a short continued pretraining on the open-ended task)."""

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
    home = tmp_path_factory.mktemp("c4-smoke")
    (home / "cache").symlink_to(smoke_cache)  # the run's shared smoke cache: one pretraining for all
    return home


def run(name: str, home: Path):  # -> RetestResult
    result = run_protocol(name, "smoke", cache_dir=home / "cache", artifacts_dir=home / "artifacts")
    assert result.status == "succeeded", result.log
    assert result.verdict in ("consistent", "inconsistent", "inconclusive")
    assert result.ci_low <= result.effect_size <= result.ci_high and len(result.metrics.effect.per_seed) == 1
    assert result.summary.startswith("Toy-world result") and "single seed" in result.summary
    stated = [f[:20] for f in PROTOCOLS[name].validity_flags]
    assert all(any(f.startswith(s.split(":")[0][:20]) for s in stated) for f in result.flags), result.flags
    assert json.loads(Path(result.artifacts.metrics).read_text())["details"] == json.loads(
        json.dumps(result.metrics.details))
    return result


def test_label_free_search_compares_three_arms_without_labels(home: Path) -> None:
    result = run("label-free-search", home)
    d = result.metrics.details
    assert set(d["arms"]) == {"truth", "majority", "distill"}
    assert set(d["base"]) == {"pass1", "greedy", "maj16", "reach"}
    # the true reward raises pass@1 on the smoke world (the shared C1 run, seed 0)
    assert d["arms"]["truth"]["pass1"] > d["base"]["pass1"] + 0.05
    # the search found pseudo-labels, some right, and distilled the agreeing leaves
    assert 0 < d["pseudo_label_precision"][0][0] < 1 and d["distilled_leaves"][0][0] > 0
    assert 0 <= d["majority_reward_equals_truth"][0] <= 1
    assert "search-then-distil" in result.summary and "pseudo-label precision" in result.summary


def test_entropy_schedule_measures_coverage_per_arm(home: Path) -> None:
    result = run("entropy-schedule", home)
    d = result.metrics.details
    assert set(d["arms"]) == {"joint", "ordered", "entropy"}
    # the continued pretraining taught the open task: valid and varied answers before RL
    assert d["base"]["pass1"] > 0.1 and d["base"]["coverage"] > 0.1
    for arm in d["arms"].values():
        assert 0 <= arm["coverage"] <= 1 and 0 <= arm["pass1"] <= 1 and len(arm["coverage_by_seed"]) == 1
    assert set(d["coverage_gain_vs_joint"]) == {"ordered", "entropy"}
    assert "coverage" in result.summary
