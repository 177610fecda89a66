"""Anchor verification: pure date/label rules, then the bundled anchors via corpus and arXiv."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from typer.testing import CliRunner

from agent.anchors import check_anchor, date_differences, verify_anchors
from claims.models import Anchor, Paper
from claims.papers import PaperRecord
from claims.settings import Settings
from claims.store import Store
from tests.agent.arxiv_server import ArxivServer
from tests.conftest import DEMO_CORPUS

PAPERS = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]
EXPECTED = {
    "2504.07912": "mismatch",  # cited 2025-05, first version 2025-04-10
    "2505.11711": "verified",  # label is a paraphrase of the title
    "2404.12253": "verified",  # label is a description ("MCTS-based self-improvement ...")
    "2510.13786": "mismatch",  # another paper's label, and cited 2026-05 for a 2025-10 paper
}


def test_arxiv_id_rules_out_an_impossible_date_without_any_source() -> None:
    diffs = date_differences("2510.13786", "2026-05", None)
    assert [(d.code, d.text) for d in diffs] == [
        ("date", "cited date 2026-05 but the arXiv id 2510.13786 says its first version is from 2025-10")]
    assert date_differences("2505.11711", "~2025", None) == []


def test_record_date_is_compared_at_the_cited_precision() -> None:
    paper = PaperRecord("2504.07912", "Echo Chamber", published=dt.date(2025, 4, 10))
    assert date_differences("2504.07912", "2025-04", paper) == []
    assert date_differences("2504.07912", "~2025", paper) == []
    assert "first version is dated 2025-04-10" in date_differences("2504.07912", "2025-05", paper)[0].text


def test_status_follows_from_the_evidence() -> None:
    paper = PaperRecord("2505.11711", "RL Finetunes Small Subnetworks", published=dt.date(2025, 5, 16))
    assert check_anchor("2505.11711", "sparse subnetworks", "2025-05", paper, 0.6, True).status == "verified"
    low = check_anchor("2505.11711", "tree search", "2025-05", paper, 0.1, True)
    assert low.status == "mismatch" and "does not match the paper's title" in low.differences[0].text
    assert low.differences[0].code == "label"
    assert check_anchor("2505.11711", "x", "2025-05", None, None, False).status == "not_found"
    assert check_anchor("2505.11711", "x", "2025-05", None, None, None).status == "unchecked"


def test_bundled_anchors_against_the_dev_corpus(bundled_store: Store, settings: Settings) -> None:
    checks = verify_anchors(bundled_store, settings, corpus=DEMO_CORPUS)
    assert {c.arxiv_id: c.status for c in checks} == EXPECTED
    by_id = {c.arxiv_id: c for c in checks}
    assert [d.code for d in by_id["2510.13786"].differences] == ["label", "date"]
    assert "2026-05" in by_id["2510.13786"].differences[1].text
    with bundled_store.read() as s:
        rows = {a.arxiv_id: a for a in s.scalars(select(Anchor))}
    assert {k: a.status for k, a in rows.items()} == EXPECTED
    assert rows["2504.07912"].verified_published == dt.date(2025, 4, 10)
    assert rows["2404.12253"].verified_title.startswith("Toward Self-Improvement of LLMs")
    assert all(a.checked_at is not None for a in rows.values())


def test_missing_paper_is_not_found_and_unreachable_arxiv_is_unchecked(bundled_store: Store, tmp_path) -> None:
    corpus = tmp_path / "small.jsonl"
    corpus.write_text("\n".join(json.dumps(p) for p in PAPERS if p["id"] != "2510.13786"))
    checks = verify_anchors(bundled_store, Settings(), corpus=corpus)
    assert {c.arxiv_id: c.status for c in checks}["2510.13786"] == "not_found"

    down = Settings(arxiv_url="http://127.0.0.1:9/api/query", arxiv_delay_seconds=0.01, arxiv_retries=1)
    with bundled_store.write() as s:  # forget what the corpus run cached
        s.execute(Anchor.__table__.update().values(status="unchecked"))
        s.execute(Paper.__table__.delete())
    checks = {c.arxiv_id: c for c in verify_anchors(bundled_store, down)}
    assert {c.status for c in checks.values()} == {"unchecked"}
    assert "2025-10" in checks["2510.13786"].differences[0].text  # the id alone says the cited date is wrong


def test_anchors_verify_over_loopback_arxiv_and_cli(bundled_store: Store, monkeypatch) -> None:
    from claims.cli import build_app

    with ArxivServer(PAPERS) as server:
        monkeypatch.setenv("CLAIMS_ARXIV_URL", server.url)
        monkeypatch.setenv("CLAIMS_ARXIV_DELAY_SECONDS", "0.01")
        result = CliRunner().invoke(build_app(), ["anchors", "verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {d["id"]: d["status"] for d in data} == EXPECTED
    assert all({"id", "status", "differences"} <= set(d) for d in data)
    monkeypatch.setenv("CLAIMS_ARXIV_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("CLAIMS_ARXIV_RETRIES", "0")
    cached = CliRunner().invoke(build_app(), ["anchors", "verify", "--format", "json"])
    assert cached.exit_code == 0  # arXiv down: the papers fetched before still verify
    assert {d["id"]: d["status"] for d in json.loads(cached.stdout)} == EXPECTED
    with bundled_store.write() as s:
        s.execute(Paper.__table__.delete())
    down = CliRunner().invoke(build_app(), ["anchors", "verify"])
    assert type(down.exception).__name__ == "SourceUnavailable" and down.exception.exit_code == 5
