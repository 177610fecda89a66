"""An evidence row's stance has one writer (`claims.stances`), and the machine never overwrites a
reviewed stance there: the judge, the screen and a new abstract all go through it.

The scan below finds every assignment to a stance field in claims/, agent/ and ui/ and
every `Evidence(...)` built with one; it is tested on snippets, so that finding nothing
means something.
"""

from __future__ import annotations

import ast

import pytest

from claims import stances
from claims.models import Evidence
from tests.conftest import REPO

FIELDS = {"stance", "stance_reviewed_by", "stance_reviewed_at", "judged_by", "judged_at", "judge_error",
          "prompt_version", "judged_claim_revision", "judged_paper_version"}
WRITER = "claims/stances.py"


def stance_writes(source: str) -> list[str]:
    """Line and field of each write of a stance field in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            for el in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(el, ast.Attribute) and el.attr in FIELDS:
                    found.append(f"{node.lineno}: .{el.attr} = ...")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Evidence":
            found += [f"{node.lineno}: Evidence({k.arg}=...)" for k in node.keywords if k.arg in FIELDS]
    return found


@pytest.mark.parametrize("snippet, expected", [
    ("row.stance = 'x'\n", ".stance"),
    ("row.stance, row.confidence = 'x', 1.0\n", ".stance"),
    ("e.stance_reviewed_by, e.stance_reviewed_at = n, t\n", ".stance_reviewed_by"),
    ("row = Evidence(claim_id=1, stance='unjudged')\n", "Evidence(stance"),
])
def test_the_scan_finds_each_kind_of_stance_write(snippet: str, expected: str) -> None:
    assert any(expected in w for w in stance_writes(snippet)), stance_writes(snippet)


def test_only_claims_stances_writes_a_stance() -> None:
    offenders = {str(p.relative_to(REPO)): found for package in ("claims", "agent", "ui")
                 for p in sorted((REPO / package).rglob("*.py"))
                 if str(p.relative_to(REPO)) != WRITER and (found := stance_writes(p.read_text()))}
    assert offenders == {}, "write a stance through claims.stances"
    assert stance_writes((REPO / WRITER).read_text())  # the writer itself is seen by the scan


def reviewed_row() -> Evidence:
    row = Evidence(claim_id=1, paper_id="2601.00001", stance="contradicts", confidence=1.0, rationale="a reviewer's")
    stances.review(row, "ana")
    return row


@pytest.mark.parametrize("write", [
    lambda row: stances.judge(row, "supports", 0.9, conditions="", rationale="judge", quote="", judged_by="m",
                              prompt_version="v9", judge_error=None, claim_revision=1, paper_version=2),
    lambda row: stances.flag(row, "screened: instructions to a model"),
    lambda row: stances.send_back(row, "re-judge: a new abstract"),
], ids=["judge", "screen", "new abstract"])
def test_the_machine_never_overwrites_a_reviewed_stance(write) -> None:
    row = reviewed_row()
    assert write(row) is False
    assert (row.stance, row.confidence, row.rationale, row.stance_reviewed_by) == ("contradicts", 1.0, "a reviewer's",
                                                                                   "ana")


def test_the_machine_writes_an_unreviewed_stance() -> None:
    row = Evidence(claim_id=1, paper_id="2601.00001", stance="supports", confidence=0.8)
    assert stances.send_back(row, "re-judge: a new abstract") and (row.stance, row.confidence) == ("unjudged", None)
    assert stances.flag(row, "screened: x") and row.stance == "flagged" and row.judge_error == "screened: x"
    assert stances.judge(row, "supports", 0.9, conditions="", rationale="", quote="", judged_by="m",
                         prompt_version="v1", judge_error=None, claim_revision=1, paper_version=1) is False  # flagged
    assert stances.unflag(row) and row.stance == "unjudged"
    stances.review(row, "ana", "refines", "narrower than claimed")
    assert (row.stance, row.confidence, row.rationale, row.stance_reviewed_by) == ("refines", 1.0,
                                                                                   "narrower than claimed", "ana")
