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

OUTCOMES = ("pass@1", "pass@256", "reachable", "kl")
"""The outcome names; each also appears as "<name>_gain" (value minus the base's; kl's base is 0)."""

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
    optimizer: str  # grpo | dr_grpo | dapo | ppo_kl
    pretrain_seed: int
    rl_seed: int
    status: CellStatus
    outcomes: dict[str, float] = {}  # "pass@1", "pass@256", "reachable", "kl", and "<name>_gain"
    seconds: float = 0.0
    error: str | None = None
    key: str = ""  # the cell's config hash (its cache entry)


class FactorialResult(_Frozen):
    """A whole grid: cells, variance shares per outcome, the two ranges, and the answer."""

    preset: str
    executor: str  # local | ray
    status: GridStatus
    levels: dict[str, list[str]]  # "mixture", "amount", "prior", "optimizer", "pretrain_seed", "rl_seed"
    cells: list[Cell]
    shares: dict[str, OutcomeShares] = {}  # per outcome (gains included), when enough cells finished
    ranges: dict[str, dict[str, float]] = {}  # per outcome: {"across_optimizers": .., "across_priors": ..}
    answer: str = ""  # one paragraph, labelled toy-world, naming the levels used
    flags: list[str] = []  # confounds and validity notes (weekly: fewer levels; failed cells)
    toy_world: bool = True
    config: dict[str, Any] = {}
    environment: dict[str, Any] = {}
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0

    def done_cells(self) -> list[Cell]:
        """The cells with outcomes (trained now or read from the cache)."""
        return [c for c in self.cells if c.status != "failed"]
