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
- Retests count per claim, not per run. The protocols that *serve* a claim are its
  attached protocol, the protocols of its strong runs, and every protocol written for the
  same claim (`claims.protocols.serving_protocols`: C4 has two, C5 three). Each protocol's
  *standing* is its latest strong run (`claims.strength`); it is *confirmed* when an
  earlier strong run of it on new seeds reached the same verdict with no strong run in
  between saying otherwise (`claims.replication`: toy world, disjoint pretraining seeds
  and disjoint RL seeds; real model, the same model revision and disjoint RL seeds).
- A *failed retest* is a claim whose serving protocols all have a confirmed standing
  "inconsistent". One run alone, a protocol without a strong run, or protocols that
  disagree give no failed retest (the rationale of any proposal lists them as not counted).
- 3 or more newer confident contradictions (distinct papers) and a failed retest ->
  `overturned`; 3 or more newer contradictions alone, or a failed retest with a newer
  confident contradiction -> `weakened`; a failed retest alone, 1-2 newer confident
  contradictions, or any number of contemporaneous ones -> `contested`. Retests alone
  therefore propose at most `contested`. Proposed only when more severe than the current
  status (unreviewed/holds < contested < weakened < overturned).
- Support only: an `unreviewed` claim with no contradicting evidence at all, no serving
  protocol whose latest strong run says "inconsistent", and a confident (>= 0.7)
  "supports" judgement -> propose `holds`. Retest support alone never proposes `holds`;
  latest strong "consistent" runs are cited beside the papers.
- Unjudged, failed, flagged, "refines" and "unrelated" evidence proposes nothing. The
  facts reader (`claims.proposing.claim_facts`) leaves out evidence the screen flags
  (unless a reviewer set its stance), evidence on withdrawn papers, and machine stances
  the dissent guard discounts (`claims.dissent_guard`: the judge restated the paper's
  instructions, or a near-duplicate abstract already counts).

