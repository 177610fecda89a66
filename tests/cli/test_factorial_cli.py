"""`claims retest factorial`: exit codes, the JSON shape, what is stored (hand-made engine results).

The grid itself is the engine's (tests/retest/); here `retest.factorial.run_factorial`
returns a hand-made `FactorialResult`, so each test takes well under a second.
"""

from __future__ import annotations

import json
import sys

import pytest

from claims.cli import run
from claims.factorial import factorial_runs
from tests.factorial_cases import make_result


@pytest.fixture
def grid(monkeypatch, bundled_store):
    """The engine entry point replaced by one returning `grid.result` (calls kept in `grid.calls`)."""
    import retest.factorial

    class Grid:
        def __init__(self) -> None:
            self.result = make_result(preset="weekly", flags=("weekly: one amount level",))
            self.calls: list[dict] = []
            self.error: BaseException | None = None

        def __call__(self, **kw):
            self.calls.append(kw)
            if self.error is not None:
                raise self.error
            return self.result.model_copy(update={"preset": kw["preset"], "executor": kw["executor"]})

    fake = Grid()
    monkeypatch.setattr(retest.factorial, "run_factorial", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return fake


def stored(store):
    with store.read() as s:
        return factorial_runs(s)


def one_error(capsys, code: int, args: list[str]) -> str:
    assert run(args) == code
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("args, says", [
    (["--preset", "huge"], "'huge' is not one of 'weekly', 'full', 'gpu'"),
    (["--executor", "slurm"], "'slurm' is not one of 'local', 'ray'"),
])
def test_a_bad_preset_or_executor_is_a_usage_error(capsys, grid, args, says):
    assert says in one_error(capsys, 2, ["retest", "factorial", *args])
    assert grid.calls == []


def test_ray_asked_for_but_not_installed_says_what_to_install(capsys, monkeypatch, grid):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without the grid extra has
    err = one_error(capsys, 2, ["retest", "factorial", "--executor", "ray"])
    assert "pip install 'claims-tracker[grid]'" in err and grid.calls == []


def test_json_has_the_executor_cells_and_shares_and_the_grid_is_stored(capsys, monkeypatch, grid, bundled_store, settings):
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")
    assert run(["retest", "factorial", "--executor", "ray", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert grid.calls[0]["ray_address"] == "127.0.0.1:6379" and grid.calls[0]["preset"] == "weekly"
    assert grid.calls[0]["cache_dir"] == settings.retest_cache_dir  # base models shared with the protocols
    assert data["executor"] == "ray" and data["status"] == "succeeded" and len(data["cells"]) == 72
    cell = data["cells"][0]
    assert {"prior", "mixture", "amount", "optimizer", "pretrain_seed", "rl_seed", "status", "outcomes"} <= set(cell)
    assert {"pass@1", "pass@256", "reachable", "kl", "pass@256_gain"} <= set(cell["outcomes"])
    for outcome, shares in data["shares"].items():
        parts = [shares[c] for c in ("prior", "optimizer", "interaction", "pretrain_seed", "base_x_optimizer",
                                     "residual")]
        assert all(set(p) >= {"estimate", "low", "high"} for p in parts)
        assert sum(p["estimate"] for p in parts) == pytest.approx(1.0, abs=1e-6), outcome
    assert data["may_propose"] is False and "preset 'weekly'" in data["why"] and data["proposals"] == []
    assert "Toy-world answer" in data["measured_answer"]
    assert "factorial grid: preset weekly, executor ray at 127.0.0.1:6379" in err
    [row] = stored(bundled_store)
    assert (row.id, row.record.executor, len(row.record.cells)) == (data["id"], "ray", 72)


def test_the_answer_goes_to_stdout_and_a_strong_grid_proposes(capsys, grid, bundled_store):
    grid.result = make_result(preset="full")
    assert run(["retest", "factorial", "--preset", "full"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("factorial run 1: succeeded, 72 of 72 cells, executor local")
    assert "Toy-world answer" in out and "pass@256" in out and "0.60 [0.50, 0.70]" in out
    assert "proposed a new finding (proposal 1)" in out


def test_ctrl_c_is_recorded_as_interrupted_and_exits_130(capsys, grid, bundled_store):
    grid.error = KeyboardInterrupt()
    assert run(["retest", "factorial"]) == 130
    _, err = capsys.readouterr()
    assert "run the same command again to resume" in err
    [row] = stored(bundled_store)
    assert row.record.status == "interrupted" and "finished cells stay cached" in row.record.log


def test_a_crashed_grid_is_recorded_as_failed_with_its_traceback(capsys, grid, bundled_store):
    grid.error = RuntimeError("out of memory in cell 3")
    assert run(["retest", "factorial", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "failed" and "out of memory in cell 3" in err
    [row] = stored(bundled_store)
    assert row.record.status == "failed" and "RuntimeError" in row.record.log


def test_a_partial_grid_exits_1_but_keeps_its_shares(capsys, grid, bundled_store):
    grid.result = make_result(status="partial", failed=2)
    assert run(["retest", "factorial"]) == 1
    out, _ = capsys.readouterr()
    assert "partial, 70 of 72 cells" in out and "pass@256" in out
