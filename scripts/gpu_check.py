"""C1 and C5 at the gpu preset on a real local model: time and peak memory per phase (scripts/gpu-check).

Runs passk-boundary (C1), then prior-corruption (C5c: it reads C1's draws), hard-samples
(C5a) and calibration (C5b) through `retest.runner.run_protocol` with one cache folder, and
prints for every phase the protocol's log announces (pretrain, grpo, sample, routing,
measure, decide) its wall time, the peak GPU memory in use on the machine (nvidia-smi,
polled every half second: a vLLM engine lives in a process of its own, which torch's
counters in this one do not see) and the peak resident memory of this process and its
children.

    scripts/gpu-check MODEL_DIR PROBLEMS.jsonl [--preset gpu] [--cache DIR] [--protocols ...]

`--preset model-smoke` runs the same code path at tiny sizes (the CPU check of this script).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import psutil

PROTOCOLS = ("passk-boundary", "prior-corruption", "hard-samples", "calibration")


def gpu_used_mib() -> float | None:
    """Memory in use on all GPUs (MiB), or None without nvidia-smi."""
    if not shutil.which("nvidia-smi"):
        return None
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, timeout=10).stdout
    return float(sum(float(x) for x in out.split()))


def rss_mib() -> float:
    """Resident memory of this process and all its children (MiB)."""
    me = psutil.Process()
    total = 0
    for p in [me, *me.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


class Meter:
    """Peak GPU and host memory per phase, sampled in a thread; `phase(name)` starts the next phase."""

    def __init__(self, every: float = 0.5):
        self.rows: list[dict] = []
        self.name, self.t0, self.gpu, self.rss = "start", time.monotonic(), 0.0, 0.0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, args=(every,), daemon=True)
        self.thread.start()

    def _poll(self, every: float) -> None:
        while not self.done.wait(every):
            gpu, rss = gpu_used_mib(), rss_mib()
            with self.lock:
                self.gpu = max(self.gpu, gpu or 0.0)
                self.rss = max(self.rss, rss)

    def phase(self, name: str) -> None:
        with self.lock:
            row = {"phase": self.name, "seconds": round(time.monotonic() - self.t0, 1),
                   "peak_gpu_mib": round(self.gpu), "peak_rss_mib": round(max(self.rss, rss_mib()))}
            self.rows.append(row)
            self.name, self.t0, self.gpu, self.rss = name, time.monotonic(), gpu_used_mib() or 0.0, rss_mib()
        print(f"  {row['phase'][:44]:<44} {row['seconds']:>8.1f} s  GPU peak {row['peak_gpu_mib']:>7} MiB  "
              f"host peak {row['peak_rss_mib']:>7} MiB", flush=True)

    def close(self) -> None:
        self.phase("end")
        self.done.set()


def main() -> int:
    from retest.presets import preset
    from retest.runner import run_protocol

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path, help="a local Hugging Face instruct model (e.g. Qwen2.5-0.5B-Instruct)")
    ap.add_argument("problems", type=Path, help='JSON lines {"prompt": ..., "answer": <integer>}')
    ap.add_argument("--preset", default="gpu", choices=("gpu", "model-smoke"))
    ap.add_argument("--cache", type=Path, default=Path("gpu-check-cache"), help="cached models and draws")
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--no-chat-template", action="store_true", help="a base model: prompts as written")
    args = ap.parse_args()
    cfg = preset(args.preset, model_dir=args.model_dir, problems_file=args.problems)
    if args.no_chat_template:
        import dataclasses

        cfg = dataclasses.replace(cfg, chat_template=False)
    print(f"gpu-check: {args.model_dir} on {args.problems}, preset {cfg.preset}, sampler {cfg.sampler}, "
          f"GPU memory in use at start {gpu_used_mib()} MiB", flush=True)
    summary = []
    for name in args.protocols:
        print(f"{name}:", flush=True)
        meter = Meter()

        def progress(msg: str, meter: Meter = meter) -> None:
            if msg.startswith("phase "):
                meter.phase(msg.removeprefix("phase ")[:60])

        t0 = time.monotonic()
        result = run_protocol(name, config=cfg, cache_dir=args.cache, artifacts_dir=args.cache / "artifacts",
                              progress=progress)
        meter.close()
        summary.append({"protocol": name, "status": result.status, "verdict": result.verdict,
                        "seconds": round(time.monotonic() - t0, 1), "flags": list(result.flags),
                        "timings": result.metrics.timings, "phases": meter.rows})
        print(f"{name}: {result.status}, verdict {result.verdict}, {summary[-1]['seconds']} s; {result.summary}",
              flush=True)
        for flag in result.flags:
            print(f"  flag: {flag}", flush=True)
        if result.status != "succeeded":
            print(result.log[-3000:], flush=True)
    out = args.cache / "gpu-check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1))
    print(f"figures: {out}")
    return 0 if all(s["status"] == "succeeded" for s in summary) else 1


if __name__ == "__main__":  # vLLM and the training workers spawn processes that import this file
    raise SystemExit(main())
