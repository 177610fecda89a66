"""Scoring a real model's completion (a problem file: the gpu and model-smoke presets): its stated answer.

The one parser for real text: every protocol and reward that reads a local model's
completions goes through `final_answer` (`retest.lab.answer_of` picks it for a problem
file; the toy world keeps its strict `retest.world.parse`). The toy world's formats do
not fit a real model's free text, so a local model is scored by its stated final
answer: the integer in the last ``\\boxed{...}``, else the integer after the last ``####``
(GSM8K style), else a final number stated as the answer at the very end of the text
("... the answer is 42.", "Answer: 42"). No fall-back to any last number in the text
("... 12*2 = 24" may be cut off mid-solution): a truncated or unfinished completion states
no answer and is wrong. Write the problem
file's prompts so they ask for ``\\boxed{}``.

C5b on a problem file asks for a stated confidence after the answer (`CONFIDENCE_SUFFIX`,
read by `split_confidence`); `judge_stated` scores such a completion.
"""

from __future__ import annotations

import re
from typing import Any

_BOXED = re.compile(r"\\boxed\{\s*(-?\d[\d,]*)\s*\}")
_HASH = re.compile(r"####\s*(-?\d[\d,]*)\s*(?:\n|$)")
_FINAL = re.compile(r"answer\s*(?:is|:)\s*\**\s*(-?\d[\d,]*)\s*\**\s*\.?\s*$", re.IGNORECASE)


def final_answer(text: str) -> int | None:
    """The stated final answer of `text`, or None when it states none."""
    for pattern in (_BOXED, _HASH, _FINAL):
        found = pattern.findall(text)
        if found:
            return int(found[-1].replace(",", ""))
    return None


def parse_final(text: str) -> tuple[str, int | None]:
    """(format, answer) in the shape of `retest.world.parse`: a real model has no toy format ("other")."""
    return "other", final_answer(text)


def final_answer_reward(completions: list[str], answer: list[int], **_: Any) -> list[float]:
    """1.0 for a completion whose stated final answer is right, else 0.0 (TRL reward function)."""
    return [1.0 if final_answer(c) == int(a) else 0.0 for c, a in zip(completions, answer)]


# --- a stated confidence after the answer (C5b on a problem file) --------------------------

CONFIDENCE_SUFFIX = (
    "\n\nAfter your final answer, add one last line saying how sure you are that the answer is right, "
    "as one digit in tenths from 0 (surely wrong) to 9 (surely right), like this:\nConfidence: 7"
)
"""Appended to every problem's prompt (inside the user's turn) when C5b runs on a problem file."""

_CONFIDENCE = re.compile(r"(?s)(.*?)\s*\**confidence\**\s*:\s*\**\s*(\d)\s*\**\s*\.?\s*$", re.IGNORECASE)


def split_confidence(text: str) -> tuple[str, int | None]:
    """(the text before the confidence line, its digit or None): the one parser of a stated confidence.

    The confidence is a last line ``Confidence: d`` (d one digit, tenths; ``CONFIDENCE_SUFFIX`` asks for it).
    Nothing else counts: a digit elsewhere, a second digit ("Confidence: 75") or text after it states none.
    """
    m = _CONFIDENCE.fullmatch(text.strip())
    return (m.group(1), int(m.group(2))) if m else (text.strip(), None)


def judge_stated(text: str, answer: int) -> tuple[bool, int | None, str]:
    """(right?, stated digit or None, "other") of a real completion, in the shape of `retest.confidence.judge`:
    the answer is read from the text before the confidence line (`final_answer`)."""
    body, digit = split_confidence(text)
    return final_answer(body) == int(answer), digit, "other"
