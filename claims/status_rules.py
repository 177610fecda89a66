"""Status rules: the status proposal a claim's evidence and strong retest verdicts call for (pure).

A claim's current status is never changed here; these only propose (`propose_status`).

- A *confident contradiction* is evidence judged "contradicts" with confidence >= 0.7
  (`CONFIDENT`; 0.69 is not confident, 0.70 is). Where its paper's first version falls
  against the claim's as-of window [`as_of_start`, `as_of_end`] (`claims.window`;
  "~2025" covers 2025-01-01..2025-12-31, both ends included) decides what it counts for:
  - **newer** (published strictly after `as_of_end`, `claims.window.is_newer_than_claim`):
    counts toward every status below;
  - **contemporaneous** (published inside the window, either end included): dissent
    from the claim's own time. It counts toward `contested` and never toward `weakened`
    or `overturned`: a claim dated "~2025" was made while that work was appearing, so
    it shows the claim was disputed, not that later work overturned it;
  - **older** (published before `as_of_start`) or undated: not counted. The claim was
    made after that work appeared; a reviewer sees it as evidence, not as a proposal.
- A *failed retest* is a protocol whose latest strong run (`claims.strength`) has verdict
  "inconsistent"; it is *replicated* when another strong run of that protocol on a
  disjoint set of RL seeds also says "inconsistent".
- 3 or more newer confident contradictions (distinct papers) and a failed retest ->
  `overturned`; 3 or more newer contradictions alone -> `weakened`; a failed retest with
  a newer confident contradiction or a replication -> `weakened`; a failed retest alone
  (a toy-world result), 1-2 newer confident contradictions, or any number of
  contemporaneous ones -> `contested`. Proposed only when more severe than the current
  status (unreviewed/holds < contested < weakened < overturned).
- Support only: an `unreviewed` claim with no contradicting evidence at all, no failed
  retest, and either a confident (>= 0.7) "supports" judgement or a latest strong
  retest verdict "consistent" -> propose `holds`.
- Unjudged, failed, flagged, "refines" and "unrelated" evidence proposes nothing. The
  facts reader (`claims.proposing.claim_facts`) leaves out evidence the screen flags
  (unless a reviewer set its stance) and evidence on withdrawn papers.

Each status draft names what it rests on: `payload["basis"]`, evidence id -> stance, for
every evidence row it cites. A pending proposal whose basis no longer holds is stale
(`claims.staleness`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from claims.drafts import Draft
from claims.retests import RunStrength
from claims.strength import assess_strength
from claims.window import place_in_window

CONFIDENT = 0.7
SEVERAL = 3
SEVERITY = {"unreviewed": 0, "holds": 0, "contested": 1, "weakened": 2, "overturned": 3}


@dataclass(frozen=True)
class ClaimFacts:
    key: str
    status: str
    as_of_start: dt.date
    as_of_end: dt.date


@dataclass(frozen=True)
class EvidenceFact:
    id: int
    paper_id: str
    stance: str
    confidence: float | None
    published: dt.date | None


@dataclass(frozen=True)
class RunFact:
    id: int
    protocol: str
    verdict: str | None
    finished_at: dt.datetime | None
    strength: RunStrength = RunStrength()

    @property
    def may_propose(self) -> bool:
        return assess_strength(self.strength)[0]


@dataclass(frozen=True)
class Contradictions:
    """A claim's confident contradictions, by where their papers fall against its as-of window."""

    newer: tuple[EvidenceFact, ...] = ()
    contemporaneous: tuple[EvidenceFact, ...] = ()

    @property
    def all(self) -> tuple[EvidenceFact, ...]:
        return tuple(sorted(self.newer + self.contemporaneous, key=lambda e: e.id))


def is_confident(e: EvidenceFact) -> bool:
    return (e.confidence or 0) >= CONFIDENT


def confident_contradictions(claim: ClaimFacts, evidence: list[EvidenceFact]) -> Contradictions:
    """Contradictions with confidence >= 0.7, newer than the claim's window or inside it (one per paper)."""
    seen: dict[str, EvidenceFact] = {}
    for e in sorted(evidence, key=lambda e: e.id):
        if e.stance == "contradicts" and is_confident(e):
            seen.setdefault(e.paper_id, e)
    where = {pid: place_in_window(e.published, claim.as_of_start, claim.as_of_end) for pid, e in seen.items()}
    return Contradictions(
        newer=tuple(e for pid, e in seen.items() if where[pid] == "newer"),
        contemporaneous=tuple(e for pid, e in seen.items() if where[pid] == "inside"),
    )


def latest_runs(runs: list[RunFact]) -> list[RunFact]:
    """The latest finished run with a verdict, per protocol."""
    latest: dict[str, RunFact] = {}
    for r in runs:
        if r.finished_at is None or r.verdict is None:
            continue
        if r.protocol not in latest or (r.finished_at, r.id) > (latest[r.protocol].finished_at, latest[r.protocol].id):
            latest[r.protocol] = r
    return sorted(latest.values(), key=lambda r: r.id)


