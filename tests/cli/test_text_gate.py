"""One text gate for every way text gets in, as processes: controls, C1 and bidi refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from claims.models import Claim, Evidence, Paper, Proposal
from claims.store import open_store
from tests.cli.conftest import add_proposal, claims, clean_env, db_url, error_line

BAD = {"ESC": "x\x1b[2J", "BEL": "ok\x07", "C1 CSI": "ok\x9b31m", "C1 NEL": "ok\x85", "bidi": "ok\u202egnp.exe",
       "NUL": "ok\x00"}


def _state(url: str) -> tuple:
    store = open_store(url)
    try:
        with store.read() as s:
            texts = tuple(s.scalars(select(Claim.text).order_by(Claim.key)))
            states = tuple(s.scalars(select(Proposal.state).order_by(Proposal.id)))
            rationale = tuple(s.scalars(select(Evidence.rationale).order_by(Evidence.id)))
        return texts, states, rationale
    finally:
        store.dispose()


@pytest.mark.parametrize("kind", list(BAD))
def test_decision_text_and_comments_pass_the_gate(bundled_home: Path, kind: str) -> None:
    url, env = db_url(bundled_home), clean_env(bundled_home)
    pid = add_proposal(url, rationale=f"gate {kind}")
    store = open_store(url)
    with store.write() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        paper = f"2601.{len(kind):05d}{sorted(BAD).index(kind)}"
        s.add(Paper(arxiv_id=paper, title="A paper"))
        s.flush()
        ev = Evidence(claim_id=c1.id, paper_id=paper, relevance=0.5, rank=1, method="hybrid")
        s.add(ev)
        s.flush()
        eid = ev.id
    store.dispose()
    before = _state(url)
    bad = BAD[kind]
    for args, field in ((["review", "approve", str(pid), "--as", "alice", "--text", bad], "--text"),
                        (["review", "approve", str(pid), "--as", "alice", "--comment", bad], "--comment"),
                        (["review", "reject", str(pid), "--as", "alice", "--comment", bad], "--comment"),
                        (["evidence", "set", str(eid), "--stance", "refines", "--as", "alice", "--comment", bad],
                         "--comment"),
                        (["review", "approve", str(pid), "--as", f"al{bad}ice"], "reviewer name")):
        if "\x00" in bad:  # no process argument can carry NUL; the library refuses it (below)
            continue
        line = error_line(claims(*args, env=env), 2)
        assert field in line and "refusing U+" in line, line
        assert "\x1b" not in line and "\x9b" not in line
    assert _state(url) == before  # nothing written


def test_blank_edit_text_is_refused_not_an_approval_of_the_original(bundled_home: Path) -> None:
    url, env = db_url(bundled_home), clean_env(bundled_home)
    pid = add_proposal(url, kind="text", proposed_text="RL sharpens what is there.", proposed_status=None)
    before = _state(url)
    line = error_line(claims("review", "approve", str(pid), "--as", "alice", "--text", "   ", env=env), 2)
    assert "--text" in line and "is empty" in line
    assert _state(url) == before


def test_the_library_refuses_nul_and_c1_on_every_path(bundled_store) -> None:  # type: ignore[no-untyped-def]
    from claims import review
    from claims.authoring import NewClaim, add_claim
    from claims.errors import BadInput
    from claims.reviewers import add_reviewer

    for bad in ("x\x00y", "x\x85y", "x\x9by", "x\u2066y"):
        for call in (lambda: add_claim(s, NewClaim(f"RL {bad} sharpens", "2025", "mine", question="Q?"), "alice"),
                     lambda: add_reviewer(s, f"bob{bad}"),
                     lambda: review.reject(s, 1, "alice", f"no {bad}")):
            with pytest.raises(BadInput, match="refusing U\\+"):
                with bundled_store.write() as s:
                    call()


def test_documents_and_json_files_refuse_c1_controls(bundled_home: Path, tmp_path: Path) -> None:
    from claims.importer import bundled_path

    env = clean_env(tmp_path / "fresh")
    doc = tmp_path / "c1.txt"
    text = bundled_path().read_text(encoding="utf-8")
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("\u2022"))
    lines = text.splitlines()
    lines[line_no - 1] = lines[line_no - 1].replace(" ", " \x9b", 1)
    doc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = error_line(claims("import", str(doc), env=env), 2)
    assert f"{doc}:{line_no}:" in line and "U+009B" in line
    exported = claims("export", "--format", "json", env=clean_env(bundled_home))
    data = json.loads(exported.stdout)
    data["claims"][1]["text"] += " \x85"
    path = tmp_path / "c1.json"
    path.write_text(json.dumps(data))
    line = error_line(claims("import", str(path), env=env), 2)
    assert "claims[1].text" in line and "U+0085" in line
    assert not (tmp_path / "fresh" / "claims.db").exists()


def test_text_stored_before_the_gate_is_escaped_in_the_exported_prompt(bundled_store) -> None:  # type: ignore[no-untyped-def]
    from claims.export import build_export, render_markdown

    with bundled_store.write() as s:
        s.scalar(select(Claim).where(Claim.key == "C1")).text = "RL sharpens \x1b[2J\x9b31m\u202e\x07 what is there"
    with bundled_store.read() as s:
        md = render_markdown(build_export(s))
    assert not any(ch in md for ch in "\x1b\x9b\u202e\x07")
    assert "RL sharpens \\x1b[2J\\x9b31m\\u202e\\x07 what is there" in md
