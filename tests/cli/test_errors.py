"""Every bad input is one line on stderr and its documented exit code, never a traceback.

Each case runs `claims` as a process (about a second each) against a home with the
bundled claims; the exit codes are those of claims.errors and the README.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import claims, clean_env, error_line

# (arguments, a fragment of the one error line); all exit 2 (bad input).
USAGE_ERRORS = [
    (["list", "--format", "xml"], "'xml' is not one of 'table', 'json'"),
    (["export", "--format", "pdf"], "'pdf' is not one of 'markdown', 'json'"),
    (["review", "approve", "abc", "--as", "alice"], "valid integer"),
    (["review", "approve", "99999999999999999999999", "--as", "alice"], "less than or equal to 9223372036854775807"),
    (["review", "approve", "0", "--as", "alice"], "greater than or equal to 1"),
    (["review", "approve", "1"], "Missing option '--as'"),
    (["review", "reject", "1", "--as", "alice"], "Missing option '--comment'"),
    (["retest", "run", "passk-boundary", "--claim", "C1", "--seeds", "0"], "'--seeds'"),
    (["retest", "run", "passk-boundary", "--claim", "C1", "--preset", "bogus"], "'bogus' is not one of 'smoke'"),
    (["retest", "run", "bogus", "--claim", "C1"], "unknown protocol 'bogus'"),
    (["retest", "run", "passk-boundary", "--claim", "C1", "--preset", "gpu", "--model-dir", "/nonexistent",
      "--problems", "/nonexistent.jsonl"], "'/nonexistent' does not exist"),
    (["retest", "run", "passk-boundary", "--claim", "C1", "--preset", "gpu", "--model-dir", "/"],
     "give --model-dir and --problems together"),
    (["bogus"], "No such command 'bogus'"),
    (["list", "--bogus"], "No such option: --bogus"),
    (["show"], "Missing argument 'KEY'"),
    (["show", "C99"], "no claim 'C99'"),
    (["review", "approve"], "Missing argument 'ID'"),
    (["review", "approve", "424242", "--as", "alice"], "424242"),
    (["export", "-o", "/nonexistent/dir/x"], "no folder /nonexistent/dir"),
    (["export", "--max-tokens", "0"], "greater than or equal to 1"),
    (["export", "--max-tokens", "-1"], "greater than or equal to 1"),
    (["export", "--since", "June"], "--since expects a date"),
    (["list", "--status", "bogus"], "'bogus' is not one of 'unreviewed', 'holds'"),
    (["review", "list", "--state", "bogus"], "'bogus' is not one of 'pending', 'approved', 'rejected', 'stale', 'all'"),
    (["cron", "--schedule", "bogus"], "a cron schedule has 5 fields"),
    (["cron", "--extra", "--no-llm\n* * * * * sh evil"], "control characters"),
    (["ui", "--port", "0"], "'--port'"),
    (["cron", "--extra", "--bogus-option"], "No such option: --bogus-option"),
    (["cron", "--extra", "--retest-preset bogus"], "'bogus' is not one of"),
    (["retest", "run", "passk-boundary", "--claim", "C1", "--seeds", "9999999999999999999999999"], "'--seeds'"),
    (["retest", "run", "passk-boundary", "--claim", "C1", "--seeds", "1000000"], "less than or equal to 50"),
    (["ui", "--host", ""], "is not an IP address or a host name"),
    (["ui", "--host", "256.1.1.1"], "'256.1.1.1' is not an IP address or a host name"),
    (["ui", "--host", "exa mple"], "is not an IP address or a host name"),
    (["ui", "--host", "0.0.0.0"], "add --expose to mean it"),
    (["ui", "--host", "::"], "add --expose to mean it"),
]


@pytest.mark.parametrize("args,fragment", USAGE_ERRORS, ids=[" ".join(a)[:40] for a, _ in USAGE_ERRORS])
def test_bad_input_is_one_line_and_exit_2(bundled_home: Path, args: list[str], fragment: str) -> None:
    line = error_line(claims(*args, env=clean_env(bundled_home)), 2)
    assert fragment in line


def test_usage_errors_point_at_the_help_of_the_command(bundled_home: Path) -> None:
    line = error_line(claims("review", "list", "--state", "bogus", env=clean_env(bundled_home)), 2)
    assert line.endswith("(see `claims review list --help`)")


@pytest.mark.parametrize("args", [["--format", "xml"], ["--max-retests", "-1"], ["--retest-minutes", "-5"],
                                  ["--retest-minutes", "nan"], ["--retest-minutes", "inf"],
                                  ["--retest-preset", "bogus"]])
def test_weekly_refuses_bad_options_before_anything_runs(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    line = error_line(claims("weekly", "--corpus", "demo", "--no-llm", *args, env=clean_env(home)), 2)
    assert args[0] in line
    assert not home.exists()  # no database, lock, report or log was written


def test_export_to_a_folder_is_bad_input(bundled_home: Path, tmp_path: Path) -> None:
    line = error_line(claims("export", "-o", str(tmp_path), env=clean_env(bundled_home)), 2)
    assert f"{tmp_path} is a folder" in line


@pytest.mark.skipif(not os.path.isfile("/proc/version"), reason="needs Linux /proc")
def test_export_to_an_unwritable_file_says_what_failed(bundled_home: Path) -> None:
    line = error_line(claims("export", "-o", "/proc/version", env=clean_env(bundled_home)), 2)
    assert line.startswith("error: cannot write /proc/version: ")


@pytest.mark.parametrize("var,value,fragment", [
    ("CLAIMS_RETEST_BUDGET", "-1", "CLAIMS_RETEST_BUDGET=-1 is invalid (input should be greater than or equal to 0); "
                                   "it sets: Retests the agent may queue in one run"),
    ("CLAIMS_LLM_CONCURRENCY", "0", "CLAIMS_LLM_CONCURRENCY=0 is invalid (input should be greater than or equal to 1)"),
    ("CLAIMS_ARXIV_TIMEOUT_SECONDS", "nan", "CLAIMS_ARXIV_TIMEOUT_SECONDS=nan is invalid (input should be a finite number)"),
    ("CLAIMS_REVIEWERS", "alice", "CLAIMS_REVIEWERS must be a JSON list"),
    ("CLAIMS_RETEST_WORKERS", "0", "CLAIMS_RETEST_WORKERS=0 is invalid (input should be greater than or equal to 1); "
                                   "it sets: Retest runs trained side by side"),
    ("CLAIMS_SEARCH_THRESHOLD", "5", "CLAIMS_SEARCH_THRESHOLD=5 is invalid (input should be less than or equal to 1)"),
    ("CLAIMS_LLM_BASE_URL", "me:secret@host:8000/v1", "CLAIMS_LLM_BASE_URL=*** is invalid (expected an http:// or https://"),
])
def test_a_bad_setting_names_the_variable_and_exits_3(bundled_home: Path, var: str, value: str, fragment: str) -> None:
    line = error_line(claims("list", env=clean_env(bundled_home, **{var: value})), 3)
    assert fragment in line
    assert "secret" not in line


INTERNAL = """
import sys
from claims.cli import core, main

