"""The build-then-rename cache: complete entries are reused, interrupted builds never are."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retest.cache import cached_build
from retest.presets import RLConfig
from retest.rl import rl_key


def writer(text: str):  # -> build function
    def build(out: Path) -> dict:
        (out / "weights.txt").write_text(text)
        return {"text": text}

    return build


def test_a_built_entry_is_reused_with_its_stats(tmp_path: Path) -> None:
    first, stats, reused = cached_build(tmp_path, "base-k1", writer("one"))
    assert (stats, reused) == ({"text": "one"}, False) and first == tmp_path / "base-k1"
    again, stats, reused = cached_build(tmp_path, "base-k1", writer("two"))
    assert (again, stats, reused) == (first, {"text": "one"}, True)
    assert (first / "weights.txt").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base-k1"]  # no partial left behind


def test_an_interrupted_build_leaves_nothing_that_is_reused(tmp_path: Path) -> None:
    def interrupted(out: Path) -> dict:
        (out / "weights.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_build(tmp_path, "rl-k2", interrupted)
    assert list(tmp_path.iterdir()) == []
    entry, stats, reused = cached_build(tmp_path, "rl-k2", writer("whole"))
    assert not reused and (entry / "weights.txt").read_text() == "whole"


def test_a_build_killed_with_sigkill_is_not_reused_and_is_swept(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    code = (
        "import sys, time; from pathlib import Path; from retest.cache import cached_build\n"
        "def build(out):\n"
        "    (out / 'weights.txt').write_text('half')\n"
        f"    Path({str(marker)!r}).write_text('x')\n"
        "    time.sleep(60)\n"
        f"cached_build(Path({str(tmp_path / 'cache')!r}), 'base-k3', build)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the build did not start"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    cache = tmp_path / "cache"
    assert [p.name for p in cache.iterdir()] == [f".base-k3.{proc.pid}.partial"]  # nothing under the final name
    entry, _, reused = cached_build(cache, "base-k3", writer("whole"))
    assert not reused and (entry / "weights.txt").read_text() == "whole"
    assert [p.name for p in cache.iterdir()] == ["base-k3"]  # the dead build's partial is gone


def test_an_entry_without_done_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "base-k4").mkdir()
    (tmp_path / "base-k4" / "weights.txt").write_text("stale")
    entry, _, reused = cached_build(tmp_path, "base-k4", writer("fresh"))
    assert not reused and (entry / "weights.txt").read_text() == "fresh"
    assert json.loads((entry / "done.json").read_text()) == {"text": "fresh"}


def test_grpo_runs_are_keyed_by_the_content_of_their_prompts() -> None:
    cfg = RLConfig()
    one = [("1+2*3=", 7), ("2*2+1=", 5)]
    other = [("1+1*1=", 2), ("3*1+2=", 5)]  # same size, other prompts
    assert rl_key("base-x", one, cfg, 0) != rl_key("base-x", other, cfg, 0)
    assert rl_key("base-x", one, cfg, 0) == rl_key("base-x", list(one), cfg, 0)
    assert rl_key("base-x", one, cfg, 0) != rl_key("base-x", one, cfg, 1)
    assert rl_key("base-x", one, cfg, 0) != rl_key("base-y", one, cfg, 0)
