"""Executors: run a list of independent jobs, retry a failed one once, report progress.

One small interface, `Executor.run(jobs, on_result)`, with two implementations chosen
by name in `open_executor`: ``local`` (sequential, in this process; always available)
and ``ray`` (one Ray task per job with its resource needs; `ray.init()` starts a local
cluster limited to `num_cpus`, or joins `ray_address` / ``RAY_ADDRESS``). Ray is
imported only inside `RayExecutor`. A job is a top-level function and its picklable
arguments, so both run the same code.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Job:
    """`fn(*args)` with a label for progress and its resource needs (Ray's num_cpus/num_gpus)."""

    label: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    num_cpus: float = 1.0
    num_gpus: float = 0.0


@dataclass
class Outcome:
    """What one job came to: its value, or the error of its last attempt."""

    job: Job
    value: Any = None
    error: str | None = None
    attempts: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(Protocol):
    name: str

    def run(self, jobs: Sequence[Job], on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Run every job (a failed one is retried once); outcomes in job order."""
        ...


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]


class LocalExecutor:
    """Sequential, in this process: no dependency, the same jobs."""

    name = "local"

    def run(self, jobs: Sequence[Job], on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        outcomes = []
        for job in jobs:
            out = Outcome(job)
            t0 = time.monotonic()
            for attempt in (1, 2):
                out.attempts = attempt
                try:
                    out.value, out.error = job.fn(*job.args), None
                    break
                except Exception as exc:  # recorded per job; the grid goes on
                    out.error = _error(exc)
            out.seconds = round(time.monotonic() - t0, 2)
            outcomes.append(out)
            if on_result:
                on_result(out)
        return outcomes


class RayExecutor:
    """One Ray task per job; results reported as they finish, a failed task resubmitted once.

    `ray_address` (or RAY_ADDRESS) joins an existing cluster; otherwise a local one is
    started with `num_cpus` CPUs, no dashboard and worker output kept out of our progress.
    A cluster this executor started is shut down by `close`. On a multi-machine cluster
    the cache folder must be on a filesystem every node sees (jobs pass base models by path).
    """

    name = "ray"

    def __init__(self, ray_address: str | None = None, num_cpus: int | None = None):
        import ray  # noqa: PLC0415 - optional extra (grid)

        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            address = ray_address or os.environ.get("RAY_ADDRESS") or None
            kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                                          configure_logging=True)
            if address:
                ray.init(address=address, **kwargs)
            else:
                # Ray starts workers 15 nice steps below the driver; ours run at the driver's own
                # niceness, so a grid competes for the CPU as the local executor does
                os.environ.setdefault("RAY_worker_niceness", "0")
                ray.init(num_cpus=num_cpus or 2, **kwargs)
                self.started = True

    def run(self, jobs: Sequence[Job], on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        ray = self.ray
        outcomes = [Outcome(job) for job in jobs]
        started: dict[Any, tuple[int, float]] = {}
        remote: dict[tuple[Any, float, float], Any] = {}  # one registered remote function per kind of job

        def submit(i: int) -> None:
            job = jobs[i]
            kind = (job.fn, job.num_cpus, job.num_gpus)
            if kind not in remote:
                remote[kind] = ray.remote(num_cpus=job.num_cpus, num_gpus=job.num_gpus, max_retries=0)(job.fn)
            task = remote[kind]
            outcomes[i].attempts += 1
            started[task.remote(*job.args)] = (i, time.monotonic())

        for i in range(len(jobs)):
            submit(i)
        while started:
            ready, _ = ray.wait(list(started), num_returns=1)
            ref = ready[0]
            i, t0 = started.pop(ref)
            out = outcomes[i]
            out.seconds = round(out.seconds + time.monotonic() - t0, 2)
            try:
                out.value, out.error = ray.get(ref), None
            except Exception as exc:  # a task's error (RayTaskError wraps the original)
                out.error = _error(getattr(exc, "cause", None) or exc)
                if out.attempts < 2:
                    submit(i)
                    continue
            if on_result:
                on_result(out)
        return outcomes

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
            self.started = False


def ray_available() -> bool:
    try:
        import ray  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def open_executor(name: str, ray_address: str | None = None, num_cpus: int | None = None) -> tuple[Executor, str | None]:
    """(executor, note): ``ray`` falls back to ``local`` with a note when Ray is not installed."""
    if name == "local":
        return LocalExecutor(), None
    if name != "ray":
        raise ValueError(f"unknown executor {name!r}: choose local or ray")
    if not ray_available():
        return LocalExecutor(), "ray is not installed (pip install 'claims-tracker[grid]'): ran with the local executor"
    return RayExecutor(ray_address, num_cpus), None
