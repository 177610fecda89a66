"""The factorial's mixed-model analysis on hand-made tables: exact shares without noise, a
null prior with real base-to-base variance gets no prior share, the degrees of freedom of
an unbalanced table, and the tables it refuses. Coverage: test_factorial_coverage.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.factorial.analysis import COMPONENTS, AnalysisError, analyse, components, mean_squares, ranges_of
from retest.factorial.simulation import SCENARIOS, Design, simulate_table

PRIOR = np.array([-1.0, 0.0, 1.0])  # mean square 2/3
OPT = np.array([-0.5, -0.5, 0.5, 0.5])  # mean square 1/4


def rows_of(y: np.ndarray) -> list[tuple]:
    """Runs of ``y[prior, pretrain_seed, optimizer, rl_seed]``; NaN is a missing run."""
    return [(f"p{i}", f"o{j}", k, r, float(y[i, k, j, r])) for i, k, j, r in np.ndindex(*y.shape)
            if not np.isnan(y[i, k, j, r])]


def grid(a=3, s=2, b=4, n=2, noise=0.0, base_sd=0.0, seed=0):
    rng = np.random.default_rng(seed)
    y = PRIOR[:a, None, None, None] + OPT[None, None, :b, None] + np.zeros((a, s, b, n))
    return y + base_sd * rng.normal(size=(a, s, 1, 1)) + noise * rng.normal(size=(a, s, b, n))


def test_a_noise_free_additive_table_gives_the_exact_shares_and_degenerate_intervals():
    sh = analyse(rows_of(grid()), draws=200).shares
    total = 2 / 3 + 1 / 4
    assert sh.prior.estimate == pytest.approx((2 / 3) / total, abs=1e-4)
    assert sh.optimizer.estimate == pytest.approx(0.25 / total, abs=1e-4)
    for c in ("interaction", "pretrain_seed", "base_x_optimizer", "residual"):
        assert getattr(sh, c).estimate == 0 and getattr(sh, c).high == 0
    assert (sh.prior.low, sh.prior.high) == pytest.approx((sh.prior.estimate,) * 2, abs=1e-4)


def test_a_null_prior_with_real_base_to_base_variance_gets_no_prior_share():
    """The old analysis counted the bases in the prior (0.62 where the designed prior did nothing)."""
    rng = np.random.default_rng(3)
    variances = {**SCENARIOS["null_prior"], "pretrain_seed": 1.0}
    rows, truth = simulate_table(rng, variances, Design(priors=4, bases=8, optimizers=4, rl_seeds=2))
    sh = analyse(rows).shares
    assert truth["prior"] == 0
    assert sh.prior.estimate < 0.05 and sh.prior.low == 0
    assert sh.pretrain_seed.low < truth["pretrain_seed"] < sh.pretrain_seed.high
    assert sh.pretrain_seed.estimate > 0.5


def test_each_component_is_recovered_on_a_large_table():
    rng = np.random.default_rng(5)
    rows, truth = simulate_table(rng, SCENARIOS["all_on"], Design(priors=6, bases=30, optimizers=6, rl_seeds=4))
    sh = analyse(rows).shares
    for c in COMPONENTS:
        got = getattr(sh, c)
        assert got.estimate == pytest.approx(truth[c], abs=0.05), c
        assert got.low <= truth[c] <= got.high, (c, got, truth[c])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 3), st.integers(2, 4), st.integers(2, 3))
def test_estimates_add_up_to_one_and_every_interval_is_ordered_within_0_and_1(seed, a, s, b, n):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(a, s, b, n)) * rng.uniform(0, 2) + rng.normal(size=(a, s, 1, 1)) * rng.uniform(0, 2)
    sh = analyse(rows_of(y), draws=200).shares
    assert sum(getattr(sh, c).estimate for c in COMPONENTS) == pytest.approx(1, abs=1e-3)
    for c in COMPONENTS:
        x = getattr(sh, c)
        assert 0 <= x.low <= x.high <= 1 and 0 <= x.estimate <= 1
    if a == 1:
        assert sh.prior.high == 0 and sh.interaction.high == 0


def test_a_missing_rl_seed_is_not_imputed_the_residual_loses_its_degree_of_freedom():
    y = grid(noise=0.3, base_sd=0.5, seed=1)
    full = mean_squares(rows_of(y))
    y[0, 0, 0, 1] = y[2, 1, 3, 1] = np.nan
    part = mean_squares(rows_of(y))
    assert full.df["E"] == 3 * 2 * 4 * (2 - 1) and part.df["E"] == full.df["E"] - 2
    assert part.df["S"] == full.df["S"] and part.df["SO"] == full.df["SO"]
    assert part.n == pytest.approx(24 / (22 / 2 + 2 / 1))  # harmonic mean of the runs per cell: 22 of 2, 2 of 1
    assert analyse(rows_of(y), draws=200).shares is not None


def test_a_base_without_every_optimizer_is_left_out_and_said():
    y = grid(s=3, noise=0.3, base_sd=0.5, seed=2)
    y[1, 2, 0, :] = np.nan  # prior p1's third base never ran optimizer o0
    m = mean_squares(rows_of(y))
    assert list(m.bases) == [3, 2, 3] and m.df["S"] == 2 + 1 + 2
    assert any("prior p1, pretrain seed 2 has no run with optimizer o0" in n for n in m.notes)


def test_seeds_are_nested_a_seed_under_one_prior_only_is_another_base():
    rows = rows_of(grid(noise=0.2, base_sd=0.5, seed=4))
    rows += [("p0", f"o{j}", 7, r, 0.1 * j + r) for j in range(4) for r in range(2)]  # seed 7: under p0 only
    m = mean_squares(rows)
    assert list(m.bases) == [3, 2, 2] and m.s == pytest.approx(3 / (1 / 3 + 1 / 2 + 1 / 2))


def test_estimates_follow_the_expected_mean_squares():
    y = grid(noise=0.4, base_sd=0.7, seed=6)
    m = mean_squares(rows_of(y))
    v = components(m)
    ms = {t: m.ss[t] / m.df[t] for t in m.ss}
    assert v["residual"] == pytest.approx(ms["E"])
    assert v["pretrain_seed"] == pytest.approx(max(0, ms["S"] - ms["SO"]) / (4 * 2))
    assert v["prior"] == pytest.approx(max(0, m.ss["P"] - 2 * ms["S"]) / (4 * 2 * 2) / 3)
    assert m.ss["P"] + m.ss["O"] + m.ss["PO"] + m.ss["S"] + m.ss["SO"] + m.ss["E"] == \
        pytest.approx(((y - y.mean()) ** 2).sum())  # balanced: the sums of squares add up


@pytest.mark.parametrize("rows, says", [
    ([], "no runs"),
    ([("p", "o", 0, 0, 1.0), ("p", "o", 1, 0, 2.0)], "one optimizer level"),
    ([("p", o, 0, r, float(r)) for o in "xy" for r in range(2)], "single pretraining seed"),
    ([("p", o, k, 0, float(k)) for o in "xy" for k in range(2)], "2 or more RL seeds"),
    ([("p", "x", 0, 0, 1.0), ("p", "x", 0, 0, 2.0)], "two runs of"),
    ([("p", "x", 0, 0, float("nan"))], "value nan"),
])
def test_tables_that_cannot_separate_the_components_are_refused(rows, says):
    with pytest.raises(AnalysisError, match=says):
        analyse(rows)


def test_an_unvarying_outcome_has_no_shares():
    assert analyse(rows_of(np.ones((2, 2, 2, 2)))).shares is None


def test_ranges_compare_optimizers_at_a_fixed_prior_with_priors_at_a_fixed_optimizer():
    result = analyse(rows_of(grid()), draws=200)
    assert result.ranges["across_optimizers"] == pytest.approx(1.0)
    assert result.ranges["across_priors"] == pytest.approx(2.0)
    r = ranges_of(np.array([[0.0, 1.0], [2.0, 5.0]]))
    assert (float(r["across_optimizers"]), float(r["across_priors"])) == (2.0, 3.0)


def test_the_grid_analyses_the_cells_that_finished_and_flags_what_it_left_out():
    from retest.factorial.grid import analyse_cells
    from tests.factorial_cases import make_result

    result = make_result(failed=1)  # the first cell (A-rich/short, grpo, pretrain seed 0, RL seed 0) failed
    flags: list[str] = []
    shares, ranges = analyse_cells(result.cells, flags)
    assert {"pass@1", "pass@256"} <= set(shares) and ranges["pass@256"]["across_priors"] == pytest.approx(0.2, abs=0.01)
    assert shares["pass@256"].prior.estimate > 0.9  # the hand-made pass@256 moves with the prior
    assert any(f.startswith("reachable_gain: the same value in every cell") for f in flags)
    lost = make_result(failed=3)  # all 3 RL seeds of one (base, optimizer) cell: that base is left out
    flags = []
    analyse_cells(lost.cells, flags)
    assert any(f.startswith("pass@1: prior A-rich/short, pretrain seed 0 has no run with optimizer grpo") for f in flags)
