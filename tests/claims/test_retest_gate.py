"""The retest gate (claims.status_rules, claims.replication, claims.strength): retests count per
claim, only once replicated on new seeds, never toward `holds`, at most toward `contested` alone.

Pure rules at their edges first; then end to end on a real SQLite store with recorded runs
(hand-written strength and verdicts through claims.retests, no training).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from claims.models import Claim, Proposal, RetestPlan
from claims.planning import queue_replication, queued_retests
from claims.proposing import propose_for_claim_key
from claims.protocols import ProtocolInfo, serving_protocols
from claims.replication import (RunFact, next_seed_block, on_new_seeds, replication_due, seed_block, standing,
                                used_seeds)
from claims.retests import RetestRecord, RunStrength, record_run
from claims.status_rules import ClaimFacts, EvidenceFact, propose_status
from claims.strength import assess_strength

START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
NEWER = dt.date(2026, 3, 1)
C1 = ClaimFacts("C1", "unreviewed", START, END, ("passk-boundary",))
C5_PARTS = ("calibration", "hard-samples", "prior-corruption")
C5 = ClaimFacts("C5", "unreviewed", START, END, C5_PARTS)

TOY = RunStrength(preset="standard", rl_seeds=(0, 1, 2), pretrain_seeds=(0, 1), interval="seeds",
                  interval_spans_seeds=True)
TOY_NEW = TOY.model_copy(update=dict(rl_seeds=(3, 4, 5), pretrain_seeds=(2, 3)))  # the next block
REAL = RunStrength(preset="gpu", rl_seeds=(0, 1, 2), interval="seeds", interval_spans_seeds=True, toy_world=False,
                   model_revision="Qwen2.5-0.5B@0123456789ab")
REAL_NEW = REAL.model_copy(update=dict(rl_seeds=(3, 4, 5)))


def run(i: int, verdict: str, strength: RunStrength = TOY, protocol: str = "passk-boundary") -> RunFact:
    return RunFact(i, protocol, verdict, dt.datetime(2026, 1, 1) + dt.timedelta(days=i), strength)


def pair(verdict: str, protocol: str = "passk-boundary", first: int = 1,
         strengths: tuple[RunStrength, RunStrength] = (TOY, TOY_NEW)) -> list[RunFact]:
    return [run(first, verdict, strengths[0], protocol), run(first + 1, verdict, strengths[1], protocol)]


def supports(i: int = 1) -> EvidenceFact:
    return EvidenceFact(i, f"2601.{i:05d}", "supports", 0.9, NEWER)


def status(d) -> str | None:
    return d.proposed_status if d else None


# --- a toy-world run alone never proposes holds ----------------------------------------


def test_consistent_toy_runs_never_propose_holds_alone() -> None:
    assert propose_status(C1, [], [run(1, "consistent")]) is None
    assert propose_status(C1, [], pair("consistent")) is None  # replicated: still no holds from retests alone


def test_literature_support_still_proposes_holds_and_cites_consistent_runs_beside_it() -> None:
    d = propose_status(C1, [supports()], pair("consistent"))
    assert status(d) == "holds" and d.evidence_ids == (1,) and d.run_ids == (1, 2)
    assert "retests consistent" in d.rationale and "replicated by run 1" in d.rationale
    assert status(propose_status(C1, [supports()], [])) == "holds"  # as before


def test_a_strong_inconsistent_run_blocks_holds_even_unreplicated() -> None:
    assert propose_status(C1, [supports()], [run(1, "inconsistent")]) is None


# --- toy runs propose contested only after a replication on new seeds -------------------


def test_one_inconsistent_toy_run_proposes_nothing() -> None:
    assert propose_status(C1, [], [run(1, "inconsistent")]) is None


def test_a_replication_on_new_pretraining_and_rl_seeds_proposes_contested() -> None:
    d = propose_status(C1, [], pair("inconsistent"))
    assert status(d) == "contested" and d.run_ids == (1, 2) and d.evidence_ids == ()
    assert "pretraining seeds (2, 3), RL seeds (3, 4, 5), replicated by run 1 on pretraining seeds (0, 1)" in d.rationale


@pytest.mark.parametrize("second,why", [
    (TOY, "the same seeds (a rerun hits the same cache)"),
    (TOY.model_copy(update=dict(rl_seeds=(3, 4, 5))), "new RL seeds on the same bases"),
    (TOY.model_copy(update=dict(pretrain_seeds=(2, 3))), "new bases, the same RL seeds"),
    (TOY_NEW.model_copy(update=dict(pretrain_seeds=(1, 2))), "one base shared"),
    (TOY_NEW.model_copy(update=dict(rl_seeds=(2, 3, 4))), "one RL seed shared"),
])
def test_no_replication_without_new_pretraining_and_rl_seeds(second: RunStrength, why: str) -> None:
    assert propose_status(C1, [], pair("inconsistent", strengths=(TOY, second))) is None, why


def test_a_replicated_failure_with_literature_weakens_and_overturns_and_stays_below_otherwise() -> None:
    one, three = [EvidenceFact(9, "2601.00009", "contradicts", 0.9, NEWER)], [
        EvidenceFact(i, f"2601.{i:05d}", "contradicts", 0.9, NEWER) for i in (7, 8, 9)]
    assert status(propose_status(C1, one, pair("inconsistent"))) == "weakened"
    assert status(propose_status(C1, three, pair("inconsistent"))) == "overturned"
    assert status(propose_status(C1, one, [run(1, "inconsistent")])) == "contested"  # the paper alone
    assert status(propose_status(C1, three, [run(1, "inconsistent")])) == "weakened"  # the papers alone


def test_a_verdict_in_between_breaks_the_replication_and_a_third_block_restores_it() -> None:
    third = TOY.model_copy(update=dict(rl_seeds=(6, 7, 8), pretrain_seeds=(4, 5)))
    runs = [run(1, "inconsistent"), run(2, "inconclusive", TOY_NEW), run(3, "inconsistent", third)]
    assert propose_status(C1, [], runs) is None
    fourth = TOY.model_copy(update=dict(rl_seeds=(9, 10, 11), pretrain_seeds=(6, 7)))
    d = propose_status(C1, [], [*runs, run(4, "inconsistent", fourth)])
    assert status(d) == "contested" and d.run_ids == (3, 4)


@given(st.lists(st.tuples(st.sampled_from(["consistent", "inconsistent", "inconclusive"]),
                          st.sets(st.integers(0, 6), min_size=3, max_size=3),
                          st.sets(st.integers(0, 4), min_size=2, max_size=2)), max_size=5))
def test_retests_alone_never_propose_holds_or_more_than_contested(draws) -> None:
    runs = [run(i, v, TOY.model_copy(update=dict(rl_seeds=tuple(sorted(rl)), pretrain_seeds=tuple(sorted(pre)))))
            for i, (v, rl, pre) in enumerate(draws, 1)]
    d = propose_status(C1, [], runs)
    assert status(d) in (None, "contested")
    if d is not None:  # cited: a replicated pair, both inconsistent, on new seeds
        a, b = (next(r for r in runs if r.id == i) for i in d.run_ids)
        assert a.verdict == b.verdict == "inconsistent" and on_new_seeds(a.strength, b.strength)


# --- a claim served by several protocols needs all of them ------------------------------


def test_c5_gets_nothing_from_prior_corruption_alone() -> None:
    assert propose_status(C5, [], pair("consistent", "prior-corruption")) is None
    assert propose_status(C5, [], pair("inconsistent", "prior-corruption")) is None  # the other two never ran


def test_c5_is_contested_only_when_all_three_parts_fail_replicated() -> None:
    runs = [*pair("inconsistent", "hard-samples", 1), *pair("inconsistent", "calibration", 3)]
    assert propose_status(C5, [], runs) is None  # prior-corruption has no strong run
    assert propose_status(C5, [], [*runs, run(5, "inconsistent", TOY, "prior-corruption")]) is None  # unreplicated
    assert propose_status(C5, [], [*runs, *pair("consistent", "prior-corruption", 5)]) is None  # they disagree
    d = propose_status(C5, [], [*runs, *pair("inconsistent", "prior-corruption", 5)])
    assert status(d) == "contested" and d.run_ids == (1, 2, 3, 4, 5, 6)


def test_c5s_parts_disagreeing_block_holds_from_the_literature() -> None:
    runs = [*pair("consistent", "prior-corruption", 1), run(3, "inconsistent", TOY, "hard-samples")]
    assert propose_status(C5, [supports()], runs) is None


def test_a_strong_run_of_an_undeclared_protocol_joins_the_claims_protocols() -> None:
    bare = ClaimFacts("C1", "unreviewed", START, END)  # no declared protocol: its runs' protocols serve it
    runs = [*pair("inconsistent", "passk-boundary", 1), run(3, "inconsistent", TOY, "update-sparsity")]
    assert propose_status(bare, [], runs) is None  # update-sparsity has one run, not replicated
    assert status(propose_status(bare, [], pair("inconsistent"))) == "contested"


def test_serving_protocols_are_the_parts_written_for_the_same_claim() -> None:
    def info(name: str, hint: str) -> ProtocolInfo:
        return ProtocolInfo(name, hint, 28, "", "test")

    catalog = {n: info(n, h) for n, h in [("passk-boundary", "C1"), ("hard-samples", "C5"), ("calibration", "C5"),
                                          ("prior-corruption", "C5"), ("label-free-search", "C4"),
                                          ("entropy-schedule", "C4")]}
    assert serving_protocols(["hard-samples"], catalog) == C5_PARTS
    assert serving_protocols(["passk-boundary", ""], catalog) == ("passk-boundary",)
    assert serving_protocols(["entropy-schedule"], catalog) == ("entropy-schedule", "label-free-search")
    assert serving_protocols(["mine"], catalog) == ("mine",)  # unknown names are kept
    assert serving_protocols(["hard-samples"]) == C5_PARTS  # the installed registry says the same


# --- real-model runs: RL seeds alone, the model revision stands for the prior -----------


def test_a_real_model_run_is_strong_on_rl_seeds_with_its_revision() -> None:
    ok, why = assess_strength(REAL)
    assert ok and "real model Qwen2.5-0.5B@0123456789ab" in why
    ok, why = assess_strength(REAL.model_copy(update=dict(model_revision="")))
    assert not ok and "no recorded model revision" in why
    assert not assess_strength(REAL.model_copy(update=dict(rl_seeds=(0, 1))))[0]
    assert not assess_strength(TOY.model_copy(update=dict(pretrain_seeds=(0,))))[0]  # the toy world still needs 2


def test_real_model_runs_propose_once_replicated_on_new_rl_seeds_of_the_same_revision() -> None:
    assert propose_status(C1, [], [run(1, "inconsistent", REAL)]) is None
    d = propose_status(C1, [], pair("inconsistent", strengths=(REAL, REAL_NEW)))
    assert status(d) == "contested" and "model Qwen2.5-0.5B@0123456789ab, RL seeds (3, 4, 5)" in d.rationale
    other = REAL_NEW.model_copy(update=dict(model_revision="Qwen2.5-0.5B@ffffffffffff"))
    assert propose_status(C1, [], pair("inconsistent", strengths=(REAL, other))) is None  # another prior
    assert propose_status(C1, [], pair("inconsistent", strengths=(REAL, REAL))) is None  # same RL seeds
    assert propose_status(C1, [], pair("inconsistent", strengths=(TOY, REAL_NEW))) is None  # toy and real
    assert propose_status(C1, [], pair("consistent", strengths=(REAL, REAL_NEW))) is None  # never holds alone


# --- the next block of seeds ----------------------------------------------------------


def test_the_next_seed_block_starts_after_every_seed_used() -> None:
    assert next_seed_block([], 3, 2) == next_seed_block([], 3, 2, True)
    assert (next_seed_block([], 3, 2).rl_seeds, next_seed_block([], 3, 2).pretrain_seeds) == ((0, 1, 2), (0, 1))
    block = next_seed_block([TOY], 3, 2)
    assert (block.rl_seeds, block.pretrain_seeds) == ((3, 4, 5), (2, 3))
    gap = TOY.model_copy(update=dict(rl_seeds=(7, 8), pretrain_seeds=(5,)))
    assert next_seed_block([TOY, gap], 2, 1).rl_seeds == (9, 10) and next_seed_block([TOY, gap], 2, 1).pretrain_seeds == (6,)
    real = next_seed_block([REAL], 3, 1, toy_world=False)
    assert (real.rl_seeds, real.pretrain_seeds) == ((3, 4, 5), ())
    with pytest.raises(ValueError):
        next_seed_block([], 0, 2)


@given(st.lists(st.tuples(st.sets(st.integers(0, 30), min_size=1, max_size=4),
                          st.sets(st.integers(0, 30), min_size=1, max_size=3)), max_size=5),
       st.integers(1, 5), st.integers(1, 3))
def test_a_drawn_block_is_on_new_seeds_of_every_earlier_run(used, n_rl, n_pre) -> None:
    strengths = [TOY.model_copy(update=dict(rl_seeds=tuple(rl), pretrain_seeds=tuple(pre))) for rl, pre in used]
    block = next_seed_block(strengths, n_rl, n_pre)
    drawn = TOY.model_copy(update=dict(rl_seeds=block.rl_seeds, pretrain_seeds=block.pretrain_seeds))
    assert len(block.rl_seeds) == n_rl and len(block.pretrain_seeds) == n_pre
    assert all(on_new_seeds(s, drawn) for s in strengths)


def test_standing_names_the_latest_strong_run_and_its_replication() -> None:
    smoke = RunStrength(preset="smoke", rl_seeds=(0,), pretrain_seeds=(0,))
    s = standing("passk-boundary", [*pair("inconsistent"), run(3, "consistent", smoke)])
    assert (s.latest.id, s.replicated_by.id, s.confirmed) == (2, 1, True)  # the smoke run does not count
    assert standing("passk-boundary", [run(1, "inconsistent", smoke)]).latest is None


# --- end to end on a real SQLite store: recorded runs, the facts reader, the writer ------


def record(store, key: str, protocol: str, verdict: str, strength: RunStrength, day: int) -> int:
    at = dt.datetime(2026, 2, day)
    rec = RetestRecord(protocol=protocol, status="succeeded", preset=strength.preset, verdict=verdict,
                       effect_size=0.1, ci_low=0.05, ci_high=0.15, strength=strength, started_at=at, finished_at=at,
                       config={"seeds": list(strength.rl_seeds), "pretrain_seeds": list(strength.pretrain_seeds)})
    with store.write() as s:
        return record_run(s, key, rec).id


def propose(store, key: str) -> list[Proposal]:
    with store.write() as s:
        ids = propose_for_claim_key(s, key)
        return [(p.proposed_status, sorted(r.id for r in p.retest_runs))
                for p in s.scalars(select(Proposal).where(Proposal.id.in_(ids)))]


def c3_prompt_line(store) -> str:
    """C3's line in the exported research prompt (its last retest, labelled)."""
    from claims.export import build_export, render_markdown

    with store.read() as s:
        text = render_markdown(build_export(s))
    return next(line for line in text.splitlines() if "format-collapse" in line)


