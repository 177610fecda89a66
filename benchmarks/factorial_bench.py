"""Benchmark of the prior x optimizer factorial (retest.factorial).

Usage:
  python benchmarks/factorial_bench.py executors [--cache DIR]      # Ray overhead vs local (a ratio)
  python benchmarks/factorial_bench.py weekly --executor local|ray [--cache DIR] [--json FILE]
  python benchmarks/factorial_bench.py lr-sweep [--cache DIR]       # the tuning behind TUNED_LR

- ``executors`` builds the bases of a small grid once (untimed), then runs the same RL
  cells with the local executor and with Ray (2 CPUs) in two fresh cell caches and prints
  both wall times and the ratio ray/local (a ratio under 1: Ray's two single-threaded
  workers beat one process using both cores).
- ``weekly`` runs the weekly preset (a fresh cache unless --cache) and prints wall time
  per phase (bases, cells, analysis), the jobs' own CPU seconds per phase (what a quiet
  2-core machine needs: CPU / 2 with two workers), the load average before and after, the
  shares of pass@1, pass@256, their gains and the efficiency with intervals, the ceiling
  and efficiency per optimizer, and the reach test per prior.
- ``lr-sweep`` trains every optimizer at each of LR_SWEEP on the A-rich/long base of the
  weekly preset (pretraining seed 0, RL seed 0) and prints the mean reward of the last 4
  GRPO steps (the tuning criterion: training reward, so the held-out problems stay
  untouched) and held-out pass@1; the best lr per optimizer is TUNED_LR.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def executors(cache: Path) -> dict:
    from retest.factorial.design import tiny_config
    from retest.factorial.grid import run_config

    fc = tiny_config(rl_steps=4, optimizers=("grpo", "dr_grpo", "dapo", "ppo_kl"))
    fc = dataclasses.replace(fc, problems=8)
    from retest.factorial.cells import build_base
    from retest.factorial.design import bases

    for spec in bases(fc):  # untimed: both executors start from the same cached bases
        build_base(fc, spec, cache)
    out = {}
    for name in ("local", "ray"):
        shutil.rmtree(cache / "factorial" / "cells", ignore_errors=True)
        for run in cache.glob("rl-*"):
            shutil.rmtree(run, ignore_errors=True)
        load, t0 = _load(), time.monotonic()
        result = run_config(fc, name, cache_dir=cache, num_cpus=2)
        out[name] = {"wall_s": round(time.monotonic() - t0, 1), "cells": len(result.cells),
                     "status": result.status, "load_before": load, "load_after": _load()}
        print(f"{name}: {out[name]}", flush=True)
    out["ratio_ray_over_local"] = round(out["ray"]["wall_s"] / out["local"]["wall_s"], 3)
    print(f"ray / local wall time: {out['ratio_ray_over_local']}")
    return out


def weekly(cache: Path, executor: str, mini: bool = False) -> dict:
    from retest.factorial.design import factorial_preset
    from retest.factorial.grid import run_config

    fc = factorial_preset("weekly")
    if mini:  # the weekly preset's smallest balanced sub-grid: 16 of its 64 cells
        fc = dataclasses.replace(fc, mixtures=("A-rich", "C-rich"), amounts=("short",), optimizers=("grpo", "ppo_kl"),
                                 confounds=(*fc.confounds, "mini: one amount (short) and two optimizers (grpo,"
                                            " ppo_kl) of the weekly preset's four"))
    load, t0, c0 = _load(), time.monotonic(), _cpu()
    result = run_config(fc, executor, cache_dir=cache,
                        progress=lambda m: print(f"[{time.monotonic() - t0:5.0f} s] {m}", flush=True))
    wall = time.monotonic() - t0
    out = {"executor": result.executor, "status": result.status, "wall_s": round(wall, 1),
           "driver_cpu_s": round(_cpu() - c0, 1), "load_before": load, "load_after": _load(),
           "cells": len(result.cells), "failed": sum(c.status == "failed" for c in result.cells),
           "shares": {k: v.model_dump() for k, v in result.shares.items()}, "ranges": result.ranges,
           "answer": result.answer, "flags": result.flags}
    out["phases"] = result.phases
    out["by_optimizer"] = result.by_optimizer
    out["reach"] = [r.model_dump() for r in result.reach]
    print(f"\n{executor}: wall {out['wall_s']} s, driver CPU {out['driver_cpu_s']} s, load {load} -> {_load()}")
    ph = result.phases
    print(f"phases (wall s): bases {ph.get('bases')}, cells {ph.get('cells')}, analysis {ph.get('analysis')}; "
          f"jobs' CPU s: bases {ph.get('bases_cpu')}, cells {ph.get('cells_cpu')} "
          f"(total {round(ph.get('bases_cpu', 0) + ph.get('cells_cpu', 0), 1)})")
    for opt, row in result.by_optimizer.items():
        print(f"{opt}: {row}")
    for r in result.reach:
        print(f"reach {r.prior}: {r.unreached}/{r.problems} unreached, redraw {r.redraw_solved}, "
              f"{[(o.optimizer, o.solved, o.problem_runs, o.p_value) for o in r.optimizers]}: {r.verdict}")
    parts_of = ("prior", "optimizer", "interaction", "pretrain_seed", "base_x_optimizer", "residual")
    for name in ("pass@1", "pass@256", "pass@1_gain", "pass@256_gain", "efficiency"):
        s = result.shares.get(name)
        if s:
            parts = ", ".join(f"{t} {getattr(s, t).estimate:.3f} [{getattr(s, t).low:.3f}, {getattr(s, t).high:.3f}]"
                              for t in parts_of if getattr(s, t) is not None)
            total = sum(getattr(s, t).estimate for t in parts_of if getattr(s, t) is not None)
            print(f"{name}: {parts} (sum {total:.3f})")
    print(result.answer)
    return out


def lr_sweep(cache: Path) -> dict:
    from retest.factorial.design import LR_SWEEP, OPTIMIZERS, factorial_preset
    from retest.factorial.grid import run_config

    wk = factorial_preset("weekly")
    fc = dataclasses.replace(wk, mixtures=("A-rich",), amounts=("long",), pretrain_seeds=(0,), rl_seeds=(0,),
                             confounds=())
    table: dict[str, dict[str, dict[str, float]]] = {}
    for lr in LR_SWEEP:
        result = run_config(dataclasses.replace(fc, lr={o: lr for o in OPTIMIZERS}), "local", cache_dir=cache)
        for cell in result.cells:
            done = json.loads((cache / "factorial" / "cells" / f"{cell.key}.json").read_text())
            table.setdefault(cell.optimizer, {})[f"{lr:g}"] = {
                "reward_tail": round(done.get("reward_tail", float("nan")), 3),
                "pass@1": round(cell.outcomes.get("pass@1", float("nan")), 3)}
            print(f"{cell.optimizer} lr {lr:g}: {table[cell.optimizer][f'{lr:g}']}", flush=True)
    best = {o: max(sorted(v, key=float), key=lambda lr: v[lr]["reward_tail"]) for o, v in table.items()}
    print("best lr (last-4-step reward; ties: the smaller):", best)
    return {"table": table, "best": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["executors", "weekly", "lr-sweep"])
    parser.add_argument("--executor", default="local", choices=["local", "ray"])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--mini", action="store_true", help="weekly: 2 mixtures x short x grpo, ppo_kl (16 cells)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    cache = args.cache or Path(tempfile.mkdtemp(prefix="factorial-bench-"))
    print(f"cache {cache}, load {_load()}", flush=True)
    if args.what == "executors":
        out = executors(cache)
    elif args.what == "weekly":
        out = weekly(cache, args.executor, args.mini)
    else:
        out = lr_sweep(cache)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
