"""C1 passk-boundary (version 2): does RL teach *when* to reason, not *how*?

The claim has two testable halves, and each is measured where it could fail:

- **No new reach.** On a *hard slice* the base does not saturate, RL should not solve
  problems the base never reaches at large k. The slice is the world made harder, fixed
  before any model is sampled: problems with an operand one step outside the
  pretraining range (``min_operand - 1`` or ``max_operand + 1``: 0 and 10 at standard),
  so there is no selection on a base draw and no regression to the mean to correct
  for. Both the base and every RL run draw `C1Config.hard_samples` (256 at standard) per
  problem (with a problem file, the gpu preset, there is no harder world to make: the slice
  is the first held-out problems, and the ceiling flag says whether it tests anything).
  Reported: RL minus base pass@K (K = those samples), the k where the base's
  pass@k curve catches up with RL's (the crossover), and the counts of problems reached
  only by the base and only by RL.
  The slice lies outside RL's training distribution (RL trains on in-range problems), which
  favours "no new reach"; so it is judged **inside** it too: a second GRPO run per
  (pretraining seed, RL seed), the same config and seed, trains on the in-range training
  problems *plus* the rest of the out-of-range problems (`hard_split`: every one but the
  slice's), and is drawn on the same slice. Both reach differences are in the rule (with a
  problem file the held-out slice is already in RL's distribution: one arm serves both).
- **Routing recovers the gain.** The RL model writes the first t tokens and the base
  model finishes (`retest.routing.RoutedSampler`); the recovery is the share of RL's
  pass@1 gain that routing gets: (routed - base) / (RL - base), on the shared held-out
  problems and draws (`Lab.measurements`). t = 2 decides: in this world the first two
  characters fix the format (``>`` opens C, ``d*`` A, anything else B). t = 1 and 3 are
  reported. The gain is also split into format selection, sum_f (s_RL - s_base) a_base,
  and execution, sum_f s_RL (a_RL - a_base) (s: a format's share, a: accuracy in it).

Intervals: hierarchical bootstrap over pretraining seeds, RL seeds and problems, the
base's single draw redrawn binomially in each bootstrap draw (for reach at K, every
run's draw too: a redraw loses rarely-reached problems, and redrawing one side only
would bias the difference); per-run values beside.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retest.lab import evaluate, scorer_of
from retest.measures import Interval, hierarchical_bootstrap, hierarchical_resample, interval_kind, interval_over
from retest.presets import config_hash
from retest.protocols.spec import NO_SIGNAL, Decision, ProtocolSpec, no_signal
from retest.results import FORMAT_NAMES, Measurements, SAMPLED_VERSION, Sampled
from retest.rl import checkpoints
from retest.routing import RoutedSampler
from retest.world import TEMPLATES, Problem, WorldConfig

if TYPE_CHECKING:
    from retest.lab import Lab

PASSK_MARGIN = 0.02  # RL may beat the base's pass@K on the hard slice by this much and still "add no reach"
RECOVERY_CLAIMED = 0.91  # the claim's "~91% of the gain"
RECOVERY_MIN = 0.81  # "~91%": the claimed value less 0.10; the routing half holds when the interval sits above
DECIDE_PREFIX = 2  # routed tokens the rule reads: the first two characters fix the format
MIN_SAMPLES = 256  # per problem on the hard slice (the floor)
MIN_UNREACHED = 10  # hard-slice problems the base does not reach: fewer, and new reach is hard to see
FLOOR = 0.05  # base reach on the slice at or below this: the slice is beyond the model, not the prior
MIN_GAIN = 0.05  # RL's pass@1 gain below this: the recovery ratio is noise over a small denominator
MIN_RUNS = 3  # runs (pretraining seeds x RL seeds) for an interval over seeds
DRAWS = 2000


@dataclass(frozen=True)
class C1Config:
    """C1's own sampling, chosen by preset (`c1_config`)."""

    hard_problems: int  # problems on the hard slice
    hard_samples: int  # samples per problem on it: pass@k for k up to this
    prefix_tokens: tuple[int, ...] = (1, 2, 3)  # routed prefix lengths (DECIDE_PREFIX among them)


