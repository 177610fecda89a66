"""Importing the bundled document and documents of its shape."""

import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from claims.document import parse_document
from claims.errors import DocumentError
from claims.importer import import_bundled, import_path
from claims.models import Anchor, AuditEntry, Claim, Inquiry, Proposal, SourceNote
from claims.queries import claim_summaries

BUNDLED_ANCHORS = {"2504.07912": "2025-05", "2505.11711": "2025-05", "2404.12253": "2024-04", "2510.13786": "2026-05"}


def counts(store):
    with store.read() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Inquiry, Claim, SourceNote, Anchor, Proposal, AuditEntry)}


def test_bundled_document_gives_the_expected_rows(any_store):
    result = import_bundled(any_store)
    assert result.outcome == "created"
    c = counts(any_store)
    assert (c["inquiries"], c["claims"], c["source_notes"], c["anchors"]) == (1, 5, 10, 4)
    with any_store.read() as s:
        claims = claim_summaries(s)
        anchors = {a.arxiv_id: a.cited_date for a in s.scalars(select(Anchor))}
        protocols = {c.key: c.protocol for c in s.scalars(select(Claim))}
    assert [c["key"] for c in claims] == ["C1", "C2", "C3", "C4", "C5"]
    assert [c["as_of"] for c in claims] == ["~2025", "~2025", "~2025", "~2024\u20132025", "~2025\u20132026"]
    assert claims[3]["as_of_precision"] == "range" and claims[0]["as_of_precision"] == "year"
    assert claims[1]["text"].startswith("RL updates only 5\u201330% of parameters")
    assert anchors == BUNDLED_ANCHORS
    assert protocols == {"C1": "passk-boundary", "C2": "update-sparsity", "C3": "format-collapse", "C4": "label-free-search",
                         "C5": "hard-samples"}


def test_reimport_is_a_no_op(any_store):
    import_bundled(any_store)
    before = counts(any_store)
    again = import_bundled(any_store)
    assert again.outcome == "unchanged" and "nothing to do" in again.message()
    assert counts(any_store) == before


def test_changed_document_becomes_proposals_not_overwrites(store, tmp_path, bundled_path_text):
    import_bundled(store)
    changed = bundled_path_text.replace("(~2025).\n\u2022 RL collapses", "(2025-06).\n\u2022 RL collapses").replace(
        "arXiv:2510.13786 (2026-05)", "arXiv:2510.13786 (2025-10)")
    doc = tmp_path / "changed.txt"
    doc.write_text(changed)
    result = import_path(store, doc)
    assert result.outcome == "changed"
    with store.read() as s:
        c2 = s.scalar(select(Claim).where(Claim.key == "C2"))
        assert c2.as_of == "~2025"  # untouched until a reviewer approves
        kinds = sorted(p.kind for p in s.scalars(select(Proposal)))
    assert kinds == ["anchor", "text"]
    # importing the same changed document again does not duplicate the proposals
    assert import_path(store, doc).proposals == []
    assert counts(store)["proposals"] == 2


@pytest.fixture
def bundled_path_text():
    from claims.importer import bundled_path

    return bundled_path().read_text()


BROKEN = [
    ("no header", lambda t: t.replace("INQUIRING LINE", "SOMETHING ELSE", 1), 1, "INQUIRING LINE"),
    ("undated finding", lambda t: t.replace("within one epoch; SFT on diverse demos preserves exploration breadth (~2025).",
                                            "within one epoch; SFT on diverse demos preserves exploration breadth."), None, "date such as"),
    ("bad anchor", lambda t: t.replace("arXiv:2505.11711 (2025-05)", "arXiv 2505.11711 [2025-05]"), None, "anchor"),
    ("missing note", lambda t: t.replace("Does binary reward training hurt model calibration?\n", "", 1), None, "question/summary pairs"),
    ("bad date", lambda t: t.replace("(~2024\u20132025)", "(~2025\u20132024)"), None, "ends before it starts"),
]


@pytest.mark.parametrize("name,mutate,line,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_malformed_document_names_the_line_and_changes_nothing(store, tmp_path, bundled_path_text, name, mutate, line, expected):
    import_bundled(store)
    before = counts(store)
    broken = mutate(bundled_path_text)
    assert broken != bundled_path_text
    path = tmp_path / "broken.txt"
    path.write_text(broken.replace("Does the pretrained model prior", "Does another prior"))
    with pytest.raises(DocumentError, match=expected) as info:
        import_path(store, path)
    assert info.value.line is not None
    if line:
        assert info.value.line == line
    assert counts(store) == before


def test_unicode_variants_parse_the_same(bundled_path_text):
    plain = parse_document(bundled_path_text)
    variant = parse_document(bundled_path_text.replace("\u2014", "-").replace("~", "\u223c").replace("'", "\u2019").replace("\n", "\r\n"))
    assert [f.as_of.start for f in plain.findings] == [f.as_of.start for f in variant.findings]
    assert [a.arxiv_id for a in plain.anchors] == [a.arxiv_id for a in variant.anchors]
    assert len(variant.notes) == 10


def run_cli(*args, env):
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def cli_env(home):
    import os

    return {**os.environ, "CLAIMS_HOME": str(home)}


def test_cli_import_list_show(cli_env):
    r = run_cli("import", "--bundled", env=cli_env)
    assert r.returncode == 0, r.stderr
    listed = json.loads(run_cli("list", "--format", "json", env=cli_env).stdout)
    assert [(c["key"], c["as_of"]) for c in listed][:2] == [("C1", "~2025"), ("C2", "~2025")]
    assert all({"key", "text", "as_of", "status"} <= set(c) for c in listed)
    shown = json.loads(run_cli("show", "C2", "--format", "json", env=cli_env).stdout)
    assert {a["id"] for a in shown["inquiry"]["anchors"]} == set(BUNDLED_ANCHORS)
    assert len(shown["inquiry"]["source_notes"]) == 10
    r = run_cli("import", "--bundled", env=cli_env)
    assert "unchanged" in r.stdout


def test_cli_malformed_document_exits_2_with_one_line(cli_env, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("INQUIRING LINE\n\nA question?\n\nSummary.\n")
    r = run_cli("import", str(bad), env=cli_env)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "Sources N notes" in r.stderr
    r = run_cli("show", "C9", env=cli_env)
    assert r.returncode == 2 and "no claim 'C9'" in r.stderr
