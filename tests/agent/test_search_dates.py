"""`claims search` JSON and table keep a paper's date at the precision it is known."""

from __future__ import annotations

import json

from agent.search import search_claims


def test_search_json_keeps_month_and_year_dates(bundled_store, settings, tmp_path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    papers = [
        {"id": "2601.00001", "title": "RL post-training teaches when to reason, not how", "published": "2026-01",
         "summary": "Base models already contain reasoning strategies; RL teaches when to deploy them."},
        {"id": "2601.00002", "title": "Hybrid token routing recovers most reasoning gains", "published": "2026",
         "summary": "Routing tokens between a base and an RL model recovers the gains without weight updates."},
        {"id": "2601.00003", "title": "RL reasoning in latent priors", "published": "2026-02-14",
         "summary": "Reasoning strategies exist in the base model before RL; RL selects among them."},
    ]
    corpus.write_text("".join(json.dumps(p) + "\n" for p in papers))
    report = search_claims(bundled_store, settings, ["C1"], corpus=corpus)
    shown = {c["id"]: c["published"] for c in report.to_json()["C1"]}
    assert shown == {"2601.00001": "2026-01", "2601.00002": "2026", "2601.00003": "2026-02-14"}