def c1_config(preset: str) -> C1Config:
    """smoke: small and fast (flagged: fewer than 256 samples); standard and gpu: 256 samples;
    model-smoke: the gpu path at a size that only shows it runs."""
    if preset == "smoke":
        return C1Config(hard_problems=32, hard_samples=64)
    if preset == "model-smoke":
        return C1Config(hard_problems=4, hard_samples=8)
    return C1Config(hard_problems=80, hard_samples=MIN_SAMPLES)


class C1Measurements(Measurements):
    """The shared measurements plus the hard slice and the routed draws (aligned with `runs`)."""

    hard_samples: int
    hard_prompts: tuple[str, ...]
    hard_base: dict[int, tuple[int, ...]]  # pretraining seed -> correct of hard_samples, per slice problem
    hard_base_redraw: dict[int, tuple[int, ...]]  # a second, independent base draw (C5c's noise floor)
    hard_rl: tuple[tuple[int, ...], ...]  # per run
    routed: tuple[dict[int, Sampled], ...]  # per run: prefix tokens -> routed draw on the shared problems
    hard_inside_rl: tuple[tuple[int, ...], ...] = ()  # per run: the inside arm (trained on the slice's distribution)
    inside_prompts: int = 0  # out-of-range training prompts of the inside arm (0: the slice is RL's own distribution)


# --- measuring ------------------------------------------------------------------------


