"""The prior x optimizer factorial (issue 15): does the prior or the optimizer explain more?

    from retest.factorial import run_factorial, FACTORIAL_PRESETS
    result = run_factorial(preset="weekly", executor="local", ray_address=None,
                           cache_dir=Path(...), progress=print)   # -> FactorialResult

Heavy imports (torch, trl, ray) stay inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from retest.factorial.grid import run_grid
from retest.factorial.results import OUTCOMES, Cell, FactorialResult, OutcomeShares, Share

FACTORIAL_PRESETS: tuple[str, ...] = ("weekly", "full", "gpu")
EXECUTORS: tuple[str, ...] = ("local", "ray")


def run_factorial(
    preset: str = "weekly",
    executor: str = "local",
    ray_address: str | None = None,
    cache_dir: Path = Path(".cache/retest"),
    progress: Callable[[str], None] | None = None,
) -> FactorialResult:
    """Run (or resume) the grid of `preset` with `executor` and analyse it.

    `executor`: "local" (sequential, in this process) or "ray" (one Ray task per cell;
    `ray_address` or RAY_ADDRESS joins a cluster, else a local one is started). Cells are
    cached in `cache_dir` by their config hash, so a rerun re-trains nothing finished.
    Raises ValueError for an unknown preset or executor; "ray" without Ray installed runs
    the same cells with the local executor and says so in `flags`.
    """
    return run_grid(preset, executor, ray_address, Path(cache_dir), progress)


__all__ = ["EXECUTORS", "FACTORIAL_PRESETS", "OUTCOMES", "Cell", "FactorialResult", "OutcomeShares", "Share",
           "run_factorial"]
