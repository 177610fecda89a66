"""The measurements against brute force and hand-made cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.measures import (
    bootstrap_mean_ci,
    changed_mask,
    effective_rank,
    format_shares,
    numerical_rank,
    pass_at_k,
    seed_interval,
    to_bf16,
    token_entropy,
    update_ranks,
    update_sparsity,
)


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (c correct) that hold a correct one."""
    samples = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_equals_enumeration(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k), abs=1e-12)


def test_pass_at_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 2, 0)


def test_bootstrap_matches_exact_resampling_distribution() -> None:
    values = np.array([0.0, 1.0, 2.0, 7.0])
    # all 256 equally likely resamples of 4 values: the exact bootstrap distribution
    means = sorted(np.mean(r) for r in itertools.product(values, repeat=4))
    exact_lo, exact_hi = np.quantile(means, [0.025, 0.975], method="inverted_cdf")
    lo, hi = bootstrap_mean_ci(values, draws=40_000, seed=1)
    assert lo == pytest.approx(exact_lo, abs=0.25) and hi == pytest.approx(exact_hi, abs=0.25)
    assert lo <= values.mean() <= hi


def test_bootstrap_of_constant_is_a_point_and_columns_are_separate() -> None:
    lo, hi = bootstrap_mean_ci(np.array([[0.5, 1.0]] * 10), draws=200)
    assert list(lo) == [0.5, 1.0] and list(hi) == [0.5, 1.0]


def test_seed_interval_t_based_and_single_seed_point() -> None:
    assert seed_interval([0.3]) == (0.3, 0.3, 0.3)
    mean, lo, hi = seed_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and hi - mean == pytest.approx(4.3027 * 1.0 / math.sqrt(3), abs=1e-4)
    # beyond the old 10-row table: 20 seeds take t(19) = 2.093, not the normal 1.96
    values = [0.0, 1.0] * 10
    mean, lo, hi = seed_interval(values)
    assert hi - mean == pytest.approx(2.0930 * np.std(values, ddof=1) / math.sqrt(20), abs=1e-4)


def test_hierarchical_bootstrap_resamples_every_level() -> None:
    from retest.measures import hierarchical_bootstrap

    # problems identical, RL seeds identical, pretraining seeds differ: the width comes from the priors
    v = np.zeros((2, 3, 20))
    v[1] += 1.0
    iv = hierarchical_bootstrap(v, draws=400)
    assert iv.estimate == 0.5 and iv.low == 0.0 and iv.high == 1.0
    assert iv.over == "pretraining seeds, RL seeds, problems (hierarchical bootstrap)"
    assert iv.per_seed == (0.0, 0.0, 0.0, 1.0, 1.0, 1.0)
    # one run: only problems, and it says so
    one = hierarchical_bootstrap(np.arange(10.0).reshape(1, 1, 10), draws=400)
    assert one.over == "problems (bootstrap, single seed)" and one.low < 4.5 < one.high
    # a redraw adds evaluation noise: a zero-width interval gets width
    rng_noise = hierarchical_bootstrap(np.zeros((1, 2, 5)), draws=200,
                                       redraw=lambda rng: rng.normal(0, 1, size=(1, 2, 5)))
    assert rng_noise.high - rng_noise.low > 0.5
    with pytest.raises(ValueError):
        hierarchical_bootstrap(np.zeros((2, 5)))


def test_every_interval_resamples_through_one_kernel() -> None:
    from retest.measures import hierarchical_bootstrap
    from retest.protocols.calibration import resample
    from retest.protocols.passk import ratio_interval

    # the mean interval, C1's ratio interval (denominator 1) and C5b's resample see the same draws
    v = np.random.default_rng(1).random((2, 3, 12))
    iv = hierarchical_bootstrap(v, draws=300, seed=4)
    ratio = ratio_interval(v, np.ones_like(v), draws=300, seed=4)
    means = resample(2, 3, 12, 300, lambda ip, ir, jn: np.array([v[ip[:, None], ir][:, :, jn].mean()]), seed=4)
    lo, hi = np.quantile(means[:, 0], [0.025, 0.975])
    assert (iv.low, iv.high) == pytest.approx((lo, hi)) and (ratio.low, ratio.high) == pytest.approx((lo, hi))
    assert iv.high - iv.low > 0.05  # a real width, not a degenerate case that any kernel would match


