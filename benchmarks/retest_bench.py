"""Benchmark of the retest engine: time per phase for a preset, sampler vs naive loop.

Usage: python benchmarks/retest_bench.py [--preset smoke|standard] [--cache DIR]

Prints: corpus and pretraining (tokens/s), GRPO (steps/s), sampling (samples/s),
measurements, the whole run, and the batched sampler's samples/s against a naive
one-prompt-one-sample loop on the same model in the same run (ratio). A fresh cache
directory is used unless --cache is given, so pretraining and GRPO are timed.
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
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from retest.presets import preset
    from retest.runner import run_protocol
    from retest.sampler import NaiveSampler, TransformersSampler
    from retest.world import split

    cache = args.cache or Path(tempfile.mkdtemp(prefix="retest-bench-"))
    print(f"preset {args.preset}, cache {cache}, load average {os.getloadavg()[0]:.2f}")
    t0, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    results = {}
    for name in ("passk-boundary", "format-collapse", "update-sparsity"):
        t = time.monotonic()
        r = run_protocol(name, args.preset, cache_dir=cache, artifacts_dir=cache / "artifacts")
        results[name] = (r, time.monotonic() - t)
        if r.status != "succeeded":
            print(r.log)
            raise SystemExit(1)
    wall = time.monotonic() - t0
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0

    first = results["passk-boundary"][0]
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
    for name, (r, secs) in results.items():
        print(f"{'protocol ' + name:<28}{secs:>10.2f}  {r.verdict}, effect {r.effect_size:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]")
    print(f"{'all three protocols':<28}{wall:>10.2f}  (CPU time of this process {cpu:.1f} s)")

    cfg = preset(args.preset)
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
