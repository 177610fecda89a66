"""The crontab entry that runs the weekly job, and installing or removing it."""

from __future__ import annotations

import shlex
import shutil
import subprocess

from claims.errors import ConfigError

MARKER = "# claims-tracker weekly"
DEFAULT_SCHEDULE = "0 6 * * 1"  # Mondays 06:00


def cron_line(schedule: str, command: str, env: dict[str, str], log_path: str) -> str:
    """One crontab line: schedule, environment, the command, output appended to the log."""
    fields = schedule.split()
    if len(fields) != 5:
        raise ConfigError(f"a cron schedule has 5 fields (minute hour day month weekday), got {schedule!r}")
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
    return f"{schedule} {assignments} {command} >> {shlex.quote(log_path)} 2>&1 {MARKER}".replace("  ", " ")


def _crontab() -> str:
    exe = shutil.which("crontab")
    if not exe:
        raise ConfigError("no `crontab` program on this machine: install cron (Debian: apt-get install cron) "
                          "or add the printed line to your scheduler by hand")
    return exe


def current_crontab() -> str:
    r = subprocess.run([_crontab(), "-l"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def _write(text: str) -> None:
    r = subprocess.run([_crontab(), "-"], input=text, capture_output=True, text=True)
    if r.returncode != 0:
        raise ConfigError(f"crontab refused the new table: {r.stderr.strip()}")


def install(line: str) -> str:
    """Replace any earlier claims entry with `line`; returns the new table."""
    kept = [x for x in current_crontab().splitlines() if MARKER not in x]
    text = "\n".join(kept + [line]) + "\n"
    _write(text)
    return text


def remove() -> bool:
    """Remove the claims entry; False when there was none."""
    lines = current_crontab().splitlines()
    kept = [x for x in lines if MARKER not in x]
    if len(kept) == len(lines):
        return False
    _write("\n".join(kept) + ("\n" if kept else ""))
    return True
