"""Parsing an inquiring-line document (the shape of the bundled one). Pure: text in, data out.

The shape: a header `INQUIRING LINE`, the question, summary paragraphs, `Sources N
notes` followed by N question/summary pairs, `Research prompt for your LLM` with a
role paragraph, the dated findings (bullets ending in a date such as `(~2025)`),
`Anchor papers` lines (`arXiv:ID (DATE) — label`), and `Your task:`.

Characters: the text passes the one text gate (`claims.textgate`): NFC, zero-width
characters removed; NUL, other C0 and C1 control characters (except tab and line ends)
and bidirectional overrides are refused with their line number, since they hide or
reorder what a reviewer reads. A finding may not be dated
after today, and the same finding may not appear twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from claims.dates import AsOf, future_reason, normalize_dashes, parse_as_of
from claims.errors import DocumentError
from claims.textgate import clean_text, hidden_character

HEADER = "INQUIRING LINE"
_SOURCES = re.compile(r"^Sources\s+(\d+)\s+notes?\b", re.I)
_PROMPT = re.compile(r"^Research prompt for your LLM", re.I)
_FOUND = re.compile(r"^What (?:a|the) curated library found", re.I)
_ANCHORS = re.compile(r"^Anchor papers", re.I)
_TASK = re.compile(r"^Your task:?", re.I)
_NEXT = re.compile(r"^Next inquiring lines", re.I)
_BULLET = re.compile(r"^\s*[\u2022\u25cf\u25aa*\-]\s+")
_DATED = re.compile(r"^(?P<text>.*\S)\s*\((?P<date>[^()]*\d{4}[^()]*)\)\s*\.?\s*$")
SLUG_LENGTH = 60
_ANCHOR = re.compile(
    r"^arXiv:\s*(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?\s*"
    r"\((?P<date>[^)]+)\)\s*-+\s*(?P<label>.+)$",
    re.I,
)


@dataclass
class Finding:
    text: str
    as_of: AsOf
    line: int


@dataclass
class AnchorRef:
    arxiv_id: str
    cited_date: str
    cited_label: str
    line: int


@dataclass
class Note:
    question: str
    summary: str


@dataclass
class Document:
    """A parsed inquiring line."""

    question: str
    description: str
    summary: str
    notes: list[Note]
    prompt_role: str
    findings: list[Finding]
    anchors: list[AnchorRef]
    prompt_tasks: str
    content_hash: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """A readable name for the inquiry (not its identity: see `key`)."""
        return slugify(self.question)

    @property
    def key(self) -> str:
        """The inquiry's identity: a hash of the whole normalised question."""
        return question_key(self.question)


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def slugify(text: str) -> str:
    """A readable slug: the question's words, cut at a word boundary near 60 characters."""
    s = _words(text)
    if len(s) > SLUG_LENGTH:
        s = s[:SLUG_LENGTH].rsplit("-", 1)[0]
    return s or "inquiry"


def question_key(question: str) -> str:
    """sha256 of the whole question, normalised: NFKC, case-folded, any run of non-letters
    and non-digits (punctuation, spaces) as one '-'. Letters of every script count.
    """
    norm = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", question).casefold()).strip("-")
    return hashlib.sha256(norm.encode()).hexdigest()


def content_hash(text: str) -> str:
    norm = "\n".join(line.rstrip() for line in clean_text(text).strip().split("\n"))
    return hashlib.sha256(norm.encode()).hexdigest()


def _refuse_hidden_characters(lines: list[tuple[int, str]], path: str | None) -> None:
    for no, line in lines:
        why = hidden_character(line)
        if why:
            raise DocumentError(why, line=no, path=path)


def _check_findings(findings: list[Finding], today: dt.date, path: str | None) -> None:
    """No finding dated after today (it could never be contradicted), no finding twice."""
    seen: dict[str, int] = {}
    for f in findings:
        why = future_reason(f.as_of, today, "the finding's date")
        if why:
            raise DocumentError(f"{why}; date it when it was found", line=f.line, path=path)
        key = " ".join(f.text.casefold().split())
        if key in seen:
            raise DocumentError(f"the same finding appears twice, on lines {seen[key]} and {f.line}; keep one",
                                line=f.line, path=path)
        seen[key] = f.line


