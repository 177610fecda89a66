"""A proposal not yet written (`Draft`) and its fingerprint.

Rules (`claims.status_rules`, `claims.anchor_rules`), the importer, the exchange and
authoring make drafts; the writer (`claims.proposing.write_proposals`) stores them.
The fingerprint is sha256 of (kind, target, proposed value, evidence ids, run ids): the
writer skips a draft whose fingerprint an earlier proposal has.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


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
