"""Replication of retest runs: when a run's verdict is confirmed on new seeds, and which seeds come next.

The rule (pure; `claims.status_rules` reads it):

- Two strong runs (`claims.strength`) of one protocol for one claim are on **new seeds**
  (`on_new_seeds`) when
  - both are toy-world runs: their pretraining seeds are disjoint (new base models, a
    new draw of the prior) **and** their RL seeds are disjoint;
  - both are real-model runs (a local model, `toy_world` false): the same model
    revision (it stands for the prior: there is no pretraining seed to draw) and
    disjoint RL seeds;
  - a toy-world run and a real-model run are never on new seeds of each other (they
    test different priors).
- A protocol's **standing** for a claim (`standing`) is its latest strong run with a
  verdict. It is **confirmed** when an earlier strong run of that protocol, on new
  seeds, reached the same verdict, and no strong run in between reached another. Only a
  confirmed standing counts toward a status proposal.
- The **next seed block** (`next_seed_block`, what `claims retest run --replicate` and
  the weekly job's replication draw) starts after the largest seed used: RL seeds
  max(used) + 1 .. max(used) + n, pretraining seeds likewise (toy world only), where
  "used" is every seed of every earlier standard or gpu run of that protocol for that
  claim (`used_seeds`; a superset of its strong runs' seeds; a smoke replication also
  skips the earlier smoke runs' seeds). The block is therefore on
  new seeds of every earlier strong run, and the caches, keyed by the seeds
  (`retest.model.base_name`, `retest.rl.rl_name`), train new bases and new GRPO runs.
- A failed strong run is **due a replication** (`replication_due`) when the protocol's
  standing for the claim is an unconfirmed "inconsistent": the weekly job plans it as the
  claim's next retest (`claims.planning.queue_replication`) and runs it on the next block.

The database side here only reads (`runs_of`, `used_seeds`, `replication_due`,
`protocols_without_strong_run`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from claims.errors import NotFound
from claims.models import Claim, RetestRun
from claims.protocols import serving_protocols
from claims.retests import RunStrength
from claims.strength import PROPOSING_PRESETS, assess_strength

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class RunFact:
    """One succeeded retest run as the rules read it."""

    id: int
    protocol: str
    verdict: str | None
    finished_at: dt.datetime | None
    strength: RunStrength = RunStrength()

    @property
    def may_propose(self) -> bool:
        """Strong enough to count (`claims.strength.assess_strength`); it counts once confirmed."""
        return assess_strength(self.strength)[0]

    @property
    def seeds_text(self) -> str:
        s = self.strength
        pre = f"pretraining seeds {_listed(s.pretrain_seeds)}, " if s.toy_world else \
            f"model {s.model_revision or 'unknown'}, "
        return pre + f"RL seeds {_listed(s.rl_seeds)}"


def _listed(seeds: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, seeds)) + ")"


def on_new_seeds(a: RunStrength, b: RunStrength) -> bool:
    """Whether two runs' seeds make one a replication of the other (the module doc's rule)."""
    if a.toy_world != b.toy_world:
        return False
    if set(a.rl_seeds) & set(b.rl_seeds):
        return False
    if a.toy_world:
        return not set(a.pretrain_seeds) & set(b.pretrain_seeds)
    return bool(a.model_revision) and a.model_revision == b.model_revision


@dataclass(frozen=True)
class Standing:
    """A protocol's latest strong run for a claim and, when confirmed, the earlier run that replicated it."""

    protocol: str
    latest: RunFact | None = None
    replicated_by: RunFact | None = None

    @property
    def verdict(self) -> str | None:
        return self.latest.verdict if self.latest else None

    @property
    def confirmed(self) -> bool:
        return self.replicated_by is not None

    @property
    def run_ids(self) -> tuple[int, ...]:
        return tuple(sorted(r.id for r in (self.latest, self.replicated_by) if r is not None))

    def describe(self) -> str:
        """One line for a rationale: the protocol, its latest strong run, and whether it is replicated."""
        if self.latest is None:
            return f"{self.protocol}: no strong run yet"
        r = self.latest
        text = f"{self.protocol} (run {r.id}) verdict {r.verdict} on {r.seeds_text}"
        if self.replicated_by is not None:
            p = self.replicated_by
            return text + f", replicated by run {p.id} on {p.seeds_text}"
        return text + ", not yet replicated on new seeds (`claims retest run --replicate`)"


def _order(r: RunFact) -> tuple[dt.datetime, int]:
    return (r.finished_at or dt.datetime.min, r.id)


