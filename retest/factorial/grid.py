"""Run a factorial grid: bases first, then the RL cells, then the analysis.

A job whose outcome JSON exists is never submitted (status ``cached``), so a killed
grid resumes where it stopped; a failed job is retried once by the executor and then
recorded as ``failed`` while the grid goes on. Progress: ``cells D/N ... ETA``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retest.factorial.analysis import AnalysisError, analyse
from retest.factorial.cells import K, build_base, read_outcome, run_cell
from retest.factorial.design import BaseSpec, CellSpec, FactorialConfig, bases, cells, factorial_preset, prior_name
from retest.factorial.executors import Job, Outcome, open_executor
from retest.factorial.reach import reach_test, reach_text
from retest.factorial.results import Cell, FactorialResult, OutcomeShares, PriorReach

ANALYSED = ("pass@1", f"pass@{K}", "reachable", "kl", "pass@1_gain", f"pass@{K}_gain", "reachable_gain", "efficiency")


class Progress:
    """`done/total` with an ETA from the jobs finished in this run (cached ones are free)."""

    def __init__(self, what: str, total: int, cached: int, say: Callable[[str], None]):
        self.what, self.total, self.done, self.say = what, total, cached, say
        self.fresh, self.t0 = 0, time.monotonic()

    def step(self, label: str, ok: bool) -> None:
        self.done += 1
        self.fresh += 1
        left = self.total - self.done
        rate = (time.monotonic() - self.t0) / self.fresh
        eta = f"ETA {int(rate * left) // 60}m{int(rate * left) % 60:02d}s" if left else "finished"
        self.say(f"{self.what} {self.done}/{self.total} {'done' if ok else 'FAILED'}: {label} ({eta})")


def run_grid(preset: str, executor: str = "local", ray_address: str | None = None,
             cache_dir: Path = Path(".cache/retest"), progress: Callable[[str], None] | None = None) -> FactorialResult:
    """`run_factorial`'s body: the named preset's grid."""
    return run_config(factorial_preset(preset), executor, ray_address, cache_dir, progress)


def run_config(fc: FactorialConfig, executor: str = "local", ray_address: str | None = None,
               cache_dir: Path = Path(".cache/retest"), progress: Callable[[str], None] | None = None,
               num_cpus: int | None = None) -> FactorialResult:
    """Run (or resume) the grid `fc` and analyse it."""
    say = progress or (lambda _m: None)
    cache_dir = Path(cache_dir).resolve()  # Ray workers need no shared working directory
    started_at, t0 = datetime.now(UTC), time.monotonic()
    ex, note = open_executor(executor, ray_address, num_cpus or os.cpu_count() or 2)
    flags = list(fc.confounds) + ([note] if note else [])
    if note:
        say(note)
    say(f"factorial {fc.preset}: {len(fc.priors)} priors x {len(fc.optimizers)} optimizers x "
        f"{len(fc.pretrain_seeds)} pretraining seeds x {len(fc.rl_seeds)} RL seeds = {len(cells(fc))} cells "
        f"({ex.name} executor)")
    status = "succeeded"
    base_info: dict[BaseSpec, dict[str, Any]] = {}
    results: dict[CellSpec, Cell] = {}
    phases: dict[str, float] = {}
    try:
        t = time.monotonic()
        base_info, base_errors = _run_bases(fc, ex, cache_dir, say)
        phases["bases"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        results = _run_cells(fc, ex, cache_dir, say, base_info, base_errors)
        phases["cells"] = round(time.monotonic() - t, 2)
    except KeyboardInterrupt:
        status = "interrupted"
        flags.append("interrupted: the analysis covers the cells finished before Ctrl-C")
        results = {spec: _cached_cell(fc, spec, cache_dir) for spec in cells(fc)}
        results = {k: v for k, v in results.items() if v is not None}
    finally:
        close = getattr(ex, "close", None)
        if close:
            close()
    cell_list = [results[s] for s in cells(fc) if s in results]
    failed = [c for c in cell_list if c.status == "failed"]
    if failed:
        flags.append(f"{len(failed)} of {len(cell_list)} cells failed after a retry; the analysis uses the runs "
                     "that finished (the residual's degrees of freedom are the runs less the cells)")
    flags.extend(ceiling_flags(cell_list))
    t = time.monotonic()
    shares, ranges = analyse_cells(cell_list, flags)
    done_bases = _bases_done(fc, cache_dir)
    reach = reach_test(cell_list, done_bases, list(fc.optimizers))
    phases["analysis"] = round(time.monotonic() - t, 2)
    phases["bases_cpu"] = round(sum(b.get("cpu_seconds", 0.0) for b in done_bases.values()), 2)
    phases["cells_cpu"] = round(sum(c.cpu_seconds for c in cell_list), 2)
    if status == "succeeded":
        status = "failed" if len(failed) == len(cell_list) else ("partial" if failed or not shares else "succeeded")
    return FactorialResult(
        preset=fc.preset, executor=ex.name, status=status, levels=_levels(fc), cells=cell_list, shares=shares,
        ranges=ranges, reach=reach, by_optimizer=by_optimizer(cell_list),
        answer=answer_text(fc, shares, ranges, reach), flags=flags, toy_world=fc.base.base_model_dir is None,
        config=fc.to_dict(), environment=_environment(ex.name),
        started_at=started_at, finished_at=datetime.now(UTC), seconds=round(time.monotonic() - t0, 2), phases=phases,
    )


def _run_bases(fc: FactorialConfig, ex: Any, cache_dir: Path, say: Callable[[str], None]):
    specs = bases(fc)
    info: dict[BaseSpec, dict[str, Any]] = {}
    errors: dict[BaseSpec, str] = {}
    todo = []
    for spec in specs:
        done = read_outcome(cache_dir, "bases", spec.key(fc))
        if done is not None:
            info[spec] = done
        else:
            todo.append(Job(f"base {prior_name(spec.mixture, spec.amount)} seed {spec.pretrain_seed}", build_base,
                            (fc, spec, cache_dir), fc.num_cpus, fc.num_gpus))
    prog = Progress("bases", len(specs), len(specs) - len(todo), say)
    outs = ex.run(todo, lambda o: prog.step(o.job.label, o.ok))
    for job, out in zip(todo, outs):
        spec = job.args[1]
        if out.ok:
            info[spec] = out.value
        else:
            errors[spec] = out.error or "failed"
    return info, errors


def _run_cells(fc: FactorialConfig, ex: Any, cache_dir: Path, say: Callable[[str], None],
               base_info: dict[BaseSpec, dict[str, Any]], base_errors: dict[BaseSpec, str]) -> dict[CellSpec, Cell]:
    results: dict[CellSpec, Cell] = {}
    todo: list[Job] = []
    for spec in cells(fc):
        cached = _cached_cell(fc, spec, cache_dir)
        if cached is not None:
            results[spec] = cached
        elif spec.base in base_errors:
            results[spec] = _cell(fc, spec, "failed", {}, 0.0, f"base model failed: {base_errors[spec.base]}")
        else:
            todo.append(Job(spec.label(), run_cell, (fc, spec, cache_dir, base_info[spec.base]), fc.num_cpus,
                            fc.num_gpus))
    total = len(cells(fc))
    prog = Progress("cells", total, total - len(todo), say)
    if total - len(todo):
        say(f"cells: {total - len(todo)} of {total} finished before (cached), {len(todo)} to run")

    def record(out: Outcome) -> None:
        spec = out.job.args[1]
        if out.ok:
            results[spec] = _cell(fc, spec, "done", out.value["outcomes"], out.value.get("seconds", out.seconds), None,
                                  out.value)
        else:
            results[spec] = _cell(fc, spec, "failed", {}, out.seconds, out.error)
        prog.step(out.job.label, out.ok)

    ex.run(todo, record)
    return results


def _cell(fc: FactorialConfig, spec: CellSpec, status: str, outcomes: dict[str, float], seconds: float,
          error: str | None, done: dict[str, Any] | None = None) -> Cell:
    done = done or {}
    return Cell(prior=prior_name(spec.mixture, spec.amount), mixture=spec.mixture, amount=spec.amount,
                optimizer=spec.optimizer, pretrain_seed=spec.pretrain_seed, rl_seed=spec.rl_seed, status=status,
                outcomes=outcomes, seconds=seconds, error=error, key=spec.key(fc), rollouts=done.get("rollouts", 0),
                reach=done.get("reach", []), cpu_seconds=done.get("cpu_seconds", 0.0))


def _cached_cell(fc: FactorialConfig, spec: CellSpec, cache_dir: Path) -> Cell | None:
    done = read_outcome(cache_dir, "cells", spec.key(fc))
    return None if done is None else _cell(fc, spec, "cached", done["outcomes"], done.get("seconds", 0.0), None, done)


def _bases_done(fc: FactorialConfig, cache_dir: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """The finished bases' outcome JSON by (prior, pretraining seed)."""
    found = {}
    for spec in bases(fc):
        done = read_outcome(cache_dir, "bases", spec.key(fc))
        if done is not None:
            found[(prior_name(spec.mixture, spec.amount), spec.pretrain_seed)] = done
    return found


