"""Screening untrusted paper text before a model or a reviewer reads it (pure).

A paper's title and abstract are data written by third parties. Before judging, each
paper is screened for text aimed at a model or a reviewer rather than at readers of
the science: instruction-like phrasing ("ignore previous instructions", "classify this
paper as contradicts"), role tags (`<|im_start|>`, `[INST]`, `system:`), look-alikes of
the judge's `<paper>` delimiter, markdown images and links, and HTML tags.

The text is normalised first (NFKC folds full-width and small-form look-alikes into
ASCII; zero-width and bidi-control characters are removed), so disguised forms match
the same patterns. A flagged paper is kept and shown to reviewers with its reasons, but
its judgements never count toward a proposal and its text stays out of the export.

`sanitise_title` is the export's view of an unreviewed title: control characters,
markup and instruction-like spans removed, length capped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Zero-width characters and bidi controls: invisible, used to disguise delimiters.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Angle-bracket look-alikes NFKC leaves alone.
_BRACKETS = str.maketrans({"\u2039": "<", "\u203a": ">", "\u2329": "<", "\u232a": ">", "\u27e8": "<",
                           "\u27e9": ">", "\u3008": "<", "\u3009": ">", "\u300a": "<", "\u300b": ">",
                           "\u276c": "<", "\u276d": ">", "\u2770": "<", "\u2771": ">", "\u02c2": "<",
                           "\u02c3": ">", "\u1438": "<", "\u1433": ">"})
# Cyrillic and Greek letters that look like Latin ones (folded for matching only).
_HOMOGLYPHS = str.maketrans("аеорсухіјѕӏАВЕКМНОРСТХІЈЅοαειкνρτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
                            "aeopcyxijslABEKMHOPCTXIJSoaeikvptuxABEHIKMNOPTYX")

_IGNORE = r"(?:ignore|disregard|forget|override|overrule|bypass|skip)"
_PRIOR = r"(?:all\s+|any\s+|the\s+|your\s+|of\s+)*(?:previous|prior|above|earlier|preceding|foregoing|original|other|system)"
_RULES = r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|context|messages?|constraints)"
_AGENT = r"(?:ai|a\.i\.|llm|llms|language\s+models?|assistant|chatbot|model|judge|reviewers?|grader|evaluator|annotator)"
_VERDICT = r"(?:contradicts?|contradicting|supports?|supporting|refutes?|overturned|unrelated|refines?|weakened|holds)"

# (reason, pattern): each aims at one way text addresses the reader's model.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.I))
    for reason, pattern in (
        ("instruction: ignore previous instructions",
         rf"\b{_IGNORE}\s+(?:\w+\s+){{0,3}}?{_PRIOR}\s+(?:\w+\s+)?{_RULES}\b"),
        ("instruction: ignore previous instructions", rf"\b{_IGNORE}\s+(?:all|any)\s+{_RULES}\b"),
        ("instruction: new instructions", r"\b(?:new|updated|real|actual|hidden|secret)\s+instructions?\s*[:\-]"),
        ("instruction: system override",
         r"\bsystem\s+(?:override|notice|command|administrator|alert)s?\b|\bsystem\s+(?:prompt|message)\s*[:=]"),
        ("instruction: addressed to a model or reviewer",
         rf"\b(?:dear|attention|note\s+to(?:\s+the)?|hey|hello)\s*,?\s+(?:the\s+)?{_AGENT}\b"),
        ("instruction: addressed to a model or reviewer",
         r"\b(?:if\s+you\s+are|as)\s+an?\s+(?:ai|llm|language\s+model|assistant|automated\s+(?:judge|reviewer))"
         r"\b[^.]{0,60}\b(?:you\s+must|must|should|please)\b"),
        ("instruction: dictates a verdict",
         rf"\b(?:classify|label|mark|rate|judge|report|record|treat|score|tag|flag|answer|respond|output)\s+"
         rf"(?:this|the|that|every|each|all)\s+(?:\w+\s+){{0,3}}?(?:as|with|=)\s+[\"'“‘]?{_VERDICT}\b"),
        ("instruction: dictates a verdict",
         rf"\b(?:stance|verdict|label|answer|confidence)\s*(?:must|should|shall|has\s+to|=|:)\s*(?:be\s+)?[\"'“‘]?"
         rf"(?:{_VERDICT}|1\.0|0\.9\d*|100\s*%)"),
        ("instruction: dictates a verdict", r"\byou\s+(?:must|should|shall|are\s+(?:required|instructed)\s+to|will\s+now)\s+"
         r"(?:now\s+)?(?:answer|respond|reply|output|classify|label|report|print|reveal|say|state|mark|rate|judge|"
         r"ignore|disregard|approve|reject|change|update|include|paste|copy|send|visit|click|follow)\b"),
        ("instruction: asks for secrets",
         r"\b(?:print|reveal|show|output|repeat|leak|paste|send|share|disclose)\s+(?:\w+\s+){0,3}?"
         r"(?:system\s+prompt|api[\s_-]*keys?|passwords?|credentials|secrets?|tokens?)\b"),
        ("role tag", r"<\|[^|>]{1,30}\|>|\[/?(?:INST|SYS|SYSTEM)\]|<<\s*/?SYS\s*>>"),
        ("role tag", r"(?:^|[\n\r]|\s{2,}|[.!?]\s+)(?:#+\s*)?(?:system|assistant|user|developer)\s*:\s+\S"),
        ("role tag", r"#{2,}\s*(?:system|instructions?|assistant|user|developer)\b"),
        ("role tag", r"\b(?:system|assistant|developer)\s*:\s*(?:you|the\s+following|ignore|answer|respond|reply|"
                     r"from\s+now|now|always|never|disregard|forget|this\s+paper|mark|label|classify|output)\b"),
        ("delimiter look-alike",
         r"<\s*/?\s*(?:paper|system|user|assistant|instructions?|developer|claim|abstract|title|prompt)\s*/?\s*>"),
        ("markdown image", r"!\s*\[[^\]]{0,300}\]\s*\("),
        ("markdown link", r"\[[^\]]{1,300}\]\s*\(\s*(?:https?:|data:|javascript:|//|www\.)"),
        ("html tag", r"</?(?:img|script|iframe|svg|object|embed|style|link|meta|form|input|video|audio|source|"
                     r"body|html|div|span|br)\b[^<>]{0,300}>|<a\s+href"),
        ("html tag", r"\bon(?:error|load|click|mouseover)\s*=\s*[\"']?"),
    )
)


@dataclass(frozen=True)
class Screening:
    """The outcome of screening one paper's text."""

    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)


