"""One run at a time: a file lock with the holder's pid and start time beside it.

The lock is an OS-level lock (released by the kernel when its process dies), so a
killed run never blocks the next one; its leftover holder file is reported as stale.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from claims.errors import ConfigError, LockHeld


def pid_alive(pid: int) -> bool:
    """Is a process with this pid running on this machine (maybe another user's)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(path: Path, say=lambda message: None) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """Hold the lock at `path` for the block; raise LockHeld at once if another run has it."""
    from filelock import FileLock, Timeout

    holder = path.with_suffix(".holder.json")
    lock = FileLock(str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        info = _read(holder)
        who = f" (pid {info.get('pid')}, started {info.get('started')})" if info else ""
        raise LockHeld(f"another weekly run holds {path}{who}; this one exits without doing anything") from None
    except OSError as exc:  # after Timeout, which is an OSError too
        raise ConfigError(f"cannot create the lock file {path}: {exc.strerror or exc}; "
                          "the data folder must be writable (set CLAIMS_HOME to another folder)") from exc
    try:
        stale = _read(holder)
        if stale and not pid_alive(int(stale.get("pid", 0))):
            say(f"found a stale lock from a run that did not finish (pid {stale.get('pid')}, started {stale.get('started')})")
        info = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "stale": stale}
        try:
            holder.write_text(json.dumps(info))
        except OSError as exc:
            raise ConfigError(f"cannot write {holder}: {exc.strerror or exc}; the data folder must be writable") from exc
        yield info
    finally:
        holder.unlink(missing_ok=True)  # a killed run leaves it behind: reported as stale next time
        lock.release()


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
