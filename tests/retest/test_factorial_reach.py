"""The reach test per prior: its rule reaches each verdict from simulated counts, and a tiny real
grid (GRPO and expert iteration) reports it per prior beside the ceiling and the efficiency."""

from __future__ import annotations

from pathlib import Path

import pytest

from retest.factorial.design import rollouts, tiny_config
from retest.factorial.reach import MIN_UNREACHED, reach_test
from retest.factorial.results import Cell


def _cells(prior: str, optimizer: str, reach_by_seed: dict[int, list[list[int]]]) -> list[Cell]:
    """Cells of one prior and optimizer: per pretraining seed, one reach list per RL seed."""
    return [Cell(prior=prior, mixture=prior.split("/")[0], amount=prior.split("/")[1], optimizer=optimizer,
                 pretrain_seed=ps, rl_seed=rs, status="done", reach=counts)
            for ps, runs in reach_by_seed.items() for rs, counts in enumerate(runs)]


def _base(unreached: int, redraw_solved: int) -> dict:
    return {"reach": {"problems": 16, "unreached": list(range(unreached)),
                      "redraw": [1] * redraw_solved + [0] * (unreached - redraw_solved)}}


def test_each_verdict_is_reached_by_the_stated_rule():
    bases = {("A/long", 0): _base(6, 0), ("A/long", 1): _base(6, 1),  # 12 unreached, redraw 1
             ("C/long", 0): _base(6, 1), ("C/long", 1): _base(6, 1),  # 12 unreached, redraw 2
             ("C/short", 0): _base(2, 0), ("C/short", 1): _base(2, 0)}  # 4 unreached: too few
    solves = [[3] * 5 + [0], [0, 2, 2, 5, 1, 1]]  # 10 of 12 problem-runs on each base
    chance = [[0] * 5 + [1], [0] * 6]  # 1 of 12
    cells = (_cells("A/long", "grpo", {0: chance, 1: chance}) + _cells("A/long", "expert_iter", {0: solves, 1: solves})
             + _cells("C/long", "grpo", {0: chance, 1: chance}) + _cells("C/long", "expert_iter", {0: chance, 1: chance})
             + _cells("C/short", "grpo", {0: [[1, 1], [1, 1]], 1: [[1, 1], [1, 1]]})
             + _cells("C/short", "expert_iter", {0: [[1, 1], [1, 1]], 1: [[1, 1], [1, 1]]}))
    by = {r.prior: r for r in reach_test(cells, bases, ["grpo", "expert_iter"])}
    a = by["A/long"]
    assert (a.unreached, a.redraw_solved, a.problems, a.bases) == (12, 1, 32, 2)
    assert a.verdict == "new reach" and "expert_iter" in a.why
    rows = {o.optimizer: o for o in a.optimizers}
    assert (rows["expert_iter"].solved, rows["expert_iter"].problem_runs) == (20, 24) and rows["expert_iter"].new_reach
    assert not rows["grpo"].new_reach and rows["grpo"].p_value > 0.3
    assert a.any_optimizer == 12  # every unreached problem solved by some run
    assert by["C/long"].verdict == "none beyond chance"
    assert by["C/short"].verdict == "cannot tell" and by["C/short"].unreached < MIN_UNREACHED
    # a failed cell is not counted; a prior with a failed base's reach missing is still reported
    failed = [c.model_copy(update={"status": "failed"}) if c.optimizer == "expert_iter" else c for c in cells]
    assert {r.prior: r.verdict for r in reach_test(failed, bases, ["grpo", "expert_iter"])}["A/long"] == \
        "none beyond chance"


@pytest.mark.slow
def test_a_tiny_real_grid_reports_reach_ceiling_and_efficiency_per_prior(tmp_path: Path):
    from retest.factorial.grid import run_config

    fc = tiny_config(rl_steps=1, optimizers=("grpo", "expert_iter"))
    result = run_config(fc, "local", cache_dir=tmp_path)
    assert [r.prior for r in result.reach] == ["A-rich/short", "C-rich/short"]
    for r in result.reach:
        assert r.problems == fc.reach_problems and 0 <= r.redraw_solved <= r.unreached <= r.problems
        assert [o.optimizer for o in r.optimizers] == ["grpo", "expert_iter"]
        for o in r.optimizers:  # each unreached problem sampled once per RL run (one RL seed here)
            assert o.problem_runs == r.unreached and 0 <= o.solved <= o.problem_runs
        rule = ("cannot tell" if r.unreached < MIN_UNREACHED else
                "new reach" if any(o.new_reach for o in r.optimizers) else "none beyond chance")
        assert r.verdict == rule
    assert "Reach test" in result.answer
    for opt in fc.optimizers:  # the ceiling and the efficiency, apart
        row = result.by_optimizer[opt]
        assert row["rollouts"] == rollouts(fc, opt) == 16  # 1 step of 4 x 4; expert iteration matched
        cells = [c for c in result.cells if c.optimizer == opt]
        assert row["ceiling"] == pytest.approx(sum(c.outcomes["pass@256"] for c in cells) / len(cells), abs=1e-4)
        for c in cells:
            assert c.outcomes["efficiency"] == pytest.approx(c.outcomes["pass@1_gain"] / 0.016, abs=1e-3)
    assert set(result.phases) >= {"bases", "cells", "analysis", "bases_cpu", "cells_cpu"}
    assert result.phases["cells_cpu"] > 0
