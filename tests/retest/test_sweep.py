"""The C2 learning-rate sweep: its measurements on hand-made weights, and one real tiny sweep."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from retest.measures import to_bf16
from retest.sweep import (
    C2Config,
    chance_jaccard,
    jaccard,
    measure_run,
    sft_pairs,
    smallest_magnitude,
    visible_rank_fraction,
)

HALF = 2.0**-9  # bf16's half spacing for 1 <= |w| < 2


def grid(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Weights on the bf16 grid with |w| in [1, 1.5]: one spacing (2^-7) for all, away from a binade edge."""
    rng = np.random.default_rng(seed)
    return to_bf16((1 + 0.5 * rng.random(shape)).astype(np.float32) * rng.choice([-1, 1], shape))


def test_jaccard_and_its_chance_level() -> None:
    a, b = np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)
    assert jaccard(a, b) == pytest.approx(1 / 3) and jaccard(a, a) == 1.0 and jaccard(~a & a, ~a & a) == 1.0
    rng = np.random.default_rng(0)
    x, y = rng.random(200_000) < 0.2, rng.random(200_000) < 0.3  # independent sets
    assert jaccard(x, y) == pytest.approx(chance_jaccard(0.2, 0.3), abs=0.005)
    assert chance_jaccard(1.0, 1.0) == 1.0 and chance_jaccard(0.0, 0.0) == 1.0


def test_smallest_magnitude_marks_exactly_the_smallest_weights() -> None:
    base = {"b": np.array([0.5, -0.1, 3.0], np.float32), "a": np.array([[-2.0, 0.01]], np.float32)}
    # flat order is by sorted name: a (-2, 0.01), then b (0.5, -0.1, 3)
    assert smallest_magnitude(base, 2).tolist() == [False, True, False, True, False]
    assert not smallest_magnitude(base, 0).any() and smallest_magnitude(base, 5).all()


def test_an_update_under_half_an_ulp_is_invisible_in_bf16_and_one_over_it_is_seen() -> None:
    w = grid((16, 16))
    new = w.copy()
    new[:4] += np.sign(w[:4]) * np.float32(1.5 * HALF * 2)  # 1.5 half-ulps: onto the next grid point
    new[4:] += np.sign(w[4:]) * np.float32(0.4 * HALF * 2)  # 0.4: rounds back onto the base value
    run, mask = measure_run("rl", 1e-5, 0, 0, {"w": w}, {"w": new})
    assert run.changed_bf16 == pytest.approx(0.25) and run.changed_fp32 == 1.0 and mask.sum() == 64
    assert run.rank_fraction == pytest.approx(4 / 16)  # the visible update: 4 rows of a 16x16 matrix


def test_visible_rank_fraction_of_full_low_and_no_updates() -> None:
    w = grid((8, 12))
    rng = np.random.default_rng(1)
    assert visible_rank_fraction({"w": w}, {"w": w + rng.normal(0, 0.1, w.shape).astype(np.float32)}) == 1.0
    # a rank-1 update that lands on the grid exactly stays rank 1 (rounding noise would read as full rank)
    ones = np.ones((8, 12), np.float32)
    rank1 = np.outer(np.ones(8), np.arange(1, 13) * 2.0**-7).astype(np.float32)
    assert visible_rank_fraction({"w": ones}, {"w": ones + rank1}) == 1 / 8
    assert visible_rank_fraction({"w": w}, {"w": w.copy()}) == 0.0
    emb = {"model.embed_tokens.weight": w}  # embeddings are not weight matrices of the update
    assert visible_rank_fraction(emb, {"model.embed_tokens.weight": w + rank1}) == 0.0


def test_sft_pairs_are_correct_completions_of_as_many_rl_prompts_as_grpo_sees() -> None:
    from retest.presets import preset
    from retest.world import is_correct, split

    cfg = preset("smoke")
    train = [(p.prompt, p.answer) for p in split(cfg.world)[0]]
    pairs = sft_pairs(train, cfg)
    assert len(pairs) == cfg.rl.steps * cfg.rl.prompts_per_step * cfg.rl.group_size
    answers = dict(train)
    assert all(is_correct(c, answers[p]) for p, c in pairs)
    assert len({p for p, _ in pairs}) == cfg.rl.steps * cfg.rl.prompts_per_step
    assert pairs == sft_pairs(train, cfg)  # the same config, the same data


