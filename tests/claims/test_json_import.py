"""Structured import: a `claims export --format json` file round-trips, re-imports as a no-op, changes become proposals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from claims.textgate import _REFUSED
from claims.errors import BadInput, Conflict
from claims.exchange import exchange_schema, import_exchange, parse_exchange
from claims.export import build_export
from claims.models import AuditEntry, Claim, Inquiry, Proposal
from claims.store import open_store

REPO = Path(__file__).resolve().parents[2]


def claims(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")} | {"CLAIMS_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "claims", *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120, stdin=subprocess.DEVNULL)


def export_json(store) -> dict:
    with store.read() as s:
        return build_export(s)


def rows(store) -> tuple[int, ...]:
    with store.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Inquiry, Claim, Proposal, AuditEntry))


def test_the_published_schema_is_the_one_the_importer_uses():
    published = json.loads((REPO / "docs" / "import-schema.json").read_text())
    assert published == exchange_schema()


def test_round_trip_through_the_commands(tmp_path):
    """Demo database -> JSON -> empty database -> JSON: the same, byte for byte."""
    a, b = tmp_path / "a", tmp_path / "b"
    for args in (("import", "--bundled"), ("protocol", "attach", "C4", "update-sparsity", "--as", "alice"),
                 ("edit", "C2", "--status", "contested", "--as", "alice", "--approve"),
                 ("add", "RL mostly reweights what the base model samples", "--as-of", "2025-06", "--inquiry",
                  "does-the-pretrained-model-prior-limit-rl-search-capability", "--as", "alice")):
        r = claims(*args, home=a)
        assert r.returncode == 0, r.stderr
    first, second = tmp_path / "x.json", tmp_path / "y.json"
    assert claims("export", "--format", "json", "-o", str(first), home=a).returncode == 0
    r = claims("import", str(first), home=b)
    assert r.returncode == 0 and "6 claims" in r.stdout, r.stderr
    assert claims("export", "--format", "json", "-o", str(second), home=b).returncode == 0
    x, y = json.loads(first.read_text()), json.loads(second.read_text())
    assert [(c["key"], c["status"], c["protocol"]) for c in y["claims"]][1:4] == [
        ("C2", "contested", "update-sparsity"), ("C3", "unreviewed", "format-collapse"),
        ("C4", "unreviewed", "update-sparsity")]
    assert len(y["inquiry"]["source_notes"]) == 10 and len(y["anchors"]) == 4
    assert x == y
    again = claims("import", str(first), home=b)
    assert again.returncode == 0 and "unchanged: nothing to do" in again.stdout


def test_reimport_writes_nothing_and_a_changed_file_gives_proposals(bundled_store, tmp_path):
    data = export_json(bundled_store)
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    with other.write() as s:
        assert import_exchange(s, parse_exchange(json.dumps(data))).outcome == "created"
    before = rows(other)
    with other.write() as s:
        assert import_exchange(s, parse_exchange(json.dumps(data))).outcome == "unchanged"
    assert rows(other) == before

    changed = json.loads(json.dumps(data))
    changed["claims"][0]["text"] = "RL teaches when to reason (reworded)"
    changed["claims"][1]["status"] = "contested"
    changed["claims"][3]["protocol"] = "passk-boundary"
    del changed["claims"][4]
    changed["claims"].append({"key": "C9", "text": "A brand new finding", "as_of": "2025-02"})
    changed["anchors"][0]["cited_label"] = "relabelled"
    with other.write() as s:
        result = import_exchange(s, parse_exchange(json.dumps(changed)))
    assert result.outcome == "changed" and len(result.proposals) == 5
    with other.read() as s:
        kinds = sorted(p.kind for p in s.scalars(select(Proposal).where(Proposal.state == "pending")))
        assert kinds == ["anchor", "new_claim", "retire", "status", "text"]
        claims_now = {c.key: c for c in s.scalars(select(Claim))}
        assert claims_now["C1"].text == data["claims"][0]["text"] and claims_now["C2"].status == "unreviewed"
        assert claims_now["C4"].protocol == "passk-boundary"  # not reviewed content: applied, audited
    other.dispose()


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d["claims"][2].__setitem__("as_of", "2025-13"), "claims[2].as_of"),
    (lambda d: d["claims"][1].__setitem__("key", 5), "claims[1].key"),
    (lambda d: d["claims"][0].pop("text"), "claims[0].text"),
    (lambda d: d["inquiry"].pop("question"), "inquiry.question"),
    (lambda d: d["claims"][0].__setitem__("status", "true"), "claims[0].status"),
    (lambda d: d["claims"][3].__setitem__("as_of", "2999"), "claims[3].as_of"),
    (lambda d: d["claims"][3].__setitem__("as_of", "~2025-2099"), "claims[3].as_of"),
    (lambda d: d["claims"][0].__setitem__("status_since", "2099-01-01"), "claims[0].status_since"),
    (lambda d: d["anchors"][1].__setitem__("cited_date", "2099-01"), "anchors[1].cited_date"),
    (lambda d: d["claims"][3].__setitem__("text", "bad\u202etext"), "claims[3].text"),
    (lambda d: d["claims"][4].__setitem__("key", "C1"), "claims[4].key"),
    (lambda d: d["claims"][4].__setitem__("protocol", "nope"), "claims[4].protocol"),
    (lambda d: d["anchors"][1].__setitem__("id", "not an id"), "anchors[1].id"),
    (lambda d: d.__setitem__("claims", []), "claims"),
])
def test_a_malformed_file_names_the_field_and_writes_nothing(bundled_store, tmp_path, mutate, path):
    data = export_json(bundled_store)
    mutate(data)
    with pytest.raises(BadInput) as err:
        parse_exchange(json.dumps(data), source="f.json")
    assert str(err.value).startswith(f"f.json: {path}: "), str(err.value)


def test_a_key_named_twice_is_refused_not_resolved_last_wins(bundled_store):
    text = json.dumps(export_json(bundled_store))
    twice = text.replace('"as_of": ', '"as_of": "2024", "as_of": ', 1)
    with pytest.raises(BadInput, match="key 'as_of': a JSON object names it twice"):
        parse_exchange(twice, source="f.json")


def test_a_malformed_file_through_the_command_is_exit_2_and_no_database(bundled_store, tmp_path):
    data = export_json(bundled_store)
    data["claims"][2]["as_of"] = "last spring"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    home = tmp_path / "empty"
    r = claims("import", str(bad), home=home)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: {bad}: claims[2].as_of: ") and len(r.stderr.splitlines()) == 1
    assert not (home / "claims.db").exists()
    bad.write_text('{"inquiry": ')
    r = claims("import", str(bad), home=home)
    assert r.returncode == 2 and "Invalid JSON" in r.stderr


def test_keys_taken_by_another_inquiry_are_a_conflict(bundled_store):
    data = export_json(bundled_store)
    data["inquiry"]["question"] = "A different question?"
    before = rows(bundled_store)
    with pytest.raises(Conflict, match="C1, C2, C3, C4, C5"):
        with bundled_store.write() as s:
            import_exchange(s, parse_exchange(json.dumps(data)))
    assert rows(bundled_store) == before


IMPORTED = {"claims": ("key", "text", "as_of", "status", "protocol"), "anchors": ("id", "cited_label", "cited_date")}


def imported_fields(export: dict) -> dict:
    """What the import reads from an export (everything else is derived from the database)."""
    return {"inquiry": export["inquiry"], "tasks": export["tasks"],
            **{part: [{k: item[k] for k in keys} for item in export[part]] for part, keys in IMPORTED.items()}}


@pytest.mark.slow
def test_round_trip_of_a_demo_database_with_evidence_and_verified_anchors(tmp_path):
    """Demo run -> JSON -> empty database: the imported fields equal at once; the next run rebuilds the rest."""
    a, b = tmp_path / "a", tmp_path / "b"
    for args in (("import", "--bundled"), ("agent", "run", "--corpus", "demo", "--no-llm")):
        assert claims(*args, home=a).returncode == 0
    first, second, third = tmp_path / "x.json", tmp_path / "y.json", tmp_path / "z.json"
    assert claims("export", "--format", "json", "-o", str(first), home=a).returncode == 0
    x = json.loads(first.read_text())
    assert any(c["evidence"] for c in x["claims"]) and {an["status"] for an in x["anchors"]} >= {"verified"}
    assert claims("import", str(first), home=b).returncode == 0
    assert claims("export", "--format", "json", "-o", str(second), home=b).returncode == 0
    assert imported_fields(json.loads(second.read_text())) == imported_fields(x)
    third_home = tmp_path / "c"  # the same, without an export in between: the next run rebuilds evidence and anchors
    assert claims("import", str(first), home=third_home).returncode == 0
    assert claims("agent", "run", "--corpus", "demo", "--no-llm", home=third_home).returncode == 0
    assert claims("export", "--format", "json", "-o", str(third), home=third_home).returncode == 0
    assert json.loads(third.read_text()) == x

BASE = {"inquiry": {"slug": "q", "question": "Does it hold?"}, "claims": [{"key": "C1", "text": "x", "as_of": "2025"}]}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80), as_of=st.text(max_size=20))
def test_any_text_and_date_is_either_clean_or_refused_by_its_path(text, as_of):
    data = json.loads(json.dumps(BASE))
    data["claims"][0].update(text=text, as_of=as_of)
    try:
        parsed = parse_exchange(json.dumps(data), source="f.json")
    except BadInput as exc:
        assert str(exc).startswith(("f.json: claims[0].text: ", "f.json: claims[0].as_of: ")), str(exc)
        return
    claim = parsed.claims[0]
    assert claim.text.strip() and not _REFUSED.search(claim.text) and "\n" not in claim.text
    assert parse_exchange(parsed.model_dump_json()) == parsed  # what it kept parses to itself
