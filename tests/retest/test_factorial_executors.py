"""Executors on plain jobs: a failed job is retried once, then recorded while the rest go on;
without Ray the local executor runs the same jobs; presets and their cells validate."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from retest.factorial import FACTORIAL_PRESETS
from retest.factorial.design import (
    OPTIMIZERS,
    TUNED_LR,
    cells,
    factorial_preset,
    optimizer_config,
    optimizer_settings,
)
from retest.factorial.executors import Job, LocalExecutor, open_executor


def flaky(marker: str) -> str:
    """Fails the first time (leaves a marker file), succeeds the second."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried")
        raise RuntimeError("first attempt fails")
    return "ok"


def broken() -> None:
    raise ValueError("always fails")


def square(x: int) -> int:
    return x * x


def test_a_failed_job_is_retried_once_and_then_recorded_while_the_grid_goes_on(tmp_path):
    seen = []
    outs = LocalExecutor().run(
        [Job("flaky", flaky, (str(tmp_path / "m"),)), Job("broken", broken), Job("square", square, (3,))],
        lambda o: seen.append(o.job.label))
    assert [o.value for o in outs] == ["ok", None, 9]
    assert outs[0].ok and outs[0].attempts == 2
    assert not outs[1].ok and outs[1].attempts == 2 and "always fails" in outs[1].error
    assert seen == ["flaky", "broken", "square"]


def test_without_ray_the_local_executor_runs_the_same_jobs(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    ex, note = open_executor("ray")
    assert ex.name == "local" and "ray is not installed" in note
    assert [o.value for o in ex.run([Job("sq", square, (4,))])] == [16]
    with pytest.raises(ValueError, match="choose local or ray"):
        open_executor("dask")


@pytest.mark.parametrize("name", FACTORIAL_PRESETS)
def test_presets_validate_and_cross_every_level(name):
    fc = factorial_preset(name)
    n = len(fc.mixtures) * len(fc.amounts) * len(fc.optimizers) * len(fc.pretrain_seeds) * len(fc.rl_seeds)
    specs = cells(fc)
    assert len(specs) == n == len({s.key(fc) for s in specs})  # one cache entry per cell
    assert len(fc.pretrain_seeds) >= 2 and fc.samples >= 256
    if name == "full":
        assert (len(fc.mixtures), len(fc.amounts), len(fc.optimizers), len(fc.rl_seeds)) == (3, 2, 4, 3)
    if name == "gpu":
        assert fc.num_gpus == 1
    with pytest.raises(ValueError, match="unknown factorial preset"):
        factorial_preset("huge")


def test_optimizer_levels_use_trls_options():
    fc = factorial_preset("weekly")
    dr, dapo, ppo = (optimizer_config(fc, o) for o in ("dr_grpo", "dapo", "ppo_kl"))
    assert dr.loss_type == "dr_grpo" and dr.scale_rewards == "none"
    assert dapo.epsilon_high > dapo.epsilon and dapo.num_iterations > 1
    assert ppo.beta > 0 and ppo.num_iterations > 1
    assert set(TUNED_LR) == set(OPTIMIZERS) and all(optimizer_settings(fc, o).lr == TUNED_LR[o] for o in OPTIMIZERS)


def test_a_prior_whose_base_reaches_every_problem_is_flagged_as_at_the_ceiling():
    from retest.factorial.grid import ceiling_flags
    from retest.factorial.results import Cell

    def cell(prior, value, gain):
        return Cell(prior=prior, mixture=prior.split("/")[0], amount=prior.split("/")[1], optimizer="grpo",
                    pretrain_seed=0, rl_seed=0, status="done", outcomes={"pass@256": value, "pass@256_gain": gain})

    flags = ceiling_flags([cell("A-rich/long", 1.0, 0.0), cell("A-rich/short", 0.9, 0.05)])
    assert len(flags) == 1 and "A-rich/long" in flags[0] and "A-rich/short" not in flags[0]