def replicated(run: RunFact, runs: list[RunFact]) -> bool:
    """Another strong run of the protocol, on RL seeds disjoint from `run`'s, reached the same verdict."""
    return any(
        r.id != run.id and r.protocol == run.protocol and r.verdict == run.verdict and r.may_propose
        and not set(r.strength.rl_seeds) & set(run.strength.rl_seeds)
        for r in runs
    )


def _listed(evidence: tuple[EvidenceFact, ...]) -> str:
    return ", ".join(f"{e.paper_id} ({e.confidence:.2f}) published {e.published}" for e in evidence)


def _contradiction_parts(claim: ClaimFacts, contra: Contradictions) -> list[str]:
    n = len(contra.all)
    if not n:
        return []
    parts = [f"{n} confident contradiction{'s' if n != 1 else ''} (confidence >= {CONFIDENT})"]
    if contra.newer:
        parts.append(f"{len(contra.newer)} newer than the claim's as-of window (published after "
                     f"{claim.as_of_end}): {_listed(contra.newer)}")
    if contra.contemporaneous:
        parts.append(f"{len(contra.contemporaneous)} contemporaneous (published inside the claim's as-of window "
                     f"{claim.as_of_start}..{claim.as_of_end}; dissent from the claim's own time counts toward "
                     f"contested only): {_listed(contra.contemporaneous)}")
    return [parts[0] + ": " + "; ".join(parts[1:])]


def propose_status(claim: ClaimFacts, evidence: list[EvidenceFact], runs: list[RunFact]) -> Draft | None:
    """The status proposal the evidence and strong retest verdicts call for, if any (pure)."""
    if claim.status not in SEVERITY:
        return None
    contra = confident_contradictions(claim, evidence)
    newer = contra.newer
    latest = [r for r in latest_runs(runs) if r.may_propose]
    failed = [r for r in latest if r.verdict == "inconsistent"]
    repeated = [r for r in failed if replicated(r, runs)]
    parts = _contradiction_parts(claim, contra)
    for r in failed:
        again = ", replicated on disjoint seeds" if r in repeated else ""
        parts.append(f"retest {r.protocol} (run {r.id}) verdict inconsistent{again} (a toy-world experiment, "
                     f"{assess_strength(r.strength)[1]}: weigh it against the literature)")
    if len(newer) >= SEVERAL and failed:
        proposed = "overturned"
    elif len(newer) >= SEVERAL or (failed and (newer or repeated)):
        proposed = "weakened"
    elif failed or contra.all:
        proposed = "contested"  # a toy-world result alone, one or two newer papers, or contemporaneous dissent
    else:
        return _propose_holds(claim, evidence, latest)
    if SEVERITY[proposed] <= SEVERITY[claim.status]:
        return None
    cited = contra.all
    return Draft(
        kind="status",
        claim_key=claim.key,
        proposed_status=proposed,
        rationale=f"Propose {proposed}: " + "; ".join(parts) + ".",
        payload={"basis": basis(cited)},
        evidence_ids=tuple(e.id for e in cited),
        run_ids=tuple(r.id for r in failed),
    )


def basis(evidence: tuple[EvidenceFact, ...] | list[EvidenceFact]) -> dict[str, str]:
    """What a status proposal rests on: evidence id (as text, a JSON key) -> the stance it had."""
    return {str(e.id): e.stance for e in sorted(evidence, key=lambda e: e.id)}


def _propose_holds(claim: ClaimFacts, evidence: list[EvidenceFact], latest: list[RunFact]) -> Draft | None:
    if claim.status != "unreviewed" or any(e.stance == "contradicts" for e in evidence):
        return None
    support = sorted(
        {e.paper_id: e for e in evidence if e.stance == "supports" and is_confident(e)}.values(),
        key=lambda e: e.id,
    )
    consistent = [r for r in latest if r.verdict == "consistent"]
    if not support and not consistent:
        return None
    parts = []
    if support:
        parts.append(f"{len(support)} confident supporting paper(s): " + ", ".join(e.paper_id for e in support))
    if consistent:
        parts.append("; ".join(f"retest {r.protocol} (run {r.id}) verdict consistent (a toy-world experiment, "
                               f"{assess_strength(r.strength)[1]})" for r in consistent))
    return Draft(
        kind="status",
        claim_key=claim.key,
        proposed_status="holds",
        rationale="Propose holds: " + "; ".join(parts) + "; no contradicting evidence.",
        payload={"basis": basis(support)},
        evidence_ids=tuple(e.id for e in support),
        run_ids=tuple(r.id for r in consistent),
    )
