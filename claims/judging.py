"""Which candidates the stance judge sees in one run, and in what order (pure).

Coverage first: every candidate of every claim that needs a judgement
(`claims.evidence.evidence_to_judge`: unjudged, failed for a service reason, or judged
against another model, prompt version, claim revision or paper version) is judged,
within a budget of judgements per run (`CLAIMS_JUDGE_BUDGET`, 250: five claims with 50
candidates each on their first search; 0 judges nothing). The budget is spent across
all claims of the run in this order (`select_within_budget`):

1. **carried over** before new: candidates a previous run left unjudged (over its
   budget, or the service failed) go first, so nothing waits two runs;
2. **likely dissent** before the rest: a candidate whose title or abstract carries one
   of `DISSENT_CUES` (generic wording of a paper that goes against a finding: "contrary
   to", "challenge", "beyond the base model", ...). Only the order depends on it:
   every candidate is judged when the budget allows;
3. **highest-ranked** first, round-robin across claims: each claim's best remaining
   candidate, in the run's claim order, then each claim's second, and so on; so a
   small budget is shared between the claims, not spent on the first one.

What the budget leaves is counted per claim and reported (the agent summary, the run's
counts, the weekly report); it stays as it is, so the next run takes it up first (1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# Generic wording of dissent or of a capability a finding says is absent; a cue only
# moves a candidate forward in the queue (tests/agent/test_judge_coverage.py).
DISSENT_CUES: tuple[str, ...] = (
    "contrary to",
    "in contrast to",
    "challenge",  # challenge, challenges, challenging the view
    "contradict",
    "refute",
    "overturn",
    "counter to",
    "beyond the base model",
    "expands",
    "new reasoning",
    "novel reasoning",
    "not merely",
)
_CUE = re.compile("|".join(r"\b" + re.escape(c) for c in DISSENT_CUES), re.I)


def dissent_cue(title: str, summary: str) -> bool:
    """Does the paper's title or abstract carry a dissent cue (`DISSENT_CUES`)?"""
    return bool(_CUE.search(f"{title}\n{summary}"))


@dataclass(frozen=True)
class Pending:
    """A candidate that needs a judgement, with what orders it."""

    evidence_id: int
    rank: int
    carried: bool = False  # left unjudged by an earlier run
    cue: bool = False  # `dissent_cue` of its paper


@dataclass
class Selection:
    """What one run judges: evidence ids per claim (in order), and what is left per claim."""

    budget: int
    tasks: dict[str, list[int]] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)  # needing a judgement, per claim
    left: dict[str, int] = field(default_factory=dict)  # over the budget, per claim (0s left out)

    @property
    def selected(self) -> int:
        return sum(len(v) for v in self.tasks.values())

    def to_json(self) -> dict[str, object]:
        return {"budget": self.budget, "tasks": self.tasks, "pending": self.pending, "left": self.left}


def priority(p: Pending) -> tuple[int, int, int]:
    """The order of one claim's candidates: carried over, then cued, then by rank."""
    return (0 if p.carried else 1, 0 if p.cue else 1, p.rank)


def select_within_budget(pending: dict[str, Sequence[Pending]], budget: int) -> Selection:
    """Spend `budget` judgements over the claims (in `pending`'s order); see the module doc."""
    queue: list[tuple[tuple[int, int], int, int, str, int]] = []
    for c, (key, items) in enumerate(pending.items()):
        per_tier: dict[tuple[int, int], int] = {}
        for p in sorted(items, key=lambda p: (priority(p), p.evidence_id)):
            tier = priority(p)[:2]
            turn = per_tier.get(tier, 0)
            per_tier[tier] = turn + 1
            queue.append((tier, turn, c, key, p.evidence_id))  # round-robin: turn before claim order
    queue.sort(key=lambda q: q[:3])
    chosen = queue[:max(0, budget)]
    out = Selection(budget=budget, pending={k: len(v) for k, v in pending.items()})
    for key in pending:
        ids = [q[4] for q in chosen if q[3] == key]
        if ids:
            out.tasks[key] = ids
        if len(ids) < len(pending[key]):
            out.left[key] = len(pending[key]) - len(ids)
    return out
