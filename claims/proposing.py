"""Proposals from evidence and retest verdicts: pure rules, and the deduplicating writer.

Rules (a claim's current status is never changed here; these only propose):

- A *confident contradiction* is evidence judged "contradicts" with confidence >= 0.7
  from a paper newer than the claim (`claims.evidence.is_newer_than_claim`: published
  strictly after the end of the claim's as-of window, `as_of_end`).
- A retest run *may propose* only when it is strong enough to act on
  (`assess_strength`): preset standard or gpu, at least 3 RL seeds and 2 pretraining
  seeds, an interval that spans seeds, and no validity flag raised by its protocol
  (for example a ceiling that makes the verdict automatic). Smoke runs never propose:
  they are plumbing checks. Weaker runs stay visible as runs, never as proposals.
- A *failed retest* is a protocol whose latest strong run has verdict "inconsistent";
  it is *replicated* when another strong run of that protocol on a disjoint set of RL
  seeds also says "inconsistent".
- 3 or more confident contradictions (distinct papers) and a failed retest ->
  `overturned`; 3 or more contradictions alone -> `weakened`; a failed retest with a
  confident contradiction or a replication -> `weakened`; a failed retest alone (a
  toy-world result) or 1-2 confident contradictions -> `contested`. Proposed only when
  more severe than the current status (unreviewed/holds < contested < weakened <
  overturned).
- Support only: an `unreviewed` claim with no contradicting evidence at all, no failed
  retest, and either a confident (>= 0.7) "supports" judgement or a latest strong
  retest verdict "consistent" -> propose `holds`.
- An anchor whose cited label does not name the paper at its id (or whose id names no
  paper) -> an `anchor` proposal to replace the id with the best fitting candidate the
  agent ranked (`action` "replace", `replace_with`, the alternatives with scores), or,
  with none fitting, to flag it for a person (`action` "flag"). Never a relabel with
  the wrong paper's title. A date-only mismatch -> `action` "correct" with `cited_date`
  from the first-version date, written at the cited date's precision.
- Unjudged, failed, flagged, "refines" and "unrelated" evidence proposes nothing:
  reviewers see new candidates as evidence. Evidence from a paper the screen flags
  (`claims.screening`) never counts, whatever stance a judge gave it, unless a
  reviewer set that stance. Superseded claims get no proposals.

Every proposal carries a rationale, links to the evidence and retest runs behind it,
and a fingerprint: sha256 of (kind, target, proposed value, evidence ids, run ids).
The writer skips a draft whose fingerprint any earlier proposal has (pending,
approved or rejected: a rejected finding is not proposed again) and a status or
anchor draft while a pending proposal already proposes the same change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from claims.evidence import is_newer_than_claim
from claims.retests import RunStrength

CONFIDENT = 0.7
PROPOSING_PRESETS = ("standard", "gpu")
MIN_RL_SEEDS = 3
MIN_PRETRAIN_SEEDS = 2
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


def describe_strength(strength: RunStrength) -> dict[str, Any]:
    """The strength of a run as the CLI, reports and UI show it (counts, flags, may_propose, why)."""
    ok, why = assess_strength(strength)
    return {"preset": strength.preset, "label": run_label(strength.preset),
            "rl_seeds": len(strength.rl_seeds), "rl_seed_ids": list(strength.rl_seeds),
            "pretrain_seeds": len(strength.pretrain_seeds), "pretrain_seed_ids": list(strength.pretrain_seeds),
            "interval": strength.interval, "interval_spans_seeds": strength.interval_spans_seeds,
            "flags": list(strength.flags), "toy_world": strength.toy_world, "may_propose": ok, "why": why}


def run_label(preset: str) -> str:
    """How a run's preset is shown: smoke runs are plumbing checks, not evidence."""
    return "smoke (plumbing check)" if preset == "smoke" else f"{preset or 'unknown'} preset"


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


def assess_strength(strength: RunStrength, presets: tuple[str, ...] = PROPOSING_PRESETS) -> tuple[bool, str]:
    """(may this run propose?, why): the rule in the module doc, pure. `presets`: the
    presets strong enough to propose (a factorial grid has its own: claims.factorial)."""
    problems = []
    if strength.preset not in presets:
        label = "smoke (plumbing check)" if strength.preset == "smoke" else repr(strength.preset or "unknown")
        problems.append(f"preset {label}, not {' or '.join(presets)}")
    if len(strength.rl_seeds) < MIN_RL_SEEDS:
        problems.append(f"{len(strength.rl_seeds)} RL seed(s), fewer than {MIN_RL_SEEDS}")
    if len(strength.pretrain_seeds) < MIN_PRETRAIN_SEEDS:
        problems.append(f"{len(strength.pretrain_seeds)} pretraining seed(s), fewer than {MIN_PRETRAIN_SEEDS}")
    if not strength.interval_spans_seeds:
        problems.append(f"its interval does not span seeds ({strength.interval or 'unknown'})")
    if strength.flags:
        problems.append("validity flags: " + "; ".join(strength.flags))
    if problems:
        return False, "; ".join(problems)
    return True, (f"preset {strength.preset}, {len(strength.rl_seeds)} RL seeds, {len(strength.pretrain_seeds)} "
                  f"pretraining seeds, interval over {strength.interval}, no validity flags")


