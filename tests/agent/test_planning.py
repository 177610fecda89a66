"""Retest planning rules (pure): queue when requested, contradicted or overdue, within budget."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from claims.planning import PlanInput, plan_retests

NOW = dt.datetime(2026, 6, 1, 12, 0)


def one(item: PlanInput, budget: int = 5):
    return plan_retests([item], budget, NOW)[0]


def test_no_protocol_or_unknown_protocol_is_skipped():
    assert one(PlanInput("C4", None, None, None, requested=True)).reason == "no protocol"
    d = one(PlanInput("C1", "mystery", None, None, requested=True))
    assert (d.decision, d.reason) == ("skip", "unknown protocol 'mystery'")


def test_never_run_is_queued():
    d = one(PlanInput("C1", "passk-boundary", 28, None))
    assert (d.decision, d.reason) == ("queue", "never run")


def test_interval_decides_between_due_and_not_yet():
    recent = one(PlanInput("C1", "passk-boundary", 28, NOW - dt.timedelta(days=10)))
    assert (recent.decision, recent.reason) == ("skip", "last run 10 days ago, next due in 18 days")
    old = one(PlanInput("C1", "passk-boundary", 28, NOW - dt.timedelta(days=30)))
    assert (old.decision, old.reason) == ("queue", "last run 30 days ago (interval 28)")


def test_new_contradictions_or_a_request_queue_a_recent_protocol():
    last = NOW - dt.timedelta(days=1)
    d = one(PlanInput("C1", "passk-boundary", 28, last, new_contradictions=2))
    assert (d.decision, d.reason) == ("queue", "2 new contradicting papers since the last run")
    assert one(PlanInput("C1", "passk-boundary", 28, last, requested=True)).reason == "requested"


def test_already_queued_is_not_queued_twice():
    d = one(PlanInput("C1", "passk-boundary", 28, None, requested=True, already_queued=True))
    assert d.decision == "skip" and "already queued" in d.reason


def test_budget_prefers_requested_then_contradicted_then_oldest():
    items = [
        PlanInput("C1", "p", 7, NOW - dt.timedelta(days=9)),
        PlanInput("C2", "p", 7, NOW - dt.timedelta(days=30)),
        PlanInput("C3", "p", 7, NOW, new_contradictions=1),
        PlanInput("C4", "p", 7, NOW, requested=True),
    ]
    got = {d.claim_key: d for d in plan_retests(items, 3, NOW)}
    assert [k for k, d in got.items() if d.decision == "queue"] == ["C2", "C3", "C4"]
    assert got["C1"].reason == "over budget (3 per run): last run 9 days ago (interval 7)"


items_st = st.lists(
    st.builds(
        PlanInput,
        claim_key=st.text("C0123456789", min_size=1, max_size=4),
        protocol=st.sampled_from([None, "p", "q"]),
        interval_days=st.sampled_from([None, 1, 7, 28]),
        last_finished_at=st.one_of(st.none(), st.integers(0, 60).map(lambda d: NOW - dt.timedelta(days=d))),
        new_contradictions=st.integers(0, 3),
        requested=st.booleans(),
        already_queued=st.booleans(),
    ),
    max_size=12,
)


@given(items_st, st.integers(0, 6))
def test_budget_is_never_exceeded_and_every_claim_gets_a_reason(items, budget):
    decisions = plan_retests(items, budget, NOW)
    assert len(decisions) == len(items)
    assert sum(d.decision == "queue" for d in decisions) <= budget
    for item, d in zip(items, decisions):
        assert d.claim_key == item.claim_key and d.reason
        if d.decision == "queue":
            assert item.protocol and item.interval_days is not None and not item.already_queued


@given(items_st, st.integers(0, 6))
def test_a_requested_claim_is_never_dropped_for_a_less_urgent_one(items, budget):
    decisions = plan_retests(items, budget, NOW)
    queued_unrequested = any(d.decision == "queue" and not i.requested for i, d in zip(items, decisions))
    if queued_unrequested:
        for item, d in zip(items, decisions):
            if item.requested and item.protocol and item.interval_days and not item.already_queued:
                assert d.decision == "queue"
