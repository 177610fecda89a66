"""Independent retest blocks built side by side in worker processes (tiny real models)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from retest.lab import Lab
from retest.parallel import build_all, workers
from retest.presets import RetestConfig, preset


def tiny() -> RetestConfig:
    cfg = preset("smoke")
    return dataclasses.replace(cfg, pretrain=dataclasses.replace(cfg.pretrain, steps=20),
                               rl=dataclasses.replace(cfg.rl, steps=2, checkpoint_every=2),
                               sft=dataclasses.replace(cfg.sft, steps=4))


def two_workers(tmp_path: Path, rl_steps: int = 2) -> tuple[Lab, list[str], Path, list]:
    """A Lab on the tiny config with 2 workers: (lab, its progress lines, a base, the training problems)."""
    lines: list[str] = []
    cfg = tiny()
    lab = Lab(dataclasses.replace(cfg, rl=dataclasses.replace(cfg.rl, steps=rl_steps, checkpoint_every=rl_steps)),
              tmp_path, lines.append, workers=2)
    base_dir, _ = lab.base(0)
    return lab, lines, base_dir, lab.problems()[0]


def test_the_worker_count_is_passed_down_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from claims.settings import Settings

    assert workers(3) == 3
    for bad in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            workers(bad)
    monkeypatch.delenv("CLAIMS_RETEST_WORKERS", raising=False)
    default = workers()
    monkeypatch.setenv("CLAIMS_RETEST_WORKERS", "7")
    assert workers() == default != 7  # the module reads no environment: the machine's default
    assert Settings().retest_workers == 7  # the entry point reads it (once) and passes it down


@pytest.mark.slow
def test_independent_runs_are_built_side_by_side_and_then_reused(tmp_path: Path) -> None:
    lab, lines, base_dir, train = two_workers(tmp_path)
    pairs = [(p, "1") for p, _ in train[:16]]
    blocks = [lab.rl_block(base_dir, train, 0), lab.rl_block(base_dir, train, 1), lab.sft_block(base_dir, pairs)]
    lab.build_all(blocks)
    assert all(b.built(tmp_path) for b in blocks)
    assert any(line.startswith("building 3 blocks 2 at a time") for line in lines)
    assert sum(" built (" in line for line in lines) == 3
    assert lab.timings.get("grpo+sft", 0) > 0  # the batch's wall time, under its phases
    # the in-order calls find them built: nothing trained twice
    lines.clear()
    for seed in (0, 1):
        run_dir, stats = lab.rl(base_dir, train, seed)
        assert run_dir.name == blocks[seed].name and stats.steps_per_second
    assert lab.sft(base_dir, pairs).name == blocks[2].name
    assert [line for line in lines if "trained" in line] == []
    assert sum("reused" in line for line in lines) == 3
    # all built: no pool, no time
    assert build_all(blocks, tmp_path, lines.append) == {}


@pytest.mark.slow
def test_a_block_that_fails_in_a_worker_is_left_to_the_in_order_build(tmp_path: Path) -> None:
    lab, lines, base_dir, train = two_workers(tmp_path)
    missing = tmp_path / "no-such-model"
    good, bad = lab.rl_block(base_dir, train, 0), lab.rl_block(missing, train, 0)
    lab.build_all([good, bad])
    assert good.built(tmp_path) and not bad.built(tmp_path)
    assert any("failed in a worker" in line and "built again in order" in line for line in lines)
    assert not list(tmp_path.glob(".*.partial"))  # the failed build left nothing half-written
    with pytest.raises(OSError):
        lab.rl(missing, train, 0)  # the caller's own build raises the error where it always did


def test_one_worker_builds_nothing_here(tmp_path: Path) -> None:
    lab = Lab(tiny(), tmp_path, workers=1)
    block = lab.base_block(0)
    assert build_all([block, lab.base_block(1)], tmp_path, print, requested=1) == {}
    assert not block.built(tmp_path)


@pytest.mark.slow
def test_ctrl_c_while_workers_train_stops_them_and_leaves_no_half_built_entry(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import dataclasses, sys\n"
        "from pathlib import Path\n"
        "from retest.lab import Lab\n"
        "from tests.retest.test_parallel import tiny\n"
        "cfg = tiny()\n"
        "cfg = dataclasses.replace(cfg, rl=dataclasses.replace(cfg.rl, steps=400, checkpoint_every=400))\n"
        "lab = Lab(cfg, Path(sys.argv[1]), lambda m: print(m, flush=True), workers=2)\n"
        "base, _ = lab.base(0)\n"
        "train, _ = lab.problems()\n"
        "lab.build_all([lab.rl_block(base, train, s) for s in range(4)])\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).resolve().parents[2])
    lines = []
    for line in p.stdout:  # type: ignore[union-attr]
        lines.append(line)
        if line.startswith("building 4 blocks 2 at a time"):
            break
    deadline = time.monotonic() + 120  # spawned workers import torch first: seconds, more on a loaded machine
    while not list(tmp_path.glob(".rl-*.partial")) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.5)
    assert list(tmp_path.glob(".rl-*.partial")) and p.poll() is None  # training (400 steps each: far from done)
    time.sleep(1)
    children = [int(x) for x in subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True,
                                               text=True).stdout.split()]
    assert len(children) >= 2  # the two workers (and multiprocessing's resource tracker)
    p.send_signal(signal.SIGINT)
    rest = p.communicate(timeout=60)[0]
    assert p.returncode != 0 and "KeyboardInterrupt" in rest
    assert not list(tmp_path.glob(".rl-*.partial")) and not list(tmp_path.glob("rl-*"))  # nothing half-built kept
    time.sleep(1)
    assert [c for c in children if _running(c)] == []  # no worker left training


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie awaiting its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@pytest.mark.slow
def test_workers_killed_mid_build_leave_the_rest_to_the_in_order_build(tmp_path: Path) -> None:
    import os
    import signal
    import threading
    import time

    from retest import parallel

    lab, lines, base_dir, train = two_workers(tmp_path, rl_steps=400)
    blocks = [lab.rl_block(base_dir, train, s) for s in range(3)]

    def kill_workers() -> None:  # as the out-of-memory killer would
        for _ in range(200):
            time.sleep(0.1)
            if list(tmp_path.glob(".rl-*.partial")):
                break
        time.sleep(1)
        for p in list(parallel._POOL._processes.values()):
            os.kill(p.pid, signal.SIGKILL)

    threading.Thread(target=kill_workers, daemon=True).start()
    t = time.monotonic()
    lab.build_all(blocks)  # returns: no hang on a lost task
    assert time.monotonic() - t < 120
    assert any("the workers stopped" in line for line in lines)
    assert not any(b.built(tmp_path) for b in blocks) and not list(tmp_path.glob(".rl-*.partial"))
    assert parallel._POOL is None  # a fresh pool next time