def info() -> None:
    raise RuntimeError("boom\\nsecond line")

core.info = info
sys.argv = ["claims", "info"]
main()
"""


def test_an_unexpected_exception_is_one_line_and_exit_1_unless_debugging(tmp_path: Path) -> None:
    import subprocess

    env = clean_env(tmp_path / "home")
    r = subprocess.run([sys.executable, "-c", INTERNAL], capture_output=True, text=True, env=env, timeout=60)
    line = error_line(r, 1)
    assert line == ("error: internal error: RuntimeError: boom second line "
                    "(rerun with CLAIMS_DEBUG=1 for the traceback)")
    r = subprocess.run([sys.executable, "-c", INTERNAL], capture_output=True, text=True, timeout=60,
                       env={**env, "CLAIMS_DEBUG": "1"})
    assert r.returncode == 1 and "Traceback" in r.stderr and "RuntimeError: boom" in r.stderr


def test_help_and_bare_groups_print_help_and_exit_0(bundled_home: Path) -> None:
    for args in (["--help"], [], ["review"]):
        r = claims(*args, env=clean_env(bundled_home))
        assert r.returncode == 0, r.stderr
        assert "Usage: claims" in r.stdout and r.stderr == ""


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    import signal
    import subprocess

    from tests.cli.conftest import REPO
    from tests.conftest import unshipped_corpus

    env = clean_env(tmp_path / "home")
    assert claims("import", "--bundled", env=env).returncode == 0
    corpus = unshipped_corpus(tmp_path)  # embedded for real: a phase long enough to interrupt
    proc = subprocess.Popen([sys.executable, "-m", "claims", "search", "--corpus", str(corpus)], cwd=REPO, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # wait until the long phase has started
        seen.append(line)
        if "embedding" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.splitlines()[-1] == "interrupted"


@pytest.mark.parametrize("command", [["search"], ["agent", "run", "--no-llm"], ["weekly", "--no-llm"],
                                     ["eval", "search", "--labels", "LABELS"]])
def test_a_binary_or_malformed_corpus_is_bad_input_before_anything_is_written(bundled_home: Path, tmp_path: Path,
                                                                             command: list[str]) -> None:
    from sqlalchemy import create_engine, text

    binary = tmp_path / "corpus.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "2501.00001", "title": "A paper", "published": "2025-01"}\n{not json\n')
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"claim": "C1", "paper": "2501.00001", "stance": "supports"}\n')
    db = bundled_home / "claims.db"
    engine = create_engine(f"sqlite:///{db}")

    def counts() -> tuple[int, ...]:
        with engine.connect() as conn:
            return tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                         for t in ("agent_runs", "retest_plans", "evidence", "papers"))

    before = counts()
    for corpus, fragment in ((binary, "binary file"), (broken, ":2:")):
        args = [a.replace("LABELS", str(labels)) for a in command]
        line = error_line(claims(*args, "--corpus", str(corpus), env=clean_env(bundled_home)), 2)
        assert fragment in line
    assert counts() == before
    engine.dispose()


def test_an_empty_database_file_is_refused_not_silently_made_new(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "claims.db").write_bytes(b"")
    for args in (["list"], ["export"], ["show", "C1"]):
        line = error_line(claims(*args, env=clean_env(home)), 3)
        assert "is empty (0 bytes), not a claims database" in line and "claims init" in line
    assert (home / "claims.db").stat().st_size == 0  # untouched
    assert "not initialised yet" in claims("info", env=clean_env(home)).stdout  # info only looks
    r = claims("init", env=clean_env(home))
    assert r.returncode == 0, r.stderr
    assert claims("list", env=clean_env(home)).returncode == 0
