"""Pacing and retrying a paper source's requests (arXiv, Semantic Scholar).

`RateLimit`: one request at a time per process, at least a delay apart. `retrying`:
call an attempt until it returns, sleeping as the caller's policy says after each
`Retryable` failure; after the last try it raises `GaveUp` with the last failure,
which each client turns into its own `SourceUnavailable` message.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

MAX_RETRY_AFTER = 120.0  # seconds: a longer Retry-After is not waited out in full


class RateLimit:
    """One request at a time in this process, at least `delay` seconds apart (end to start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    @contextlib.contextmanager
    def slot(self, delay: float) -> Iterator[None]:
        with self._lock:
            if self._last is not None:
                wait = self._last + delay - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            try:
                yield
            finally:
                self._last = time.monotonic()


class Retryable(Exception):
    """A failed attempt worth another try; `retry_after`: what the server asked to wait (seconds)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class GaveUp(Exception):
    """Every try failed; `last` is the last failure."""

    def __init__(self, tries: int, last: Retryable):
        super().__init__(f"failed after {tries} tries: {last}")
        self.tries, self.last = tries, last


def retry_after(value: str | None) -> float | None:
    """A Retry-After header in seconds, within 0..MAX_RETRY_AFTER (None when absent or not a number)."""
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value is not None else None
    except ValueError:
        return None


def retrying(attempt: Callable[[], T], retries: int, wait: Callable[[int, Retryable], float],
             failed: Callable[[Retryable], None] = lambda exc: None) -> T:
    """`attempt()` tried up to `retries + 1` times; after failed try n (from 0), sleep `wait(n, exc)`."""
    last = max(retries, 0)
    n = 0
    while True:
        try:
            return attempt()
        except Retryable as exc:
            failed(exc)
            if n == last:
                raise GaveUp(n + 1, exc) from exc
            time.sleep(wait(n, exc))
        n += 1