def strong_runs(runs: Iterable[RunFact], protocol: str | None = None) -> list[RunFact]:
    """The finished strong runs with a verdict (of one protocol, if given), oldest first."""
    return sorted((r for r in runs if r.finished_at is not None and r.verdict is not None and r.may_propose
                   and (protocol is None or r.protocol == protocol)), key=_order)


def standing(protocol: str, runs: Iterable[RunFact]) -> Standing:
    """The protocol's standing among `runs` (the module doc's rule), pure."""
    strong = strong_runs(runs, protocol)
    if not strong:
        return Standing(protocol)
    latest = strong[-1]
    for earlier in reversed(strong[:-1]):
        if earlier.verdict != latest.verdict:
            break  # a strong run in between said otherwise
        if on_new_seeds(earlier.strength, latest.strength):
            return Standing(protocol, latest, earlier)
    return Standing(protocol, latest)


@dataclass(frozen=True)
class SeedBlock:
    """The seeds of a replication: RL seeds, and pretraining seeds (empty for a real model)."""

    rl_seeds: tuple[int, ...]
    pretrain_seeds: tuple[int, ...] = ()


def next_seed_block(used: Iterable[RunStrength], n_rl: int, n_pretrain: int, toy_world: bool = True) -> SeedBlock:
    """The next block after every seed in `used`: RL seeds max + 1 .. max + n_rl, pretraining
    seeds likewise (toy world; a real model has none). Pure; n_rl >= 1, n_pretrain >= 1 (toy)."""
    if n_rl < 1 or (toy_world and n_pretrain < 1):
        raise ValueError("a seed block needs at least one RL seed (and one pretraining seed in the toy world)")
    used = list(used)
    rl_from = max((s for u in used for s in u.rl_seeds), default=-1) + 1
    pre_from = max((s for u in used for s in u.pretrain_seeds), default=-1) + 1
    return SeedBlock(tuple(range(rl_from, rl_from + n_rl)),
                     tuple(range(pre_from, pre_from + n_pretrain)) if toy_world else ())


# --- reading the runs (the database side) ----------------------------------------------


def runs_of(session: Session, claim_id: int, protocol: str | None = None) -> list[RunFact]:
    """The claim's succeeded retest runs (of one protocol, if given) as the rules read them."""
    query = select(RetestRun.id, RetestRun.protocol, RetestRun.verdict, RetestRun.finished_at,
                   RetestRun.strength).where(RetestRun.claim_id == claim_id, RetestRun.status == "succeeded")
    if protocol is not None:
        query = query.where(RetestRun.protocol == protocol)
    return [RunFact(rid, p, verdict, finished, RunStrength.model_validate(strength or {}))
            for rid, p, verdict, finished, strength in session.execute(query.order_by(RetestRun.id)).all()]


def _claim_id(session: Session, claim_key: str) -> int:
    found = session.scalar(select(Claim.id).where(Claim.key == claim_key))
    if found is None:
        raise NotFound(f"no claim {claim_key!r}")
    return found


def used_seeds(session: Session, claim_key: str, protocol: str, preset: str = "") -> list[RunStrength]:
    """The strengths (seeds) of every earlier standard or gpu run of `protocol` for the claim
    (and of its runs of `preset`, so that a smoke replication also moves on: a plumbing check)."""
    presets = (*PROPOSING_PRESETS, preset)
    return [r.strength for r in runs_of(session, _claim_id(session, claim_key), protocol)
            if r.strength.preset in presets]


def seed_block(session: Session, claim_key: str, protocol: str, n_rl: int, n_pretrain: int,
               toy_world: bool = True, preset: str = "") -> SeedBlock:
    """The seeds a replication of `protocol` for the claim runs on (`next_seed_block` of `used_seeds`)."""
    return next_seed_block(used_seeds(session, claim_key, protocol, preset), n_rl, n_pretrain, toy_world)


def replication_due(session: Session, claim_key: str, protocol: str) -> Standing | None:
    """The protocol's standing for the claim when it is an unconfirmed "inconsistent" (None otherwise)."""
    found = standing(protocol, runs_of(session, _claim_id(session, claim_key), protocol))
    if found.latest is not None and found.verdict == "inconsistent" and not found.confirmed:
        return found
    return None


def protocols_without_strong_run(session: Session, claim_key: str) -> list[str]:
    """The protocols that serve the claim (`claims.protocols.serving_protocols`) with no strong run for it yet."""
    claim = session.scalar(select(Claim).where(Claim.key == claim_key))
    strong = strong_runs(runs_of(session, _claim_id(session, claim_key)))
    have = {r.protocol for r in strong}
    return [p for p in serving_protocols([claim.protocol or "", *have]) if p not in have]
