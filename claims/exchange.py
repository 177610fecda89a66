"""Structured import: a file in the shape of `claims export --format json`.

The file names one inquiry (its question, role, description, summary, source notes,
tasks), its claims (key, text, as-of date, status, protocol) and its anchors (id, cited
label and date). Everything else an export carries (evidence, retest results, anchor
verification, content_hash, changes, previous_export, trimmed,
flagged_left_out, ...) is derived from the database and ignored.

A file is validated whole before anything is written (`parse_exchange`): a wrong type,
a missing field, a bad or future date, a control character or a duplicate key or text
is one BadInput (exit 2) naming the field path, e.g. `claims[2].as_of`. Importing then
follows the document importer: a new inquiry is created with the file's keys; the same
content again writes nothing; a changed file becomes pending proposals (wording/date,
status, new claims, claims gone, anchors), except a claim's protocol, which is not a
reviewed part of the claim and is applied directly, audited. A new claim keeps the file's
`revision` number and `status_since` (its earlier revisions are not in the file), so that
exporting again gives the same JSON. The JSON schema is
published as docs/import-schema.json (`exchange_schema`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import audit
from claims.authoring import check_as_of, check_key, check_text, parse_anchor, same_text
from claims.creation import NewInquiry, create_claim, create_inquiry
from claims.dates import future_reason, parse_as_of
from claims.document import question_key
from claims.drafts import Draft
from claims.errors import BadInput, Conflict
from claims.importer import ImportResult, _propose, propose_anchor_changes, read_document
from claims.models import Claim, Inquiry, utcnow
from claims.proposing import write_proposals
from claims.protocols import check_protocol, protocol_catalog
from claims.vocabulary import ClaimStatus

LONG_TEXT = 100_000  # characters of a summary, role or task list (the file itself is at most 1 MiB)


def _text(value: str) -> str:
    try:
        return check_text(value, "text")
    except BadInput as exc:
        raise ValueError(str(exc).removeprefix("text: ")) from None


def _long(value: str) -> str:
    if not value:
        return ""
    try:
        return check_text(value, "text", single_line=False, limit=LONG_TEXT)
    except BadInput as exc:
        raise ValueError(str(exc).removeprefix("text: ")) from None


Line = Annotated[str, AfterValidator(_text)]  # one line of text: cleaned, no controls, not empty
Long = Annotated[str, AfterValidator(_long)]  # paragraphs: cleaned, no controls


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class NoteIn(_In):
    question: Line
    summary: Long = ""



class InquiryIn(_In):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,199}$", description="A readable name; the identity is the question.")
    question: Line
    role: Long = ""
    description: Long = ""
    summary: Long = ""
    source_notes: list[NoteIn] = []



class ClaimIn(_In):
    key: str = Field(description="e.g. C1; kept when the inquiry is created")
    text: Line
    as_of: str = Field(description="~2025, ~2024-2025, 2025-05 or 2025-05-12; not after today")
    status: ClaimStatus = "unreviewed"
    protocol: str | None = Field(None, description="a retest protocol (`claims protocol list`) or null")
    revision: int = Field(1, ge=1, le=1_000_000, description="kept on creation: the first stored revision gets this number")
    status_since: dt.date | None = Field(None, description="kept on creation (YYYY-MM-DD)")

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        try:
            return check_key(v)
        except BadInput as exc:
            raise ValueError(str(exc)) from None


    @field_validator("status_since")
    @classmethod
    def _since(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v > dt.date.today():
            raise ValueError(f"{v.isoformat()} is after today ({dt.date.today().isoformat()})")
        return v

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, v: str) -> str:
        try:
            return check_as_of(v, what="date").raw
        except BadInput as exc:
            raise ValueError(str(exc)) from None


class AnchorIn(_In):
    id: str = Field(description="an arXiv id such as 2504.07912")
    cited_label: Long = ""
    cited_date: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        try:
            return parse_anchor(v)[0]
        except BadInput as exc:
            raise ValueError(str(exc).removeprefix("anchor: ")) from None

    @field_validator("cited_date")
    @classmethod
    def _date(cls, v: str) -> str:
        if v.strip():
            try:
                cited = parse_as_of(v)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
            why = future_reason(cited, dt.date.today(), "cited date")
            if why:
                raise ValueError(f"{why}: a paper cannot be cited before it appears")
        return v.strip()



class ExchangeFile(_In):
    """One inquiry as `claims export --format json` writes it (derived fields ignored)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True,
                              json_schema_extra={"$comment": "claims import FILE.json; see docs/import.md"})
    inquiry: InquiryIn
    claims: list[ClaimIn] = Field(min_length=1)
    anchors: list[AnchorIn] = []
    tasks: Long = ""



