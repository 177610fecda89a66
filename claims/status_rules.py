"""Status rules: the status proposal a claim's evidence and strong retest verdicts call for (pure).

A claim's current status is never changed here; these only propose (`propose_status`).

- A *confident contradiction* is evidence judged "contradicts" with confidence >= 0.7
  from a paper newer than the claim (`claims.evidence.is_newer_than_claim`: published
  strictly after the end of the claim's as-of window, `as_of_end`).
- A *failed retest* is a protocol whose latest strong run (`claims.strength`) has verdict
  "inconsistent"; it is *replicated* when another strong run of that protocol on a
  disjoint set of RL seeds also says "inconsistent".
- 3 or more confident contradictions (distinct papers) and a failed retest ->
  `overturned`; 3 or more contradictions alone -> `weakened`; a failed retest with a
  confident contradiction or a replication -> `weakened`; a failed retest alone (a
  toy-world result) or 1-2 confident contradictions -> `contested`. Proposed only when
  more severe than the current status (unreviewed/holds < contested < weakened <
  overturned).
- Support only: an `unreviewed` claim with no contradicting evidence at all, no failed
  retest, and either a confident (>= 0.7) "supports" judgement or a latest strong
  retest verdict "consistent" -> propose `holds`.
- Unjudged, failed, flagged, "refines" and "unrelated" evidence proposes nothing. The
  facts reader (`claims.proposing.claim_facts`) leaves out evidence the screen flags
  (unless a reviewer set its stance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from claims.drafts import Draft
from claims.evidence import is_newer_than_claim
from claims.retests import RunStrength
from claims.strength import assess_strength

CONFIDENT = 0.7
SEVERAL = 3
SEVERITY = {"unreviewed": 0, "holds": 0, "contested": 1, "weakened": 2, "overturned": 3}


@dataclass(frozen=True)
class ClaimFacts:
    key: str
    status: str
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


def confident_contradictions(claim: ClaimFacts, evidence: list[EvidenceFact]) -> list[EvidenceFact]:
    """Contradictions with confidence >= 0.7 from papers newer than the claim's as-of date."""
    seen: dict[str, EvidenceFact] = {}
    for e in evidence:
        if (
            e.stance == "contradicts"
            and (e.confidence or 0) >= CONFIDENT
            and is_newer_than_claim(e.published, claim.as_of_end)
        ):
            seen.setdefault(e.paper_id, e)
    return sorted(seen.values(), key=lambda e: e.id)


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


def propose_status(claim: ClaimFacts, evidence: list[EvidenceFact], runs: list[RunFact]) -> Draft | None:
    """The status proposal the evidence and strong retest verdicts call for, if any (pure)."""
    if claim.status not in SEVERITY:
        return None
    contra = confident_contradictions(claim, evidence)
    latest = [r for r in latest_runs(runs) if r.may_propose]
    failed = [r for r in latest if r.verdict == "inconsistent"]
    repeated = [r for r in failed if replicated(r, runs)]
    parts = []
    if contra:
        listed = ", ".join(f"{e.paper_id} ({e.confidence:.2f})" for e in contra)
        parts.append(
            f"{len(contra)} confident contradiction{'s' if len(contra) != 1 else ''} (confidence >= {CONFIDENT}) "
            f"from papers newer than the claim's as-of date {claim.as_of_end}: {listed}"
        )
    for r in failed:
        again = ", replicated on disjoint seeds" if r in repeated else ""
        parts.append(f"retest {r.protocol} (run {r.id}) verdict inconsistent{again} (a toy-world experiment, "
                     f"{assess_strength(r.strength)[1]}: weigh it against the literature)")
    if len(contra) >= SEVERAL and failed:
        proposed = "overturned"
    elif len(contra) >= SEVERAL or (failed and (contra or repeated)):
        proposed = "weakened"
    elif failed or contra:
        proposed = "contested"  # a toy-world result alone, or one or two papers
    else:
        return _propose_holds(claim, evidence, latest)
    if SEVERITY[proposed] <= SEVERITY[claim.status]:
        return None
    return Draft(
        kind="status",
        claim_key=claim.key,
        proposed_status=proposed,
        rationale=f"Propose {proposed}: " + "; ".join(parts) + ".",
        evidence_ids=tuple(e.id for e in contra),
        run_ids=tuple(r.id for r in failed),
    )


def _propose_holds(claim: ClaimFacts, evidence: list[EvidenceFact], latest: list[RunFact]) -> Draft | None:
    if claim.status != "unreviewed" or any(e.stance == "contradicts" for e in evidence):
        return None
    support = sorted(
        {e.paper_id: e for e in evidence if e.stance == "supports" and (e.confidence or 0) >= CONFIDENT}.values(),
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
        evidence_ids=tuple(e.id for e in support),
        run_ids=tuple(r.id for r in consistent),
    )
