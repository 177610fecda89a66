"""Learning from reviewers: a relevance mark (CLI, audited) changes the claim's next ranking."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from agent.search import search_claims
from claims.models import AuditEntry, Evidence
from claims.settings import Settings
from claims.store import Store
from tests.agent.test_search import embedded_store, embedded_template  # noqa: F401 (fixtures)
from tests.conftest import DEMO_CORPUS


def test_first_search_is_generous_and_limit_overrides(embedded_store: Store, settings: Settings) -> None:  # noqa: F811
    first = search_claims(embedded_store, settings, ["C2"], corpus=DEMO_CORPUS)
    cands = first.candidates["C2"]  # every paper above the threshold, up to 50: more than the old 10
    assert 10 < len(cands) <= settings.search_backfill_limit == 50
    assert all(c.score >= settings.search_threshold for c in cands)
    open_ = settings.model_copy(update={"search_threshold": -1.0})
    every = search_claims(embedded_store, open_, ["C1"], corpus=DEMO_CORPUS).candidates["C1"]
    assert [c.rank for c in every] == list(range(1, 51))
    again = search_claims(embedded_store, settings, ["C2"], corpus=DEMO_CORPUS, limit=7)
    assert len(again.candidates["C2"]) == 7
    assert all(c.ranker == "hybrid-q1" for c in again.candidates["C2"])


def test_a_mark_changes_the_next_ranking_and_survives(embedded_store: Store, settings: Settings) -> None:  # noqa: F811
    from claims.cli import build_app

    before = search_claims(embedded_store, settings, ["C1"], corpus=DEMO_CORPUS, limit=20).candidates["C1"]
    top, second = before[0], before[1]
    runner = CliRunner()
    out = runner.invoke(build_app(), ["evidence", "mark", str(top.evidence_id), "--irrelevant", "--as", "alice"])
    assert out.exit_code == 0, out.output
    assert "marked irrelevant by alice" in out.stdout
    out = runner.invoke(build_app(), ["evidence", "mark", str(second.evidence_id), "--relevant", "--as", "alice"])
    assert out.exit_code == 0, out.output

    after = search_claims(embedded_store, settings, ["C1"], corpus=DEMO_CORPUS, limit=20).candidates["C1"]
    ids_after = [c.arxiv_id for c in after]
    assert top.arxiv_id not in ids_after  # said not relevant: no longer a candidate
    assert ids_after != [c.arxiv_id for c in before][1:21]  # the model re-ordered the rest
    assert after[0].ranker.startswith("lrnb2-") and "p1n-" in after[0].ranker
    with embedded_store.read() as s:
        rows = {e.paper_id: e for e in s.scalars(select(Evidence).where(Evidence.claim_id == 1))}
        assert rows[top.arxiv_id].relevance_label == "irrelevant" and rows[top.arxiv_id].labelled_by == "alice"
        assert rows[second.arxiv_id].relevance_label == "relevant"
        assert rows[after[0].arxiv_id].ranker == after[0].ranker
        audits = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "mark_relevance")))
        assert [a.details["label"] for a in audits] == ["irrelevant", "relevant"]
    shown = runner.invoke(build_app(), ["show", "C1", "--format", "json"])
    rows = {e["id"]: e for e in json.loads(shown.stdout)["evidence"]}
    assert (rows[top.arxiv_id]["relevance_label"], rows[top.arxiv_id]["labelled_by"]) == ("irrelevant", "alice")
    bad = runner.invoke(build_app(), ["evidence", "mark", str(top.evidence_id), "--as", "alice"])
    assert bad.exception is not None and "--relevant or --irrelevant" in str(bad.exception)


def test_claim_query_vectors_are_cached_until_the_claim_changes(embedded_store: Store, settings: Settings,  # noqa: F811
                                                                monkeypatch) -> None:
    import agent.embeddings
    import agent.queries
    import agent.search
    from claims.models import Claim

    search_claims(embedded_store, settings, ["C3"], corpus=DEMO_CORPUS)
    with embedded_store.read() as s:
        c3 = s.scalar(select(Claim).where(Claim.key == "C3"))
        assert c3.query_embedding is not None and len(c3.query_embedding) == 2 * 384 * 4
        text = c3.text
    embedded: list[str] = []
    real = agent.embeddings.embed_texts

    def spy(texts: list[str]):  # type: ignore[no-untyped-def]
        embedded.extend(texts)
        return real(texts)

    for module in (agent.embeddings, agent.queries, agent.search):  # each imported it by name
        monkeypatch.setattr(module, "embed_texts", spy)
    again = search_claims(embedded_store, settings, ["C3"], corpus=DEMO_CORPUS)
    assert again.candidates["C3"] and text not in embedded  # served from claims.query_embedding
    with embedded_store.write() as s:
        s.scalar(select(Claim).where(Claim.key == "C3")).text = text + " (revised)"
    search_claims(embedded_store, settings, ["C3"], corpus=DEMO_CORPUS)
    assert text + " (revised)" in embedded  # a changed claim is embedded again