def _paragraphs(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Group (line number, text) into paragraphs separated by blank lines."""
    out: list[tuple[int, str]] = []
    cur: list[str] = []
    start = 0
    for no, text in lines:
        if text.strip():
            if not cur:
                start = no
            cur.append(text.strip())
        elif cur:
            out.append((start, " ".join(cur)))
            cur = []
    if cur:
        out.append((start, " ".join(cur)))
    return out


def _find(lines: list[tuple[int, str]], pattern: re.Pattern[str], start: int, what: str, path: str | None) -> int:
    for i in range(start, len(lines)):
        if pattern.match(lines[i][1].strip()):
            return i
    last = lines[-1][0] if lines else 1
    raise DocumentError(f"expected a line starting with {what!r}, found none", line=last, path=path)


def parse_document(text: str, path: str | None = None, today: dt.date | None = None) -> Document:
    """Parse a document; raises DocumentError naming the line and what was expected.

    `today` (default: the local date) bounds the findings' dates.
    """
    cleaned = clean_text(text)
    lines = list(enumerate(cleaned.split("\n"), start=1))
    _refuse_hidden_characters(lines, path)
    nonblank = [i for i, (_, t) in enumerate(lines) if t.strip()]
    if not nonblank:
        raise DocumentError("the document is empty; expected the header 'INQUIRING LINE'", line=1, path=path)
    first = nonblank[0]
    if lines[first][1].strip().upper() != HEADER:
        raise DocumentError(
            f"expected the header {HEADER!r}, found {lines[first][1].strip()[:60]!r}", line=lines[first][0], path=path
        )
    if len(nonblank) < 2:
        raise DocumentError("expected the question after the header", line=lines[first][0], path=path)
    q_idx = nonblank[1]
    question = lines[q_idx][1].strip()

    s_idx = _find(lines, _SOURCES, q_idx + 1, "Sources N notes", path)
    paras = _paragraphs(lines[q_idx + 1 : s_idx])
    if not paras:
        raise DocumentError("expected summary paragraphs between the question and 'Sources'", line=lines[s_idx][0], path=path)
    description = paras[0][1]
    summary = "\n\n".join(p for _, p in paras[1:]) or description
    n_notes = int(_SOURCES.match(lines[s_idx][1].strip()).group(1))  # type: ignore[union-attr]

    p_idx = _find(lines, _PROMPT, s_idx + 1, "Research prompt for your LLM", path)
    note_paras = _paragraphs(lines[s_idx + 1 : p_idx])
    if len(note_paras) != 2 * n_notes:
        raise DocumentError(
            f"'Sources {n_notes} notes' promises {n_notes} question/summary pairs, found "
            f"{len(note_paras)} paragraphs (expected {2 * n_notes})",
            line=lines[s_idx][0],
            path=path,
        )
    notes = []
    for i in range(0, len(note_paras), 2):
        (qline, q), (_, s) = note_paras[i], note_paras[i + 1]
        if not q.endswith("?"):
            raise DocumentError(f"expected a source note question ending in '?', found {q[:60]!r}", line=qline, path=path)
        notes.append(Note(question=q, summary=s))

    f_idx = _find(lines, _FOUND, p_idx + 1, "What a curated library found", path)
    role_paras = [p for p in _paragraphs(lines[p_idx + 1 : f_idx]) if not p[1].lower().startswith("copy into")]
    prompt_role = role_paras[-1][1] if role_paras else ""

    a_idx = _find(lines, _ANCHORS, f_idx + 1, "Anchor papers", path)
    findings = []
    for no, raw in lines[f_idx + 1 : a_idx]:
        if not raw.strip():
            continue
        if not _BULLET.match(raw):
            raise DocumentError(f"expected a bullet ('\u2022 ...') with a dated finding, found {raw.strip()[:60]!r}", line=no, path=path)
        body = _BULLET.sub("", raw).strip()
        m = _DATED.match(body)
        if not m:
            raise DocumentError("expected a finding ending in a date such as (~2025)", line=no, path=path)
        try:
            as_of = parse_as_of(m["date"])
        except ValueError as exc:
            raise DocumentError(str(exc), line=no, path=path) from exc
        findings.append(Finding(text=m["text"].strip().rstrip(";,"), as_of=as_of, line=no))
    if not findings:
        raise DocumentError("expected at least one dated finding after 'What a curated library found'", line=lines[f_idx][0], path=path)
    _check_findings(findings, today or dt.date.today(), path)

    t_idx = _find(lines, _TASK, a_idx + 1, "Your task:", path)
    anchors = []
    for no, raw in lines[a_idx + 1 : t_idx]:
        if not raw.strip():
            continue
        body = normalize_dashes(_BULLET.sub("", raw).strip())
        m = _ANCHOR.match(body)
        if not m:
            raise DocumentError("expected an anchor such as 'arXiv:2504.07912 (2025-05) - label'", line=no, path=path)
        try:
            cited = parse_as_of(m["date"])
        except ValueError as exc:
            raise DocumentError(f"anchor date: {exc}", line=no, path=path) from exc
        why = future_reason(cited, today or dt.date.today(), "anchor date")
        if why:
            raise DocumentError(f"{why}: a paper cannot be cited before it appears", line=no, path=path)
        anchors.append(AnchorRef(arxiv_id=m["id"], cited_date=m["date"].strip(), cited_label=m["label"].strip(), line=no))

    end = len(lines)
    for i in range(t_idx + 1, len(lines)):
        if _NEXT.match(lines[i][1].strip()):
            end = i
            break
    tasks = "\n".join(t.rstrip() for _, t in lines[t_idx:end]).strip()
    return Document(
        question=question,
        description=description,
        summary=summary,
        notes=notes,
        prompt_role=prompt_role,
        findings=findings,
        anchors=anchors,
        prompt_tasks=tasks,
        content_hash=content_hash(text),
    )
