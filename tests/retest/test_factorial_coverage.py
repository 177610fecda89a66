"""The factorial analysis's 95% intervals hold the true shares 92-98% of the time.

600 simulated tables (retest.factorial.simulation) of 4 priors x 3 pretraining seeds x 4
optimizers x 2 RL seeds, half with no designed prior effect but real base-to-base variance
(`null_prior`: the prior's share must come out near 0 and its interval must hold 0), half
with every component present (`all_on`). Per component, the share of intervals that hold
the truth over all 600 must lie in [0.92, 0.98]. The numbers per design and scenario, and
the designs this test does not cover: benchmarks/factorial_coverage.py, docs/factorial.md.
About 30 s on a quiet 2-core machine.
"""

from __future__ import annotations

import pytest

from retest.factorial.analysis import COMPONENTS
from retest.factorial.simulation import SCENARIOS, Design, coverage

TABLES = 300  # per scenario: 600 in all; a binomial 95% swing of about +-1.7 points per component
DESIGN = Design(priors=4, bases=3, optimizers=4, rl_seeds=2)


@pytest.fixture(scope="module")
def measured():
    return {name: coverage(variances, TABLES, DESIGN, draws=1000, seed=11) for name, variances in SCENARIOS.items()}


def test_nominal_95_percent_intervals_hold_the_truth_92_to_98_percent_of_the_time(measured):
    pooled = {c: sum(m.covered[c] for m in measured.values()) / len(measured) for c in COMPONENTS}
    report = {c: round(v, 3) for c, v in pooled.items()}
    assert all(0.92 <= v <= 0.98 for v in pooled.values()), report


def test_a_null_prior_effect_gets_a_share_near_0_and_its_interval_holds_0(measured):
    null = measured["null_prior"]
    assert null.median_estimate["prior"] <= 0.02
    assert null.covered["prior"] >= 0.95  # equal-tailed: 0.975 by construction at a true 0
    assert null.median_estimate["pretrain_seed"] > 0.4  # the bases' variance goes to the bases
