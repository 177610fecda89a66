"""A tiny real grid: killed half way with SIGKILL and restarted, it re-runs no finished cell;
the same grid runs on a real local Ray cluster (2 CPUs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from retest.factorial.design import cells, tiny_config
from retest.factorial.grid import run_config
from retest.factorial.results import FactorialResult

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]  # minutes only on a loaded machine
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
GRID = ("import sys; from pathlib import Path; from retest.factorial.design import tiny_config; "
        "from retest.factorial.grid import run_config; run_config(tiny_config(), 'local', cache_dir=Path(sys.argv[1]))")


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """Start the grid in a subprocess, SIGKILL it once a cell has finished, restart in-process."""
    cache = tmp_path_factory.mktemp("factorial")
    done_dir = cache / "factorial" / "cells"
    proc = subprocess.Popen([sys.executable, "-c", GRID, str(cache)], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 1500  # ~20 s on a quiet machine
    try:
        while time.monotonic() < deadline and proc.poll() is None and not list(done_dir.glob("*.json")):
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished = {p.stem: p.stat().st_mtime_ns for p in done_dir.glob("*.json")}
    lines: list[str] = []
    result = run_config(tiny_config(), "local", cache_dir=cache, progress=lines.append)
    return cache, finished, result, lines


def test_a_killed_grid_resumes_without_rerunning_a_finished_cell(killed_and_resumed):
    cache, finished, result, lines = killed_and_resumed
    total = len(cells(tiny_config()))
    assert 1 <= len(finished) < total, "the kill must land half way"
    by_key = {c.key: c for c in result.cells}
    assert all(by_key[k].status == "cached" for k in finished)
    assert sum(c.status == "done" for c in result.cells) == total - len(finished)  # trained now
    assert all((cache / "factorial" / "cells" / f"{k}.json").stat().st_mtime_ns == t for k, t in finished.items())
    assert any(f"{len(finished)} of {total} finished before" in line for line in lines)
    assert any(f"cells {total}/{total}" in line for line in lines)
    # a third run trains nothing at all
    again = run_config(tiny_config(), "local", cache_dir=cache)
    assert {c.status for c in again.cells} == {"cached"}


def test_cells_carry_levels_seeds_and_outcomes_with_gains(killed_and_resumed):
    result = killed_and_resumed[2]
    # every cell trained; a grid too small for the mixed model says so and is "partial"
    assert result.status == ("succeeded" if result.shares else "partial")
    assert all(c.status in ("done", "cached") for c in result.cells)
    assert result.executor == "local" and result.toy_world
    cell = result.cells[0]
    for name in ("pass@1", "pass@256", "reachable", "kl", "pass@1_gain", "pass@256_gain", "reachable_gain"):
        assert name in cell.outcomes
    assert 0 <= cell.outcomes["pass@1"] <= cell.outcomes["pass@256"] <= 1
    assert cell.outcomes["kl"] > -0.5  # a Monte-Carlo KL: near or above 0
    assert "Toy-world" in result.answer and "Reach test" in result.answer
    # shares come with their caveat; this grid (one base per prior) has none, and says so
    assert ("depend on the levels chosen" in result.answer) if result.shares else ("too few" in result.answer)
    stored = result.model_dump(mode="json")  # what the tracker stores and prints
    assert FactorialResult.model_validate(stored).model_dump(mode="json") == stored
    assert set(stored["shares"]["pass@1"]) >= {"prior", "optimizer", "interaction", "residual"} \
        if stored["shares"] else stored["flags"]


def test_a_tiny_grid_runs_on_a_real_local_ray_cluster(killed_and_resumed):
    ray = pytest.importorskip("ray")
    cache = killed_and_resumed[0]  # the bases are reused; the RL cells (1 step, new keys) run on Ray
    fc = tiny_config(rl_steps=1)
    lines: list[str] = []
    try:
        result = run_config(fc, "ray", cache_dir=cache, progress=lines.append, num_cpus=2)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert result.executor == "ray"
    assert [c.status for c in result.cells] == ["done"] * len(cells(fc))
    assert all("pass@1" in c.outcomes for c in result.cells)
    assert any("ETA" in line for line in lines)
    assert not ray.is_initialized()  # the cluster it started is shut down