@dataclass(frozen=True)
class AnchorFact:
    id: int
    arxiv_id: str
    status: str
    differences: tuple[Any, ...]
    cited_label: str
    cited_date: str
    verified_title: str | None
    verified_published: dt.date | None
    candidates: tuple[Any, ...] = ()  # ranked papers that may have been meant (dicts: id, title, published, score, fits)


@dataclass(frozen=True)
class Draft:
    """A proposal not yet written."""

    kind: str  # status | anchor (the agent); text | new_claim | retire too (a changed document)
    claim_key: str | None
    proposed_status: str | None
    rationale: str
    payload: dict[str, Any] = field(default_factory=dict)
    evidence_ids: tuple[int, ...] = ()
    run_ids: tuple[int, ...] = ()
    proposed_text: str | None = None
    inquiry_id: int | None = None

    @property
    def fingerprint(self) -> str:
        target = self.claim_key if self.kind != "anchor" else f"anchor:{self.payload.get('anchor_id')}"
        value: Any
        if self.kind == "status":
            value = self.proposed_status
        elif self.kind == "anchor":
            keys = (("action", "replace_with", "cited_label", "cited_date") if self.payload.get("anchor_id")
                    else ("arxiv_id", "cited_label", "cited_date"))
            value = {k: v for k, v in sorted(self.payload.items()) if k in keys}
        else:
            value = [self.inquiry_id, self.proposed_text, self.proposed_status, self.payload]
        blob = json.dumps(
            [self.kind, target, value, sorted(self.evidence_ids), sorted(self.run_ids)], sort_keys=True, default=str
        )
        return hashlib.sha256(blob.encode()).hexdigest()


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


def format_date_like(value: dt.date, cited: str) -> str:
    """`value` written at the precision of the cited date ("2025", "2025-05" or a day)."""
    digits = cited.strip().lstrip("~")
    if len(digits) == 4 and digits.isdigit():
        return f"{value.year:04d}"
    if len(digits) == 7 and digits[4] == "-":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def propose_anchor(anchor: AnchorFact, claim_key: str | None = None) -> Draft | None:
    """What to do about a mismatched or missing anchor (pure): replace its id, flag it, or correct its date.

    When the cited label does not name the paper at the id (or no paper has the id), the
    id is what is wrong: propose the best fitting candidate (`anchor.candidates`, ranked by
    the agent) as the replacement, with the alternatives; with none fitting, flag the
    anchor for a person. Never relabel it with the wrong paper's title. A date-only
    mismatch proposes the first version's date, written at the cited precision.
    """
    if anchor.status not in ("mismatch", "not_found"):
        return None
    differences = "; ".join(str(d) for d in anchor.differences) or "not stated"
    said = " ".join(json.dumps(d, default=str) if not isinstance(d, str) else d for d in anchor.differences).lower()
    wrong_id = anchor.status == "not_found" or any(w in said for w in ("title", "label"))
    base: dict[str, Any] = {"anchor_id": anchor.id, "arxiv_id": anchor.arxiv_id, "differences": list(anchor.differences),
                            "current": {"arxiv_id": anchor.arxiv_id, "cited_label": anchor.cited_label,
                                        "cited_date": anchor.cited_date, "found_title": anchor.verified_title}}
    if "withdrawn" in said:
        return Draft(kind="anchor", claim_key=claim_key, proposed_status=None,
                     rationale=f"Flag anchor arXiv:{anchor.arxiv_id} as withdrawn and stop relying on it "
                     f"(check found: {differences}).",
                     payload={**base, "action": "withdrawn"})
    if wrong_id:
        return _replace_or_flag(anchor, claim_key, base, differences)
    if anchor.verified_published is None:
        return None
    fixed = format_date_like(anchor.verified_published, anchor.cited_date)
    if fixed == anchor.cited_date:
        return None
    return Draft(kind="anchor", claim_key=claim_key, proposed_status=None,
                 rationale=f"Correct anchor arXiv:{anchor.arxiv_id}: date {anchor.cited_date!r} -> {fixed!r} "
                 f"(check found: {differences}).",
                 payload={**base, "action": "correct", "cited_date": fixed})


