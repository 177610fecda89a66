"""An engine result's strength: which intervals count as spanning seeds (the proposal rule reads it)."""

from __future__ import annotations

import pytest

from agent.retests import spans_seeds


@pytest.mark.parametrize(("over", "spans"), [
    ("seeds", True),
    ("pretraining seeds, RL seeds, problems (hierarchical bootstrap)", True),
    ("RL seeds, problems (hierarchical bootstrap)", True),
    ("problems (bootstrap, single seed)", False),
    ("weight tensors (bootstrap, single seed)", False),
    ("problems", False),
    ("", False),
])
def test_an_interval_spans_seeds_only_when_it_resamples_runs(over: str, spans: bool) -> None:
    assert spans_seeds(over) is spans