def hard_split(world: WorldConfig, count: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(slice, rest): every problem with an operand one step outside the pretraining range, seeded order.

    Operands come from [min_operand - 1, max_operand + 1] (not below 0) and at least one
    lies outside [min_operand, max_operand]: prompts the corpus never showed, so the base
    is not saturated at large k, chosen without looking at any model. The first `count`
    are the hard slice; the rest are the inside arm's extra training prompts.
    """
    r = range(max(0, world.min_operand - 1), world.max_operand + 2)
    inside = range(world.min_operand, world.max_operand + 1)
    out = [Problem(a, b, c, t) for t in TEMPLATES for a in r for b in r for c in r
           if not (a in inside and b in inside and c in inside)]
    random.Random(world.seed + 101).shuffle(out)
    pairs = [(p.prompt, p.answer) for p in out]
    return pairs[:count], pairs[count:]


def hard_slice(world: WorldConfig, count: int) -> list[tuple[str, int]]:
    """The hard slice of `hard_split`: `count` out-of-range problems, fixed before any model is sampled."""
    return hard_split(world, count)[0]


class _Seeded:
    """A sampler whose draws use `seed` whatever the caller passes (a second, independent draw)."""

    def __init__(self, sampler: Any, seed: int):
        self.sampler, self.seed = sampler, seed

    def sample(self, prompts: Any, n: int, temperature: float, max_new_tokens: int, seed: int) -> Any:  # noqa: ARG002
        return self.sampler.sample(prompts, n, temperature, max_new_tokens, self.seed)


def _draw(lab: Lab, where: Path, tag: str, problems: list[tuple[str, int]], n: int, make: Any, key: Any,
          phase: str = "sample") -> Sampled:
    """`evaluate` with the sampler `make()` gives, cached as JSON in `where` under (tag, key, problems, n)."""
    cfg = lab.cfg
    h = config_hash(cfg.eval, key, problems, n, cfg.rl.max_completion_length, SAMPLED_VERSION)
    cached = Path(where) / f"c1-{tag}-{h}.json"
    if cached.exists():
        return Sampled.model_validate_json(cached.read_text())
    lab.say(f"phase {phase}: {tag} {Path(where).name} ({len(problems)} problems x {n})")
    with lab.timed(phase):
        out = evaluate(make(), problems, n, cfg.eval.temperature, cfg.rl.max_completion_length, scorer_of(cfg))
    cached.write_text(out.model_dump_json())
    return out


def measure(lab: Lab) -> C1Measurements:
    """The shared measurements, the hard slice (each base twice, every run once) and the routed draws.

    Every draw is cached beside its model, so C5c (`prior_corruption`) reads the same ones for free.
    """
    cfg, c1 = lab.cfg, c1_config(lab.cfg.preset)
    m = lab.measurements()
    train, held = lab.problems()
    shared = held[: cfg.eval.problems]
    hard, extra = (held[: c1.hard_problems], []) if cfg.base_model_dir else hard_split(cfg.world, c1.hard_problems)
    n = c1.hard_samples

    def seeded(model_dir: Path, seed: int) -> Any:
        return lambda: _Seeded(lab.engine(model_dir), seed)  # the Lab's one engine

    def routed(final: Path, base_dir: Path, t: int) -> Any:
        return lambda: (lab.rest(), RoutedSampler(final, base_dir, t, cfg.eval.batch_size))[1]

    bases = {0 if ps is None else ps: lab.base(ps)[0]
             for ps in ((None,) if cfg.base_model_dir else cfg.pretrain_seeds)}
    hard_base = {ps: _draw(lab, d, "hard", hard, n, seeded(d, 1), (cfg.sampler, 1)).counts for ps, d in bases.items()}
    redraw = {ps: _draw(lab, d, "hard-redraw", hard, n, seeded(d, 2), (cfg.sampler, 2)).counts
              for ps, d in bases.items()}
    inside_train = train + extra  # the inside arm: RL's distribution now holds the slice's kind of problem
    if extra:
        lab.build_all([lab.rl_block(bases[r.pretrain_seed], inside_train, r.seed) for r in m.runs])
    hard_rl, inside_rl, routes = [], [], []
    for run in m.runs:
        final, base_dir = checkpoints(Path(run.run_dir))[-1][1], bases[run.pretrain_seed]
        hard_rl.append(_draw(lab, final, "hard", hard, n, seeded(final, 1), (cfg.sampler, 1)).counts)
        if extra:
            inside = checkpoints(lab.rl(base_dir, inside_train, run.seed)[0])[-1][1]
            inside_rl.append(_draw(lab, inside, "hard", hard, n, seeded(inside, 1), (cfg.sampler, 1)).counts)
        routes.append({t: _draw(lab, final, f"routed{t}", shared, cfg.eval.samples, routed(final, base_dir, t),
                                ("routed", t, str(base_dir)), phase="routing") for t in c1.prefix_tokens})
    return C1Measurements(**dict(m), hard_samples=n, hard_prompts=tuple(p for p, _ in hard), hard_base=hard_base,
                          hard_base_redraw=redraw, hard_rl=tuple(hard_rl), routed=tuple(routes),
                          hard_inside_rl=tuple(inside_rl) if extra else tuple(hard_rl), inside_prompts=len(extra))


# --- pure figures -------------------------------------------------------------------


def grid(m: Measurements, per_run: Any) -> np.ndarray:
    """(pretraining seeds, RL seeds, ...) array of `per_run(run_index, run)`, runs grouped by base."""
    by_base: dict[int, list[Any]] = {}
    for i, r in enumerate(m.runs):
        by_base.setdefault(r.pretrain_seed, []).append(per_run(i, r))
    sizes = {len(v) for v in by_base.values()}
    if len(sizes) != 1:
        raise ValueError(f"every base needs the same number of RL runs, got {sorted(sizes)}")
    return np.array([by_base[p] for p in sorted(by_base)], dtype=float)


def base_grid(m: Measurements, per_base: Any) -> np.ndarray:
    """The base's values, one row per pretraining seed: (pretraining seeds, 1, ...), broadcastable to `grid`'s.

    Kept per base (not per run), so a redraw of a base's evaluation noise is one draw shared by its runs.
    """
    return np.array([[per_base(ps)] for ps in sorted({r.pretrain_seed for r in m.runs})], dtype=float)


def binomial_redraw(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A fresh draw of correct counts with the observed rates (the base's evaluation noise)."""
    return rng.binomial(n, np.clip(counts / n, 0, 1)).astype(float)


def passk_curve(counts: Any, n: int) -> np.ndarray:
    """Mean over problems of the unbiased pass@k for k = 1..n (`measures.pass_at_k`, in log-gamma form)."""
    from scipy.special import gammaln

    c = np.asarray(counts, float)[:, None]
    k = np.arange(1, n + 1, dtype=float)[None, :]
    free = n - c  # wrong samples
    ok = free >= k
    log_ratio = (gammaln(np.where(ok, free + 1, 1)) - gammaln(np.where(ok, free - k + 1, 1))
                 - gammaln(n + 1) + gammaln(n - k + 1))
    return np.where(ok, 1.0 - np.exp(log_ratio), 1.0).mean(axis=0)


def crossover(base_curve: np.ndarray, rl_curve: np.ndarray) -> int | None:
    """The first k (1-based) where the base's pass@k reaches RL's; 1 if RL is never ahead; None if never."""
    at = np.nonzero(np.asarray(base_curve) >= np.asarray(rl_curve) - 1e-12)[0]
    return int(at[0]) + 1 if at.size else None


def ratio_interval(num: np.ndarray, den: np.ndarray, draws: int = DRAWS, seed: int = 0,
                   redraw: Any = None) -> Interval:
    """sum(num) / sum(den) with the resampling of `hierarchical_bootstrap` (seeds, RL seeds, problems).

    `redraw(rng) -> (num, den)` puts the base's evaluation noise into each draw.
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    p, r, _ = num.shape

    def stat(ip: np.ndarray, ir: np.ndarray, jn: np.ndarray, data: Any) -> float:
        x, y = data if data is not None else (num, den)
        d = y[ip[:, None], ir][:, :, jn].sum()
        return x[ip[:, None], ir][:, :, jn].sum() / d if d else np.nan

    stats = hierarchical_resample(num.shape, draws, stat, seed, redraw)
    lo, hi = np.nanquantile(stats, [0.025, 0.975]) if np.isfinite(stats).any() else (np.nan, np.nan)
    over = interval_over(p, r)
    den_run = den.sum(axis=2)
    per = tuple(round(float(a / b), 4) if b else float("nan") for a, b in zip(num.sum(axis=2).ravel(), den_run.ravel()))
    total = den.sum()
    return Interval(float(num.sum() / total) if total else float("nan"), float(lo), float(hi), over, per,
                    interval_kind(p, r))


def reach_interval(hb: np.ndarray, hr: np.ndarray, K: int) -> Interval:
    """RL minus base reach at K from correct counts (base (P, 1, N), runs (P, R, N)), hierarchical bootstrap.

    Reach is redrawn for the base and every run alike: a redraw loses rarely-reached problems
    (c/K is the plug-in rate), so redrawing one side only would bias the difference.
    """
    reach_b, reach_r = (hb > 0).astype(float), (hr > 0).astype(float)
    return hierarchical_bootstrap(reach_r - reach_b, DRAWS, 0, redraw=lambda rng: (
        (binomial_redraw(hr, K, rng) > 0).astype(float) - (binomial_redraw(hb, K, rng) > 0)))


def split_gain(base: Sampled, rl: Sampled) -> dict[str, Any]:
    """RL's pass@1 gain as format selection + execution, with the shares and accuracies behind it."""
    sb, sr = base.mean_formats(), rl.mean_formats()
    ab, ar = base.format_accuracy(), rl.format_accuracy()
    a_b = {f: ab[f] if ab[f] is not None else (ar[f] or 0.0) for f in FORMAT_NAMES}
    a_r = {f: ar[f] if ar[f] is not None else 0.0 for f in FORMAT_NAMES}
    fmt = sum((sr[f] - sb[f]) * a_b[f] for f in FORMAT_NAMES)
    exe = sum(sr[f] * (a_r[f] - a_b[f]) for f in FORMAT_NAMES)
    return {"format_part": fmt, "execution_part": exe, "shares_base": sb, "shares_rl": sr,
            "accuracy_base": ab, "accuracy_rl": ar}


def _j(i: Interval) -> dict[str, Any]:
    """JSON form; an undefined value (a ratio over no gain) is None."""
    def r(x: float) -> float | None:
        return round(float(x), 4) if np.isfinite(x) else None
    return {"estimate": r(i.estimate), "low": r(i.low), "high": r(i.high), "per_seed": [r(x) for x in i.per_seed]}


def figures(m: C1Measurements) -> dict[str, Any]:
    """Everything the rule and the report read, as numbers (pure)."""
    n, K = m.samples, m.hard_samples
    acc = lambda s: np.asarray(s.counts, float) / n  # noqa: E731
    b1 = base_grid(m, lambda ps: acc(m.base_by_seed.get(ps, m.base)))
    r1 = grid(m, lambda _i, r: acc(r.final))
    b_counts = base_grid(m, lambda ps: np.asarray(m.base_by_seed.get(ps, m.base).counts, float))

    def base_acc(rng: np.random.Generator) -> np.ndarray:
        return binomial_redraw(b_counts, n, rng) / n

    gain = hierarchical_bootstrap(r1 - b1, DRAWS, 0, redraw=lambda rng: r1 - base_acc(rng))

    def routed_redraw(rt: np.ndarray) -> Any:
        def redraw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            bb = base_acc(rng)
            return rt - bb, r1 - bb
        return redraw

    recovery: dict[int, Interval] = {}
    for t in sorted(m.routed[0]) if m.routed else ():
        rt = grid(m, lambda i, _r, t=t: acc(m.routed[i][t]))
        recovery[t] = ratio_interval(rt - b1, r1 - b1, DRAWS, 0, redraw=routed_redraw(rt))
    # the hard slice: reach at K and the pass@k curves
    hb = base_grid(m, lambda ps: np.asarray(m.hard_base[ps], float))
    hr = grid(m, lambda i, _r: np.asarray(m.hard_rl[i], float))
    reach_b, reach_r = (hb > 0).astype(float), (hr > 0).astype(float)
    diff = reach_interval(hb, hr, K)  # RL trained in range: the slice outside its distribution
    if not m.hard_inside_rl:
        raise ValueError("no inside arm: C1 needs the hard slice drawn by RL trained on its distribution too")
    hi = grid(m, lambda i, _r: np.asarray(m.hard_inside_rl[i], float))
    diff_inside = reach_interval(hb, hi, K)
    curves_i = [passk_curve(c, K) for c in m.hard_inside_rl]
    curve_b = {ps: passk_curve(c, K) for ps, c in m.hard_base.items()}
    curves_r = [passk_curve(c, K) for c in m.hard_rl]
    cross_runs = [crossover(curve_b[r.pretrain_seed], c) for r, c in zip(m.runs, curves_r)]
    mean_b = np.mean([curve_b[r.pretrain_seed] for r in m.runs], axis=0)
    mean_r = np.mean(curves_r, axis=0)
    shared_b = {r.pretrain_seed: passk_curve(m.base_of(r).counts, n) for r in m.runs}
    shared_cross = [crossover(shared_b[r.pretrain_seed], passk_curve(r.final.counts, n)) for r in m.runs]
    splits = [split_gain(m.base_of(r), r.final) for r in m.runs]
    return {
        "gain": gain, "recovery": recovery, "reach_diff": diff, "reach_diff_inside": diff_inside,
        "inside_prompts": m.inside_prompts, "rl_reach_inside": float((hi > 0).mean()),
        "only_base_inside": [int(x) for x in ((hb > 0) & (hi == 0)).sum(axis=2).ravel()],
        "only_rl_inside": [int(x) for x in ((hi > 0) & (hb == 0)).sum(axis=2).ravel()],
        "crossover_k_inside": crossover(mean_b, np.mean(curves_i, axis=0)),
        "passk_hard_rl_inside": [round(float(np.mean(curves_i, axis=0)[k - 1]), 4) for k in _ks(K)],
        "hard_problems": len(m.hard_prompts), "hard_samples": K, "runs": len(m.runs),
        "base_reach": float(reach_b.mean()), "rl_reach": float(reach_r.mean()),
        "unreached_by_base": float((hb == 0).sum(axis=2).mean()),
        "only_base": [int(x) for x in ((hb > 0) & (hr == 0)).sum(axis=2).ravel()],
        "only_rl": [int(x) for x in ((hr > 0) & (hb == 0)).sum(axis=2).ravel()],
        "crossover_k": crossover(mean_b, mean_r), "crossover_k_per_run": cross_runs,
        "crossover_k_shared": shared_cross,
        "passk_hard_base": [round(float(mean_b[k - 1]), 4) for k in _ks(K)],
        "passk_hard_rl": [round(float(mean_r[k - 1]), 4) for k in _ks(K)], "passk_hard_k": _ks(K),
        "format_part": [round(s["format_part"], 4) for s in splits],
        "execution_part": [round(s["execution_part"], 4) for s in splits],
        "format_shares_base": _mean_dict([s["shares_base"] for s in splits]),
        "format_shares_rl": _mean_dict([s["shares_rl"] for s in splits]),
        "format_accuracy_base": _mean_dict([s["accuracy_base"] for s in splits]),
        "format_accuracy_rl": _mean_dict([s["accuracy_rl"] for s in splits]),
        # if t tokens fix the format, the routed draw's format shares are RL's, its accuracies the base's
        "format_shares_routed": {str(t): _mean_dict([r[t].mean_formats() for r in m.routed]) for t in recovery},
        "format_accuracy_routed": {str(t): _mean_dict([r[t].format_accuracy() for r in m.routed]) for t in recovery},
    }


def _ks(K: int) -> list[int]:
    return sorted({k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, K) if k <= K})


