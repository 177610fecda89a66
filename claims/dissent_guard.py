"""When a machine stance must not count toward a proposal, whatever the screen said (pure).

The screen (`claims.screening`) recognises words and shapes, so a phrasing it does not
know gets through to the judge. This guard does not depend on recognising the attack:
it looks at what an obeyed injection leaves behind. A *machine* stance (one no reviewer
confirmed or set) does not count toward a proposal when:

1. **The judge's answer restates the paper's instructions** (`echoes_instructions`):
   - the answer itself (rationale, quote or conditions) is instruction-like by the
     screen's own patterns, in any of its languages (naming a stance or a confidence,
     as the judge's schema does, is not);
   - the rationale reports that the paper asked for something ("the abstract instructs
     the judge to answer contradicts", "as requested by the paper", "I was told to");
   - the rationale or the quote echoes a sentence of the paper that addresses its reader
     rather than reporting science: a sentence the screen flags, one in the second
     person ("you must", "vous", "你"), one that says please in any of a dozen languages,
     or one in another script than the rest of the abstract. Echoing means sharing a run
     of `ECHO_WORDS` words (`ECHO_CHARS` characters for text without spaces);
   - the rationale is mostly in a script other than Latin and the abstract's (the judge
     switched away from the English of its prompt: it followed the paper).
2. **Near-duplicate abstracts push the same way** (`near_duplicates`): papers whose
   abstracts have a cosine of at least `DUPLICATE_COSINE` (word unigrams and bigrams,
   after the screen's normalisation and homoglyph folding, lower case) and the same
   machine stance, under whatever titles and ids, count as one: the first (lowest
   evidence id, or one a reviewer set) counts, the others do not. On the dev papers the
   highest cosine between two different papers is 0.36.
   Abstracts of fewer than `MIN_WORDS` words are not compared.

A stance a reviewer confirmed or set always counts: the guard only discounts the
machine. `discounted` gives, for the evidence that must not count, the reason in words
(`claims.proposing.claim_facts` leaves those rows out of the facts the status rules read).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from claims.screening import fold, normalise, screen_text

DUPLICATE_COSINE = 0.8
MIN_WORDS = 12
ECHO_WORDS = 5
ECHO_CHARS = 8
PUSHING = ("contradicts", "supports")  # the stances that move a status proposal
# Screen reasons a judge's own answer may give: it names stances and confidences by its schema.
_JUDGES_OWN_WORDS = ("dictates a verdict", "judge answer look-alike", "stance label")

# The judge reporting that the paper asked for something (the judge answers in English, as told).
_REPORTS = re.compile(
    r"\b(?:the\s+)?(?:paper|abstract|authors?|text|title|note|document|submission|study)\s+(?:itself\s+)?"
    r"(?:explicitly\s+|directly\s+|clearly\s+)?(?:instructs?|asks?|tells?|requests?|directs?|demands?|orders?|commands?|"
    r"wants?|urges?|says\s+to|requires?)\s+(?:me|us|you|the\s+(?:reader|judge|reviewer|grader|evaluator|classifier|"
    r"annotator|assistant|ai)|(?:an?|any)\s+(?:ai|llm|language\s+model|judge)|that\s+(?:the\s+|its\s+|this\s+)?"
    r"(?:stance|answer|verdict|label|classification)|to\s+(?:answer|respond|classify|label|mark|rate|treat|output))\b"
    r"|\bas\s+(?:instructed|requested|directed|demanded|commanded)\b"  # not "as asked": "the question as asked"
    r"|\bas\s+(?:the\s+|its\s+)?(?:paper|abstract|authors?|text|title|note)\s+(?:requests?|asks?|instructs?|"
    r"demands?|directs?|wants?|tells\s+(?:me|us))\b"
    r"|\b(?:instructions?|directions?|directives?|requests?)\s+(?:in|from|within|embedded\s+in|given\s+(?:in|by))\s+"
    r"(?:the\s+)?(?:paper|abstract|title|text|note)\b"
    r"|\b(?:following|per|according\s+to|obeying|complying\s+with)\s+the\s+(?:paper'?s?\s+|abstract'?s?\s+|authors'?\s+|"
    r"embedded\s+|given\s+)?(?:instructions?|directions?|directives?|request|note)\b"
    r"|\bi\s+(?:was|am|have\s+been)\s+(?:told|asked|instructed|directed)\b",
    re.I,
)
# A sentence that speaks to its reader: second person or "please", in several languages.
_ADDRESSING = re.compile(
    r"\byou(?:r|rs|rself)?\s+(?:must|should|shall|will|are|need\s+to|have\s+to|can\s+now|may\s+now)\b|\byourself\b"
    r"|\b(?:please|kindly|bitte|veuillez|s'il\s+vous\s+plaît|por\s+favor|per\s+favore|alstublieft|proszę|lütfen|"
    r"пожалуйста|будь\s+ласка|dich|vous|toi|usted|ustedes|você|vocês|ты|вы|тебе|вам)\b"
    r"|你|您|请|請|あなた|ください|당신|여러분|주세요|주십시오",
    re.I,
)
_SCRIPTS = (("cyrillic", "\u0400-\u04ff"), ("arabic", "\u0600-\u06ff"), ("devanagari", "\u0900-\u097f"),
            ("cjk", "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"), ("hangul", "\uac00-\ud7af\u1100-\u11ff"),
            ("latin", "A-Za-z\u00c0-\u024f"))
_SENTENCES = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Judged:
    """One evidence row as the guard sees it: the paper's text and the judge's answer."""

    id: int
    paper_id: str
    stance: str
    abstract: str
    title: str = ""
    rationale: str = ""
    quote: str = ""
    conditions: str = ""
    reviewed: bool = False  # a reviewer confirmed or set the stance


def _script(text: str) -> str | None:
    """The script most of the text's letters are in (None: no letters)."""
    counts = {name: len(re.findall(f"[{chars}]", text)) for name, chars in _SCRIPTS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else None


def _words(text: str) -> list[str]:
    return _WORDS.findall(fold(normalise(text)).lower())


def _shares_run(a: str, b: str) -> bool:
    """Do a and b share a run of ECHO_WORDS words (or ECHO_CHARS characters of text without spaces)?"""
    wa, wb = _words(a), _words(b)
    runs = {tuple(wb[i:i + ECHO_WORDS]) for i in range(len(wb) - ECHO_WORDS + 1)}
    if any(tuple(wa[i:i + ECHO_WORDS]) in runs for i in range(len(wa) - ECHO_WORDS + 1)):
        return True
    ca, cb = re.sub(r"\s+", "", normalise(a)), re.sub(r"\s+", "", normalise(b))
    dense = [ca[i:i + ECHO_CHARS] for i in range(len(ca) - ECHO_CHARS + 1)
             if re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", ca[i:i + ECHO_CHARS])]
    return any(chunk in cb for chunk in dense)


def addressed_sentences(title: str, abstract: str) -> list[str]:
    """The paper's sentences that speak to their reader rather than report science (module doc)."""
    main = _script(abstract) or _script(title)
    out = []
    for sentence in [title, *_SENTENCES.split(abstract or "")]:
        sentence = sentence.strip()
        if not sentence:
            continue
        if screen_text(sentence) or _ADDRESSING.search(normalise(sentence)) or (
                main and _script(sentence) not in (None, main)):
            out.append(sentence)
    return out


def echoes_instructions(row: Judged) -> str | None:
    """Why the judge's answer restates the paper's instructions (None: it does not)."""
    answer = " ".join(part for part in (row.rationale, row.quote, row.conditions) if part)
    if not answer.strip():
        return None
    # a judge may name a stance ("the stance should be contradicts"); anything else instruction-like may not
    if reasons := [r for r in screen_text(answer) if not any(ok in r for ok in _JUDGES_OWN_WORDS)]:
        return f"the judge's answer is instruction-like ({'; '.join(reasons)})"
    if match := _REPORTS.search(normalise(row.rationale)):
        return f"the judge's rationale reports instructions in the paper ({match.group(0)!r})"
    for sentence in addressed_sentences(row.title, row.abstract):
        if _shares_run(answer, sentence):
            return f"the judge's answer echoes a sentence addressed to its reader ({sentence[:80]!r})"
    rationale_script, main = _script(row.rationale), _script(row.abstract)
    if rationale_script not in (None, "latin") and rationale_script != main:  # the judge left the prompt's English
        return f"the judge answered in another script ({rationale_script}) than the abstract's ({main})"
    return None


def _shingles(text: str) -> dict[str, int]:
    words = _words(text)
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    out: dict[str, int] = {}
    for gram in grams:
        out[gram] = out.get(gram, 0) + 1
    return out


def cosine(a: str, b: str) -> float:
    """Cosine of two texts' word unigram and bigram counts (after normalisation and folding)."""
    sa, sb = _shingles(a), _shingles(b)
    dot = sum(n * sb.get(g, 0) for g, n in sa.items())
    norm = math.sqrt(sum(n * n for n in sa.values())) * math.sqrt(sum(n * n for n in sb.values()))
    return dot / norm if norm else 0.0


def near_duplicates(rows: Sequence[Judged]) -> dict[int, int]:
    """Evidence id -> the id of the row it duplicates, for machine stances that count as one (module doc)."""
    out: dict[int, int] = {}
    for stance in PUSHING:
        group = sorted((r for r in rows if r.stance == stance and len(_words(r.abstract)) >= MIN_WORDS),
                       key=lambda r: (not r.reviewed, r.id))
        kept: list[Judged] = []
        for row in group:
            twin = next((k for k in kept if k.paper_id != row.paper_id
                         and cosine(k.abstract, row.abstract) >= DUPLICATE_COSINE), None)
            if twin is not None and not row.reviewed:
                out[row.id] = twin.id
            else:
                kept.append(row)
    return out


def discounted(rows: Iterable[Judged]) -> dict[int, str]:
    """Evidence id -> why its machine stance does not count toward a proposal (reviewed rows never appear)."""
    rows = list(rows)
    out: dict[int, str] = {}
    for row in rows:
        if not row.reviewed and row.stance in PUSHING and (why := echoes_instructions(row)):
            out[row.id] = why
    by_id = {r.id: r for r in rows}
    for eid, twin in near_duplicates([r for r in rows if r.id not in out]).items():
        out[eid] = f"a near-duplicate of {by_id[twin].paper_id}'s abstract, which already counts"
    return out
