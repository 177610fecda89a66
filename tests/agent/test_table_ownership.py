"""`claims/` is the only writer of its tables: a static scan of agent/, ui/ and retest/.

Flagged outside claims/: a session's add/add_all/delete/merge/bulk_*; sqlalchemy's
insert/update/delete; constructing a claims model (a row to be); assigning a column
attribute on a row read through a session (`row = s.get(...)`, `for row in
s.scalars(...)`, `s.scalar(...)`, `.first()`/`.one()`). The scanner is tested on
snippets with each kind of write, so that a scan that finds nothing means something.
"""

from __future__ import annotations

import ast

import pytest

from claims.models import Base
from tests.conftest import REPO

SCANNED = ("agent", "ui", "retest")  # benchmarks/ build synthetic databases, like test fixtures
SESSION_WRITES = {"add", "add_all", "delete", "merge", "bulk_save_objects", "bulk_insert_mappings",
                  "bulk_update_mappings"}
READS = {"get", "scalar", "one", "first", "one_or_none", "get_one"}
MODELS = {m.class_.__name__ for m in Base.registry.mappers}
COLUMNS = {c.key for m in Base.registry.mappers for c in m.column_attrs} | {
    r.key for m in Base.registry.mappers for r in m.relationships}


def _is_session(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name in ("s", "db", "sess") or name.endswith("session")


def _is_row_read(call: ast.AST) -> bool:
    """A call that returns ORM rows: s.get(...), s.scalar(...), s.scalars(...)[.first()], ..."""
    while isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        if _is_session(call.func.value) and call.func.attr in READS | {"scalars"}:
            return True
        if call.func.attr not in READS | {"all", "scalars"}:
            return False
        call = call.func.value
    return False


def writes(source: str) -> list[str]:
    """Every write of a claims table in a module's source, as 'line: what'."""
    tree = ast.parse(source)
    found: list[str] = []
    dml = set()
    models = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
            dml |= {a.asname or a.name for a in node.names if a.name in ("insert", "update", "delete")}
        if isinstance(node, ast.ImportFrom) and node.module == "claims.models":
            models |= {a.asname or a.name for a in node.names if a.name in MODELS}
    rows: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_row_read(node.value):
            rows |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, (ast.For, ast.comprehension)) and _is_row_read(node.iter) and isinstance(node.target, ast.Name):
            rows.add(node.target.id)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in SESSION_WRITES and _is_session(f.value):
                found.append(f"{node.lineno}: session.{f.attr}")
            if isinstance(f, ast.Name) and f.id in dml | models:
                found.append(f"{node.lineno}: {f.id}(...)")
            if isinstance(f, ast.Attribute) and f.attr in ("insert", "update", "delete") and \
                    isinstance(f.value, ast.Name) and f.value.id in ("sa", "sqlalchemy"):
                found.append(f"{node.lineno}: {f.value.id}.{f.attr}(...)")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for t in targets:
            for el in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(el, ast.Attribute) and el.attr in COLUMNS and (
                        (isinstance(el.value, ast.Name) and el.value.id in rows) or _is_row_read(el.value)):
                    found.append(f"{node.lineno}: row.{el.attr} = ...")
    return sorted(set(found), key=lambda x: int(x.split(":")[0]))


@pytest.mark.parametrize("snippet, expected", [
    ("def f(s):\n    s.add(x)\n", "session.add"),
    ("def f(session):\n    session.delete(x)\n", "session.delete"),
    ("from sqlalchemy import update\ndef f(s):\n    s.execute(update(T).values(a=1))\n", "update(...)"),
    ("from claims.models import Evidence\ndef f():\n    return Evidence(claim_id=1)\n", "Evidence(...)"),
    ("def f(s):\n    row = s.get(E, 1)\n    row.stance = 'x'\n", "row.stance"),
    ("def f(s):\n    for r in s.scalars(q):\n        r.last_checked_at = 1\n", "row.last_checked_at"),
    ("def f(s):\n    s.get(E, 1).retest_run_id = 3\n", "row.retest_run_id"),
    ("def f(s):\n    e = s.scalars(q).first()\n    e.status, e.errors = 'a', []\n", "row.status"),
])
def test_the_scanner_finds_each_kind_of_write(snippet: str, expected: str) -> None:
    assert any(expected in w for w in writes(snippet)), writes(snippet)


def test_the_scanner_leaves_plain_objects_alone() -> None:
    clean = ("def f(s, seen):\n    seen.add(1)\n    check = Check()\n    check.status = 'ok'\n"
             "    rows = s.scalars(q).all()\n    return [r.key for r in rows]\n")
    assert writes(clean) == []


def test_no_module_outside_claims_writes_a_claims_table() -> None:
    offenders = {}
    for package in SCANNED:
        for path in sorted((REPO / package).rglob("*.py")):
            found = writes(path.read_text())
            if found:
                offenders[str(path.relative_to(REPO))] = found
    assert offenders == {}, "write through a claims service instead (claims/evidence.py, runs.py, ...)"
