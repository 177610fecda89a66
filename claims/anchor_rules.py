"""Anchor rules: what to do about an anchor whose citation does not check out (pure).

- An anchor whose cited label does not name the paper at its id (or whose id names no
  paper) -> an `anchor` proposal to replace the id with the best fitting candidate the
  agent ranked (`action` "replace", `replace_with`, the alternatives with scores), or,
  with none fitting, to flag it for a person (`action` "flag"). Never a relabel with
  the wrong paper's title.
- A date-only mismatch -> `action` "correct" with `cited_date` from the first-version
  date, written at the cited date's precision.
- A withdrawn paper at the id -> `action` "withdrawn".

The facts come from `claims.proposing.anchor_fact`; the writer is
`claims.proposing.write_proposals`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from claims.anchor_changes import AnchorCandidate, AnchorChange, CitedAnchor, Difference
from claims.dates import parse_paper_date
from claims.drafts import Draft


@dataclass(frozen=True)
class AnchorFact:
    id: int
    arxiv_id: str
    status: str
    differences: tuple[Difference, ...]
    cited_label: str
    cited_date: str
    verified_title: str | None
    verified_published: dt.date | None
    candidates: tuple[AnchorCandidate, ...] = ()  # ranked papers that may have been meant, best first


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
    mismatch proposes the first version's date, written at the cited precision. The
    rule reads the differences' codes, never their sentences.
    """
    if anchor.status not in ("mismatch", "not_found"):
        return None
    differences = "; ".join(d.text for d in anchor.differences) or "not stated"
    codes = {d.code for d in anchor.differences}
    base = AnchorChange(anchor_id=anchor.id, arxiv_id=anchor.arxiv_id, differences=list(anchor.differences),
                        current=CitedAnchor(arxiv_id=anchor.arxiv_id, cited_label=anchor.cited_label,
                                            cited_date=anchor.cited_date, found_title=anchor.verified_title))
    if "withdrawn" in codes:
        return _draft(claim_key, f"Flag anchor arXiv:{anchor.arxiv_id} as withdrawn and stop relying on it "
                      f"(check found: {differences}).", base.model_copy(update={"action": "withdrawn"}))
    if anchor.status == "not_found" or codes & {"label", "not_found"}:
        return _replace_or_flag(anchor, claim_key, base, differences)
    if anchor.verified_published is None:
        return None
    fixed = format_date_like(anchor.verified_published, anchor.cited_date)
    if fixed == anchor.cited_date:
        return None
    return _draft(claim_key, f"Correct anchor arXiv:{anchor.arxiv_id}: date {anchor.cited_date!r} -> {fixed!r} "
                  f"(check found: {differences}).", base.model_copy(update={"action": "correct", "cited_date": fixed}))


def _draft(claim_key: str | None, rationale: str, change: AnchorChange) -> Draft:
    return Draft(kind="anchor", claim_key=claim_key, proposed_status=None, rationale=rationale,
                 payload=change.to_payload())


def _replace_or_flag(anchor: AnchorFact, claim_key: str | None, base: AnchorChange, differences: str) -> Draft:
    candidates = list(anchor.candidates)
    ranked = "; ".join(f"arXiv:{c.id} {c.title!r} ({c.published or 'date unknown'}, "
                       f"score {c.score:.2f}{', fits' if c.fits else ''})" for c in candidates)
    best = next((c for c in candidates if c.fits), None)
    if best is None:
        why = (f"no candidate fits (ranked: {ranked})" if candidates else "no candidate paper was found")
        return _draft(claim_key, f"Flag anchor arXiv:{anchor.arxiv_id} for a person: the cited label "
                      f"{anchor.cited_label!r} does not name the paper at this id ({differences}); {why}. "
                      "Correct the id by hand, or remove the anchor.",
                      base.model_copy(update={"action": "flag", "candidates": candidates}))
    change = base.model_copy(update={"action": "replace", "replace_with": best.id, "candidates": candidates})
    when = ""
    if best.published:
        fixed = format_date_like(parse_paper_date(best.published)[0], anchor.cited_date or best.published)
        if fixed != anchor.cited_date:
            change = change.model_copy(update={"cited_date": fixed})
        when = f", first version {best.published}"
    others = [c for c in candidates if c is not best]
    alt = ("; alternatives: " + "; ".join(f"arXiv:{c.id} ({c.score:.2f})" for c in others) if others else "")
    return _draft(claim_key, f"Replace arXiv:{anchor.arxiv_id} with arXiv:{best.id} ({best.title!r}{when}; "
                  f"score {best.score:.2f}): the cited label {anchor.cited_label!r} does not name "
                  f"the paper at arXiv:{anchor.arxiv_id} ({differences}){alt}.", change)
