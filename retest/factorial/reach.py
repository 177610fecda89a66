"""The reach test, per prior: problems a base never solves at k = 256: does any optimizer make
them solvable?

The rule, fixed before a grid runs. For each prior, pool its bases' unreached problems (no
correct sample among 256). The chance rate is the base's own redraw: 256 more samples of
the same base on those problems (a problem just below the k = 256 horizon turns up on a
second look without any training). An optimizer *reaches new problems* on a prior when its
runs solve the unreached problems more often than the redraw does, by Fisher's exact test
(one-sided) at alpha 0.05 divided by the number of optimizers (Bonferroni). Verdicts:

- ``cannot tell``: fewer than `MIN_UNREACHED` unreached problems across the prior's bases
  (a base that already reaches nearly everything leaves nothing to test);
- ``new reach``: at least one optimizer passes the rule;
- ``none beyond chance``: none does.

A problem appears once per RL run on its base (2 RL seeds: twice), so the test's
problem-runs are not all independent; it is a screen, stated as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from retest.factorial.results import Cell, OptimizerReach, PriorReach

ALPHA = 0.05
MIN_UNREACHED = 5


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p for [[a, b], [c, d]]: row 1 solves more often than row 2."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, b], [c, d]], alternative="greater")[1])


def reach_test(cells: Iterable[Cell], bases: Mapping[tuple[str, int], Mapping[str, Any]],
               optimizers: list[str]) -> list[PriorReach]:
    """The reach test of every prior. `bases[(prior, pretrain_seed)]` is the base's outcome JSON
    (its ``reach``: ``problems``, ``unreached`` indices, ``redraw`` counts); a cell's ``reach``
    holds its counts on its base's unreached problems, in the same order."""
    done = [c for c in cells if c.status != "failed"]
    out = []
    for prior in sorted({p for p, _ in bases}):
        mine = {s: b["reach"] for (p, s), b in bases.items() if p == prior and "reach" in b}
        if not mine:
            continue
        unreached = sum(len(r["unreached"]) for r in mine.values())
        redraw = sum(c > 0 for r in mine.values() for c in r["redraw"])
        alpha = ALPHA / max(1, len(optimizers))
        rows, solved_any = [], set()
        for opt in optimizers:
            runs = [c for c in done if c.prior == prior and c.optimizer == opt and c.pretrain_seed in mine
                    and len(c.reach) == len(mine[c.pretrain_seed]["unreached"])]
            n = sum(len(c.reach) for c in runs)
            k = sum(x > 0 for c in runs for x in c.reach)
            solved_any |= {(c.pretrain_seed, i) for c in runs for i, x in enumerate(c.reach) if x > 0}
            p = fisher_greater(k, n - k, redraw, unreached - redraw) if n and unreached else 1.0
            rows.append(OptimizerReach(optimizer=opt, problem_runs=n, solved=k, share=round(k / n, 4) if n else 0.0,
                                       p_value=round(p, 6), new_reach=bool(n) and p < alpha))
        total = sum(r["problems"] for r in mine.values())
        if unreached < MIN_UNREACHED:
            verdict, why = "cannot tell", (f"{unreached} of {total} problems unreached by the {len(mine)} bases at "
                                           f"k = 256 (fewer than {MIN_UNREACHED}): nothing to test")
        elif any(r.new_reach for r in rows):
            names = ", ".join(r.optimizer for r in rows if r.new_reach)
            verdict, why = "new reach", (f"{names} solved unreached problems more often than the base's own redraw "
                                         f"({redraw}/{unreached}); Fisher one-sided p < {alpha:.4f}")
        else:
            verdict, why = "none beyond chance", (f"no optimizer solved the {unreached} unreached problems more often "
                                                  f"than the base's own redraw ({redraw}/{unreached}) at p < {alpha:.4f}")
        out.append(PriorReach(prior=prior, bases=len(mine), problems=total, unreached=unreached, redraw_solved=redraw,
                              optimizers=rows, any_optimizer=len(solved_any), verdict=verdict, why=why))
    return out


def reach_text(reach: list[PriorReach]) -> str:
    """One sentence per prior."""
    parts = []
    for r in reach:
        per = ", ".join(f"{o.optimizer} {o.solved}/{o.problem_runs}" for o in r.optimizers)
        parts.append(f"{r.prior}: {r.unreached} of {r.problems} unreached, redraw {r.redraw_solved}, {per}: "
                     f"{r.verdict}")
    return "Reach test (problems the base never solves at k = 256; solved problem-runs per optimizer): " + \
        "; ".join(parts) + "." if parts else ""