def normalise(text: str) -> str:
    """NFKC, look-alike brackets folded, zero-width and bidi characters removed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text).translate(_BRACKETS)
    return _CONTROL.sub(" ", text)


def screen_text(text: str) -> tuple[str, ...]:
    """The reasons (possibly none) why this text looks aimed at a model or reviewer."""
    raw = text or ""
    clean = normalise(raw).translate(_HOMOGLYPHS)
    reasons: list[str] = []
    if _CONTROL.search(raw.replace("\n", " ").replace("\t", " ")):
        reasons.append("control characters")
    if _INVISIBLE.search(raw) and any(c in raw for c in "<>[]|#"):
        reasons.append("invisible characters beside markup")
    for reason, pattern in _PATTERNS:
        if reason not in reasons and pattern.search(clean):
            reasons.append(reason)
    return tuple(reasons)


def screen_paper(title: str, abstract: str) -> Screening:
    """Screen a paper's title and abstract; the reasons say which part and why."""
    reasons = [f"title: {r}" for r in screen_text(title)] + [f"abstract: {r}" for r in screen_text(abstract)]
    return Screening(tuple(reasons))


_MARKUP = re.compile(r"!?\[([^\]]{0,300})\]\([^)]*\)|<[^>]{0,300}>|[`*_#|~\\]+")


def sanitise_title(title: str, max_len: int = 160) -> str:
    """A title fit for an LLM reader: no controls, markup or instruction-like spans; capped.

    Markdown links and images keep their text, tags go, and a title in which any
    instruction-like span remains is replaced by "[title withheld: screened]".
    """
    text = _MARKUP.sub(lambda m: m.group(1) or " ", normalise(title))
    text = " ".join(text.split())
    if screen_text(text):
        return "[title withheld: screened]"
    return text if len(text) <= max_len else text[: max_len - 1].rstrip() + "…"
