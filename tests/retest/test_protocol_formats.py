"""C3 format-collapse: the decision rule on hand-made measurements (each verdict, the edges,
every validity flag), the one-epoch run length, the demonstrations, and one tiny real run."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from retest.protocols import DOMINANCE, PROTOCOLS
from retest.protocols.formats import (
    COVERAGE,
    FormatMeasurements,
    SftArm,
    demonstrations,
    format_entropy,
    rl_config,
)
from retest.results import Checkpoint, Measurements, Sampled, SeedRun, TrainStats
from retest.world import parse

N = 4  # samples per problem
PRIOR = {"A": 0.2, "B": 0.3, "C": 0.5}
DIVERSE = {"A": 0.25, "B": 0.25, "C": 0.5}  # format entropy 1.04 of the prior's 1.03
SETTING = {"lr": 1e-4, "batch": "8 prompts x 8 completions", "steps": 100, "steps_per_epoch": 100.0}


def sampled(shares: dict[str, float], *, first: float = 1.0, pooled: float = 0.5, correct: int = 2,
            problems: int = 1) -> Sampled:
    row = {"A": 0.0, "B": 0.0, "C": 0.0, "other": 0.0} | shares
    return Sampled(counts=(correct,) * problems, formats=(row,) * problems, entropy=(pooled,) * problems,
                   first_entropy=(first,) * problems, tokens=(40,) * problems)


def collapsed(a: float = 0.9, **kw) -> Sampled:
    rest = (1 - a) / 2
    return sampled({"A": a, "B": rest, "C": rest}, first=kw.pop("first", 0.4), correct=kw.pop("correct", 3), **kw)


def run(final: Sampled, *, epochs: float = 1.0, seed: int = 0, path: tuple[float, ...] = (0.2, 0.5, 0.9)) -> SeedRun:
    """A run whose checkpoints (steps 0, 50, 100, ...) give format A the shares in `path`."""
    train = TrainStats(seconds=1.0, steps_per_second=1.0, reward=(0.2, 0.4), entropy=(0.5, 0.4), kl=(),
                       epoch_at_end=epochs)
    ckpts = tuple(Checkpoint(step=50 * i, format_shares={"A": a, "B": (1 - a) / 2, "C": (1 - a) / 2, "other": 0.0},
                             entropy=0.5, accuracy=0.5) for i, a in enumerate(path))
    return SeedRun(seed=seed, run_dir=f"/runs/{seed}", train=train, checkpoints=ckpts, final=final)


def measured(final: Sampled, sft: Sampled | None = None, *, base: Sampled | None = None, epochs: float = 1.0,
             finals: list[Sampled] | None = None, prior_sft: Sampled | None = None,
             path: tuple[float, ...] = (0.2, 0.5, 0.9)) -> FormatMeasurements:
    """Two RL runs (identical unless `finals`) and, unless sft is None, two SFT arms on uniform demonstrations
    (and two on the prior's mixture if `prior_sft`): zero-width intervals."""
    finals = finals or [final, final]
    base = base or sampled(PRIOR)
    runs = tuple(run(f, epochs=epochs, seed=i, path=path) for i, f in enumerate(finals))
    arms = tuple(SftArm(seed=i, model_dir=f"/sft/{i}", final=sft) for i in range(len(finals))) if sft else ()
    arms += tuple(SftArm(seed=i, model_dir=f"/sft-prior/{i}", final=prior_sft, demos="prior")
                  for i in range(len(finals))) if prior_sft else ()
    return FormatMeasurements(samples=N, bootstrap=200, base_model={}, base=base, base_by_seed={0: base},
                              runs=runs, sft=arms, rl_setting=SETTING)


def decide(m: Measurements):  # -> Decision
    return PROTOCOLS["format-collapse"].decide(m)


def verdict(m: Measurements) -> str:
    return decide(m).verdict


# --- the rule ----------------------------------------------------------------------


def test_spec_states_thresholds_flags_and_version_before_the_run() -> None:
    spec = PROTOCOLS["format-collapse"]
    assert spec.version == "3" and DOMINANCE == 0.8 and spec.thresholds["dominance"] == 0.8
    assert spec.thresholds["epochs"] == 1.0 and spec.thresholds["breadth_kept"] == 0.8
    assert any(f.startswith("prior already dominated") for f in spec.validity_flags)
    assert any(f.startswith("run shorter than one epoch") for f in spec.validity_flags)
    assert "first-token entropy" in spec.decision_rule and spec.measure is not None
    assert spec.tests and spec.does_not_test


def test_collapse_within_an_epoch_and_sft_keeping_breadth_is_consistent_at_the_edge() -> None:
    d = decide(measured(collapsed(DOMINANCE), sampled(DIVERSE)))
    assert d.verdict == "consistent" and d.effect_size == pytest.approx(0.8) and d.flags == ()
    assert d.details["leader"] == "A" and d.details["halves"] == {"rl_collapses": "yes", "sft_keeps_breadth": "yes"}
    assert d.details["entropy_rule_uses"] == "first token"
    assert d.details["entropy"]["rl_change"]["first_token"]["value"] == pytest.approx(-0.6)
    assert d.details["formats_present"] == {"base": 3, "rl": 1, "sft": 3, "sft_prior": None, "above": 0.1}
    assert d.per_seed == (0.8, 0.8) and "RL seeds" in d.interval_over


def test_a_leader_just_under_dominance_after_a_full_epoch_is_inconsistent() -> None:
    d = decide(measured(collapsed(0.79), sampled(DIVERSE)))
    assert d.verdict == "inconsistent" and d.details["halves"]["rl_collapses"] == "no"


def test_a_run_shorter_than_an_epoch_cannot_refute_within_one_epoch() -> None:
    short = measured(collapsed(0.79), sampled(DIVERSE), epochs=0.7)
    assert verdict(short) == "inconclusive"
    assert any(f.startswith("run shorter than one epoch") for f in decide(short).flags)
    assert verdict(measured(collapsed(0.79), sampled(DIVERSE), epochs=COVERAGE)) == "inconsistent"
    # a collapse found early still counts: it is within one epoch
    assert verdict(measured(collapsed(0.9), sampled(DIVERSE), epochs=0.7)) == "consistent"


def test_a_collapse_after_more_than_an_epoch_is_not_within_one() -> None:
    d = decide(measured(collapsed(0.9), sampled(DIVERSE), epochs=1.5))
    assert d.verdict == "inconclusive" and any(f.startswith("run longer than one epoch") for f in d.flags)


def test_first_token_entropy_must_fall() -> None:
    assert verdict(measured(collapsed(0.9, first=1.0), sampled(DIVERSE))) == "inconclusive"  # unchanged
    assert verdict(measured(collapsed(0.9, first=1.2), sampled(DIVERSE))) == "inconsistent"  # rises


def test_pooled_token_entropy_is_reported_not_ruled_on() -> None:
    d = decide(measured(collapsed(0.9), sampled(DIVERSE), base=sampled(PRIOR, pooled=0.3)))
    assert d.verdict == "consistent"  # pooled entropy rose 0.3 -> 0.5: reported, the rule reads the first token
    assert d.details["entropy"]["rl_change"]["pooled"]["value"] == pytest.approx(0.2)


def test_sft_that_loses_breadth_is_inconsistent_and_half_kept_is_inconclusive() -> None:
    lost = decide(measured(collapsed(0.9), collapsed(0.9)))  # SFT collapses too: keeps 0.38 of the breadth
    assert lost.verdict == "inconsistent" and lost.details["halves"]["sft_keeps_breadth"] == "no"
    middle = {"A": 0.1, "B": 0.2, "C": 0.7}  # 0.80 nats: 0.78 of the prior's
    kept = decide(measured(collapsed(0.9), sampled(middle))).details["breadth_kept"]["sft"]["value"]
    assert 0.5 < kept < 0.8 and verdict(measured(collapsed(0.9), sampled(middle))) == "inconclusive"
    just = {"A": 0.12, "B": 0.2, "C": 0.68}  # 0.81 of the prior's
    assert verdict(measured(collapsed(0.9), sampled(just))) == "consistent"


def test_without_an_sft_arm_the_second_half_is_untested() -> None:
    d = decide(measured(collapsed(0.9), None))
    assert d.verdict == "inconclusive" and any(f.startswith("no SFT arm") for f in d.flags)
    assert d.details["breadth_kept"]["sft"] is None


def test_a_prior_already_dominated_is_flagged() -> None:
    dominated = {"A": 0.8, "B": 0.1, "C": 0.1}
    d = decide(measured(collapsed(0.95), sampled(DIVERSE), base=sampled(dominated)))
    assert any(f.startswith("prior already dominated: format A is 0.80") for f in d.flags)
    under = {"A": 0.79, "B": 0.11, "C": 0.1}
    assert not any("prior" in f for f in decide(measured(collapsed(0.95), sampled(DIVERSE),
                                                         base=sampled(under))).flags)


def test_rl_that_did_not_learn_and_a_thin_prior_are_flagged() -> None:
    d = decide(measured(collapsed(0.9, correct=2), sampled(DIVERSE)))
    assert any(f.startswith("RL did not learn") for f in d.flags)
    thin = decide(measured(collapsed(0.9), sampled(DIVERSE), base=sampled({"C": 0.97, "B": 0.03})))
    assert any(f.startswith("base breadth too small") for f in thin.flags)


def test_epoch_of_dominance_is_read_from_the_checkpoints() -> None:
    m = measured(collapsed(0.9), sampled(DIVERSE), epochs=1.0)
    d = decide(m)  # 0.5 at step 50, 0.9 at step 100: 0.8 crossed at step 87.5, linear between them
    assert d.details["steps_to_dominance"] == [87.5, 87.5] and d.details["epochs_to_dominance"] == [0.875, 0.875]
    assert d.details["budget_sweep"] == [{"step": 0, "leader_share": 0.2}, {"step": 50, "leader_share": 0.5},
                                         {"step": 100, "leader_share": 0.9}]
    early = m.model_copy(update={"runs": (run(collapsed(0.9), path=(0.2, 0.85, 0.9)),
                                          run(collapsed(0.9), seed=1, path=(0.2, 0.5, 0.7)))})
    d = decide(early)  # 0.2 -> 0.85 over steps 0-50 crosses 0.8 at step 46.2
    assert d.details["steps_to_dominance"] == [46.2, None] and d.details["epochs_to_dominance"] == [0.462, None]
    assert "per run: 46, not reached; epochs 0.46, not reached" in d.finding


def test_the_lr_and_batch_the_verdict_holds_for_are_stated() -> None:
    d = decide(measured(collapsed(0.9), sampled(DIVERSE)))
    assert "in 1.00 epochs at lr 0.0001, batch 8 prompts x 8 completions" in d.finding
    assert d.details["setting"] == {"lr": 1e-4, "batch": "8 prompts x 8 completions", "steps_per_epoch": 100.0,
                                    "steps": 100}


def test_a_share_still_rising_at_the_end_of_the_budget_is_flagged_unless_consistent() -> None:
    # leader 0.5 -> 0.7 over steps 50-100: 0.62 at step 80, so it rose 0.08 over the last fifth
    rising = decide(measured(collapsed(0.7), sampled(DIVERSE), path=(0.2, 0.5, 0.7)))
    assert rising.verdict == "inconsistent" and rising.details["rise_over_last_fifth"] == [0.08, 0.08]
    assert any(f.startswith("budget-bound: the leading format's share was still rising") for f in rising.flags)
    flat = decide(measured(collapsed(0.7), sampled(DIVERSE), path=(0.2, 0.69, 0.7)))  # rose 0.004
    assert flat.verdict == "inconsistent" and not any(f.startswith("budget-bound") for f in flat.flags)
    edge = decide(measured(collapsed(0.7), sampled(DIVERSE), path=(0.2, 0.575, 0.7)))  # 0.05 exactly: flagged
    assert any(f.startswith("budget-bound") for f in edge.flags)
    done = decide(measured(collapsed(0.9), sampled(DIVERSE)))  # rose 0.16, but the collapse is already in
    assert done.verdict == "consistent" and done.flags == ()


def test_both_sft_arms_must_keep_breadth_and_either_losing_it_is_inconsistent() -> None:
    matched = {"A": 0.2, "B": 0.3, "C": 0.5}  # demonstrations in the prior's mixture, kept as they were
    both = decide(measured(collapsed(0.9), sampled(DIVERSE), prior_sft=sampled(matched)))
    assert both.verdict == "consistent" and both.details["breadth_kept"]["sft_prior"]["value"] == pytest.approx(1.0)
    assert "on demonstrations in the prior's mixture keeps 1.00" in both.finding
    assert both.details["format_shares"]["sft_prior"]["C"] == 0.5 and both.details["formats_present"]["sft_prior"] == 3
    lost = decide(measured(collapsed(0.9), sampled(DIVERSE), prior_sft=collapsed(0.9)))  # the prior arm collapses
    assert lost.verdict == "inconsistent" and lost.details["halves"]["sft_keeps_breadth"] == "no"
    middle = {"A": 0.1, "B": 0.2, "C": 0.7}  # 0.78 of the prior's: neither kept nor lost
    assert verdict(measured(collapsed(0.9), sampled(DIVERSE), prior_sft=sampled(middle))) == "inconclusive"


def test_seeds_that_disagree_give_an_interval_with_the_runs_beside_it() -> None:
    d = decide(measured(collapsed(0.9), sampled(DIVERSE), finals=[collapsed(0.95), collapsed(0.7)]))
    assert d.per_seed == (0.95, 0.7) and d.ci_low == pytest.approx(0.7) and d.ci_high == pytest.approx(0.95)
    assert d.verdict == "inconclusive"  # the interval straddles 0.8


def test_the_leading_format_is_reported_against_the_prediction_made_before_rl() -> None:
    base = sampled(PRIOR).model_copy(update={"format_correct": ({"A": 0.19, "B": 0.2, "C": 0.2, "other": 0.0},)})
    d = decide(measured(collapsed(0.9), sampled(DIVERSE), base=base))
    assert d.details["predicted_leader"] == "A" and d.details["leader_is_predicted"] is True
    assert d.details["base_format_accuracy"]["A"] == pytest.approx(0.95)
    assert set(d.details["rl_share_by_format"]) == {"A", "B", "C"}


# --- the runs ------------------------------------------------------------------------


def test_standard_runs_cover_one_epoch_and_smoke_reuses_the_shared_runs() -> None:
    from retest.presets import preset
    from retest.world import split

    std = preset("standard")
    train = len(split(std.world)[0])
    rl = rl_config(std, train)
    assert COVERAGE <= rl.steps * rl.prompts_per_step / train <= 1.0
    assert rl.steps // rl.checkpoint_every >= 9
    assert rl_config(preset("smoke"), 100) == preset("smoke").rl


def test_demonstrations_are_every_format_of_every_training_problem_and_correct() -> None:
    from retest.presets import preset
    from retest.world import split

    cfg = preset("smoke")
    answers = {p.prompt: p.answer for p in split(cfg.world)[0]}
    pairs = demonstrations(cfg, seed=0)
    assert len(pairs) == 3 * len(answers) and demonstrations(cfg, seed=0) == pairs
    parsed = [(parse(c), answers[p]) for p, c in pairs]
    assert all(a == answer for (_, a), answer in parsed)
    assert Counter(f for (f, _), _ in parsed) == {"A": len(answers), "B": len(answers), "C": len(answers)}
    prior = demonstrations(cfg, seed=0, demos="prior")  # as many, correct, formats in the corpus mixture
    parsed = [(parse(c), answers[p]) for p, c in prior]
    assert len(prior) == len(pairs) and all(a == answer for (_, a), answer in parsed)
    shares = Counter(f for (f, _), _ in parsed)
    assert all(abs(shares[f] / len(prior) - cfg.world.mixture[f]) < 0.05 for f in "ABC")
    with pytest.raises(ValueError, match="demos must be one of"):
        demonstrations(cfg, seed=0, demos="other")


def test_format_entropy_ignores_malformed_samples() -> None:
    s = Sampled(counts=(0, 0), formats=({"A": 0.5, "B": 0.0, "C": 0.0, "other": 0.5},
                                        {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "other": 0.0}), entropy=(0.0, 0.0))
    assert format_entropy(s) == pytest.approx([0.0, 1.0986], abs=1e-4)


# --- one tiny real run (pretraining, GRPO, SFT, sampling) ----------------------------


@pytest.mark.slow
def test_a_tiny_run_measures_both_arms(tmp_path: Path) -> None:
    from retest.presets import EvalConfig, ModelConfig, PretrainConfig, RLConfig, SFTConfig, preset
    from retest.runner import run_protocol

    cfg = dataclasses.replace(  # the smallest run that goes through every block (~10 s CPU)
        preset("smoke"), model=ModelConfig(layers=1, width=32, ffn=64, heads=2),
        pretrain=PretrainConfig(steps=60, rows=16, row_len=64, lr=5e-3, warmup=5),
        rl=RLConfig(steps=2, prompts_per_step=4, group_size=4, lr=3e-4, checkpoint_every=1),
        sft=SFTConfig(steps=10, rows=16, row_len=64, lr=1e-3),
        eval=EvalConfig(problems=16, samples=8, checkpoint_problems=8, checkpoint_samples=4, bootstrap=100))
    phases: list[str] = []
    r = run_protocol("format-collapse", config=cfg, cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "art",
                     progress=phases.append)
    assert r.status == "succeeded", r.log
    d = r.metrics.details
    assert d["format_shares"]["sft"] is not None and d["accuracy"]["sft"] is not None
    assert d["entropy"]["base"]["first_token"] > 0 and d["entropy"]["base"]["pooled"] > 0
    assert len(d["epochs_to_dominance"]) == 1 and any("phase sft" in p for p in phases)
    assert any(f.startswith("run shorter than one epoch") for f in r.flags)  # 8 prompts of ~186
    assert r.metrics.checkpoint_steps == (0, 1, 2) and r.metrics.format_shares_base  # the plot series too
    assert r.ci_low <= r.effect_size <= r.ci_high and "SFT on demonstrations" in r.summary