def by_optimizer(cell_list: list[Cell]) -> dict[str, dict[str, float]]:
    """Per optimizer, means over its finished cells: the ceiling (pass@256 after RL) apart from the
    efficiency (pass@1 gain per 1,000 rollouts), as ScaleRL reports them, with pass@1 and its gain."""
    out: dict[str, dict[str, float]] = {}
    for opt in dict.fromkeys(c.optimizer for c in cell_list):
        mine = [c for c in cell_list if c.optimizer == opt and c.status != "failed"]
        row = {}
        for name, key in (("ceiling", f"pass@{K}"), ("efficiency", "efficiency"), ("pass@1", "pass@1"),
                          ("pass@1_gain", "pass@1_gain"), (f"pass@{K}_gain", f"pass@{K}_gain")):
            vals = [c.outcomes[key] for c in mine if key in c.outcomes]
            if vals:
                row[name] = round(sum(vals) / len(vals), 4)
        if mine:
            row["rollouts"] = float(max(c.rollouts for c in mine))
            out[opt] = row
    return out


def ceiling_flags(cell_list: list[Cell], ceiling: float = 0.99) -> list[str]:
    """Priors whose base models already reach (nearly) every problem at k = 256: there RL can
    only lose reachable problems, so the outcome could not have come out as a gain."""
    flags = []
    for name in (f"pass@{K}", "reachable"):
        base: dict[str, list[float]] = {}
        for c in cell_list:
            if name in c.outcomes and f"{name}_gain" in c.outcomes:
                base.setdefault(c.prior, []).append(c.outcomes[name] - c.outcomes[f"{name}_gain"])
        full = sorted(p for p, v in base.items() if sum(v) / len(v) >= ceiling)
        if full:
            flags.append(f"{name}: the base is at the ceiling (>= {ceiling}) for {', '.join(full)}: there RL can "
                         "only lose reachable problems")
    return flags


