"""A real tiny grid (the engine's `tiny_config` cut to 1 prior x 2 optimizers, smoke-size
model) run, stored and exported through the tracker, then run again from its cache.

One grid (one base model, two GRPO cells: about 45 s of CPU); everything else about
storing, showing and proposing runs on hand-made results (tests/claims/test_factorial.py).
With one prior there is no prior variance to share, so the grid is `partial`.
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
    import dataclasses

    from retest.factorial.design import tiny_config
    from retest.factorial.grid import run_config

    config = dataclasses.replace(tiny_config(optimizers=("grpo", "dr_grpo")), mixtures=("A-rich",))
    return run_config(config, kw["executor"], kw["ray_address"], kw["cache_dir"], kw["progress"])


def test_a_real_grid_is_stored_exported_and_resumed_from_its_cache(bundled_store, tmp_path):
    cache = tmp_path / "cache"
    said: list[str] = []
    out = run_and_store(bundled_store, cache, preset="weekly", say=said.append, reason="test", grid=tiny_grid)
    record = out.record
    assert record.status == "partial" and record.log == "", record.log or record.flags
    assert len(record.cells) == 2 and all(c.status == "done" for c in record.cells)
    assert {"pass@1", "pass@256", "reachable", "kl"} <= set(record.cells[0].outcomes)
    assert any(line.startswith("cells 2/2") for line in said)  # progress: cells done of total, with an ETA
    with bundled_store.read() as s:
        back = latest_factorial(s)
        data = build_export(s)
    assert back.record == record
    json.dumps(back.record.model_dump(mode="json"), allow_nan=False)  # PostgreSQL's JSON takes no NaN
    assert out.proposals == [] and "a candidate only" in out.notes[0]  # one seed each: never a proposal
    assert "Measured in the tracker's toy world" in render_markdown(data)
    t = time.monotonic()
    again = run_and_store(bundled_store, cache, preset="weekly", say=lambda m: None, grid=tiny_grid)
    assert [c.status for c in again.record.cells] == ["cached"] * 2 and time.monotonic() - t < 20
    assert again.id != out.id