def exchange_schema() -> dict[str, Any]:
    """The JSON schema of an import file (published as docs/import-schema.json)."""
    return ExchangeFile.model_json_schema()


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the file)"


def _duplicates(data: ExchangeFile) -> None:
    keys: dict[str, int] = {}
    for i, c in enumerate(data.claims):
        if c.key in keys:
            raise BadInput(f"claims[{i}].key: {c.key!r} is also claims[{keys[c.key]}].key; keys are unique")
        keys[c.key] = i
        for j, d in enumerate(data.claims[:i]):
            if same_text(c.text, d.text):
                raise BadInput(f"claims[{i}].text: the same claim as claims[{j}]; keep one")
    ids: dict[str, int] = {}
    for i, a in enumerate(data.anchors):
        if a.id in ids:
            raise BadInput(f"anchors[{i}].id: arXiv:{a.id} is also anchors[{ids[a.id]}]; keep one")
        ids[a.id] = i


class _Duplicate(ValueError):
    pass


def _duplicate_key(text: str) -> str | None:
    """`key "K"` for the first key an object of the JSON text names twice; None if none (or not JSON)."""
    import json

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for k, v in items:
            if k in seen:
                raise _Duplicate(f"key {k!r}")
            seen[k] = v
        return seen

    try:
        json.loads(text, object_pairs_hook=pairs)
    except _Duplicate as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None  # not JSON: the validation below says where
    return None


def parse_exchange(text: str, source: str = "the file") -> ExchangeFile:
    """The validated file; BadInput naming the first bad field's path (and how many more there are)."""
    duplicate = _duplicate_key(text)
    if duplicate:
        raise BadInput(f"{source}: {duplicate}: a JSON object names it twice (which one is meant?); keep one")
    try:
        data = ExchangeFile.model_validate_json(text)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise BadInput(f"{source}: {_path(tuple(first['loc']))}: {msg}{more}") from None
    try:
        _duplicates(data)
        catalog = protocol_catalog()
        for i, c in enumerate(data.claims):
            if c.protocol is not None:
                try:
                    check_protocol(c.protocol, catalog)
                except BadInput as exc:
                    raise BadInput(f"claims[{i}].protocol: {exc}") from None
    except BadInput as exc:
        raise BadInput(f"{source}: {exc}") from None
    return data


def content_hash(data: ExchangeFile) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


def read_exchange(path: Path) -> ExchangeFile:
    """Read and validate the file at `path` (a regular file of at most 1 MiB, UTF-8)."""
    return parse_exchange(read_document(path), source=str(path))


def import_exchange_path(store: Any, path: Path, actor: str = "import", data: ExchangeFile | None = None) -> ImportResult:
    """Read, validate (nothing written on any error) and import the file at `path` (or the already read `data`)."""
    data = data or read_exchange(path)
    with store.write() as session:
        return import_exchange(session, data, source_path=str(path), actor=actor)


def import_exchange(session: Session, data: ExchangeFile, source_path: str = "", actor: str = "import") -> ImportResult:
    """Write a validated file in the caller's transaction."""
    inquiry = session.scalar(select(Inquiry).where(Inquiry.question_key == question_key(data.inquiry.question)))
    if inquiry is None:
        return _create(session, data, source_path, actor)
    return _update(session, inquiry, data, actor)


