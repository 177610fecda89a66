"""Importing inquiring-line documents into the database.

Importing the same document twice changes nothing; a changed document is never
silently overwritten: each difference in its claims or anchors becomes a pending
proposal for a reviewer. Parsing happens before any write, so a malformed document
leaves the database untouched.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import audit
from claims.anchor_changes import AnchorChange
from claims.creation import NewInquiry, create_claim, create_inquiry, next_key_number
from claims.document import Document, parse_document
from claims.drafts import Draft
from claims.errors import BadInput
from claims.models import Inquiry
from claims.proposing import write_proposals
from claims.protocols import bundled_hints
from claims.store import Store

BUNDLED_NAME = "rl-prior-vs-optimizer.txt"
MAX_DOCUMENT_BYTES = 1024 * 1024  # 1 MiB: the bundled document is 11 KiB; a digest 100 times larger is not one


@dataclass
class ImportResult:
    """What an import did: `created`, `unchanged` or `changed` (proposals written)."""

    outcome: str
    inquiry_id: int
    slug: str
    claim_keys: list[str] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    def message(self) -> str:
        if self.outcome == "created":
            return f"imported {self.slug!r}: {len(self.claim_keys)} claims ({', '.join(self.claim_keys)})"
        if self.outcome == "unchanged":
            return f"{self.slug!r} is already imported and unchanged: nothing to do"
        return (
            f"{self.slug!r} changed since its import: {len(self.proposals)} new proposal(s) "
            f"for review ({len(self.differences)} difference(s); nothing overwritten)"
        )


def bundled_path() -> Path:
    return Path(str(resources.files("claims") / "data" / BUNDLED_NAME))


def bundled_protocols() -> dict[str, str]:
    """The bundled claims' protocols, from the protocols' own claim hints (claims.protocols)."""
    return bundled_hints()


def read_document(path: Path) -> str:
    """The text of the document at `path`: a regular file of at most MAX_DOCUMENT_BYTES, UTF-8.

    Directories, FIFOs, devices and sockets are refused before opening (a FIFO would
    block, /dev/zero never ends); the size is checked again on what is actually read.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise BadInput(f"no such file: {path}") from exc
    except OSError as exc:  # a symlink loop, a name too long, a component that is not a folder
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"{path} is {_kind(info.st_mode)}, not a regular file; give a text document")
    if info.st_size > MAX_DOCUMENT_BYTES:
        raise BadInput(f"{path} is {info.st_size:,} bytes; documents are limited to {MAX_DOCUMENT_BYTES:,} bytes (1 MiB)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # never block, should it be swapped for a FIFO
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise BadInput(f"{path} is not a regular file; give a text document")
            data = f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise BadInput(f"{path} is larger than {MAX_DOCUMENT_BYTES:,} bytes (1 MiB), the limit for documents")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_path(path: Path) -> Document:
    """The parsed document at `path` (DocumentError naming the line); nothing is written."""
    return parse_document(read_document(path), path=str(path))


def import_path(store: Store, path: Path, actor: str = "import", protocols: dict[str, str] | None = None,
                doc: Document | None = None) -> ImportResult:
    """Parse (unless `doc`, already parsed, is given) and import the document at `path`."""
    doc = doc or read_path(path)
    with store.write() as session:
        return import_document(session, doc, source_path=str(path), actor=actor, protocols=protocols)


def import_bundled(store: Store, actor: str = "import") -> ImportResult:
    """Import the bundled document (claims C1..C5) and name the protocols of C1..C3."""
    return import_path(store, bundled_path(), actor=actor, protocols=bundled_protocols())


def import_document(
    session: Session, doc: Document, source_path: str = "", actor: str = "import", protocols: dict[str, str] | None = None
) -> ImportResult:
    """Write a parsed document in the caller's transaction."""
    inquiry = session.scalar(select(Inquiry).where(Inquiry.question_key == doc.key))
    if inquiry is None:
        return _create(session, doc, source_path, actor, protocols or {})
    if inquiry.content_hash == doc.content_hash:
        return ImportResult("unchanged", inquiry.id, inquiry.slug, [c.key for c in inquiry.claims])
    return _propose_changes(session, inquiry, doc, actor)


def _create(session: Session, doc: Document, source_path: str, actor: str, protocols: dict[str, str]) -> ImportResult:
    inquiry = create_inquiry(session, NewInquiry(
        slug=doc.slug, question_key=doc.key, question=doc.question, description=doc.description, summary=doc.summary,
        prompt_role=doc.prompt_role, prompt_tasks=doc.prompt_tasks, source_path=source_path,
        content_hash=doc.content_hash, notes=[(n.question, n.summary) for n in doc.notes],
        anchors=[(a.arxiv_id, a.cited_label, a.cited_date) for a in doc.anchors]))
    slug = inquiry.slug
    n = next_key_number(session)
    keys = []
    for i, finding in enumerate(doc.findings):
        key = f"C{n + i}"
        create_claim(session, inquiry.id, key, i, finding.text, finding.as_of, approved_by=actor,
                     note=f"imported from {source_path or 'a document'}", protocol=protocols.get(key))
        keys.append(key)
    audit.record(session, actor, "import", "inquiry", inquiry.id, slug=slug, claims=keys,
                 notes=len(doc.notes), anchors=len(doc.anchors), content_hash=doc.content_hash)
    return ImportResult("created", inquiry.id, inquiry.slug, keys)


def _propose(drafts: list[Draft], result: ImportResult, difference: str, kind: str, inquiry_id: int,
             claim_key: str | None = None, proposed_status: str | None = None, **fields: Any) -> None:
    result.differences.append(difference)
    drafts.append(Draft(kind=kind, claim_key=claim_key, proposed_status=proposed_status, inquiry_id=inquiry_id,
                        rationale=f"The imported document changed: {difference}", **fields))


def propose_anchor_changes(drafts: list[Draft], result: ImportResult, inquiry: Inquiry,
                           cited: list[tuple[str, str, str]]) -> None:
    """Anchor proposals for (arxiv_id, label, date) citations that are new or cited differently."""
    known = {a.arxiv_id: a for a in inquiry.anchors}
    for arxiv_id, label, date in cited:
        anchor = known.get(arxiv_id)
        if anchor is None:
            _propose(drafts, result, f"new anchor arXiv:{arxiv_id}", "anchor", inquiry.id,
                     payload=AnchorChange(arxiv_id=arxiv_id, cited_label=label, cited_date=date).to_payload())
        elif (anchor.cited_label, anchor.cited_date) != (label, date):
            _propose(drafts, result, f"anchor arXiv:{arxiv_id} cited differently", "anchor", inquiry.id,
                     payload=AnchorChange(anchor_id=anchor.id, cited_label=label, cited_date=date).to_payload())


def _propose_changes(session: Session, inquiry: Inquiry, doc: Document, actor: str) -> ImportResult:
    result = ImportResult("changed", inquiry.id, inquiry.slug, [c.key for c in inquiry.claims])
    drafts: list[Draft] = []
    claims = list(inquiry.claims)
    for i, finding in enumerate(doc.findings):
        if i >= len(claims):
            _propose(drafts, result, f"new finding at position {i + 1}", "new_claim", inquiry.id,
                     proposed_text=finding.text, payload={"as_of": finding.as_of.raw, "position": i})
        elif claims[i].text != finding.text or claims[i].as_of != finding.as_of.raw:
            _propose(drafts, result, f"{claims[i].key}: wording or date differs", "text", inquiry.id, claims[i].key,
                     proposed_text=finding.text, payload={"as_of": finding.as_of.raw})
    for claim in claims[len(doc.findings):]:
        _propose(drafts, result, f"{claim.key} is no longer in the document", "retire", inquiry.id, claim.key,
                 proposed_status="superseded")
    propose_anchor_changes(drafts, result, inquiry, [(a.arxiv_id, a.cited_label, a.cited_date) for a in doc.anchors])
    result.proposals, _skipped = write_proposals(session, drafts, actor=actor)
    if [(n.question, n.summary) for n in inquiry.notes] != [(n.question, n.summary) for n in doc.notes]:
        result.differences.append("source notes differ (kept as imported; notes are not reviewed claims)")
    if not result.differences:
        result.differences.append("only formatting or summary text differs")
    audit.record(session, actor, "reimport", "inquiry", inquiry.id, differences=result.differences, proposals=result.proposals)
    return result