def _mean_dict(ds: list[dict[str, float | None]]) -> dict[str, float | None]:
    out = {}
    for f in FORMAT_NAMES:
        v = [d[f] for d in ds if d.get(f) is not None]
        out[f] = round(float(np.mean(v)), 4) if v else None
    return out


# --- the rule -----------------------------------------------------------------------


def flags_of(f: dict[str, Any]) -> tuple[str, ...]:
    """The validity flags raised by these figures (each stated in SPEC.validity_flags)."""
    out = []
    if f["base_reach"] >= 1 - PASSK_MARGIN - 1e-9:
        out.append(f"ceiling: the base reaches {f['base_reach']:.2f} of the hard slice at k = {f['hard_samples']} "
                   f"(>= {1 - PASSK_MARGIN:.2f}): 'no new reach' cannot fail")
    elif f["unreached_by_base"] < MIN_UNREACHED:
        out.append(f"too few hard problems: the base leaves {f['unreached_by_base']:.0f} of the slice unreached "
                   f"(< {MIN_UNREACHED})")
    if f["base_reach"] <= FLOOR:
        out.append(f"floor: the base reaches {f['base_reach']:.2f} of the hard slice (<= {FLOOR}): "
                   f"it is beyond this model, not a test of its prior")
    if f["hard_samples"] < MIN_SAMPLES:
        out.append(f"few samples: {f['hard_samples']} per hard problem (< {MIN_SAMPLES})")
    if f["gain"].estimate < MIN_GAIN:
        out.append(f"small gain: RL raised pass@1 by {f['gain'].estimate:+.3f} (< {MIN_GAIN}): "
                   f"the recovery ratio is noise over a small denominator")
    if f["runs"] < MIN_RUNS:
        out.append(f"few runs: {f['runs']} (< {MIN_RUNS}); the interval is not one over seeds")
    return tuple(out)


