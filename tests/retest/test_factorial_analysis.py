"""Variance shares of the factorial on hand-made grids: known shares come back, they sum to 1,
the intervals cover the truth, and a missing RL seed or an unvarying outcome is handled."""

from __future__ import annotations

import numpy as np
import pytest

from retest.factorial.analysis import analyse, decompose, ranges, shares, to_array

PRIOR = np.array([-1.0, 0.0, 1.0])  # variance 2/3
OPT = np.array([-0.5, -0.5, 0.5, 0.5])  # variance 1/4


def grid(a=3, s=2, b=4, n=3, noise=0.0, seed=0, base_sd=0.0, inter=0.0):
    rng = np.random.default_rng(seed)
    y = PRIOR[:a, None, None, None] + OPT[None, None, :b, None] + np.zeros((a, s, b, n))
    y = y + base_sd * rng.normal(size=(a, s, 1, 1)) + noise * rng.normal(size=(a, s, b, n))
    if inter:
        y = y + inter * np.outer([1, -1, 0][:a], [1, -1, 1, -1][:b])[:, None, :, None]
    return y


def test_sums_of_squares_add_up_to_the_total():
    y = grid(noise=0.7, base_sd=0.3, seed=3)
    d = decompose(y)
    assert d.total == pytest.approx(((y - y.mean()) ** 2).sum())


def test_noise_free_additive_grid_gives_the_exact_shares():
    sh = shares(grid())
    total = 2 / 3 + 1 / 4
    assert sh["prior"] == pytest.approx((2 / 3) / total)
    assert sh["optimizer"] == pytest.approx((1 / 4) / total)
    assert sh["interaction"] == pytest.approx(0) and sh["residual"] == pytest.approx(0)


@pytest.mark.parametrize("seed", range(5))
def test_shares_of_one_outcome_add_up_to_one(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(2, 2, 4, 2)) + rng.normal(size=(2, 1, 1, 1))
    sh = shares(y)
    assert sum(sh[t] for t in ("prior", "optimizer", "interaction", "residual")) == pytest.approx(1)
    assert all(v >= 0 for v in sh.values())


def test_known_shares_are_recovered_and_the_intervals_cover_them():
    noise = 0.5
    total = 2 / 3 + 1 / 4 + noise**2
    truth = {"prior": (2 / 3) / total, "optimizer": 0.25 / total, "residual": noise**2 / total}
    result = analyse(grid(s=3, n=4, noise=noise, seed=1), draws=400)
    got = result.shares
    for term, true in truth.items():
        share = getattr(got, term)
        assert share.low <= true <= share.high, (term, share, true)
        assert share.estimate == pytest.approx(true, abs=0.08)
    assert got.interaction.estimate < 0.05
    assert sum(getattr(got, t).estimate for t in ("prior", "optimizer", "interaction", "residual")) \
        == pytest.approx(1, abs=1e-3)


def test_a_pretraining_seed_effect_counts_as_prior_and_is_reported_apart():
    rng = np.random.default_rng(0)
    y = np.zeros((2, 3, 4, 2)) + rng.normal(size=(2, 3, 1, 1)) + 0.01 * rng.normal(size=(2, 3, 4, 2))
    sh = shares(y)
    assert sh["prior"] > 0.9 and sh["pretrain_seed"] > 0.5 and sh["optimizer"] < 0.01


def test_pure_noise_leaves_the_factors_near_zero():
    y = np.random.default_rng(2).normal(size=(3, 2, 4, 6))
    sh = shares(y)
    assert sh["residual"] > 0.6 and sh["optimizer"] < 0.2


def test_interaction_is_found():
    sh = shares(grid(inter=1.0))
    assert sh["interaction"] > 0.3


def test_an_unvarying_outcome_has_no_shares():
    assert shares(np.ones((2, 2, 2, 2))) is None
    assert analyse(np.ones((2, 2, 2, 2)), draws=20).shares is None


def test_ranges_compare_optimizers_at_a_fixed_prior_with_priors_at_a_fixed_optimizer():
    r = ranges(grid())
    assert r["across_optimizers"] == pytest.approx(1.0)
    assert r["across_priors"] == pytest.approx(2.0)


def test_a_missing_rl_seed_takes_its_cell_mean_and_an_empty_cell_is_refused():
    rows = [(0, 0, 0, 0, 1.0), (0, 0, 0, 1, 3.0), (0, 0, 1, 0, 5.0)]
    y = to_array(rows, (1, 1, 2, 2))
    assert y[0, 0, 1, 1] == 5.0
    with pytest.raises(ValueError, match="no finished RL seed"):
        to_array(rows[:2], (1, 1, 2, 2))
