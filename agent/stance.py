"""What a stance judgement is: the schema the LLM must answer in, and the stored result."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from claims.evidence import StanceRecord
from claims.vocabulary import JudgedStance


class Judgement(BaseModel):
    """The structured answer of the judge (sent as a strict JSON schema)."""

    model_config = ConfigDict(extra="forbid")

    stance: JudgedStance = Field(description="How the paper bears on the claim.")
    confidence: float = Field(ge=0, le=1, description="0-1: how sure the judge is.")
    conditions: str = Field(
        description="Conditions under which the stance holds (model scale, domain, "
        "training setup), as the paper says; empty if it says none."
    )
    rationale: str = Field(description="One or two sentences: why this stance.")
    quote: str = Field(description="The one sentence of the abstract the stance rests on, verbatim.")


# What a judge returns is what the claims store records: one definition.
JudgeResult = StanceRecord


def failed_result(error: str, judged_by: str, prompt_version: str, answer: Judgement | None = None) -> JudgeResult:
    """A failed judgement: keeps what the model said (if anything) but never its stance."""
    return JudgeResult(
        stance="failed",
        confidence=None,
        conditions=answer.conditions if answer else "",
        rationale=answer.rationale if answer else "",
        quote=answer.quote if answer else "",
        judged_by=judged_by,
        prompt_version=prompt_version,
        judge_error=error,
    )