def test_format_shares_hand_made() -> None:
    assert format_shares(["A", "A", "C", "other"]) == {"A": 0.5, "B": 0.0, "C": 0.25, "other": 0.25}


def test_token_entropy_uniform_one_hot_and_direct() -> None:
    logits = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, -np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0, 4.0]])
    p = np.exp(logits[2]) / np.exp(logits[2]).sum()
    assert token_entropy(logits) == pytest.approx([math.log(4), 0.0, -(p * np.log(p)).sum()])


def test_bf16_view_matches_torch_rounding() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 10.0 ** np.random.default_rng(1).integers(-6, 6, 10_000)
    ours = to_bf16(x)
    theirs = torch.from_numpy(x).to(torch.bfloat16).to(torch.float32).numpy()
    assert np.array_equal(ours, theirs)


def _weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "model.embed_tokens.weight": rng.standard_normal((20, 16)).astype(np.float32),
        "model.layers.0.self_attn.q_proj.weight": rng.standard_normal((16, 16)).astype(np.float32),
        "model.layers.1.mlp.up_proj.weight": rng.standard_normal((32, 16)).astype(np.float32),
        "model.norm.weight": np.ones(16, np.float32),
    }


def test_sparsity_against_itself_is_zero() -> None:
    w = _weights()
    out = update_sparsity(w, {k: v.copy() for k, v in w.items()})
    assert all(v["changed_fp32"] == 0 and v["changed_bf16"] == 0 for v in out.values())


def test_sparsity_of_perturbed_copy_is_the_perturbed_fraction() -> None:
    w = _weights()
    rng = np.random.default_rng(3)
    new, perturbed = {}, 0
    for k, v in w.items():
        mask = rng.random(v.shape) < 0.2
        new[k] = np.where(mask, v * 1.5 + 0.5, v).astype(np.float32)  # big change: visible in bf16 too
        perturbed += int(mask.sum())
    total = sum(v.size for v in w.values())
    out = update_sparsity(w, new)
    assert out["all"]["changed_fp32"] == pytest.approx(perturbed / total)
    assert out["all"]["changed_bf16"] == pytest.approx(perturbed / total)
    assert set(out) == {"embed", "layer 0", "layer 1", "norm", "all"}


def test_tiny_updates_are_hidden_by_bf16() -> None:
    w = _weights()
    new = {k: (v * (1 + 1e-5)).astype(np.float32) for k, v in w.items()}  # far below bf16's 2^-9
    out = update_sparsity(w, new)["all"]
    # only values that sit right at a bf16 rounding boundary flip (about 2^-9 / 2^-8 x 2)
    assert out["changed_fp32"] > 0.9 and out["changed_bf16"] < 0.01
    assert out["hidden_by_bf16"] == pytest.approx(out["changed_fp32"] - out["changed_bf16"])
    assert changed_mask(np.ones(3), np.ones(3) * 2, "bf16").all()


def test_ranks_of_hand_made_updates() -> None:
    rng = np.random.default_rng(0)
    low = sum(np.outer(rng.standard_normal(12), rng.standard_normal(8)) for _ in range(3))
    assert numerical_rank(low) == 3
    assert numerical_rank(np.zeros((4, 4))) == 0
    assert effective_rank(np.eye(6)) == pytest.approx(6.0)
    assert effective_rank(np.outer(np.ones(5), np.ones(5))) == pytest.approx(1.0)
    base = {"model.layers.0.mlp.up_proj.weight": np.zeros((12, 8))}
    ranks = update_ranks(base, {"model.layers.0.mlp.up_proj.weight": low})
    assert ranks["model.layers.0.mlp.up_proj.weight"]["numerical_rank"] == 3
