"""Independent training blocks side by side: GRPO, SFT and pretraining runs in worker processes.

A tiny model does not keep two cores busy: on the 2-core machine 50 GRPO steps took 9.9 s
with two torch threads and 14.0 s with one, and two one-thread runs side by side took
14.3-14.5 s each, so two at a time train 1.37x as many runs per second. `build_all`
builds the missing blocks of a list in a pool of spawned workers (one torch thread per core
each) through the same cache as `Lab.rl` / `Lab.sft` / `Lab.base` (`retest.cache`), so
those calls then find them built and reuse them. With one worker (a GPU, one core, or
``CLAIMS_RETEST_WORKERS=1``) nothing is built here: the caller builds in order, as before.
The worker count is passed in (`Lab(workers=...)`, from `Settings.retest_workers` at the
entry point); this module reads no environment.

A block that fails in a worker is reported and left unbuilt: the caller's own build then
raises the error where it would have without workers. Ctrl-C stops the workers (they
ignore SIGINT; the parent terminates them and removes their half-built entries).
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retest.cache import DONE, sweep_partials

@dataclass(frozen=True)
class Block:
    """One cached build: `build(*args)` (an `ensure_*` function) makes `cache_dir / name`."""

    kind: str  # "pretrain" | "grpo" | "sft": the phase its time counts to
    name: str  # the cache entry (`rl-...`, `sft-...`, `base-...`)
    label: str  # what progress says, e.g. "grpo seed 1 (lr 5e-06)"
    build: Callable[..., Any]  # module-level, so a spawned worker can import it
    args: tuple[Any, ...]

    def built(self, cache_dir: Path) -> bool:
        return (Path(cache_dir) / self.name / DONE).exists()


def workers(requested: int | None = None) -> int:
    """How many blocks to build at once: `requested` (`Settings.retest_workers`), else 1 on a GPU,
    else 2 on 2+ cores."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"retest workers {requested}: give at least 1 (1 builds in order)")
        return requested
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return 1  # a worker (or a script re-imported by one) never starts workers of its own
    import torch

    if torch.cuda.is_available():
        return 1  # one model at a time on the accelerator
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def build_all(blocks: Sequence[Block], cache_dir: Path, say: Callable[[str], None],
              requested: int | None = None) -> dict[str, float]:
    """Build the unbuilt `blocks` in `workers(requested)` workers; returns wall seconds per kind
    (shared when mixed).

    Blocks must not depend on each other (a caller builds dependants in a later call).
    Returns {} and builds nothing with one worker or fewer than two blocks to build. If the
    workers die (killed, out of memory), what they did not build is left to the caller.
    """
    todo = list({b.name: b for b in blocks if not b.built(cache_dir)}.values())
    n = min(workers(requested), len(todo))
    if n < 2:
        return {}
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    say(f"building {len(todo)} blocks {n} at a time: " + ", ".join(sorted({b.kind for b in todo})))
    t0 = time.monotonic()
    done = 0
    try:
        pool = _pool(n)
        futures = {pool.submit(_build, b): b for b in todo}
        for future in as_completed(futures):
            block = futures[future]
            try:
                _, error, seconds = future.result()
            except BrokenProcessPool as exc:
                say(f"the workers stopped ({exc}); what they did not build is built in order")
                _stop()
                break
            done += 1
            if error:
                say(f"{block.label}: failed in a worker ({error}); it is built again in order")
            else:
                say(f"{block.label} built ({done}/{len(todo)}, {seconds:.0f} s)")
    except BaseException:
        _stop()  # Ctrl-C: no worker goes on training
        _sweep(cache_dir, todo)
        raise
    _sweep(cache_dir, todo)  # entries half-built by workers that died
    wall = time.monotonic() - t0
    kinds = sorted({b.kind for b in todo})
    return {"+".join(kinds) if len(kinds) > 1 else kinds[0]: wall}


def _sweep(cache_dir: Path, blocks: Sequence[Block]) -> None:
    for b in blocks:
        sweep_partials(cache_dir, b.name)


# --- the pool (one per process, kept between calls: spawning a worker imports torch) ------

_POOL: Any = None
_POOL_SIZE = 0


def _pool(n: int) -> Any:
    global _POOL, _POOL_SIZE
    if _POOL is not None and _POOL_SIZE != n:
        _stop()
    if _POOL is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        threads = max(1, (os.cpu_count() or 1) // n)
        _POOL = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                                    initargs=(threads,))
        _POOL_SIZE = n
    return _POOL


def _stop() -> None:
    """Stop the workers now, running blocks included (their partial folders are swept by the caller)."""
    global _POOL
    if _POOL is None:
        return
    pool, _POOL = _POOL, None
    processes = list((getattr(pool, "_processes", None) or {}).values())  # 3.11 has no terminate_workers
    for p in processes:
        p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        p.join(timeout=10)


atexit.register(_stop)


def _init_worker(threads: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _build(block: Block) -> tuple[str, str, float]:
    """In a worker: (name, error or "", seconds)."""
    t0 = time.monotonic()
    try:
        block.build(*block.args)
    except Exception as exc:  # reported; the caller's in-order build raises it again with its traceback
        return block.name, f"{type(exc).__name__}: {exc}", time.monotonic() - t0
    return block.name, "", time.monotonic() - t0
