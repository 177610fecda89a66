"""The typed result of a prior x optimizer factorial: frozen pydantic, JSON round trip.

`FactorialResult` is what `retest.factorial.run_factorial` returns and what the
`claims retest factorial` command stores and prints (`--format json` is
`FactorialResult.model_dump(mode="json")`). Pure: pydantic only, so the UI can import it.

- `Cell`: one GRPO run (prior level x optimizer level x pretraining seed x RL seed),
  its status and outcomes (each outcome as a value and as a gain over its base model).
- `OutcomeShares`: the variance shares of one outcome from a mixed model
  (`retest.factorial.analysis`): the designed prior, optimizer and their interaction; the
  random base-to-base (`pretrain_seed`), base x optimizer and RL-seed (`residual`)
  components; each a `Share` with a 95% generalized confidence interval. The six
  estimates of one outcome add up to 1.
- `ranges`: per outcome, the spread across optimizers at a fixed prior against the
  spread across priors at a fixed optimizer (means over the fixed level).

Shares depend on the levels chosen: `answer` says so, and names the levels used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal


from retest.results import _Stored

OUTCOMES = ("pass@1", "pass@256", "reachable", "kl", "efficiency")
"""The outcome names; the first four also appear as "<name>_gain" (value minus the base's; kl's base
is 0); efficiency is pass@1_gain per 1,000 rollouts."""

CellStatus = Literal["done", "failed", "cached"]
GridStatus = Literal["succeeded", "partial", "failed", "interrupted"]


_Frozen = _Stored  # frozen, unknown keys of older rows ignored, `from_stored` (retest.results)


class Share(_Frozen):
    """One variance share (0..1) with its 95% interval (not forced to contain the estimate)."""

    estimate: float
    low: float
    high: float


class OutcomeShares(_Frozen):
    """How the variance of one run splits; the six estimates add up to 1.

    Rows stored before the mixed model (issue 23) have no `base_x_optimizer`, and there
    `prior` included the base-to-base variance and `interaction` the base x optimizer part."""

    prior: Share  # the designed prior levels (mixture x amount) only
    optimizer: Share
    interaction: Share  # prior x optimizer, designed
    residual: Share  # RL-seed noise within a (base, optimizer) cell
    pretrain_seed: Share | None = None  # base-to-base: pretraining seeds nested in a prior
    base_x_optimizer: Share | None = None  # a base's own response to the optimizer


class Cell(_Frozen):
    """One GRPO run of the grid and what it measured."""

    prior: str  # "<mixture>/<amount>", e.g. "A-rich/long"
    mixture: str
    amount: str
    optimizer: str  # a level of retest.factorial.design.OPTIMIZERS (grpo, grpo_x4, ppo_kl, expert_iter, ...)
    pretrain_seed: int
    rl_seed: int
    status: CellStatus
    outcomes: dict[str, float] = {}  # "pass@1", "pass@256", "reachable", "kl", and "<name>_gain"
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the job's own CPU time (0 in rows stored before it was recorded)
    error: str | None = None
    key: str = ""  # the cell's config hash (its cache entry)
    rollouts: int = 0  # completions sampled while training (the efficiency's unit)
    reach: list[int] = []  # correct samples (of 256) on each problem its base never solved


class OptimizerReach(_Frozen):
    """One optimizer on one prior's unreached problems: how many problem-runs it solved."""

    optimizer: str
    problem_runs: int  # unreached problems x the RL runs on their bases
    solved: int  # problem-runs with at least one correct sample among 256
    share: float
    p_value: float  # Fisher's exact test, one-sided: solved more often than the base's redraw
    new_reach: bool  # p_value below the rule's alpha


class PriorReach(_Frozen):
    """The reach test of one prior: problems its bases never solved at k = 256, and who solves them."""

    prior: str
    bases: int
    problems: int  # reach problems x bases
    unreached: int  # of those, never solved by the base in 256 samples
    redraw_solved: int  # ... solved by a second draw of 256 from the same base (chance)
    optimizers: list[OptimizerReach] = []
    any_optimizer: int = 0  # unreached problems solved by at least one run of any optimizer
    verdict: Literal["new reach", "none beyond chance", "cannot tell"] = "cannot tell"
    why: str = ""


class FactorialResult(_Frozen):
    """A whole grid: cells, variance shares per outcome, the two ranges, and the answer."""

    preset: str
    executor: str  # local | ray
    status: GridStatus
    levels: dict[str, list[str]]  # "mixture", "amount", "prior", "optimizer", "pretrain_seed", "rl_seed"
    cells: list[Cell]
    shares: dict[str, OutcomeShares] = {}  # per outcome (gains included), when enough cells finished
    ranges: dict[str, dict[str, float]] = {}  # per outcome: {"across_optimizers": .., "across_priors": ..}
    reach: list[PriorReach] = []  # the reach test, per prior (`retest.factorial.reach`)
    by_optimizer: dict[str, dict[str, float]] = {}  # per optimizer: ceiling, efficiency, rollouts (means)
    answer: str = ""  # one paragraph, labelled toy-world, naming the levels used
    flags: list[str] = []  # confounds and validity notes (weekly: fewer levels; failed cells)
    toy_world: bool = True
    config: dict[str, Any] = {}
    environment: dict[str, Any] = {}
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0
    phases: dict[str, float] = {}  # wall seconds of "bases", "cells", "analysis"; "bases_cpu", "cells_cpu" (jobs' CPU)

    def done_cells(self) -> list[Cell]:
        """The cells with outcomes (trained now or read from the cache)."""
        return [c for c in self.cells if c.status != "failed"]