def analyse_cells(cell_list: list[Cell], flags: list[str]) -> tuple[dict[str, OutcomeShares], dict[str, dict[str, float]]]:
    """Shares and ranges of each analysed outcome over the cells that finished (a failed cell's RL seed
    is left out, not imputed); what could not be analysed, or was left out, is appended to `flags`."""
    shares: dict[str, OutcomeShares] = {}
    ranges: dict[str, dict[str, float]] = {}
    ok = [c for c in cell_list if c.status != "failed"]
    if not ok:
        return shares, ranges
    for name in ANALYSED:
        rows = [(c.prior, c.optimizer, c.pretrain_seed, c.rl_seed, c.outcomes[name]) for c in ok if name in c.outcomes]
        try:
            result = analyse(rows)
        except AnalysisError as exc:
            flags.append(f"{name}: no shares ({exc})")
            continue
        flags.extend(f"{name}: {note}" for note in result.notes)
        ranges[name] = {k: round(v, 4) for k, v in result.ranges.items()}
        if result.shares is None:
            flags.append(f"{name}: the same value in every cell, no variance to share")
        else:
            shares[name] = result.shares
    return shares, ranges


def _levels(fc: FactorialConfig) -> dict[str, list[str]]:
    return {"mixture": list(fc.mixtures), "amount": list(fc.amounts),
            "prior": [prior_name(m, a) for m, a in fc.priors], "optimizer": list(fc.optimizers),
            "pretrain_seed": [str(s) for s in fc.pretrain_seeds], "rl_seed": [str(s) for s in fc.rl_seeds]}