def test_the_standard_sweep_runs_every_seed_at_the_middle_rate_and_two_at_the_brackets() -> None:
    from retest.presets import preset
    from retest.sweep import c2_config

    c2 = c2_config(preset("standard"))
    assert [c2.seeds_at(lr) for lr in c2.lrs] == [(0, 1), (0, 1, 2), (0, 1)]
    smoke = C2Config(lrs=(1e-6, 1e-4), seeds=(0, 1))  # no brackets given: every rate runs every seed
    assert [smoke.seeds_at(lr) for lr in smoke.lrs] == [(0, 1), (0, 1)]


# --- one real sweep on a tiny model: two learning rates, two seeds, RL and SFT ---


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory: pytest.TempPathFactory):  # -> (Sweep, cache dir)
    from retest.lab import Lab
    from retest.presets import preset
    from retest.sweep import measure

    cfg = preset("smoke")
    cfg = dataclasses.replace(cfg, pretrain=dataclasses.replace(cfg.pretrain, steps=60),
                              rl=dataclasses.replace(cfg.rl, steps=2, checkpoint_every=2))
    cache = tmp_path_factory.mktemp("c2-cache")
    lines: list[str] = []
    return measure(Lab(cfg, cache, lines.append), C2Config(lrs=(1e-6, 1e-4), seeds=(0, 1))), cache, lines


@pytest.mark.slow
def test_a_larger_learning_rate_changes_more_weights_visibly(tiny_sweep) -> None:
    s, _, lines = tiny_sweep
    assert s.lrs == (1e-6, 1e-4) and len(s.runs) == 8  # 2 lrs x 2 seeds x (RL, SFT)
    for arm in ("rl", "sft"):
        small, large = s.arm(arm, 1e-6), s.arm(arm, 1e-4)
        assert max(r.p50 for r in small) * 10 < min(r.p50 for r in large)  # |dw|/|w| grows with lr
        assert max(r.changed_bf16 for r in small) < min(r.changed_bf16 for r in large)
        # at lr 1e-6 almost every weight moved in fp32, but bf16 shows few of them
        assert all(r.changed_fp32 > 0.5 and r.changed_bf16 < 0.2 for r in small)
    assert any("c2 lr 0.0001: rl seed 0" in line for line in lines)


@pytest.mark.slow
def test_two_seeds_change_overlapping_sets_beyond_chance(tiny_sweep) -> None:
    s, _, _ = tiny_sweep
    for lr in s.lrs:
        (rl,) = s.pairs("rl", lr)
        assert rl.chance < rl.jaccard <= 1.0
        assert len(s.pairs("rl-sft", lr)) == 4  # every RL seed against every SFT seed


@pytest.mark.slow
def test_the_sweep_starts_from_the_base_rounded_onto_the_bf16_grid(tiny_sweep) -> None:
    from retest.lab import load_weights

    s, cache, _ = tiny_sweep
    (grid_dir,) = Path(cache).glob("bf16grid-base-*")
    weights = load_weights(grid_dir)
    assert all(np.array_equal(to_bf16(w), w) for w in weights.values())
    assert all(Path(r.run_dir).is_dir() for r in s.runs)


@pytest.mark.slow
def test_the_decision_on_a_real_sweep_is_stored_as_json(tiny_sweep) -> None:
    from retest.protocols.sparsity import decide_sparsity

    s, _, _ = tiny_sweep
    d = decide_sparsity(s)
    assert d.verdict in ("consistent", "inconsistent", "inconclusive") and len(d.per_seed) == 1  # one per base
    stored = json.loads(json.dumps(d.details))
    assert set(stored["sweep"]) == {"1e-06", "0.0001"} and stored["sweep"]["1e-06"]["sft"]["per_seed"]
