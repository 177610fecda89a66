"""Coverage of the factorial analysis's 95% intervals, measured on simulated tables.

    python benchmarks/factorial_coverage.py [--tables 1000] [--draws 2000]

For each scenario (retest.factorial.simulation.SCENARIOS: a null prior with real
base-to-base variance; every component present) and each design (the weekly grid's
2 pretraining seeds a prior, 3, 4; balanced, and with a quarter of the second RL seeds
missing), it analyses `--tables` simulated tables and prints, per component, the share of
intervals that held the true share (and the misses below / above), the median estimate
and the seconds. The figures in docs/factorial.md come from this script.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from retest.factorial.analysis import COMPONENTS  # noqa: E402
from retest.factorial.simulation import SCENARIOS, Design, coverage  # noqa: E402

DESIGNS = {
    "4 priors x 2 bases x 4 optimizers x 2 RL seeds": Design(4, 2, 4, 2),
    "4 x 3 x 4 x 2": Design(4, 3, 4, 2),
    "4 x 4 x 4 x 2": Design(4, 4, 4, 2),
    "4 x 3 x 4 x 2, 25% of RL seed 1 missing": Design(4, 3, 4, 2, missing=0.25),
}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--design", choices=list(DESIGNS), action="append", help="default: all")
    args = ap.parse_args(argv)
    print("| design | scenario | " + " | ".join(COMPONENTS) + " | s/table |")
    print("| --- | --- | " + " | ".join("---" for _ in COMPONENTS) + " | --- |")
    for dname in args.design or DESIGNS:
        for sname, variances in SCENARIOS.items():
            c = coverage(variances, args.tables, DESIGNS[dname], draws=args.draws, seed=1)
            cells = [f"{c.covered[k]:.3f} ({c.below[k]:.3f}/{c.above[k]:.3f}; med {c.median_estimate[k]:.2f})"
                     for k in COMPONENTS]
            print(f"| {dname} | {sname} | " + " | ".join(cells) + f" | {c.seconds / c.tables:.3f} |", flush=True)


if __name__ == "__main__":
    main()
