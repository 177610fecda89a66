"""Typed values of anchor checks and anchor proposals (pure).

- `Difference`: what an anchor check found wrong, as a code (`label`, `date`,
  `withdrawn`, `not_found`) with a readable sentence. The rules read the code, never
  the sentence: a cited label containing the word "withdrawn" is a label difference.
- `AnchorChange`: the payload of an `anchor` proposal, written by
  `claims.anchor_rules` and the importer, applied by `claims.review`, shown by the
  app and the CLI.

Rows checked before codes existed hold the sentence alone; `Difference.from_stored`
reads those by the opening words the check wrote (never by a word anywhere in them).
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, field_validator

DifferenceCode = Literal["label", "date", "withdrawn", "not_found", "other"]
AnchorAction = Literal["replace", "flag", "remove", "withdrawn", "correct"]
ANCHOR_ACTIONS: tuple[str, ...] = get_args(AnchorAction)

# the opening words agent.anchors wrote before codes were stored (checked in order)
_LEGACY = (("label", re.compile(r"cited label ")), ("date", re.compile(r"cited date ")),
           ("not_found", re.compile(r"no paper \S+ in the source")),
           ("withdrawn", re.compile(r"arXiv:\S+( v\d+)? is withdrawn: ")))


class Difference(BaseModel):
    """One thing an anchor check found wrong."""

    model_config = ConfigDict(frozen=True)

    code: DifferenceCode
    text: str

    def __str__(self) -> str:
        return self.text

    @classmethod
    def from_stored(cls, value: Any) -> Difference:
        """A difference as stored in an anchor row or a payload: a dict, or a sentence of an older check."""
        if isinstance(value, Difference):
            return value
        if isinstance(value, dict):
            return cls.model_validate(value)
        text = str(value)
        code = next((c for c, pattern in _LEGACY if pattern.match(text)), "other")
        return cls(code=code, text=text)  # type: ignore[arg-type]


def difference_texts(stored: list[Any] | None) -> list[str]:
    """The readable sentences of stored differences (for pages, reports and exports)."""
    return [Difference.from_stored(d).text for d in stored or []]


class AnchorCandidate(BaseModel):
    """A paper the anchor may have meant, as the agent ranked it (`agent.intended`)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    title: str | None = None
    published: str | None = None
    score: float = 0.0
    fits: bool = False

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, v: Any) -> float:
        return float(v or 0)


class CitedAnchor(BaseModel):
    """An anchor as cited now (shown beside the proposed change)."""

    model_config = ConfigDict(frozen=True)

    arxiv_id: str
    cited_label: str = ""
    cited_date: str = ""
    found_title: str | None = None


class AnchorChange(BaseModel):
    """The payload of an `anchor` proposal.

    `action` None is a correction of the cited label/date (or, with no `anchor_id`, a
    new anchor); unset fields are left out of the stored payload, so the proposal's
    fingerprint (`claims.drafts`) is the one older payloads had.
    """

    model_config = ConfigDict(frozen=True)

    anchor_id: int | None = None
    arxiv_id: str | None = None
    action: AnchorAction | None = None
    replace_with: str | None = None
    cited_label: str | None = None
    cited_date: str | None = None
    differences: list[Difference] | None = None
    current: CitedAnchor | None = None
    candidates: list[AnchorCandidate] | None = None

    @field_validator("differences", mode="before")
    @classmethod
    def _differences(cls, v: Any) -> Any:
        return None if v is None else [Difference.from_stored(d) for d in v]

    @property
    def kind(self) -> AnchorAction:
        """What approving it does (a change without an action corrects the citation)."""
        return self.action or "correct"

    @property
    def best(self) -> AnchorCandidate | None:
        """The candidate a replacement names."""
        return next((c for c in self.candidates or [] if c.id == self.replace_with), None)

    @classmethod
    def from_payload(cls, payload: dict[str, Any] | None) -> AnchorChange:
        """The change stored in a proposal's payload (other keys, like `replaces` or `stale`, are not its)."""
        return cls.model_validate({k: v for k, v in (payload or {}).items() if k in cls.model_fields})

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def describe(self) -> str:
        """The change in a few words, for lists and reports."""
        aid = f"arXiv:{self.arxiv_id or '?'}"
        if self.kind == "replace":
            return f"replace {aid} with arXiv:{self.replace_with}"
        if self.kind in ("flag", "withdrawn", "remove"):
            return {"flag": f"flag {aid}", "withdrawn": f"flag {aid} as withdrawn", "remove": f"remove {aid}"}[self.kind]
        fields = ", ".join(f"{k} {v!r}" for k, v in (("cited_label", self.cited_label), ("cited_date", self.cited_date))
                           if v)
        return f"correct {aid}: {fields}"