def _create(session: Session, data: ExchangeFile, source_path: str, actor: str) -> ImportResult:
    taken = session.scalars(select(Claim.key).where(Claim.key.in_([c.key for c in data.claims]))).all()
    if taken:
        raise Conflict(f"claim key(s) {', '.join(sorted(taken))} already belong to another inquiry; "
                       "rename them in the file (keys are unique across inquiries)")
    q = data.inquiry
    inquiry = create_inquiry(session, NewInquiry(
        slug=q.slug, question_key=question_key(q.question), question=q.question, description=q.description,
        summary=q.summary, prompt_role=q.role, prompt_tasks=data.tasks, source_path=source_path,
        content_hash=content_hash(data), notes=[(n.question, n.summary) for n in q.source_notes],
        anchors=[(a.id, a.cited_label, a.cited_date) for a in data.anchors]))
    slug = inquiry.slug
    now = utcnow()
    for i, c in enumerate(data.claims):
        source = source_path or "a JSON file"
        note = (f"imported at revision {c.revision} from {source} (earlier revisions are not imported)"
                if c.revision > 1 else f"imported from {source}")
        since = dt.datetime.combine(c.status_since, dt.time()) if c.status_since else now
        create_claim(session, inquiry.id, c.key, i, c.text, parse_as_of(c.as_of), approved_by=actor, note=note,
                     status=c.status, protocol=c.protocol, revision=c.revision, status_since=since)
    keys = [c.key for c in data.claims]
    audit.record(session, actor, "import", "inquiry", inquiry.id, slug=slug, claims=keys, notes=len(q.source_notes),
                 anchors=len(data.anchors), content_hash=inquiry.content_hash, format="json")
    return ImportResult("created", inquiry.id, inquiry.slug, keys)


def _update(session: Session, inquiry: Inquiry, data: ExchangeFile, actor: str) -> ImportResult:
    """Compare with what is stored; differences become proposals (protocols are set directly)."""
    result = ImportResult("changed", inquiry.id, inquiry.slug, [c.key for c in inquiry.claims])
    drafts: list[Draft] = []
    protocols: list[tuple[Claim, str | None]] = []
    stored = {c.key: c for c in inquiry.claims}
    for i, c in enumerate(data.claims):
        claim = stored.get(c.key)
        if claim is None:
            _propose(drafts, result, f"new claim {c.key}", "new_claim", inquiry.id, proposed_text=c.text,
                     payload={"as_of": c.as_of, "position": i})
            continue
        if claim.text != c.text or claim.as_of != c.as_of:
            _propose(drafts, result, f"{c.key}: wording or date differs", "text", inquiry.id, c.key,
                     proposed_text=c.text, payload={"as_of": c.as_of})
        if claim.status != c.status:
            _propose(drafts, result, f"{c.key}: status {claim.status} -> {c.status}", "status", inquiry.id, c.key,
                     proposed_status=c.status)
        if claim.protocol != c.protocol:
            result.differences.append(f"{c.key}: protocol {claim.protocol or '-'} -> {c.protocol or '-'} (applied)")
            protocols.append((claim, c.protocol))
    in_file = {c.key for c in data.claims}
    for claim in inquiry.claims:
        if claim.key not in in_file and claim.status != "superseded":
            _propose(drafts, result, f"{claim.key} is no longer in the file", "retire", inquiry.id, claim.key,
                     proposed_status="superseded")
    propose_anchor_changes(drafts, result, inquiry, [(a.id, a.cited_label, a.cited_date) for a in data.anchors])
    if [(n.question, n.summary) for n in inquiry.notes] != [(n.question, n.summary) for n in data.inquiry.source_notes]:
        result.differences.append("source notes differ (kept as imported; notes are not reviewed claims)")
    if not result.differences:
        return ImportResult("unchanged", inquiry.id, inquiry.slug, result.claim_keys)  # nothing written at all
    result.proposals, _skipped = write_proposals(session, drafts, actor=actor)
    for claim, protocol in protocols:
        audit.record(session, actor, "attach_protocol" if protocol else "detach_protocol", "claim", claim.key,
                     before=claim.protocol, after=protocol, source="import")
        claim.protocol = protocol
    audit.record(session, actor, "reimport", "inquiry", inquiry.id, differences=result.differences,
                 proposals=result.proposals, format="json")
    return result


def dump_schema(path: Path) -> None:
    path.write_text(json.dumps(exchange_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


__all__ = ["ExchangeFile", "exchange_schema", "parse_exchange", "import_exchange", "import_exchange_path"]
