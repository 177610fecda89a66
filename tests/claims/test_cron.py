"""The crontab entry for the weekly job, checked field by field."""

import os
import subprocess
import sys

import pytest

from claims.cron import MARKER, cron_line
from claims.errors import ConfigError

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def check_field(field: str, lo: int, hi: int) -> None:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step:
            assert int(step) > 0
        if base == "*":
            continue
        a, _, b = base.partition("-")
        assert lo <= int(a) <= hi and (not b or lo <= int(b) <= hi), field


def test_cli_prints_a_valid_weekly_entry(home):
    env = {**os.environ, "CLAIMS_HOME": str(home)}
    r = subprocess.run([sys.executable, "-m", "claims", "cron"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    fields = line.split()
    for field, (lo, hi) in zip(fields[:5], RANGES):
        check_field(field, lo, hi)
    assert fields[2] == "*" and fields[3] == "*" and fields[4] != "*", "runs once a week"
    assignments = dict(f.split("=", 1) for f in fields[5:] if "=" in f and f.startswith("CLAIMS_"))
    assert assignments["CLAIMS_HOME"] == str(home)
    assert assignments["CLAIMS_DATABASE_URL"] == f"sqlite:///{home / 'claims.db'}"
    rest = line.split(assignments["CLAIMS_DATABASE_URL"], 1)[1]
    assert " weekly" in rest and f">> {home / 'logs' / 'weekly.log'} 2>&1" in rest and rest.endswith(MARKER)


def test_schedule_must_have_five_fields():
    with pytest.raises(ConfigError, match="5 fields"):
        cron_line("0 6 * *", "claims weekly", {}, "/tmp/x.log")