Each status draft names what it rests on: `payload["basis"]`, evidence id -> stance, for
every evidence row it cites. A pending proposal whose basis no longer holds is stale
(`claims.staleness`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from claims.drafts import Draft
from claims.replication import RunFact, Standing, standing, strong_runs
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
    protocols: tuple[str, ...] = ()  # the protocols that serve it (`claims.protocols.serving_protocols`)


@dataclass(frozen=True)
class EvidenceFact:
    id: int
    paper_id: str
    stance: str
    confidence: float | None
    published: dt.date | None


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


@dataclass(frozen=True)
class Retests:
    """The standing of every protocol that serves a claim (the module doc's retest rules)."""

    standings: tuple[Standing, ...] = ()

    @property
    def failed(self) -> bool:
        """Every serving protocol's standing is a confirmed "inconsistent"."""
        return bool(self.standings) and all(s.confirmed and s.verdict == "inconsistent" for s in self.standings)

    @property
    def any_inconsistent(self) -> bool:
        return any(s.verdict == "inconsistent" for s in self.standings)

    @property
    def consistent(self) -> tuple[Standing, ...]:
        return tuple(s for s in self.standings if s.verdict == "consistent")

    @property
    def run_ids(self) -> tuple[int, ...]:
        return tuple(sorted({i for s in self.standings for i in s.run_ids}))

    @property
    def ran(self) -> bool:
        return any(s.latest is not None for s in self.standings)


def retests_of(claim: ClaimFacts, runs: list[RunFact]) -> Retests:
    """The standings of the claim's serving protocols: its declared ones and those of its strong runs."""
    served = set(claim.protocols) | {r.protocol for r in strong_runs(runs)}
    return Retests(tuple(standing(p, runs) for p in sorted(served)))


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


def _retest_parts(retests: Retests) -> list[str]:
    if not retests.ran:
        return []
    each = "; ".join(s.describe() for s in retests.standings)
    if retests.failed:
        return ["retests: every protocol that tests the claim says inconsistent, each replicated on new seeds "
                f"(retests alone propose at most contested: weigh them against the literature): {each}"]
    return ["retests not counted toward this proposal (only an inconsistent verdict from every protocol that "
            f"tests the claim, each replicated on new seeds, counts): {each}"]


def propose_status(claim: ClaimFacts, evidence: list[EvidenceFact], runs: list[RunFact]) -> Draft | None:
    """The status proposal the evidence and replicated strong retest verdicts call for, if any (pure)."""
    if claim.status not in SEVERITY:
        return None
    contra = confident_contradictions(claim, evidence)
    retests = retests_of(claim, runs)
    failed = retests.failed
    proposed = _called_for(contra, retests)
    if proposed is None:
        return _propose_holds(claim, evidence, retests)
    if SEVERITY[proposed] <= SEVERITY[claim.status]:
        return None
    cited = contra.all
    return Draft(
        kind="status",
        claim_key=claim.key,
        proposed_status=proposed,
        rationale=f"Propose {proposed}: " + "; ".join(_contradiction_parts(claim, contra) + _retest_parts(retests)) + ".",
        payload={"basis": basis(cited)},
        evidence_ids=tuple(e.id for e in cited),
        run_ids=retests.run_ids if failed else (),
    )


def _called_for(contra: Contradictions, retests: Retests) -> str | None:
    """The severe status the contradictions and a failed retest call for (the module doc's ladder), if any."""
    newer, failed = contra.newer, retests.failed
    if len(newer) >= SEVERAL and failed:
        return "overturned"
    if len(newer) >= SEVERAL or (failed and newer):
        return "weakened"
    if failed or contra.all:
        return "contested"  # a failed retest alone, one or two newer papers, or contemporaneous dissent
    return None


def why_no_proposal(claim: ClaimFacts, evidence: list[EvidenceFact], runs: list[RunFact]) -> str:
    """Why `propose_status` proposes nothing for these facts, in one line (pure); "" when it proposes."""
    if propose_status(claim, evidence, runs) is not None:
        return ""
    if claim.status not in SEVERITY:
        return f"a {claim.status} claim gets no status proposals"
    contra, retests = confident_contradictions(claim, evidence), retests_of(claim, runs)
    proposed = _called_for(contra, retests)
    if proposed is not None:
        return f"the evidence and retests call for {proposed}, no more severe than the claim's status {claim.status}"
    why = [f"no confident contradiction (confidence >= {CONFIDENT}) newer than or inside the claim's as-of window"
           if not contra.all else "", "no failed retest"]
    if retests.ran:
        why.append("retests need an inconsistent verdict from every protocol that tests the claim, each replicated "
                   "on new seeds: " + "; ".join(s.describe() for s in retests.standings))
    else:
        why.append("no strong retest run")
    if claim.status == "unreviewed":
        why.append("holds needs a confident supporting paper and no contradiction or inconsistent retest")
    return "; ".join(w for w in why if w)


def basis(evidence: tuple[EvidenceFact, ...] | list[EvidenceFact]) -> dict[str, str]:
    """What a status proposal rests on: evidence id (as text, a JSON key) -> the stance it had."""
    return {str(e.id): e.stance for e in sorted(evidence, key=lambda e: e.id)}


def _propose_holds(claim: ClaimFacts, evidence: list[EvidenceFact], retests: Retests) -> Draft | None:
    if claim.status != "unreviewed" or any(e.stance == "contradicts" for e in evidence) or retests.any_inconsistent:
        return None
    support = sorted(
        {e.paper_id: e for e in evidence if e.stance == "supports" and is_confident(e)}.values(),
        key=lambda e: e.id,
    )
    if not support:
        return None  # retest support alone never proposes holds
    parts = [f"{len(support)} confident supporting paper(s): " + ", ".join(e.paper_id for e in support)]
    consistent = retests.consistent
    if consistent:
        parts.append("beside them, retests consistent: " + "; ".join(s.describe() for s in consistent))
    return Draft(
        kind="status",
        claim_key=claim.key,
        proposed_status="holds",
        rationale="Propose holds: " + "; ".join(parts) + "; no contradicting evidence.",
        payload={"basis": basis(support)},
        evidence_ids=tuple(e.id for e in support),
        run_ids=tuple(sorted({i for s in consistent for i in s.run_ids})),
    )
