"""The crontab entry for the weekly job: its fields, its env file, install and remove.

`crontab` is replaced by a small script on PATH that keeps the table in a file, so the
real `claims cron --install/--remove` processes run against it.
"""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from claims.cron import MARKER, cron_line
from claims.errors import BadInput

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
SECRET = "pa'ss $word%42"  # quotes, a dollar and a percent sign: the shell and cron must keep it intact
DB_URL = f"postgresql+psycopg://bob:{SECRET.replace('%', '%25')}@127.0.0.1:1/claims"

FAKE_CRONTAB = """#!/bin/sh
# a stand-in for crontab(1): the table lives in $FAKE_CRONTAB_FILE
if [ "$1" = "-l" ]; then
  if [ -f "$FAKE_CRONTAB_FILE" ]; then cat "$FAKE_CRONTAB_FILE"; exit 0; fi
  echo "no crontab for $(id -un)" >&2; exit 1
fi
if [ "$1" = "-" ]; then cat > "$FAKE_CRONTAB_FILE"; exit 0; fi
echo "usage: crontab [-l | -]" >&2; exit 2
"""


def check_field(field: str, lo: int, hi: int) -> None:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step:
            assert int(step) > 0
        if base == "*":
            continue
        a, _, b = base.partition("-")
        assert lo <= int(a) <= hi and (not b or lo <= int(b) <= hi), field


@pytest.fixture
def cron_env(home, tmp_path):
    """The environment of a `claims` process with a fake crontab first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "crontab"
    fake.write_text(FAKE_CRONTAB)
    fake.chmod(0o755)
    table = tmp_path / "crontab.txt"
    return {**os.environ, "CLAIMS_HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_CRONTAB_FILE": str(table)}


def claims(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env, timeout=60)


def test_cli_prints_a_valid_weekly_entry_that_sources_its_env_file(home):
    env = {**os.environ, "CLAIMS_HOME": str(home)}
    r = claims("cron", env=env)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    fields = line.split()
    for field, (lo, hi) in zip(fields[:5], RANGES):
        check_field(field, lo, hi)
    assert fields[2] == "*" and fields[3] == "*" and fields[4] != "*", "runs once a week"
    env_file = home / "claims.env"
    assert fields[5:8] == [".", str(env_file), "&&"]
    assert " weekly" in line and f">> {home / 'logs' / 'weekly.log'} 2>&1" in line and line.endswith(MARKER)
    assert "CLAIMS_" not in line  # settings live in the env file, not in the crontab
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert (home / "logs").is_dir()


def sourced(env_file: Path, *names: str) -> list[str]:
    """The values /bin/sh sees after sourcing `env_file` in an otherwise empty environment (as cron runs)."""
    script = f". {env_file} && " + " && ".join(f'printf "%s\\n" "${n}"' for n in names)
    r = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_env_file_carries_the_secrets_intact_and_the_line_none(cron_env, home):
    env = {**cron_env, "CLAIMS_DATABASE_URL": DB_URL, "CLAIMS_LLM_API_KEY": "sk-test-" + SECRET,
           "CLAIMS_LLM_BASE_URL": "http://127.0.0.1:9/v1", "CLAIMS_TEST_POSTGRES_URL": "postgresql://x:leak@h/d"}
    r = claims("cron", "--install", env=env)
    assert r.returncode == 0, r.stderr
    table = Path(cron_env["FAKE_CRONTAB_FILE"]).read_text()
    for text in (r.stdout, r.stderr, table):
        assert "sk-test" not in text and "pa'ss" not in text and "pa%27ss" not in text
    env_file = home / "claims.env"
    assert sourced(env_file, "CLAIMS_DATABASE_URL", "CLAIMS_LLM_API_KEY", "CLAIMS_LLM_BASE_URL", "CLAIMS_HOME") == [
        DB_URL, "sk-test-" + SECRET, "http://127.0.0.1:9/v1", str(home)]
    assert "CLAIMS_TEST_POSTGRES_URL" not in env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_install_replaces_only_our_entry_and_remove_removes_only_it(cron_env, home):
    table = Path(cron_env["FAKE_CRONTAB_FILE"])
    others = ["MAILTO=me@example.org", "15 3 * * * /usr/local/bin/backup --all", "# a comment of the user"]
    table.write_text("\n".join(others) + "\n")
    r = claims("cron", "--install", "--schedule", "30 5 * * 2", env=cron_env)
    assert r.returncode == 0, r.stderr
    r = claims("cron", "--install", env=cron_env)  # again, with the default schedule: replaces, never duplicates
    assert r.returncode == 0, r.stderr
    lines = table.read_text().splitlines()
    ours = [x for x in lines if MARKER in x]
    assert lines[:3] == others and len(ours) == 1 and ours[0].startswith("0 6 * * 1 . ")
    r = claims("cron", "--remove", env=cron_env)
    assert r.returncode == 0 and "removed" in r.stdout
    assert table.read_text().splitlines() == others
    assert not (home / "claims.env").exists(), "the secrets go with the entry"
    r = claims("cron", "--remove", env=cron_env)
    assert r.returncode == 0 and "no claims entry" in r.stdout
    assert table.read_text().splitlines() == others


def test_an_unreadable_crontab_is_never_overwritten(cron_env, tmp_path):
    broken = Path(cron_env["PATH"].split(":")[0]) / "crontab"
    broken.write_text("#!/bin/sh\necho 'crontab: cannot open your crontab: Permission denied' >&2\nexit 1\n")
    table = Path(cron_env["FAKE_CRONTAB_FILE"])
    r = claims("cron", "--install", env=cron_env)
    assert r.returncode == 3 and "cannot read the current crontab" in r.stderr and "Traceback" not in r.stderr
    assert not table.exists()


def test_the_installed_line_runs_under_cron_s_bare_environment(cron_env, home):
    """Run the installed command as cron would (sh, no environment): it reaches the database named in the env file."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://bob:{SECRET.replace('%', '%25')}@127.0.0.1:{port}/claims"
    r = claims("cron", "--install", "--extra", "--corpus demo --no-llm --max-retests 0", env={**cron_env, "CLAIMS_DATABASE_URL": url})
    assert r.returncode == 0, r.stderr
    line = next(x for x in Path(cron_env["FAKE_CRONTAB_FILE"]).read_text().splitlines() if MARKER in x)
    command = " ".join(line.split(" ")[5:]).replace("\\%", "%")  # cron itself turns \% into %
    done = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": str(home)}, timeout=120)
    assert done.returncode == 3  # the weekly job ran and could not reach the (unreachable) database
    log = (home / "logs" / "weekly.log").read_text()
    assert f"127.0.0.1:{port}" in log and "bob:***@" in log
    assert "pa'ss" not in log and "$word" not in log and "Traceback" not in log


@pytest.mark.parametrize("schedule", ["0 6 * *", "bogus", "61 6 * * 1", "0 6 * * 1/0", "a b c d e"])
def test_a_bad_schedule_is_bad_input(schedule, home):
    with pytest.raises(BadInput, match="5 fields"):
        cron_line(schedule, "claims weekly", "/tmp/claims.env", "/tmp/x.log")
    r = claims("cron", "--schedule", schedule, env={**os.environ, "CLAIMS_HOME": str(home)})
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "5 fields" in r.stderr


def test_a_percent_sign_is_escaped_for_cron():
    line = cron_line("0 6 * * 1", "claims weekly", "/srv/c%d/claims.env", "/srv/c%d/weekly.log")
    assert re.findall(r"(?<!\\)%", line) == []
