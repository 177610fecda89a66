"""Claim and inquiry rows are made in one place (claims.creation), whoever creates them."""

from __future__ import annotations

import ast

from tests.conftest import REPO


def _constructions(name: str) -> list[str]:
    found = []
    for path in sorted((REPO / "claims").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
                found.append(str(path.relative_to(REPO)))
    return sorted(set(found))


def test_claims_and_inquiries_are_constructed_only_in_claims_creation() -> None:
    assert _constructions("Claim") == ["claims/creation.py"]
    assert _constructions("Inquiry") == ["claims/creation.py"]