def _pct(s: Any) -> str:
    return f"{s.estimate:.0%} [{s.low:.0%}, {s.high:.0%}]"


def answer_text(fc: FactorialConfig, shares: dict[str, OutcomeShares], ranges: dict[str, dict[str, float]],
                reach: list[PriorReach] | None = None) -> str:
    """One paragraph: the measured answer, labelled toy-world, with the levels used."""
    levels = (f"priors {', '.join(fc.mixtures)} mixtures x {', '.join(fc.amounts)} pretraining, "
              f"{len(fc.pretrain_seeds)} pretraining seeds each; optimizers {', '.join(fc.optimizers)}; "
              f"{len(fc.rl_seeds)} RL seeds")
    parts = []
    for name in (f"pass@{K}_gain", "pass@1_gain", f"pass@{K}", "pass@1", "efficiency"):
        if name in shares:
            s = shares[name]
            r = ranges.get(name, {})
            between = f", base to base {_pct(s.pretrain_seed)}" if s.pretrain_seed else ""
            between += f", base x optimizer {_pct(s.base_x_optimizer)}" if s.base_x_optimizer else ""
            parts.append(f"{name}: prior {_pct(s.prior)}, optimizer {_pct(s.optimizer)}, interaction "
                         f"{_pct(s.interaction)}{between}, RL-seed noise {_pct(s.residual)} of the variance; spread across "
                         f"optimizers at a fixed prior {r.get('across_optimizers', float('nan')):.3f} vs across priors "
                         f"at a fixed optimizer {r.get('across_priors', float('nan')):.3f}")
    tail = f" {reach_text(reach)}" if reach else ""
    if not parts:
        return f"Toy-world result ({fc.preset} preset; {levels}): too few finished cells for shares.{tail}"
    key = next((n for n in (f"pass@{K}", "pass@1") if n in shares), None)
    verdict = ""
    if key:
        s = shares[key]
        if s.prior.low > s.optimizer.high:
            verdict = f" On {key} the prior explains more than the optimizer (the intervals do not overlap)."
        elif s.optimizer.low > s.prior.high:
            verdict = f" On {key} the optimizer explains more than the prior (the intervals do not overlap)."
        else:
            verdict = f" On {key} the intervals of prior and optimizer overlap: no ordering at this size."
    split = ""
    if f"pass@{K}" in shares and "efficiency" in shares:
        c, e = shares[f"pass@{K}"], shares["efficiency"]
        split = (f" Ceiling and efficiency apart (ScaleRL): the optimizer explains {_pct(c.optimizer)} of the ceiling "
                 f"(pass@{K} after RL) and {_pct(e.optimizer)} of the efficiency (pass@1 gain per 1,000 rollouts).")
    return (f"Toy-world result ({fc.preset} preset; {levels}). " + "; ".join(parts) + "." + verdict + split + tail +
            " Variance shares depend on the levels chosen: other mixtures, amounts or optimizers give other shares.")


def _environment(executor: str) -> dict[str, Any]:
    from importlib import metadata

    env: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(), "executor": executor,
                           "machine": platform.machine()}
    for pkg in ("torch", "transformers", "trl", "ray"):
        try:
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            env[pkg] = None
    return env
