"""Benchmark of the retest engine: every protocol at a preset, time per protocol and phase.

Usage: python benchmarks/retest_bench.py [--preset smoke|standard] [--cache DIR]
                                         [--protocols a,b,...] [--json FILE]

Prints: corpus and pretraining (tokens/s), GRPO (steps/s), sampling (samples/s), each
protocol's wall time (the shared blocks are built by the first protocol that needs
them and reused by the rest, as in the weekly job) with its phase split, verdict and
flags, all protocols together (wall and CPU time, load average before and after),
and the batched sampler's samples/s against a naive one-prompt-one-sample loop on the
same model in the same run (ratio). A fresh cache directory is used unless --cache is
given, so pretraining and GRPO are timed.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="smoke", choices=["smoke", "standard"])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--naive-samples", type=int, default=64)
    parser.add_argument("--protocols", default="", help="comma-separated names (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from retest.presets import preset
    from retest.protocols import PROTOCOLS
    from retest.runner import run_protocol
    from retest.sampler import NaiveSampler, TransformersSampler
    from retest.world import split

    cache = args.cache or Path(tempfile.mkdtemp(prefix="retest-bench-"))
    from claims.settings import Settings
    from retest.parallel import workers

    requested = Settings().retest_workers  # read once, here, and passed down
    print(f"preset {args.preset}, cache {cache}, load average {os.getloadavg()[0]:.2f}, "
          f"{workers(requested)} block(s) at a time (CLAIMS_RETEST_WORKERS)")
    names = [n for n in args.protocols.split(",") if n] or list(PROTOCOLS)
    load_before = os.getloadavg()[0]
    t0, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    results = {}
    for name in names:
        t = time.monotonic()
        print(f"running {name} ...", flush=True)
        r = run_protocol(name, args.preset, cache_dir=cache, artifacts_dir=cache / "artifacts", workers=requested)
        results[name] = (r, time.monotonic() - t)
        if r.status != "succeeded":
            print(r.log)
            raise SystemExit(1)
    wall = time.monotonic() - t0
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0

    first = results.get("passk-boundary", next(iter(results.values())))[0]
    m = first.metrics
    base = m.base_model
    print(f"\n{'phase':<28}{'seconds':>10}  figure")
    print(f"{'corpus':<28}{base.get('corpus_seconds', 0):>10.2f}  {base.get('corpus_examples')} examples")
    print(f"{'pretrain':<28}{base.get('train_seconds', 0):>10.2f}  {base.get('tokens_per_second')} tokens/s, "
          f"{base.get('parameters')} parameters, loss {base.get('loss_first')} -> {base.get('loss_last')}")
    for i, g in enumerate(m.grpo):
        print(f"{f'grpo seed {i}':<28}{g['seconds']:>10.2f}  {g['steps_per_second']} steps/s")
    for key, value in m.timings.items():
        if key.startswith(("sample", "measure")):
            print(f"{key:<28}{value:>10.2f}")
    print(f"\n{'protocol':<22}{'claim':>6}{'seconds':>10}  phases (s); verdict, effect [95% interval]; flags")
    for name, (r, secs) in results.items():
        phases = ", ".join(f"{k} {v:.0f}" for k, v in r.metrics.timings.items() if k != "total")
        print(f"{name:<22}{PROTOCOLS[name].claim_hint:>6}{secs:>10.1f}  {phases}; {r.verdict}, "
              f"{r.effect_size:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]; {len(r.flags)} flag(s)")
    print(f"{'all protocols':<28}{wall:>10.1f}  (CPU time of this process {cpu:.1f} s; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)")
    if args.json:
        import json

        args.json.write_text(json.dumps({
            "preset": args.preset, "workers": workers(), "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "load_before": load_before, "load_after": os.getloadavg()[0],
            "protocols": {n: {"seconds": round(sec, 1), "verdict": r.verdict, "effect": r.effect_size,
                              "low": r.ci_low, "high": r.ci_high, "flags": list(r.flags),
                              "timings": r.metrics.timings, "summary": r.summary}
                          for n, (r, sec) in results.items()}}, indent=1))

    cfg = preset(args.preset)
    if not first.artifacts or not first.artifacts.runs:
        return
    model_dir = Path(first.artifacts.runs[0]) / "checkpoints" / "step-0000"
    prompts = [p.prompt for p in split(cfg.world)[1]]
    n = cfg.eval.samples
    batched = TransformersSampler(model_dir, batch_size=cfg.eval.batch_size)
    batched.sample(prompts[:2], 2, 1.0, cfg.rl.max_completion_length, seed=0)  # warm-up
    t = time.monotonic()
    batched.sample(prompts[:64], n, 1.0, cfg.rl.max_completion_length, seed=0)
    fast = 64 * n / (time.monotonic() - t)
    naive = NaiveSampler(model_dir)
    k = max(1, args.naive_samples // 8)
    t = time.monotonic()
    naive.sample(prompts[:8], k, 1.0, cfg.rl.max_completion_length, seed=0)
    slow = 8 * k / (time.monotonic() - t)
    print(f"\nsampler: batched {fast:.0f} samples/s, naive one-at-a-time {slow:.1f} samples/s, ratio {fast / slow:.0f}x")
    print("\nsummaries:")
    for name, (r, _) in results.items():
        print(f"- {r.summary}")


if __name__ == "__main__":
    main()
