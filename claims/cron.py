"""The crontab entry that runs the weekly job, and installing or removing it.

The entry carries no secrets: the job's environment (every `CLAIMS_*` setting, the
database URL and the LLM API key included) is written to `$CLAIMS_HOME/claims.env`
(mode 0600, readable by its owner only), and the line sources that file:

    0 6 * * 1 . /srv/claims/claims.env && claims weekly >> /srv/claims/logs/weekly.log 2>&1 # claims-tracker weekly
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from claims.errors import BadInput, ConfigError

MARKER = "# claims-tracker weekly"
DEFAULT_SCHEDULE = "0 6 * * 1"  # Mondays 06:00
ENV_FILE = "claims.env"
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute hour day month weekday
_NAMES = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat"


def prepare(home: Path, database_url: str, schedule: str, extra: str = "",
            environ: Mapping[str, str] | None = None) -> tuple[str, Path]:
    """Write the env file and make the log folder; returns the crontab line and the env file."""
    check_schedule(schedule)
    env_file = write_env_file(home / ENV_FILE, cron_environment(home, database_url, os.environ if environ is None else environ))
    logs = home / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {logs}: {exc.strerror or exc}; the data folder must be writable") from exc
    exe = shutil.which("claims")
    command = shlex.quote(exe) if exe else f"{shlex.quote(sys.executable)} -m claims"
    return cron_line(schedule, f"{command} weekly {extra}".strip(), str(env_file), str(logs / "weekly.log")), env_file


def cron_environment(home: Path, database_url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """What the job needs: every CLAIMS_* variable set now, plus the resolved home and database."""
    env = {k: v for k, v in environ.items() if k.startswith("CLAIMS_") and not k.startswith("CLAIMS_TEST_")}
    env["CLAIMS_HOME"] = str(home)
    env["CLAIMS_DATABASE_URL"] = database_url
    return env


def write_env_file(path: Path, env: Mapping[str, str]) -> Path:
    """Write `export KEY='value'` lines for /bin/sh to `path`, readable by its owner only (0600)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
        with os.fdopen(fd, "w") as f:
            f.write("# written by `claims cron`: the weekly job's settings (secrets: keep this file 0600)\n")
            for key, value in sorted(env.items()):
                f.write(f"export {key}={shlex.quote(value)}\n")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}; the data folder must be writable") from exc
    return path


def cron_line(schedule: str, command: str, env_file: str, log_path: str) -> str:
    """One crontab line: schedule, source the env file, the command, output appended to the log."""
    fields = check_schedule(schedule)
    line = f"{' '.join(fields)} . {shlex.quote(env_file)} && {command} >> {shlex.quote(log_path)} 2>&1 {MARKER}"
    return line.replace("%", "\\%")  # cron turns a bare % into a newline


def check_schedule(schedule: str) -> list[str]:
    """The 5 fields of a cron schedule; BadInput (exit 2) saying what is wrong otherwise."""
    import re

    fields = schedule.split()
    hint = f"a cron schedule has 5 fields (minute hour day month weekday), such as {DEFAULT_SCHEDULE!r}; got {schedule!r}"
    if len(fields) != 5:
        raise BadInput(hint)
    for field, (lo, hi) in zip(fields, _RANGES):
        for part in field.lower().split(","):
            base, slash, step = part.partition("/")
            ok = base == "*" or re.fullmatch(rf"(\d+|{_NAMES})(-(\d+|{_NAMES}))?", base) is not None
            ok = ok and (not slash or step.isdigit() and int(step) > 0)
            ok = ok and all(lo <= int(n) <= hi for n in re.findall(r"\d+", base))
            if not ok:
                raise BadInput(f"{hint} ({field!r} is not a valid field; numbers {lo}-{hi})")
    return fields


def _crontab() -> str:
    exe = shutil.which("crontab")
    if not exe:
        raise ConfigError("no `crontab` program on this machine: install cron (Debian: apt-get install cron) "
                          "or add the printed line to your scheduler by hand")
    return exe


def current_crontab() -> str:
    """The user's crontab; empty when there is none. ConfigError when it cannot be read."""
    r = subprocess.run([_crontab(), "-l"], capture_output=True, text=True)
    if r.returncode == 0:
        return r.stdout
    if "no crontab" in r.stderr.lower():
        return ""
    raise ConfigError(f"cannot read the current crontab (nothing changed): {r.stderr.strip() or f'exit {r.returncode}'}")


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


def remove(env_file: Path | None = None) -> bool:
    """Remove the claims entry (other entries stay) and its env file; False when there was no entry."""
    lines = current_crontab().splitlines()
    kept = [x for x in lines if MARKER not in x]
    if env_file is not None:
        env_file.unlink(missing_ok=True)
    if len(kept) == len(lines):
        return False
    _write("\n".join(kept) + ("\n" if kept else ""))
    return True
