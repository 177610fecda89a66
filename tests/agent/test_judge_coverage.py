"""Judge coverage: every candidate judged within a per-run budget, in a stated order; what the
budget leaves is reported and judged next run; judgements cached by model, prompt version,
claim revision and paper version; the cost of judging reported. The acceptance check: a
loopback judge answering from the dev labels, one first search over the dev corpus."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

import agent.run
from agent.judge import neutralise
from agent.run import run_agent
from claims.authoring import propose_edit
from claims.judging import Pending, dissent_cue, select_within_budget
from claims.models import AgentRun, AuditEntry, Claim, Evidence, Paper, Proposal
from claims.papers import PaperRecord, upsert_papers
from claims.settings import Settings
from claims.store import open_store
from tests.agent.openai_server import OpenAIServer, Reply, abstract_of, answer, first_sentence, paper_text
from tests.agent.test_graph import newer_contradicts, ranked, ranked_store  # noqa: F401  (fixtures)
from tests.agent.test_graph_postgres import PAPERS, fake_search
from tests.conftest import DEMO_CORPUS, DEV_LABELS

CLAIM_RE = re.compile(r"Claim \(as of [^)]*\): (.*?)\n\n<paper>", re.S)
TITLE_RE = re.compile(r"Title: (.*)\n")


def claim_of(request) -> str:
    return CLAIM_RE.search(request["messages"][1]["content"]).group(1)


def words(text: str) -> int:
    return len(text.split())


# --- the order the budget is spent in (pure) -------------------------------------------


def test_the_budget_goes_round_robin_by_rank_across_claims():
    pending = {"C1": [Pending(i, rank=i) for i in range(1, 6)],
               "C2": [Pending(10 + i, rank=i) for i in range(1, 4)],
               "C3": [Pending(20 + i, rank=i) for i in range(1, 3)]}
    chosen = select_within_budget(pending, 6)
    assert chosen.tasks == {"C1": [1, 2], "C2": [11, 12], "C3": [21, 22]}  # not six of C1's
    assert chosen.left == {"C1": 3, "C2": 1} and chosen.selected == 6
    everything = select_within_budget(pending, 250)
    assert everything.selected == 10 and everything.left == {}
    assert select_within_budget(pending, 0).tasks == {} and select_within_budget(pending, 0).left == {"C1": 5, "C2": 3, "C3": 2}


def test_carried_over_goes_first_then_likely_dissent_then_rank():
    pending = {"C1": [Pending(1, rank=1), Pending(2, rank=2, cue=True), Pending(3, rank=9, carried=True)],
               "C2": [Pending(4, rank=1), Pending(5, rank=7, cue=True)]}
    assert select_within_budget(pending, 1).tasks == {"C1": [3]}  # left by an earlier run: first of all
    assert select_within_budget(pending, 3).tasks == {"C1": [3, 2], "C2": [5]}  # then the dissent cues
    assert select_within_budget(pending, 5).tasks == {"C1": [3, 2, 1], "C2": [5, 4]}


@pytest.mark.parametrize(("title", "summary", "cued"), [
    ("RL expands the reasoning boundary", "", True),
    ("A study", "Contrary to prior reports, pass@k at large k improves.", True),
    ("A study", "We challenge the view that RL only sharpens.", True),
    ("A study", "Gains go beyond the base model's support.", True),
    ("A study", "RL discovers new reasoning strategies.", True),
    ("Scaling laws for sparse autoencoders", "We fit power laws to reconstruction error.", False),
    ("A study", "The expansion of the vocabulary helps.", False),  # whole-word cues only
])
def test_dissent_cues_are_generic_wording(title, summary, cued):
    assert dissent_cue(title, summary) is cued


# --- leftover carried to the next run (real search over the demo corpus) ---------------


def test_what_the_budget_leaves_is_reported_and_judged_first_next_run(ranked_store, home, tmp_path, capsys):
    from agent.cli.agent import print_summary

    server = OpenAIServer(responder=newer_contradicts).start()
    settings = Settings(home=home, llm_base_url=server.base_url, llm_model="fake-judge", llm_concurrency=4,
                        judge_budget=7)
    with ranked_store.read() as s:
        pending = dict(s.execute(select(Claim.key, func.count(Evidence.id)).join(Evidence, Evidence.claim_id == Claim.id)
                                 .where(Evidence.stance == "unjudged").group_by(Claim.key)).all())
    lines: list[str] = []
    try:
        first = run_agent(ranked_store, settings, corpus=DEMO_CORPUS, progress=lines.append)
        assert first.papers_judged == 7 and first.judge_budget == 7
        with ranked_store.read() as s:
            judged = dict(s.execute(select(Claim.key, func.count(Evidence.id)).join(Evidence, Evidence.claim_id == Claim.id)
                                    .where(Evidence.judged_at.is_not(None)).group_by(Claim.key)).all())
            counts = s.get(AgentRun, first.agent_run_id).counts
        assert set(judged) == set(pending)  # every claim got some of the budget
        assert first.left_unjudged == {k: n - judged.get(k, 0) for k, n in pending.items() if n > judged.get(k, 0)}
        assert counts["left_unjudged"] == sum(pending.values()) - 7
        assert any(line.startswith("left unjudged by the budget (judged first next run): C1 ") for line in lines)
        print_summary(first)
        table = capsys.readouterr().out
        assert f"left unjudged:     {sum(pending.values()) - 7} over the budget, judged next run (C1 " in table
        assert "judging cost:      7 requests, " in table and "(budget 7)" in table

        # a new paper that tops C1's ranking: next run, what was left waits no longer than it
        with ranked_store.read() as s:
            c1 = s.scalar(select(Claim.text).where(Claim.key == "C1"))
        corpus = tmp_path / "corpus.jsonl"
        new = {"id": "2611.00001", "title": c1, "published": "2026-11", "summary": c1 + " We measure it on math tasks.",
               "authors": ["A. Author"], "categories": ["cs.LG"]}
        corpus.write_text(DEMO_CORPUS.read_text() + json.dumps(new) + "\n")
        settings = settings.model_copy(update={"judge_budget": 5})
        asked = len(server.requests)
        second = run_agent(ranked_store, settings, corpus=corpus)
        with ranked_store.read() as s:
            row = s.scalars(select(Evidence).join(Claim, Claim.id == Evidence.claim_id)
                            .where(Claim.key == "C1", Evidence.paper_id == "2611.00001")).one()
            assert row.rank == 1 and row.stance == "unjudged"  # new and top-ranked, but after what was carried
            fresh = s.scalar(select(func.count()).select_from(Evidence).where(Evidence.paper_id == "2611.00001"))
        assert second.papers_judged == 5 and not [r for r in server.requests[asked:] if c1 in paper_text(r)]
        assert sum(second.left_unjudged.values()) == sum(pending.values()) - 12 + fresh

        third = run_agent(ranked_store, settings.model_copy(update={"judge_budget": 250}), corpus=corpus)
        assert third.left_unjudged == {} and third.papers_judged == sum(pending.values()) - 12 + fresh
        with ranked_store.read() as s:
            assert s.get(Evidence, row.id).stance == "contradicts"
            per_row = s.execute(select(AuditEntry.entity_id, func.count()).where(AuditEntry.action == "judge")
                                .group_by(AuditEntry.entity_id)).all()
        assert per_row and all(n == 1 for _, n in per_row)  # nothing judged twice
    finally:
        server.stop()


# --- the cache key, and what judging cost -----------------------------------------------


@pytest.fixture
def three_a_claim(bundled_store, monkeypatch):
    """Three candidates a claim (no embedding search: `fake_search`), the loopback judge."""
    monkeypatch.setattr(agent.run, "_search_fn", lambda: fake_search)
    monkeypatch.setattr(agent.run, "_anchors_fn", lambda: (lambda *a, **k: []))
    server = OpenAIServer(responder=newer_contradicts).start()
    yield bundled_store, server
    server.stop()


def test_a_judgement_is_never_repeated_and_redone_when_the_claim_or_paper_changes(three_a_claim, home):
    store, server = three_a_claim
    settings = Settings(home=home, llm_base_url=server.base_url, llm_model="fake-judge")
    first = run_agent(store, settings)
    assert first.papers_judged == 15 and first.left_unjudged == {}
    with store.read() as s:
        assert {(e.judged_claim_revision, e.judged_paper_version) for e in s.scalars(select(Evidence))} == {(1, 1)}
    asked = len(server.requests)
    again = run_agent(store, settings)  # same model, prompt, claim revision and paper version
    assert again.papers_judged == 0 and again.judge_requests == 0 and len(server.requests) == asked

    with store.write() as s:  # a reviewer rewords C1: revision 2
        propose_edit(s, "C1", "rev", text="RL post-training mostly reweights what the base model already samples.",
                     approve=True)
    third = run_agent(store, settings)
    assert third.papers_judged == 3 and third.judge_requests == 3  # C1's three, nothing else
    assert {claim_of(r) for r in server.requests[asked:]} == {
        "RL post-training mostly reweights what the base model already samples."}
    with store.read() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        assert c1.revision == 2
        rows = s.scalars(select(Evidence).where(Evidence.claim_id == c1.id)).all()
        assert {e.judged_claim_revision for e in rows} == {2}

    with store.write() as s:  # a new arXiv version of one paper, same abstract
        arxiv_id, title, summary = PAPERS[0]
        upsert_papers(s, [PaperRecord(f"{arxiv_id}v2", title, summary, s.get(Paper, arxiv_id).published)])
    asked = len(server.requests)
    fourth = run_agent(store, settings)
    assert fourth.papers_judged == 5  # that paper, under each of the five claims
    assert {TITLE_RE.search(paper_text(r)).group(1) for r in server.requests[asked:]} == {PAPERS[0][1]}
    with store.read() as s:
        assert {e.judged_paper_version for e in s.scalars(select(Evidence).where(Evidence.paper_id == PAPERS[0][0]))} == {2}
    assert run_agent(store, settings).judge_requests == 0


def test_requests_tokens_and_seconds_of_judging_are_reported(three_a_claim, home):
    store, server = three_a_claim
    summary = run_agent(store, Settings(home=home, llm_base_url=server.base_url, llm_model="fake-judge"))
    sent = server.requests
    prompt = sum(words(str(m["content"])) for r in sent for m in r["messages"])
    completion = sum(words(json.dumps(newer_contradicts(r).content)) for r in sent)
    assert (summary.judge_requests, summary.prompt_tokens, summary.completion_tokens) == (15, prompt, completion)
    assert prompt > 15 * 100 and 0 < summary.judge_seconds < summary.timings["total"]
    out = summary.to_json()
    assert {"judge_requests", "prompt_tokens", "completion_tokens", "judge_seconds", "judge_budget",
            "left_unjudged"} <= set(out) and out["judge_budget"] == 250
    with store.read() as s:
        counts = s.get(AgentRun, summary.agent_run_id).counts
    assert (counts["judge_requests"], counts["prompt_tokens"], counts["completion_tokens"]) == (15, prompt, completion)


def test_the_weekly_report_gives_the_cost_and_what_was_left(tmp_path):
    from claims.reports import Judging, read_report, render_report
    from tests.weekly.test_report import report

    r = report(judging=Judging(budget=250, judged=240, failed=2, requests=244, prompt_tokens=98000,
                               completion_tokens=21000, seconds=41.5, left_unjudged={"C1": 3, "C4": 1}))
    text = render_report(r)
    assert ("- Judging: 240 judged, 2 failed; 244 requests, 98000 prompt + 21000 completion tokens, 41.5 s "
            "(budget 250 per run)") in text
    assert "- **Left unjudged by the budget: 4** (C1 3, C4 1); judged first next run" in text
    path = tmp_path / "weekly.json"
    path.write_text(r.model_dump_json())
    assert read_report(path).judging.left_unjudged == {"C1": 3, "C4": 1}
    assert "Judging:" not in render_report(report())  # an older report without it still renders


# --- acceptance: a judge that answers from the dev labels, one first search -------------


def dev_label_judge(claims: dict[str, str], papers: dict[str, dict], labels: dict[tuple[str, str], str]):
    """Answers the label's stance for a labelled pair ("origin": supports), quoting the
    paper's first sentence; "unrelated" otherwise. The claim is found by its text in the
    prompt, the paper by its title."""
    by_title = {neutralise(p["title"]): pid for pid, p in papers.items()}

    def respond(request) -> Reply:
        key = claims[claim_of(request)]
        pid = by_title[TITLE_RE.search(paper_text(request)).group(1)]
        stance = labels.get((key, pid))
        if stance is None:
            return Reply(answer("unrelated", 0.8, ""))
        return Reply(answer("supports" if stance == "origin" else stance, 0.9, first_sentence(abstract_of(request))))

    return respond


@pytest.mark.skipif(not DEV_LABELS.exists(), reason="dev labels not present")
def test_one_first_search_over_dev_gives_a_stance_to_the_labelled_pairs(bundled_store, home, capsys):
    corpus = DEV_LABELS.parent / "papers.jsonl"
    papers = {p["id"]: p for p in map(json.loads, corpus.read_text().splitlines())}
    labels = {(x["claim"], x["paper"]): x["stance"] for x in map(json.loads, DEV_LABELS.read_text().splitlines())}
    with bundled_store.read() as s:
        claims = {text: key for key, text in s.execute(select(Claim.key, Claim.text))}
    server = OpenAIServer(responder=dev_label_judge(claims, papers, labels)).start()
    settings = Settings(home=home, llm_base_url=server.base_url, llm_model="fake-judge", llm_concurrency=8)
    try:
        summary = run_agent(bundled_store, settings, corpus=corpus)
    finally:
        server.stop()
    with bundled_store.read() as s:
        rows = {(key, pid): (stance, rank) for key, pid, stance, rank in s.execute(
            select(Claim.key, Evidence.paper_id, Evidence.stance, Evidence.rank).join(Claim, Claim.id == Evidence.claim_id))}
    # the pairs a search can find: the origin papers are what a claim came from (known, not found)
    found = {pair: stance for pair, stance in labels.items() if stance != "origin"}
    stanced = {pair for pair in found if rows.get(pair, ("",))[0] in ("supports", "contradicts", "refines", "unrelated")}
    missing = {pair: rows.get(pair, ("not a candidate", None)) for pair in set(found) - stanced}
    contradictions = {pair for pair, stance in found.items() if stance == "contradicts"}
    agree = sum(rows[pair][0] == found[pair] for pair in stanced)
    with capsys.disabled():
        print(f"\ndev acceptance: {len(stanced)}/{len(found)} labelled non-origin pairs got a stance "
              f"({len(stanced) / len(found):.3f}); contradictions {len(contradictions & stanced)}/{len(contradictions)}; "
              f"stance = label for {agree}; {summary.papers_judged} judged of {sum(summary.candidates.values())} "
              f"candidates, {summary.judge_requests} requests, {summary.prompt_tokens}+{summary.completion_tokens} "
              f"tokens, judging {summary.judge_seconds:.1f}s, run {summary.timings['total']:.1f}s; "
              f"left {summary.left_unjudged}; without a stance: {missing}")
    assert summary.left_unjudged == {} and summary.judge_failures == 0
    assert len(stanced) >= 0.9 * len(found)
    assert contradictions <= stanced and all(rows[pair][0] == "contradicts" for pair in contradictions)
    # C1's dissent is from 2025, inside its own window ("~2025"): it counts toward `contested`, cited by paper
    with bundled_store.read() as s:
        c1 = [p for p in s.scalars(select(Proposal).join(Claim, Claim.id == Proposal.claim_id)
                                   .where(Claim.key == "C1", Proposal.kind == "status", Proposal.state == "pending"))]
        assert [p.proposed_status for p in c1] == ["contested"]
        cited = {e.paper_id for e in c1[0].evidence}
    assert {pid for key, pid in contradictions if key == "C1"} <= cited
    assert "inside" in c1[0].rationale or "contemporaneous" in c1[0].rationale


def test_the_weekly_job_carries_the_agents_judging_figures():
    from agent.run import AgentSummary
    from agent.weekly import _judging

    summary = AgentSummary(agent_run_id=1, mode="judge", mode_reason="m", papers_judged=9, judge_failures=1,
                           judge_budget=10, left_unjudged={"C2": 4}, judge_requests=11, prompt_tokens=5000,
                           completion_tokens=400, judge_seconds=2.5)
    j = _judging(summary)
    assert (j.budget, j.judged, j.failed, j.requests, j.prompt_tokens, j.completion_tokens, j.seconds,
            j.left_unjudged) == (10, 9, 1, 11, 5000, 400, 2.5, {"C2": 4})
    assert _judging(AgentSummary(agent_run_id=2, mode="rank-only", mode_reason="--no-llm given")).budget is None


def test_judgements_stored_before_the_cache_key_are_not_judged_again_after_the_upgrade(bundled_store):
    from claims.evidence import StanceRecord, evidence_to_judge, record_judgement

    with bundled_store.write() as s:
        s.add(Paper(arxiv_id="2601.00011", title="Newer work one", summary="RL expands what the base model can reach."))
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        e = Evidence(claim_id=c1.id, paper_id="2601.00011", relevance=0.5, rank=1, method="dense")
        s.add(e)
        s.flush()
        record_judgement(s, e.id, StanceRecord("contradicts", 0.9, "", "r", "RL expands what the base model can reach.",
                                               "m", "stance-v1"), None)
    bundled_store.migrate("0009", down=True)  # as a database before revision 0010 held it
    bundled_store.init()
    with bundled_store.read() as s:
        row = s.scalars(select(Evidence)).one()
        assert (row.stance, row.judged_claim_revision, row.judged_paper_version) == ("contradicts", 1, 1)
        assert evidence_to_judge(s, "C1", "m", "stance-v1") == []
        assert [t.evidence_id for t in evidence_to_judge(s, "C1", "another-model", "stance-v1")] == [row.id]
