"""The weekly grid can answer the question: 4 bases per prior, optimizer levels that differ in
budget, learning rate and family; expert iteration trains a tiny model and changes it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from retest.expert_iteration import ExpertIterationConfig, kept_pairs, train_expert_iteration
from retest.factorial.design import ei_config, factorial_preset, family, optimizer_config, rollouts, tiny_config
from retest.rl import checkpoints


def test_the_weekly_design_has_four_bases_per_prior_and_optimizers_that_differ_in_more_than_the_loss():
    fc = factorial_preset("weekly")
    assert len(fc.pretrain_seeds) >= 4 and len(fc.rl_seeds) >= 2 and len(fc.priors) == 4
    grpo_family = [o for o in fc.optimizers if family(o) == "grpo"]
    configs = {o: optimizer_config(fc, o) for o in grpo_family}
    assert len({c.steps for c in configs.values()}) >= 2  # an RL budget level
    assert len({c.lr for c in configs.values()}) >= 2  # a learning-rate level
    assert {family(o) for o in fc.optimizers} == {"grpo", "expert_iteration"}  # a family outside GRPO
    assert configs["grpo_x4"].steps == 4 * configs["grpo"].steps and configs["grpo_x4"].lr == configs["grpo"].lr
    # expert iteration spends GRPO's rollouts; the 4x budget four times as many
    assert rollouts(fc, "expert_iter") == rollouts(fc, "grpo") == rollouts(fc, "ppo_kl") == rollouts(fc, "grpo_x4") // 4
    assert any("4 pretraining seeds" in c for c in fc.confounds)


def test_rejection_sampling_keeps_only_verified_answers():
    pairs = kept_pairs([("2+3*4=", 14), ("1*2+3=", 5)], [[">14", ">15", "3*4=12;2+12=14>14"], [">5", ">5 and more"]])
    assert pairs == [("2+3*4=", ">14"), ("2+3*4=", "3*4=12;2+12=14>14"), ("1*2+3=", ">5")]
    with pytest.raises(ValueError, match="positive"):
        ExpertIterationConfig(rounds=0)


@pytest.mark.slow
def test_expert_iteration_trains_a_tiny_model_to_answer_right_more_often(tmp_path: Path):
    import torch

    from retest.lab import Lab
    from retest.sampler import TransformersSampler
    from retest.world import is_correct

    fc = tiny_config()  # a base pretrained 40 steps: 2% of its samples right, enough to keep some
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 5 s of CPU; more threads than free cores only wait on each other
    try:
        lab = Lab(fc.base, tmp_path)
        base_dir, _ = lab.base(0)
        train, _ = lab.problems()
        cfg = dataclasses.replace(ei_config(fc), prompts_per_round=48, samples=16, sft_steps=6, lr=1e-3)
        stats = train_expert_iteration(base_dir, train, cfg, seed=0, out_dir=tmp_path / "ei")
    finally:
        torch.set_num_threads(threads)
    assert stats["rollouts"] == 2 * 48 * 16 and all(k > 0 for k in stats["kept_share"])
    steps = [s for s, _ in checkpoints(tmp_path / "ei")]
    assert steps == [0, 6, 12] and stats["steps"] == 12  # the base, then one checkpoint per round

    def accuracy(model_dir: Path) -> float:
        """Share of right answers among 16 samples of 64 training prompts (seeded)."""
        rows = TransformersSampler(model_dir).sample([p for p, _ in train[:64]], 16, 1.0, 24, seed=5)
        return sum(is_correct(x.text, a) for (_, a), xs in zip(train[:64], rows) for x in xs) / (16 * 64)

    before, after = accuracy(base_dir), accuracy(checkpoints(tmp_path / "ei")[-1][1])
    assert after > 2 * before and after > before + 0.015, (before, after)  # measured 0.015 -> 0.041