def test_end_to_end_one_toy_run_proposes_nothing_and_its_replication_contests(bundled_store) -> None:
    store = bundled_store
    # one consistent toy run: no holds
    record(store, "C1", "passk-boundary", "consistent", TOY, 1)
    assert propose(store, "C1") == []
    # one inconsistent toy run: no proposal, but a replication is due on the next block
    first = record(store, "C3", "format-collapse", "inconsistent", TOY, 2)
    assert propose(store, "C3") == []
    assert "standard preset, not yet replicated on new seeds)" in c3_prompt_line(store)
    with store.read() as s:
        assert replication_due(s, "C3", "format-collapse").latest.id == first
        block = seed_block(s, "C3", "format-collapse", 3, 2)
        assert (block.rl_seeds, block.pretrain_seeds) == ((3, 4, 5), (2, 3))
    # the replicated pair: contested, citing both runs
    second = record(store, "C3", "format-collapse", "inconsistent", TOY_NEW, 3)
    assert propose(store, "C3") == [("contested", [first, second])]
    assert "(format-collapse: inconsistent, toy-world, standard preset)" in c3_prompt_line(store)
    with store.read() as s:
        assert replication_due(s, "C3", "format-collapse") is None
        assert [u.rl_seeds for u in used_seeds(s, "C3", "format-collapse")] == [(0, 1, 2), (3, 4, 5)]
        c3 = s.scalar(select(Claim).where(Claim.key == "C3"))
        assert c3.status == "unreviewed"  # proposals never change a claim


