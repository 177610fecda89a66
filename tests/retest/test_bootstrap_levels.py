"""The hierarchical bootstrap's level and nesting, pinned by exact quantiles.

Two identical priors with 20 RL seeds each, half scoring 0 and half 1, one problem. RL
seeds are resampled *within* each prior: the grand mean of a draw is then Binomial(40,
1/2) / 40, whose 2.5% and 97.5% quantiles are 14/40 and 26/40 (P(X <= 13) = 0.019,
P(X <= 14) = 0.040). Had the draw shared its RL seeds across the priors, the mean would
be Binomial(20, 1/2) / 20: 0.30-0.70; a 90% interval would give 0.375-0.625. Each of the
three kernels (`retest.measures.hierarchical_bootstrap`, C1's `ratio_interval`, C5b's
`resample`) is checked.
"""

from __future__ import annotations

import numpy as np
import pytest

DRAWS = 20_000  # the quantile's index lands ~100 draws inside its binomial step: no seed luck
VALUES = np.array([[[0.0]] * 10 + [[1.0]] * 10] * 2)  # (2 priors, 20 RL seeds, 1 problem)
NESTED_95 = (14 / 40, 26 / 40)


def test_hierarchical_bootstrap_is_95_percent_with_rl_seeds_nested_in_priors() -> None:
    from retest.measures import hierarchical_bootstrap

    iv = hierarchical_bootstrap(VALUES, draws=DRAWS, seed=0)
    assert (iv.low, iv.high) == pytest.approx(NESTED_95)
    assert iv.estimate == 0.5 and iv.over == "pretraining seeds, RL seeds, problems (hierarchical bootstrap)"


def test_c1_ratio_interval_is_95_percent_with_rl_seeds_nested_in_priors() -> None:
    from retest.protocols.passk import ratio_interval

    iv = ratio_interval(VALUES, np.ones_like(VALUES), draws=DRAWS, seed=0)  # sum / count: the mean
    assert (iv.low, iv.high) == pytest.approx(NESTED_95)


def test_c5b_resample_is_95_percent_with_rl_seeds_nested_in_priors() -> None:
    from retest.protocols.calibration import _ci, resample

    p, r, n = VALUES.shape
    stats = resample(p, r, n, DRAWS, lambda ip, ir, jn: VALUES[ip[:, None], ir][:, :, jn].mean(), seed=0)
    assert _ci(stats) == pytest.approx(NESTED_95)
