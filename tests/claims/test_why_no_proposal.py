"""Why the status rules propose nothing, as `claims retest run` prints it (`why_no_proposal`, pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from claims.retests import RunStrength
from claims.status_rules import ClaimFacts, EvidenceFact, RunFact, propose_status, why_no_proposal

START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
CLAIM = ClaimFacts("C1", "unreviewed", START, END, ("passk-boundary",))
STRONG = RunStrength(preset="standard", rl_seeds=(0, 1, 2), pretrain_seeds=(0, 1), interval="seeds",
                     interval_spans_seeds=True)
REPLICA = STRONG.model_copy(update=dict(rl_seeds=(3, 4, 5), pretrain_seeds=(2, 3)))


def run(i: int, strength: RunStrength = STRONG) -> RunFact:
    return RunFact(i, "passk-boundary", "inconsistent", dt.datetime(2026, 1, i), strength)


def test_one_strong_run_is_named_as_awaiting_its_replication() -> None:
    why = why_no_proposal(CLAIM, [], [run(1)])
    assert "no failed retest" in why and "passk-boundary (run 1) verdict inconsistent" in why
    assert "not yet replicated on new seeds" in why


def test_a_replicated_pair_proposes_so_there_is_no_reason() -> None:
    runs = [run(1), run(2, REPLICA)]
    assert propose_status(CLAIM, [], runs).proposed_status == "contested"
    assert why_no_proposal(CLAIM, [], runs) == ""


def test_a_claim_already_at_the_called_for_status_is_told_so() -> None:
    contested = dataclasses.replace(CLAIM, status="contested")
    why = why_no_proposal(contested, [], [run(1), run(2, REPLICA)])
    assert why == "the evidence and retests call for contested, no more severe than the claim's status contested"


def test_weak_runs_only_are_said_to_be_no_strong_run() -> None:
    smoke = RunStrength(preset="smoke", rl_seeds=(0,), pretrain_seeds=(0,))
    weak = RunFact(1, "passk-boundary", "inconsistent", dt.datetime(2026, 1, 1), smoke)
    claim = dataclasses.replace(CLAIM, protocols=())
    assert "no strong retest run" in why_no_proposal(claim, [], [weak])
    support = EvidenceFact(1, "2603.00001", "supports", 0.6, dt.date(2026, 3, 1))  # under 0.7: not confident
    assert "holds needs a confident supporting paper" in why_no_proposal(claim, [support], [weak])