def describe_anchor_change(payload: dict[str, Any]) -> str:
    """An anchor proposal in a few words, for lists and reports (pure)."""
    aid = f"arXiv:{payload.get('arxiv_id', '?')}"
    action = payload.get("action")
    if action == "replace":
        return f"replace {aid} with arXiv:{payload.get('replace_with')}"
    if action in ("flag", "withdrawn", "remove"):
        return {"flag": f"flag {aid}", "withdrawn": f"flag {aid} as withdrawn", "remove": f"remove {aid}"}[action]
    fields = ", ".join(f"{k} {payload[k]!r}" for k in ("cited_label", "cited_date") if payload.get(k))
    return f"correct {aid}: {fields}"


def _replace_or_flag(anchor: AnchorFact, claim_key: str | None, base: dict[str, Any], differences: str) -> Draft:
    candidates = [dict(c) for c in anchor.candidates]
    ranked = "; ".join(f"arXiv:{c.get('id')} {c.get('title')!r} ({c.get('published') or 'date unknown'}, "
                       f"score {float(c.get('score') or 0):.2f}{', fits' if c.get('fits') else ''})" for c in candidates)
    best = next((c for c in candidates if c.get("fits")), None)
    if best is None:
        why = (f"no candidate fits (ranked: {ranked})" if candidates else "no candidate paper was found")
        return Draft(kind="anchor", claim_key=claim_key, proposed_status=None,
                     rationale=f"Flag anchor arXiv:{anchor.arxiv_id} for a person: the cited label "
                     f"{anchor.cited_label!r} does not name the paper at this id ({differences}); {why}. "
                     "Correct the id by hand, or remove the anchor.",
                     payload={**base, "action": "flag", "candidates": candidates})
    payload = {**base, "action": "replace", "replace_with": best["id"], "candidates": candidates}
    when = ""
    if best.get("published"):
        fixed = format_date_like(dt.date.fromisoformat(best["published"]), anchor.cited_date or best["published"])
        if fixed != anchor.cited_date:
            payload["cited_date"] = fixed
        when = f", first version {best['published']}"
    others = [c for c in candidates if c is not best]
    alt = ("; alternatives: " + "; ".join(f"arXiv:{c.get('id')} ({float(c.get('score') or 0):.2f})" for c in others)
           if others else "")
    return Draft(kind="anchor", claim_key=claim_key, proposed_status=None,
                 rationale=f"Replace arXiv:{anchor.arxiv_id} with arXiv:{best['id']} ({best.get('title')!r}{when}; "
                 f"score {float(best.get('score') or 0):.2f}): the cited label {anchor.cited_label!r} does not name "
                 f"the paper at arXiv:{anchor.arxiv_id} ({differences}){alt}.",
                 payload=payload)


# --- reading facts and writing proposals (the database side) -------------------------


def claim_facts(session: Any, claim: Any) -> tuple[ClaimFacts, list[EvidenceFact], list[RunFact]]:
    """The plain facts about one claim (a `claims.models.Claim`) that the rules read."""
    from sqlalchemy import select

    from claims.models import Evidence, Paper, RetestRun

    from claims.screening import screen_paper

    rows = [
        (eid, paper_id, stance, confidence, published)
        for eid, paper_id, stance, confidence, published, title, summary, reviewed_by in session.execute(
            select(Evidence.id, Evidence.paper_id, Evidence.stance, Evidence.confidence, Paper.published,
                   Paper.title, Paper.summary, Evidence.stance_reviewed_by)
            .join(Paper, Paper.arxiv_id == Evidence.paper_id)
            .where(Evidence.claim_id == claim.id)
        )
        # a screened (flagged) paper never counts, whatever a judge said of it, unless a reviewer set its stance
        if reviewed_by is not None or not screen_paper(title, summary or "").flagged
    ]
    runs = session.execute(
        select(RetestRun.id, RetestRun.protocol, RetestRun.verdict, RetestRun.finished_at, RetestRun.strength).where(
            RetestRun.claim_id == claim.id, RetestRun.status == "succeeded"
        )
    ).all()
    return (
        ClaimFacts(claim.key, claim.status, claim.as_of_end),
        [EvidenceFact(*r) for r in rows],
        [RunFact(rid, protocol, verdict, finished, RunStrength.model_validate(strength or {}))
         for rid, protocol, verdict, finished, strength in runs],
    )


