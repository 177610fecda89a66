"""An engine result's strength: whether its interval spans seeds is a typed fact (`IntervalKind`),
set where the interval is computed and read by `agent.retests.to_record`, never parsed from the
interval's words. The proposal gate reads it (`claims.strength.assess_strength`)."""

from __future__ import annotations

import numpy as np
import pytest

from agent.retests import to_record
from claims.models import utcnow
from claims.strength import assess_strength
from retest.measures import IntervalKind, hierarchical_bootstrap
from retest.presets import preset as load_preset
from retest.protocols.passk import ratio_interval
from retest.protocols.spec import Decision
from retest.runner import RetestResult


@pytest.mark.parametrize(("pretrain", "rl", "kind"), [
    (1, 1, IntervalKind.ONE_DRAW),  # one run: only its problems are resampled
    (1, 3, IntervalKind.SEEDS),
    (2, 1, IntervalKind.SEEDS),
    (2, 3, IntervalKind.SEEDS),
])
def test_an_interval_spans_seeds_only_when_it_resamples_runs(pretrain: int, rl: int, kind: IntervalKind) -> None:
    values = np.random.default_rng(0).random((pretrain, rl, 12))
    assert hierarchical_bootstrap(values, draws=50).kind is kind
    assert ratio_interval(values, values + 1, draws=50).kind is kind  # C1's recovery interval says the same


def strong_result(**kw: object) -> RetestResult:
    """A standard-preset toy-world result (3 RL seeds, 2 bases, no flags): strong but for its interval."""
    return RetestResult(protocol="passk-boundary", protocol_version="3", preset="standard",
                        config=load_preset("standard"), status="succeeded", verdict="inconsistent", effect_size=-0.2,
                        ci_low=-0.3, ci_high=-0.1, finished_at=utcnow(), **kw)  # type: ignore[arg-type]


def test_the_gate_reads_the_kind_not_the_words() -> None:
    worded_seeds = to_record(strong_result(interval_over="seeds", interval_kind=IntervalKind.ONE_DRAW))
    assert worded_seeds.strength.interval_spans_seeds is False
    ok, why = assess_strength(worded_seeds.strength)
    assert not ok and "its interval does not span seeds (seeds)" in why

    worded_single = to_record(strong_result(interval_over="problems (bootstrap, single seed)",
                                            interval_kind=IntervalKind.SEEDS))
    assert worded_single.strength.interval_spans_seeds is True
    assert assess_strength(worded_single.strength)[0]
    assert worded_single.strength.interval == "problems (bootstrap, single seed)"  # the words are kept, shown


def test_a_result_that_states_no_kind_never_proposes() -> None:
    record = to_record(strong_result(interval_over="pretraining seeds, RL seeds, problems (hierarchical bootstrap)"))
    assert record.strength.interval_spans_seeds is False and not assess_strength(record.strength)[0]


def test_every_protocol_decision_states_its_interval_kind() -> None:
    with pytest.raises(TypeError, match="interval_kind"):
        Decision("consistent", 0.1, 0.0, 0.2, "RL seeds, problems (hierarchical bootstrap)", "finding")  # type: ignore[call-arg]
