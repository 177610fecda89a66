"""The weekly job's scheduled factorial grid (`--factorial-every N`): due or not, within the budget.

The weekly preset takes ~10 minutes, so the grid here is a hand-made engine result
(tests/factorial_cases.py); what is tested is the scheduling, the budget and what is stored.
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest

from agent.factorial import fastest_executor, to_record
from agent.weekly import WeeklyOptions, WeeklyState, run_due_factorial
from claims.factorial import factorial_runs, record_factorial
from claims.models import utcnow
from tests.cli.conftest import claims, clean_env
from tests.factorial_cases import make_result


class Grid:
    def __init__(self, error: BaseException | None = None) -> None:
        self.calls: list[dict] = []
        self.error = error

    def __call__(self, **kw):  # the signature of retest.factorial.run_factorial
        self.calls.append(kw)
        if self.error:
            raise self.error
        return make_result(preset=kw["preset"], flags=("weekly: one amount level",), finished=utcnow())


def stored(store):
    with store.read() as s:
        return factorial_runs(s)


def earlier(store, days: float, seconds: float = 540.0) -> None:
    result = make_result(preset="weekly", finished=utcnow() - dt.timedelta(days=days))
    with store.write() as s:
        record_factorial(s, None, to_record(result).model_copy(update={"seconds": seconds}))


def run(store, settings, grid, every=1, minutes=30.0, retests_s=0.0) -> WeeklyState:
    done = WeeklyState(timings={"retests": retests_s})
    run_due_factorial(store, settings, WeeklyOptions(factorial_every=every, retest_minutes=minutes), lambda m: None,
                      done, grid=grid)
    return done


def test_a_due_grid_runs_the_weekly_preset_and_is_stored_without_a_proposal(bundled_store, settings):
    grid = Grid()
    done = run(bundled_store, settings, grid)
    ray = importlib.util.find_spec("ray") is not None
    assert [c["preset"] for c in grid.calls] == ["weekly"] and grid.calls[0]["executor"] == ("ray" if ray else "local")
    [row] = stored(bundled_store)
    assert row.record.reason == "weekly job: no factorial grid of this inquiry has finished yet"
    assert done.factorial[0].startswith(f"run {row.id} (weekly preset, local): succeeded")
    assert "a candidate only" in done.factorial[0] and done.failures == []


def test_the_weekly_grid_runs_on_ray_when_installed_else_locally(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    assert fastest_executor() == "local"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "ray" else real(name, *a))
    assert fastest_executor() == "ray"


def test_never_by_default_and_not_before_its_interval(bundled_store, settings):
    grid = Grid()
    assert run(bundled_store, settings, grid, every=0).factorial == []
    earlier(bundled_store, days=3)
    done = run(bundled_store, settings, grid, every=1)
    assert grid.calls == [] and done.factorial[0].startswith("not due: the last grid finished 3 day(s) ago")
    assert len(run(bundled_store, settings, grid, every=2, minutes=60).factorial) == 1 and grid.calls == []


@pytest.mark.parametrize("minutes, retests_s, runs", [
    (30.0, 0.0, True),
    (14.0, 0.0, False),  # none ran yet: it needs the weekly preset's 15-minute bound
    (30.0, 20 * 60, False),  # the retests used 20 of the 30 minutes
])
def test_it_runs_only_within_the_retest_budget(bundled_store, settings, minutes, retests_s, runs):
    grid = Grid()
    done = run(bundled_store, settings, grid, minutes=minutes, retests_s=retests_s)
    assert bool(grid.calls) is runs
    if not runs:
        assert done.factorial[0].startswith("skipped: ") and "needs about 15.0 min" in done.factorial[0]
        assert stored(bundled_store) == []


def test_the_budget_it_needs_is_the_last_weekly_grids_duration(bundled_store, settings):
    earlier(bundled_store, days=8, seconds=540.0)
    grid = Grid()
    assert run(bundled_store, settings, Grid(), minutes=8.0).factorial[0].startswith("skipped: 8.0 min")
    run(bundled_store, settings, grid, minutes=10.0)
    assert len(grid.calls) == 1


def test_ctrl_c_in_the_grid_stops_the_weekly_run_and_is_recorded(bundled_store, settings):
    done = run(bundled_store, settings, Grid(error=KeyboardInterrupt()))
    assert done.interrupted and "interrupted (Ctrl-C)" in done.failures[0]
    assert [r.record.status for r in stored(bundled_store)] == ["interrupted"]


def test_the_option_is_validated_where_it_enters(home):
    r = claims("weekly", "--factorial-every", "-1", env=clean_env(home))
    assert r.returncode == 2 and "--factorial-every" in r.stderr


def test_the_report_says_what_the_factorial_grid_did():
    from claims.reports import render_report
    from tests.weekly.test_report import report

    text = render_report(report(factorial=["skipped: 4.0 min of --retest-minutes left, the weekly grid needs about 15.0 min"]))
    assert "- factorial grid: skipped: 4.0 min of --retest-minutes left" in text and "- none due" not in text
    assert "factorial grid" not in render_report(report())