def rule(gain: Interval, reach: Interval, reach_inside: Interval, recovery: Interval) -> str:
    """The verdict from the pass@1 gain, the reach changes on the hard slice (RL trained outside and
    inside its distribution) and the routing recovery."""
    no_new = reach.high <= PASSK_MARGIN and reach_inside.high <= PASSK_MARGIN
    new = reach.low > PASSK_MARGIN or reach_inside.low > PASSK_MARGIN
    if gain.low > 0 and no_new and recovery.low >= RECOVERY_MIN:
        return "consistent"
    if gain.low > 0 and (new or recovery.high < RECOVERY_MIN):
        return "inconsistent"
    return "inconclusive"


def signal_rates(m: C1Measurements) -> list[float]:
    """The accuracy of every draw (shared problems and the hard slice) that `no_signal` reads."""
    shared = [s.accuracy(m.samples) for s in (m.base, *m.base_by_seed.values(), *(r.final for r in m.runs))]
    return shared + [sum(c) / max(1, len(c) * m.hard_samples) for c in (*m.hard_base.values(), *m.hard_rl)]


def decide(m: C1Measurements) -> Decision:
    f = figures(m)
    g, d, di = f["gain"], f["reach_diff"], f["reach_diff_inside"]
    rec = f["recovery"].get(DECIDE_PREFIX)
    if rec is None:
        raise ValueError(f"no routed draw with {DECIDE_PREFIX} prefix tokens")
    verdict = rule(g, d, di, rec)
    ci = f["crossover_k_inside"]
    fp, ep = np.mean(f["format_part"]), np.mean(f["execution_part"])
    cross = f["crossover_k"]
    recovered = (f"recovered {rec.estimate:.2f} [{rec.low:.2f}, {rec.high:.2f}] of" if np.isfinite(rec.estimate)
                 else "had no gain to recover (the share is undefined) of")
    finding = (
        f"routing the first {DECIDE_PREFIX} tokens {recovered} RL's "
        f"pass@1 gain {g.estimate:+.3f} [{g.low:+.3f}, {g.high:+.3f}] (claimed ~{RECOVERY_CLAIMED}; format selection "
        f"{fp:+.3f}, execution {ep:+.3f}); on {f['hard_problems']} hard problems RL changed reach at k = "
        f"{f['hard_samples']} by {d.estimate:+.3f} [{d.low:+.3f}, {d.high:+.3f}] (base {f['base_reach']:.2f}), "
        f"the base caught up at k = {cross if cross is not None else 'never'}, reached only by the base "
        f"{np.mean(f['only_base']):.1f} and only by RL {np.mean(f['only_rl']):.1f} problems per run; RL trained "
        f"inside the slice's distribution changed reach by {di.estimate:+.3f} [{di.low:+.3f}, {di.high:+.3f}] "
        f"(the base caught up at k = {ci if ci is not None else 'never'}, reached only by that RL "
        f"{np.mean(f['only_rl_inside']):.1f} problems per run)"
    )
    details = {
        "recovery": {str(t): _j(i) for t, i in f["recovery"].items()}, "decide_prefix": DECIDE_PREFIX,
        "pass1_gain": _j(g), "hard_reach_diff": _j(d), "hard_reach_diff_inside": _j(di),
        **{k: v for k, v in f.items() if k not in ("gain", "recovery", "reach_diff", "reach_diff_inside")},
    }
    # no gain at all: the ratio is undefined; stored as 0 [0, 0] beside the "small gain" flag (JSON has no NaN)
    defined = all(np.isfinite(x) for x in (rec.estimate, rec.low, rec.high))
    est, lo, hi = (rec.estimate, rec.low, rec.high) if defined else (0.0, 0.0, 0.0)
    per = tuple(x if np.isfinite(x) else 0.0 for x in rec.per_seed)
    return Decision(verdict, est, lo, hi, rec.over, finding, flags_of(f) + no_signal(signal_rates(m)), per, details,
                    interval_kind=rec.kind)


