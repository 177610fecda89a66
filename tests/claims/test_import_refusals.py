"""What the importer refuses, and how: one line, exit 2, the line number where there is one."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from claims.document import parse_document
from claims.errors import BadInput, DocumentError
from claims.importer import MAX_DOCUMENT_BYTES, bundled_path, import_path, read_document
from claims.models import Claim, Inquiry

FIRST = "RL teaches *when* to reason, not *how*"  # the start of the first finding (line 68)
FINDING_LINE = 68


@pytest.fixture
def text() -> str:
    return bundled_path().read_text()


def claims(*args: str, env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env, timeout=timeout)


def special_file(kind: str, tmp_path: Path) -> Path:
    if kind == "directory":
        return tmp_path
    if kind == "symlink loop":
        a, b = tmp_path / "a.txt", tmp_path / "b.txt"
        a.symlink_to(b)
        b.symlink_to(a)
        return a
    if kind == "FIFO":
        fifo = tmp_path / "doc.fifo"
        os.mkfifo(fifo)
        return fifo
    if kind == "too large":
        big = tmp_path / "big.txt"
        big.write_text(bundled_path().read_text() + "x" * MAX_DOCUMENT_BYTES)
        return big
    return Path("/dev/zero")


KINDS = {"directory": "is a directory", "symlink loop": "symbolic links", "FIFO": "FIFO",
         "/dev/zero": "character device", "too large": "limited to 1,048,576 bytes"}


@pytest.mark.parametrize("kind", list(KINDS))
def test_files_that_are_not_documents_are_refused_as_processes(kind, home, tmp_path):
    path = special_file(kind, tmp_path)
    r = claims("import", str(path), env={**os.environ, "CLAIMS_HOME": str(home)}, timeout=30)  # a FIFO must not hang
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert KINDS[kind] in r.stderr and str(path) in r.stderr


def test_a_document_at_the_size_limit_is_read(tmp_path, text):
    path = tmp_path / "padded.txt"
    path.write_bytes(text.encode() + b" " * (MAX_DOCUMENT_BYTES - len(text.encode())))
    assert len(read_document(path).encode()) == MAX_DOCUMENT_BYTES
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(BadInput, match="limited to"):
        read_document(path)


def count(store, model) -> int:
    with store.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_same_finding_twice_names_both_lines_and_writes_nothing(store, tmp_path, text):
    line = next(x for x in text.splitlines() if x.startswith("\u2022 " + FIRST))
    doc = tmp_path / "twice.txt"
    # the copy differs only in case and spacing: still the same finding
    doc.write_text(text.replace(line, line + "\n" + line.upper().replace(" ", "  ")))
    with pytest.raises(DocumentError, match=f"appears twice, on lines {FINDING_LINE} and {FINDING_LINE + 1}") as info:
        import_path(store, doc)
    assert info.value.line == FINDING_LINE + 1
    assert count(store, Claim) == 0 and count(store, Inquiry) == 0


@pytest.mark.parametrize("date,today,refused", [
    ("~2099", None, "after today"),
    ("2026-12", dt.date(2026, 11, 30), "after today"),   # a month that has not begun
    ("2026-12", dt.date(2026, 12, 1), None),   # ... and once it has
    ("~2025\u20132099", dt.date(2026, 11, 30), "ends in 2099, after this year"),  # a range into the future
    ("~2025\u20132026", dt.date(2026, 11, 30), None),  # a range up to this year
])
def test_a_finding_dated_after_today_is_refused_with_its_line(text, date, today, refused):
    line = next(x for x in text.splitlines() if x.startswith("\u2022 " + FIRST))
    changed = text.replace(line, line.rsplit("(", 1)[0] + f"({date}).")
    if not refused:
        assert parse_document(changed, today=today).findings[0].as_of.raw == date
        return
    with pytest.raises(DocumentError, match=refused) as info:
        parse_document(changed, today=today)
    assert info.value.line == FINDING_LINE


def test_cli_refuses_a_future_finding_with_exit_2(home, tmp_path, text):
    doc = tmp_path / "future.txt"
    doc.write_text(text.replace("(~2024\u20132025)", "(~2099)"))
    r = claims("import", str(doc), env={**os.environ, "CLAIMS_HOME": str(home)})
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert f"{doc}:71: the finding's date '~2099' is after today" in r.stderr
    assert not (home / "claims.db").exists()  # a refused document creates no database


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\u2066", "\u202a"])
def test_nul_controls_and_bidi_overrides_are_refused_with_their_line(text, char):
    broken = text.replace(FIRST, FIRST[:5] + char + FIRST[5:])
    with pytest.raises(DocumentError, match=f"U\\+{ord(char):04X}") as info:
        parse_document(broken)
    assert info.value.line == FINDING_LINE


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_zero_width_characters_are_removed(store, tmp_path, text, char):
    plain = parse_document(text)
    doc = tmp_path / "zw.txt"
    doc.write_text(text.replace(FIRST, FIRST[:5] + char + FIRST[5:]).replace("RL search", "RL" + char + " search"))
    import_path(store, doc)
    with store.read() as s:
        stored = s.scalar(select(Claim.text).where(Claim.key == "C1"))
        question = s.scalar(select(Inquiry.question))
    assert stored == plain.findings[0].text and char not in stored
    assert question == plain.question
    assert parse_document(doc.read_text()).content_hash == plain.content_hash
