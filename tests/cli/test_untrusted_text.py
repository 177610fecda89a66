"""Text from documents, papers and models is shown literally and never controls the terminal.

A claim text, a proposal and an arXiv title carry Rich markup (`[/]`, `[bold]`), an ANSI
colour, an OSC-8 hyperlink, a bidi override and an emoji code. `list`, `show`, `search`
and `review list` must exit 0, show the brackets as written, and print every control
character as a visible escape, also when Rich believes it writes to a colour terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.cli.conftest import add_proposal, claims, clean_env, db_url

HOSTILE = "[/] [bold]B[/bold] \x1b[31mR\x1b[0m \x1b]8;;http://x\x1b\\L\x1b]8;;\x1b\\ \u202eE\u202c :smile: \x07"
SHOWN = ["[/]", "[bold]B[/bold]", "\\x1b[31mR\\x1b[0m", "\\x1b]8;;http://x\\x1b\\L", "\\u202eE\\u202c", ":smile:"]


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """Bundled claims with a hostile C2 text and proposal, and a hostile paper found by `search` for C1."""
    from claims.models import Claim
    from claims.store import open_store

    home = tmp_path_factory.mktemp("hostile") / "home"
    env = clean_env(home)
    assert claims("import", "--bundled", env=env).returncode == 0
    store = open_store(db_url(home))
    with store.write() as s:
        s.execute(update(Claim).where(Claim.key == "C2").values(text=f"Sparse updates {HOSTILE}"))
    store.dispose()
    add_proposal(db_url(home), "C2", kind="text", proposed_status=None, proposed_text=HOSTILE, rationale=HOSTILE)
    corpus = home.parent / "hostile.jsonl"
    paper = {"id": "2601.00001", "title": f"{HOSTILE} RL teaches when to reason", "published": "2026-01",
             "summary": "RL teaches when to reason, not how; base model priors already contain the reasoning "
                        "strategies; routing tokens recovers most of the gains without weight updates."}
    corpus.write_text(json.dumps(paper) + "\n", encoding="utf-8")
    search = claims("search", "--claim", "C1", "--corpus", str(corpus), env=env, timeout=300)
    return home, search


def assert_shown_literally(out: str, forced_terminal: bool = False) -> None:
    if forced_terminal:  # Rich's own styling is allowed; the text's sequences are not
        assert "\x1b[31m" not in out and "\x1b]8" not in out and "\u202e" not in out and "\x07" not in out
    else:
        assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    for fragment in SHOWN:
        assert fragment in out, (fragment, out)


def test_search_shows_a_hostile_title_literally(hostile_home) -> None:
    _, r = hostile_home
    assert r.returncode == 0, r.stderr
    assert "2601.00001" in r.stdout
    assert_shown_literally(r.stdout + r.stderr)


@pytest.mark.parametrize("forced_terminal", [False, True], ids=["pipe", "FORCE_COLOR"])
@pytest.mark.parametrize("args", [["list"], ["show", "C2"], ["show", "C1"], ["review", "list"]],
                         ids=["list", "show-claim", "show-paper", "review-list"])
def test_hostile_text_is_shown_literally(hostile_home, args: list[str], forced_terminal: bool) -> None:
    home, search = hostile_home
    assert search.returncode == 0, search.stderr
    extra = {"FORCE_COLOR": "1", "TERM": "xterm-256color"} if forced_terminal else {}
    r = claims(*args, env=clean_env(home, **extra))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert_shown_literally(r.stdout, forced_terminal)
    if forced_terminal and args != ["review", "list"]:  # (review list is plain text)
        assert "\x1b[" in r.stdout  # Rich did style the output: the check above ran against a "terminal"


def test_json_output_keeps_the_stored_text_exactly(hostile_home) -> None:
    home, _ = hostile_home
    r = claims("list", "--format", "json", env=clean_env(home))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout  # JSON escapes controls itself (\u001b)
    assert {row["key"]: row["text"] for row in json.loads(r.stdout)}["C2"] == f"Sparse updates {HOSTILE}"


PROGRESS = """
from claims.cli.context import Progress
progress = Progress()
assert progress.tty, "stderr should be a terminal here"
progress.log("source unavailable: " + {hostile!r})
"""


def test_progress_lines_on_a_terminal_escape_untrusted_text(tmp_path: Path) -> None:
    """Progress on a real terminal (a pty) goes through Rich: the message must still be inert."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", PROGRESS.format(hostile=HOSTILE)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=follower, env=clean_env(tmp_path / "home", TERM="xterm"))
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "source unavailable" in shown
    assert_shown_literally(shown, forced_terminal=True)