SPEC = ProtocolSpec(
    name="passk-boundary",
    version="3",  # 3: reach judged also by RL trained inside the hard slice's distribution (issue 23)
    claim_hint="C1",
    interval_days=28,
    description="RL teaches when to reason, not how: on a hard slice the base does not saturate (operands one "
    "step outside the pretraining range, 256 samples a problem) does RL reach problems the base never does, "
    "whether RL trained on in-range problems only (the slice outside its distribution) or on the rest of the "
    "out-of-range problems too (inside it), "
    "and does letting the RL model write the first tokens and the base model finish recover ~91% of RL's "
    "pass@1 gain?",
    decision_rule=f"Effect: the share of RL's pass@1 gain recovered by routing the first {DECIDE_PREFIX} tokens "
    f"((routed - base) / (RL - base)), 95% hierarchical-bootstrap interval over pretraining seeds, RL seeds and "
    f"problems. Reach is read twice on the hard slice at k = {MIN_SAMPLES}: by the RL runs (trained on in-range "
    f"problems: the slice outside RL's distribution) and by the inside arm (the same config and seeds, trained on "
    f"the in-range problems plus every out-of-range problem but the slice's). consistent if RL raises pass@1 "
    f"(interval above 0), both reach changes over the base have their intervals at or below +{PASSK_MARGIN}, and "
    f"the recovery's interval lies at or above {RECOVERY_MIN} (the claimed {RECOVERY_CLAIMED} less 0.10); "
    f"inconsistent if RL raises pass@1 and either reach change's interval lies above +{PASSK_MARGIN} or the "
    f"recovery's interval lies below {RECOVERY_MIN}; else inconclusive. Reported beside: the crossover k, problems reached only by the base and "
    f"only by RL, recovery at 1 and 3 tokens, the gain split into format selection and execution.",
    decide=decide,
    measure=measure,
    thresholds={"reach_margin": PASSK_MARGIN, "recovery_claimed": RECOVERY_CLAIMED, "recovery_min": RECOVERY_MIN,
                "decide_prefix": DECIDE_PREFIX, "min_samples": MIN_SAMPLES, "min_unreached": MIN_UNREACHED,
                "floor": FLOOR, "min_gain": MIN_GAIN, "min_runs": MIN_RUNS},
    validity_flags=(
        NO_SIGNAL,
        f"ceiling: the base reaches >= {1 - PASSK_MARGIN:.2f} of the hard slice at k = K",
        f"too few hard problems: the base leaves fewer than {MIN_UNREACHED} slice problems unreached",
        f"floor: the base reaches <= {FLOOR} of the hard slice",
        f"few samples: fewer than {MIN_SAMPLES} per hard problem",
        f"small gain: RL's pass@1 gain under {MIN_GAIN}",
        f"few runs: fewer than {MIN_RUNS} runs",
    ),
    tests="Both halves: no new reach (RL vs base pass@256 on a hard slice the base does not saturate, with RL "
    "trained outside and inside the slice's distribution; crossover k, only-base and only-RL counts) and routing (RL chooses the first 1-3 tokens, the base finishes: the share "
    "of the pass@1 gain recovered against ~0.91), with the gain split into format selection and execution.",
    does_not_test="Token routing at arbitrary positions chosen by a router (only a prefix); reasoning "
    "strategies beyond the three formats of the toy world; models other than the tiny toy-world ones; pass@k "
    "beyond 256 samples.",
)
