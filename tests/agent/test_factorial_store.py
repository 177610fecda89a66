"""A real tiny grid (the engine's `tiny_config`: 2 priors x 2 optimizers, smoke-size model)
run, stored and exported through the tracker, then run again from its cache.

One grid for the module (~30 s on a quiet 2-core machine); everything else about storing,
showing and proposing runs on hand-made results (tests/claims/test_factorial.py).
"""

from __future__ import annotations

import json
import time

import pytest

from agent.factorial import run_and_store
from claims.export import build_export, render_markdown
from claims.factorial import latest_factorial

pytestmark = pytest.mark.slow


def tiny_grid(**kw):  # the signature of retest.factorial.run_factorial, with the engine's tiny grid
    from retest.factorial.design import tiny_config
    from retest.factorial.grid import run_config

    return run_config(tiny_config(), kw["executor"], kw["ray_address"], kw["cache_dir"], kw["progress"])


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("factorial-cache")


def test_a_real_grid_is_stored_exported_and_resumed_from_its_cache(bundled_store, cache):
    said: list[str] = []
    out = run_and_store(bundled_store, cache, preset="weekly", say=said.append, reason="test", grid=tiny_grid)
    record = out.record
    assert record.status in ("succeeded", "partial"), record.log or record.flags
    assert len(record.cells) == 4 and all(c.status == "done" for c in record.cells)
    assert {"pass@1", "pass@256", "reachable", "kl"} <= set(record.cells[0].outcomes)
    assert any(line.startswith("cells 4/4") for line in said)  # progress: cells done of total, with an ETA
    with bundled_store.read() as s:
        back = latest_factorial(s)
        data = build_export(s)
    assert back.record == record
    json.dumps(back.record.model_dump(mode="json"), allow_nan=False)  # PostgreSQL's JSON takes no NaN
    assert out.proposals == [] and "a candidate only" in out.notes[0]  # one seed each: never a proposal
    assert "Measured in the tracker's toy world" in render_markdown(data)
    t = time.monotonic()
    again = run_and_store(bundled_store, cache, preset="weekly", say=lambda m: None, grid=tiny_grid)
    assert [c.status for c in again.record.cells] == ["cached"] * 4 and time.monotonic() - t < 20
    assert again.id != out.id