def anchor_fact(anchor: Any) -> AnchorFact:
    """The plain facts of a `claims.models.Anchor`."""
    return AnchorFact(
        id=anchor.id,
        arxiv_id=anchor.arxiv_id,
        status=anchor.status,
        differences=tuple(anchor.differences or ()),
        cited_label=anchor.cited_label,
        cited_date=anchor.cited_date,
        verified_title=anchor.verified_title,
        verified_published=anchor.verified_published,
        candidates=tuple(anchor.candidates or ()),
    )


def propose_for_claim(session: Any, claim: Any, actor: str = "agent") -> list[int]:
    """Write the status proposal a claim's evidence and retest verdicts call for; new ids."""
    draft = propose_status(*claim_facts(session, claim))
    return write_proposals(session, [draft] if draft else [], actor=actor)[0]


def propose_for_claim_key(session: Any, key: str, actor: str = "agent") -> list[int]:
    """`propose_for_claim` for the claim with this key; new proposal ids."""
    from sqlalchemy import select

    from claims.errors import NotFound
    from claims.models import Claim

    claim = session.scalar(select(Claim).where(Claim.key == key))
    if claim is None:
        raise NotFound(f"no claim {key}")
    return propose_for_claim(session, claim, actor=actor)


def propose_anchor_corrections(session: Any, claim_keys: list[str], actor: str = "agent") -> list[int]:
    """Anchor corrections for the mismatched anchors of these claims' inquiries; new ids."""
    from sqlalchemy import select

    from claims.models import Anchor, Claim

    inquiries = set(session.scalars(select(Claim.inquiry_id).where(Claim.key.in_(claim_keys))))
    keys_by_id = dict(session.execute(select(Claim.id, Claim.key)).all())
    anchors = session.scalars(select(Anchor).where(Anchor.inquiry_id.in_(inquiries)).order_by(Anchor.id))
    drafts = [d for a in anchors if (d := propose_anchor(anchor_fact(a), keys_by_id.get(a.claim_id)))]
    return write_proposals(session, drafts, actor=actor)[0]


def write_proposals(session: Any, drafts: list[Draft], actor: str = "agent") -> tuple[list[int], list[str]]:
    """Write pending proposals for the drafts not seen before; (written ids, skip reasons).

    Each written proposal links its evidence and runs and gets an audit entry.
    """
    from sqlalchemy import select

    from claims import audit
    from claims.models import Anchor, Claim, Evidence, Proposal, RetestRun

    written: list[int] = []
    skipped: list[str] = []
    for draft in drafts:
        fp = draft.fingerprint
        label = f"{draft.kind} {draft.claim_key or draft.payload.get('arxiv_id')}"
        if session.scalar(select(Proposal.id).where(Proposal.fingerprint == fp).limit(1)) is not None:
            skipped.append(f"{label}: same finding already proposed")
            continue
        claim = session.scalar(select(Claim).where(Claim.key == draft.claim_key)) if draft.claim_key else None
        pending = select(Proposal).where(Proposal.state == "pending", Proposal.kind == draft.kind)
        same = None
        if draft.kind == "status":
            pending = pending.where(Proposal.claim_id == claim.id, Proposal.proposed_status == draft.proposed_status)
            same = session.scalars(pending).first()
        elif draft.kind == "anchor" and draft.payload.get("anchor_id"):
            same = next(
                (p for p in session.scalars(pending) if (p.payload or {}).get("anchor_id") == draft.payload.get("anchor_id")),
                None,
            )
        if same is not None:
            skipped.append(f"{label}: proposal {same.id} already pending")
            continue
        inquiry_id = draft.inquiry_id or (claim.inquiry_id if claim is not None else None)
        if inquiry_id is None and draft.payload.get("anchor_id"):
            anchor = session.get(Anchor, draft.payload["anchor_id"])
            inquiry_id = anchor.inquiry_id if anchor is not None else None
        proposal = Proposal(
            claim_id=claim.id if claim is not None else None,
            inquiry_id=inquiry_id,
            kind=draft.kind,
            proposed_status=draft.proposed_status,
            proposed_text=draft.proposed_text,
            payload=dict(draft.payload),
            rationale=draft.rationale,
            fingerprint=fp,
            state="pending",
            created_by=actor,
        )
        if draft.evidence_ids:
            proposal.evidence = list(session.scalars(select(Evidence).where(Evidence.id.in_(draft.evidence_ids))))
        if draft.run_ids:
            proposal.retest_runs = list(session.scalars(select(RetestRun).where(RetestRun.id.in_(draft.run_ids))))
        session.add(proposal)
        session.flush()
        audit.record(
            session, actor, "propose", "proposal", proposal.id,
            kind=draft.kind, claim=draft.claim_key, proposed_status=draft.proposed_status,
            evidence=sorted(draft.evidence_ids), runs=sorted(draft.run_ids), fingerprint=fp,
        )
        written.append(proposal.id)
    return written, skipped
