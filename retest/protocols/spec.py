"""What every protocol is: a spec (rule, thresholds, validity flags, version) and a decision.

A protocol is `measure(lab) -> M` (any typed measurements it needs, built from the
cached blocks of `retest.lab.Lab`) and `decide(M) -> Decision`. Its decision rule,
thresholds and the validity flags it may raise are stated in the spec, before any run,
and versioned: a change to any of them bumps `version`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retest.measures import IntervalKind

if TYPE_CHECKING:
    from retest.lab import Lab

NO_SIGNAL = ("no signal: every draw measured scored 0 (or every one 1): the model never (or always) answers right, "
             "so every difference is 0 by construction and the verdict tests nothing")
"""The validity flag every protocol states and raises (`no_signal`): a model that never or always answers right."""


def no_signal(rates: Iterable[float]) -> tuple[str, ...]:
    """(the `NO_SIGNAL` flag with the figure,) when every accuracy in `rates` is 0, or every one is 1; else ()."""
    xs = [float(x) for x in rates]
    if not xs or not (all(x <= 0 for x in xs) or all(x >= 1 for x in xs)):
        return ()
    return (f"{NO_SIGNAL} ({xs[0]:.2f} in all {len(xs)} draws)",)


@dataclass(frozen=True)
class Decision:
    verdict: str  # consistent | inconsistent | inconclusive
    effect_size: float
    ci_low: float
    ci_high: float
    interval_over: str  # "seeds" | "pretraining seeds, RL seeds, problems (hierarchical bootstrap)" | ...
    finding: str  # one clause with the numbers
    flags: tuple[str, ...] = ()  # validity flags raised: conditions under which the verdict is not a test
    per_seed: tuple[float, ...] = ()  # the effect of each (pretraining seed, RL seed) run, beside the interval
    details: Mapping[str, Any] = field(default_factory=dict)  # protocol-specific figures (stored in metrics)
    # what the interval resamples, as the proposal gate reads it (`interval_over` is its words): every
    # protocol states it, usually its deciding `Interval.kind`
    interval_kind: IntervalKind = field(kw_only=True)


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    version: str
    claim_hint: str
    interval_days: int
    description: str
    decision_rule: str
    decide: Callable[[Any], Decision]
    measure: Callable[[Lab], Any] | None = None  # None: the shared measurements (`Lab.measurements`)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    validity_flags: tuple[str, ...] = ()  # each flag the protocol may raise, stated before the run
    tests: str = ""  # what the protocol tests of the claim
    does_not_test: str = ""  # what it leaves untested

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `claims retest protocols --format json` prints."""
        return {
            "name": self.name, "version": self.version, "claim_hint": self.claim_hint,
            "interval_days": self.interval_days, "description": self.description,
            "decision_rule": self.decision_rule, "thresholds": dict(self.thresholds),
            "validity_flags": list(self.validity_flags), "tests": self.tests, "does_not_test": self.does_not_test,
        }