def test_end_to_end_c5_needs_all_its_protocols(bundled_store) -> None:
    store = bundled_store
    for day, strength in ((1, TOY), (2, TOY_NEW)):  # prior-corruption consistent, replicated: no holds for C5
        record(store, "C5", "prior-corruption", "consistent", strength, day)
    assert propose(store, "C5") == []
    ids = []
    for day, (protocol, strength) in enumerate([(p, s) for p in ("hard-samples", "calibration", "prior-corruption")
                                                for s in (TOY, TOY_NEW)], start=3):
        ids.append(record(store, "C5", protocol, "inconsistent", strength, day))
    assert propose(store, "C5") == [("contested", sorted(ids))]


def test_a_replication_is_queued_once_as_the_claims_next_retest(bundled_store) -> None:
    store = bundled_store
    first = record(store, "C1", "passk-boundary", "inconsistent", TOY, 1)
    with store.write() as s:
        plan = queue_replication(s, "C1", "passk-boundary", first)
        assert plan is not None and queue_replication(s, "C1", "passk-boundary", first) is None
        assert s.get(RetestPlan, plan).agent_run_id is None
    queued = queued_retests(store)
    assert [(q.claim_key, q.protocol) for q in queued] == [("C1", "passk-boundary")]
    assert queued[0].reason.startswith(f"replicate run {first} (verdict inconsistent) on new seeds")
