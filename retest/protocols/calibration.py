"""C5b calibration: does a binary reward degrade the calibration a Brier-style reward keeps?

The base is the shared base model (one per pretraining seed) fine-tuned briefly on its own
completions of training prompts, each ending in a stated confidence digit equal to the
model's accuracy in that completion's format, measured on problems it never saw (held-out
problems beyond the evaluation slice; `retest.confidence.calibrated_pairs`):
the same prior over formats, plus the habit of stating a confidence calibrated to itself
before RL (version 2 taught the corpus writer's digit, 0.4-0.9, to a base right a quarter
of the time: overconfident by construction, so any accuracy gain lowered ECE). Cheaper than
pretraining a second base: a draw and SFT steps. From it, GRPO runs with two rewards on the same
prompts and seeds: ``confidence-binary`` (right or wrong; the digit is free) and
``brier`` (RLCR: correctness minus (confidence - correctness)^2). Both are sampled on
held-out problems; calibration is the expected calibration error over the ten digit
bins (ECE) and the Brier score, beside the accuracy of each arm (calibration is
compared at matched accuracy, or a flag says how far apart they are).

ECE is a ratio over pooled samples, not a mean over problems, so its interval comes
from `resample`, the same hierarchical scheme as `retest.measures.hierarchical_bootstrap`
(pretraining seeds, RL seeds within them, problems shared by all runs and arms) applied
to the per-digit tables; accuracy uses `hierarchical_bootstrap` itself.

A local model and its problem file (`measure_local`): every prompt asks for a last line
``Confidence: d`` (`retest.answers.CONFIDENCE_SUFFIX`, read by `split_confidence`); the
"format" the digit is calibrated to is whether a completion states a final answer at all;
the arms' rewards are ``confidence-binary-final`` and ``brier-final``. A model that never (or
always) answers right is flagged "no signal"; one that never states a digit has no ECE
(stored as 0 beside the "confidence dropped" flag).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.answers import CONFIDENCE_SUFFIX, final_answer, judge_stated, split_confidence
from retest.completions import draw
from retest.confidence import DIGITS, brier, calibrated_pairs, confidence_world, ece, format_accuracy, table
from retest.measures import hierarchical_bootstrap, hierarchical_resample
from retest.presets import SFTConfig
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal
from retest.rl import checkpoints

if TYPE_CHECKING:
    from pathlib import Path

    from retest.lab import Lab

ARMS = {"binary": "confidence-binary", "brier": "brier"}  # arm -> reward name in retest.rewards.REWARDS
ACCURACY_MATCH = 0.05  # |accuracy(binary) - accuracy(brier)| above this: calibration compared at different accuracy
OVERCONFIDENT = 0.2  # the base's mean stated confidence above its accuracy by this much: accuracy gains alone lower ECE
MIN_STATED = 0.8  # an arm whose samples state a digit less often than this: ECE covers only those that do
DRAWS = 2000
SMOKE_STEPS = 8  # GRPO steps of each arm at the smoke preset (tests)
SFT_STEPS = {"smoke": 60, "standard": 150}  # steps (16 rows of 64 tokens) teaching the digit to the shared base
SELF_PROMPTS = {"smoke": 256, "standard": 512}  # training prompts the shared base answers to calibrate its digit
SELF_SAMPLES = 8  # its completions per prompt (smoke: 60 steps of about 40 examples; standard: 150 steps)
MIN_CALIBRATION = 32  # unseen problems beyond the evaluation slice needed to measure accuracy on them


@dataclass(frozen=True)
class Tables:
    """One model sampled n times on each held-out problem, as per-digit tables."""

    stated: tuple[tuple[int, ...], ...]  # per problem: samples stating digit d (d = 0..9)
    right: tuple[tuple[int, ...], ...]  # per problem: of those, right
    correct: tuple[int, ...]  # per problem: right samples, stated digit or not
    n: int


@dataclass(frozen=True)
class CalibrationMeasurements:
    base: tuple[Tables, ...]  # one per pretraining seed
    arms: dict[str, tuple[tuple[Tables, ...], ...]]  # "binary" | "brier" -> [pretraining seed][RL seed]
    train_reward: dict[str, tuple[float, ...]] = field(default_factory=dict)  # arm -> mean reward of each run
    base_model: dict[str, Any] = field(default_factory=dict)
    draws: int = DRAWS


def tables_of(texts: list[list[str]], answers: list[int],
              judged: Callable[[str, int], tuple[bool, int | None, str]] | None = None) -> Tables:
    """Per-digit tables of `texts`, each scored by `judged` (default: the confidence world's `judge`)."""
    rows = [table(t, a) if judged is None else table(t, a, judged) for t, a in zip(texts, answers)]
    return Tables(stated=tuple(tuple(r[0]) for r in rows), right=tuple(tuple(r[1]) for r in rows),
                  correct=tuple(r[2] for r in rows), n=len(texts[0]) if texts else 0)


def measure(lab: Lab) -> CalibrationMeasurements:
    """Base and both arms on the confidence world, each sampled on the held-out problems."""
    cfg = lab.cfg
    if cfg.base_model_dir:
        return measure_local(lab)
    world = confidence_world(cfg.world)
    train, all_held = lab.problems(world)
    held = all_held[: cfg.eval.problems]
    prompts, answers = [p for p, _ in held], [a for _, a in held]
    n = cfg.eval.samples
    own = train[: SELF_PROMPTS.get(cfg.preset, SELF_PROMPTS["standard"])]
    # accuracy is measured on problems the base never saw (training problems are in its corpus and
    # solved about three times as often): held-out problems beyond the evaluation slice, else the
    # evaluation problems themselves, drawn with another seed (smoke: all 64 are evaluated)
    spare = all_held[cfg.eval.problems:]
    calib, calib_seed = (spare, 0) if len(spare) >= MIN_CALIBRATION else (held, 1)
    shared_dirs = {ps: lab.base(ps)[0] for ps in cfg.pretrain_seeds}
    accuracy = {ps: format_accuracy(draw(lab, d, [p for p, _ in calib], SELF_SAMPLES, seed=calib_seed,
                                         tag="c5b-calibrate"), [a for _, a in calib])
                for ps, d in shared_dirs.items()}
    calibration = {ps: calibrated_pairs([p for p, _ in own], draw(lab, d, [p for p, _ in own], SELF_SAMPLES,
                                                                  tag="c5b-own"), accuracy[ps])
                   for ps, d in shared_dirs.items()}
    bases, arms = [], {arm: [] for arm in ARMS}
    rewards: dict[str, list[float]] = {arm: [] for arm in ARMS}
    stats: dict[str, Any] = {}
    teach = {ps: SFTConfig(steps=SFT_STEPS.get(cfg.preset, SFT_STEPS["standard"]), seed=ps) for ps in cfg.pretrain_seeds}
    arm_rl = {arm: dataclasses.replace(cfg.rl, reward=reward) for arm, reward in ARMS.items()}
    if cfg.preset == "smoke":
        arm_rl = {arm: dataclasses.replace(rl, steps=SMOKE_STEPS, checkpoint_every=SMOKE_STEPS)
                  for arm, rl in arm_rl.items()}
    lab.build_all([lab.sft_block(shared_dirs[ps], calibration[ps], teach[ps]) for ps in cfg.pretrain_seeds])
    taught = [lab.sft(shared_dirs[ps], calibration[ps], teach[ps]) for ps in cfg.pretrain_seeds]
    lab.build_all([lab.rl_block(d, train, seed, rl) for d in taught for rl in arm_rl.values() for seed in cfg.seeds])
    for ps in cfg.pretrain_seeds:
        shared, _ = lab.base(ps)
        base_dir = lab.sft(shared, calibration[ps], teach[ps])
        stats = {"base": shared.name, "confidence_sft_steps": SFT_STEPS.get(cfg.preset, SFT_STEPS["standard"]),
                 "taught_on": f"its own completions ({len(own)} training prompts x {SELF_SAMPLES})",
                 "measured_format_accuracy": {str(k): v for k, v in accuracy.items()},
                 "accuracy_measured_on": f"{len(calib)} " + ("held-out problems beyond the evaluation slice"
                                                             if calib is spare else "evaluation problems, another draw")}
        bases.append(tables_of(draw(lab, base_dir, prompts, n, tag="c5b"), answers))
        for arm in ARMS:
            rl = arm_rl[arm]
            row = []
            for seed in cfg.seeds:
                run_dir, ts = lab.rl(base_dir, train, seed, rl)
                final = checkpoints(run_dir)[-1][1]
                row.append(tables_of(draw(lab, final, prompts, n, tag="c5b"), answers))
                rewards[arm].append(round(float(np.mean(ts.reward)) if ts.reward else 0.0, 4))
            arms[arm].append(tuple(row))
    return CalibrationMeasurements(base=tuple(bases), arms={a: tuple(r) for a, r in arms.items()},
                                   train_reward={a: tuple(r) for a, r in rewards.items()},
                                   base_model={k: v for k, v in stats.items() if k != "losses"})


# --- a local model on its problem file (the gpu and model-smoke presets) ------------------

LOCAL_ARMS = {"binary": "confidence-binary-final", "brier": "brier-final"}  # arm -> reward on real text
STATES = ("stated", "none")  # a real completion states a final answer or none: its "format" for the digit


def state_of(text: str) -> str:
    """"stated" when the text before the confidence line states a final answer (`retest.answers`), else "none"."""
    return "stated" if final_answer(split_confidence(text)[0]) is not None else "none"


def stated_accuracy(completions: list[list[str]], answers: list[int]) -> dict[str, float | None]:
    """Per `STATES` class: the share of the model's own completions in it that are right (None: never seen)."""
    seen = {s: 0 for s in STATES}
    right = {s: 0 for s in STATES}
    for texts, answer in zip(completions, answers):
        for c in texts:
            seen[state_of(c)] += 1
            right[state_of(c)] += judge_stated(c, answer)[0]
    return {s: round(right[s] / seen[s], 4) if seen[s] else None for s in STATES}


def stated_pairs(prompts: list[str], completions: list[list[str]],
                 accuracy: dict[str, float | None]) -> list[tuple[str, str]]:
    """The model's own completions, any confidence line replaced by ``Confidence: d``, d its measured accuracy
    in that completion's class in tenths (`stated_accuracy`, on problems it never saw): the local model's
    `retest.confidence.calibrated_pairs`."""
    digit = {s: min(DIGITS - 1, max(0, round(DIGITS * a))) for s, a in accuracy.items() if a is not None}
    return [(p, f"{split_confidence(c)[0]}\nConfidence: {digit.get(state_of(c), 0)}")
            for p, texts in zip(prompts, completions) for c in texts]


def _fitting(cfg: SFTConfig, model_dir: Path, pairs: list[tuple[str, str]]) -> SFTConfig:
    """`cfg` (an SFTConfig) with rows long enough for the longest pair (SFT packs whole examples)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    longest = max(len(ids) for ids in tok([p + c for p, c in pairs])["input_ids"]) + 1  # + EOS
    return dataclasses.replace(cfg, row_len=max(cfg.row_len, longest))


def measure_local(lab: Lab) -> CalibrationMeasurements:
    """C5b on a local model: each prompt asks for a stated confidence (`retest.answers.CONFIDENCE_SUFFIX`); the
    model is taught by SFT on its own completions to state its measured accuracy, then both arms (binary and
    RLCR rewards on the stated answer and digit) run from it, every model sampled on the held-out problems."""
    cfg = lab.cfg
    train, all_held = lab.problems(suffix=CONFIDENCE_SUFFIX)
    held = all_held[: cfg.eval.problems]
    prompts, answers = [p for p, _ in held], [a for _, a in held]
    spare = all_held[cfg.eval.problems:]
    calib, calib_seed = (spare, 0) if len(spare) >= MIN_CALIBRATION else (held, 1)
    shared, _ = lab.base()
    accuracy = stated_accuracy(draw(lab, shared, [p for p, _ in calib], SELF_SAMPLES, seed=calib_seed,
                                    tag="c5b-calibrate"), [a for _, a in calib])
    own = train[: SELF_PROMPTS["standard"]]
    pairs = stated_pairs([p for p, _ in own], draw(lab, shared, [p for p, _ in own], SELF_SAMPLES, tag="c5b-own"),
                         accuracy)
    base_dir = lab.sft(shared, pairs, _fitting(cfg.sft, shared, pairs))
    arm_rl = {arm: dataclasses.replace(cfg.rl, reward=reward) for arm, reward in LOCAL_ARMS.items()}
    lab.build_all([lab.rl_block(base_dir, train, seed, rl) for rl in arm_rl.values() for seed in cfg.seeds])
    base = tables_of(draw(lab, base_dir, prompts, cfg.eval.samples, tag="c5b"), answers, judge_stated)
    arms: dict[str, tuple[tuple[Tables, ...], ...]] = {}
    rewards: dict[str, tuple[float, ...]] = {}
    for arm, rl in arm_rl.items():
        runs = [lab.rl(base_dir, train, seed, rl) for seed in cfg.seeds]
        arms[arm] = (tuple(tables_of(draw(lab, checkpoints(r)[-1][1], prompts, cfg.eval.samples, tag="c5b"), answers,
                                     judge_stated) for r, _ in runs),)
        rewards[arm] = tuple(round(float(np.mean(ts.reward)) if ts.reward else 0.0, 4) for _, ts in runs)
    stats = {"base": str(shared), "confidence_sft_steps": cfg.sft.steps, "prompt_suffix": CONFIDENCE_SUFFIX,
             "taught_on": f"its own completions ({len(own)} training prompts x {SELF_SAMPLES})",
             "measured_accuracy": accuracy, "accuracy_measured_on": f"{len(calib)} " + (
                 "held-out problems beyond the evaluation slice" if calib is spare else "evaluation problems, "
                 "another draw")}
    return CalibrationMeasurements(base=(base,), arms=arms, train_reward=rewards, base_model=stats)


# --- the decision -----------------------------------------------------------------------


def resample(p: int, r: int, n: int, draws: int, stat: Callable[[Any, Any, Any], np.ndarray],
             seed: int = 0) -> np.ndarray:
    """`stat(ip, ir, jn)` over hierarchical resamples: (draws, stats) array.

    `measures.hierarchical_resample`, the kernel of `hierarchical_bootstrap`: pretraining seeds
    `ip` (P,), RL seeds within each `ir` (P, R), one set of problems `jn` (N,) for every run and
    arm (paired).
    """
    return hierarchical_resample((p, r, n), draws, lambda ip, ir, jn, _: stat(ip, ir, jn), seed)


def _arrays(m: CalibrationMeasurements) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(stated, right) per model: arms (P, R, N, 10), base (P, N, 10)."""
    out = {arm: (np.array([[t.stated for t in row] for row in runs], float),
                 np.array([[t.right for t in row] for row in runs], float)) for arm, runs in m.arms.items()}
    out["base"] = (np.array([t.stated for t in m.base], float), np.array([t.right for t in m.base], float))
    return out


def _pooled(a: np.ndarray, ip: Any, ir: Any, jn: Any) -> np.ndarray:
    """Sum over a resample: (10,) digit totals of an arm (P,R,N,10) or the base (P,N,10)."""
    if a.ndim == 4:
        return a[ip[:, None], ir][:, :, jn].sum(axis=(0, 1, 2))
    return a[ip][:, jn].sum(axis=(0, 1))


def _ci(x: np.ndarray) -> tuple[float, float]:
    if np.isnan(x).all():  # no resample had a digit stated: undefined
        return float("nan"), float("nan")
    lo, hi = np.nanquantile(x, [0.025, 0.975])
    return float(lo), float(hi)


def decide(m: CalibrationMeasurements) -> Decision:
    arr = _arrays(m)
    p, r, n = arr["binary"][0].shape[:3]
    totals = {k: (s.reshape(-1, DIGITS).sum(0), t.reshape(-1, DIGITS).sum(0)) for k, (s, t) in arr.items()}
    whole = {k: ece(*v) for k, v in totals.items()}
    brier_all = {k: brier(*v) for k, v in totals.items()}

    def stat(ip: Any, ir: Any, jn: Any) -> np.ndarray:
        e = {k: ece(_pooled(s, ip, ir, jn), _pooled(t, ip, ir, jn)) for k, (s, t) in arr.items()}
        return np.array([e["binary"] - e["brier"], e["binary"] - e["base"], e["brier"] - e["base"]])

    boots = resample(p, r, n, m.draws, stat)
    effect = whole["binary"] - whole["brier"]
    degrade = whole["binary"] - whole["base"]
    keep = whole["brier"] - whole["base"]
    (e_lo, e_hi), (d_lo, d_hi), (k_lo, k_hi) = (_ci(boots[:, i]) for i in range(3))
    per_run = {arm: [ece(np.array(row[j].stated).sum(0), np.array(row[j].right).sum(0))
                     for row in runs for j in range(len(row))] for arm, runs in m.arms.items()}
    per_seed = tuple(round(b - s, 4) for b, s in zip(per_run["binary"], per_run["brier"]))

    def accuracy(runs: tuple[tuple[Tables, ...], ...]) -> np.ndarray:  # (P, R, N) share right
        return np.array([[np.array(t.correct) / t.n for t in row] for row in runs])

    acc = {arm: hierarchical_bootstrap(accuracy(runs), draws=m.draws) for arm, runs in m.arms.items()}
    base_acc = float(np.mean([np.mean(np.array(t.correct) / t.n) for t in m.base]))
    acc_gap = acc["binary"].estimate - acc["brier"].estimate
    stated_share = {k: float(s.sum() / (np.prod(s.shape[:-1]) * _n(m, k))) for k, (s, _) in arr.items()}

    if e_lo > 0 and d_lo > 0:
        verdict = "consistent"
    elif e_hi <= 0 or d_hi <= 0:
        verdict = "inconsistent"
    else:
        verdict = "inconclusive"
    flags = []
    if abs(acc_gap) > ACCURACY_MATCH + 1e-9:  # the tolerance: a gap of exactly the threshold is matched
        flags.append(f"accuracy not matched within {ACCURACY_MATCH}: calibration compared at different accuracy "
                     f"(binary {acc['binary'].estimate:.2f}, Brier {acc['brier'].estimate:.2f})")
    low = [k for k, v in stated_share.items() if v < MIN_STATED]
    if low:
        flags.append(f"confidence dropped: {', '.join(f'{k} states a digit in {stated_share[k]:.0%}' for k in low)} "
                     f"of samples (< {MIN_STATED:.0%}); ECE covers only those that state one")
    over = {k: _overconfidence(*v) for k, v in totals.items()}
    if over["base"] >= OVERCONFIDENT - 1e-9:  # tolerance: exactly the threshold counts
        flags.append(f"base overconfident: its stated confidence exceeds its accuracy by {over['base']:.2f} "
                     f"(>= {OVERCONFIDENT}), so raising accuracy alone lowers ECE and 'binary degrades' can hardly show")
    if k_lo > 0:
        flags.append(f"control failed: the Brier arm degraded calibration too (ECE change over the base "
                     f"{keep:+.3f} [{k_lo:+.3f}, {k_hi:+.3f}]): its reward did not hold the digit in this budget")
    flags += no_signal([base_acc, *(float(np.mean(np.array(t.correct) / t.n)) for runs in m.arms.values()
                                    for row in runs for t in row)])
    finding = (
        f"ECE base {_x(whole['base'])}, binary {_x(whole['binary'])}, Brier {_x(whole['brier'])}: binary minus Brier "
        f"{_x(effect, '+')} [{_x(e_lo, '+')}, {_x(e_hi, '+')}], binary minus base {_x(degrade, '+')} "
        f"[{_x(d_lo, '+')}, {_x(d_hi, '+')}]; accuracy base {base_acc:.2f}, binary {acc['binary'].estimate:.2f} [{acc['binary'].low:.2f}, "
        f"{acc['binary'].high:.2f}], Brier {acc['brier'].estimate:.2f} [{acc['brier'].low:.2f}, {acc['brier'].high:.2f}]"
    )
    details = {
        "ece": {k: round(v, 4) for k, v in whole.items()},
        "ece_by_run": {k: [round(x, 4) for x in v] for k, v in per_run.items()},
        "brier_score": {k: round(v, 4) for k, v in brier_all.items()},
        "binary_minus_base": {"value": round(degrade, 4), "low": round(d_lo, 4), "high": round(d_hi, 4)},
        "brier_minus_base": {"value": round(keep, 4), "low": round(k_lo, 4), "high": round(k_hi, 4)},
        "accuracy": {"base": round(base_acc, 4)} | {
            k: {"value": round(v.estimate, 4), "low": round(v.low, 4), "high": round(v.high, 4),
                "per_seed": list(v.per_seed)} for k, v in acc.items()},
        "stated_share": {k: round(v, 4) for k, v in stated_share.items()},
        "overconfidence": {k: round(v, 4) for k, v in over.items()},
        "reliability": {k: _reliability(s, t) for k, (s, t) in arr.items()},
        "train_reward": {k: list(v) for k, v in m.train_reward.items()},
        "base_model": dict(m.base_model),
    }
    if not all(np.isfinite(x) for x in (effect, e_lo, e_hi)):  # no digit stated: ECE undefined (JSON has no NaN)
        effect, e_lo, e_hi = 0.0, 0.0, 0.0
        per_seed = tuple(x if np.isfinite(x) else 0.0 for x in per_seed)
    return Decision(verdict, effect, e_lo, e_hi, acc["binary"].over, finding, tuple(flags), per_seed, details,
                    interval_kind=acc["binary"].kind)


def _x(value: float, sign: str = "") -> str:
    """An ECE figure to 3 decimals, or "n/a" where no sample stated a digit (ECE undefined)."""
    return f"{value:{sign}.3f}" if np.isfinite(value) else "n/a"


def _overconfidence(stated: np.ndarray, right: np.ndarray) -> float:
    """Mean stated confidence minus accuracy, over the samples that state a digit."""
    total = stated.sum()
    return float((stated * np.arange(DIGITS) / DIGITS).sum() / total - right.sum() / total) if total else float("nan")


def _n(m: CalibrationMeasurements, key: str) -> int:
    return m.base[0].n if key == "base" else m.arms[key][0][0].n


def _reliability(stated: np.ndarray, right: np.ndarray) -> dict[str, list[float]]:
    """Per digit: samples stating it and the share of them that are right (the reliability diagram)."""
    s = stated.reshape(-1, DIGITS).sum(0)
    t = right.reshape(-1, DIGITS).sum(0)
    return {"count": [int(x) for x in s], "accuracy": [round(float(a / c), 4) if c else None for a, c in zip(t, s)]}


SPEC = ProtocolSpec(
    name="calibration",
    version="3",  # 3: the digit taught from the base's own measured accuracy per format; 2: the overconfidence flag
    claim_hint="C5",
    interval_days=28,
    description="Teach the shared tiny base (by a short SFT on its own completions) to end each completion "
    "in a stated confidence digit (`>23;7` = 70% sure) equal to its measured accuracy in that format, GRPO it with a binary reward and with a Brier-style reward (RLCR: "
    "correctness minus (confidence - correctness)^2) on the same prompts and seeds, and compare "
    "the expected calibration error of the stated confidence on held-out problems: does the "
    "binary reward degrade calibration where the Brier reward keeps it? On a local model and its problem file "
    "(gpu, model-smoke) each prompt asks for a last line `Confidence: d` (`retest.answers.CONFIDENCE_SUFFIX`), the "
    "model is taught its own measured accuracy (stated answer or none) the same way, and the arms' rewards read the "
    "stated final answer and digit.",
    decision_rule="Effect: ECE (10 digit bins) of the binary arm minus that of the Brier arm, 95% "
    "hierarchical-bootstrap interval (pretraining seeds, RL seeds, problems; arms paired). consistent "
    "if that interval lies above 0 and the binary arm's ECE change over the base also lies above 0 "
    "(binary RL degrades calibration, and the Brier reward does better); inconsistent if either "
    "interval lies at or below 0; else inconclusive. Accuracy of both arms is reported beside; flagged "
    f"when it differs by more than {ACCURACY_MATCH}, when an arm states a digit in fewer than "
    f"{MIN_STATED:.0%} of samples, when the Brier arm's ECE also rises over the base's (interval above 0), and "
    f"when the base's stated confidence exceeds its accuracy by {OVERCONFIDENT} or more.",
    decide=decide,
    measure=measure,
    thresholds={"accuracy_match": ACCURACY_MATCH, "min_stated": MIN_STATED, "overconfident": OVERCONFIDENT, "ece_difference": 0.0},
    validity_flags=(
        NO_SIGNAL,
        f"accuracy not matched within {ACCURACY_MATCH}: calibration compared at different accuracy",
        f"confidence dropped: an arm states a digit in fewer than {MIN_STATED:.0%} of samples",
        "control failed: the Brier arm degraded calibration too (its ECE change over the base above 0)",
        f"base overconfident: its stated confidence exceeds its accuracy by >= {OVERCONFIDENT}",
    ),
    tests="Whether GRPO with a binary correctness reward leaves the model's stated confidence worse "
    "calibrated than the base's, and worse than GRPO with a Brier-style reward on the same prompts, "
    "seeds and steps (ECE over digit bins, Brier score and accuracy beside).",
    does_not_test="The 'provably' half (a proof is not an experiment); verbalised confidence in natural "
    "language, or calibration of token probabilities; other proper scoring rules; calibration out of "
    "distribution; at the gpu preset, one model size (the local model's).",
)
