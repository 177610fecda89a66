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
import json
from dataclasses import dataclass
from typing import Any

from claims.dates import parse_paper_date
from claims.drafts import Draft


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
        fixed = format_date_like(parse_paper_date(best["published"])[0], anchor.cited_date or best["published"])
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
