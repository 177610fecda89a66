"""One build-then-rename cache for directories (base models, GRPO runs).

An entry is ``cache_dir/<name>`` holding ``done.json`` (the build's stats). A build
writes into its own ``.<name>.<pid>.partial`` directory, writes ``done.json`` last and
only then renames the directory into place, so a crash, Ctrl-C or ``kill -9`` never
leaves a half-written entry under the final name. Partial directories of dead
processes are removed by the next build of the same name; an entry without
``done.json`` is rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

DONE = "done.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_partials(cache_dir: Path, name: str) -> None:
    """Remove partial builds of `name` whose process is gone."""
    for tmp in cache_dir.glob(f".{name}.*.partial"):
        pid = tmp.name[len(name) + 2 : -len(".partial")]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def cached_build(
    cache_dir: Path, name: str, build: Callable[[Path], dict[str, Any]]
) -> tuple[Path, dict[str, Any], bool]:
    """The directory ``cache_dir/name``, running ``build(tmp_dir) -> stats`` first if needed.

    Returns (directory, stats, reused?). `build` fills the (empty, existing) directory
    it is given; if it raises (or is interrupted) that directory is removed and nothing
    is cached.
    """
    cache_dir = Path(cache_dir)
    final = cache_dir / name
    done = final / DONE
    if done.exists():
        return final, json.loads(done.read_text()), True
    cache_dir.mkdir(parents=True, exist_ok=True)
    sweep_partials(cache_dir, name)
    tmp = cache_dir / f".{name}.{os.getpid()}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        stats = build(tmp)
        (tmp / DONE).write_text(json.dumps(stats))
        if final.exists() and not done.exists():
            shutil.rmtree(final, ignore_errors=True)  # an entry without done.json: never complete
        try:
            tmp.rename(final)
        except OSError:
            if not done.exists():  # not another process finishing the same entry first
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            return final, json.loads(done.read_text()), True
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, stats, False
