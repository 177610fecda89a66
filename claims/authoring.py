"""Your own claims: add one, propose an edit, name its retest protocol.

The same rules as the document importer (`claims.document`): text is NFC-normalised
with zero-width characters removed, control and bidirectional-override characters are
refused, dates parse as `~2025`, `2025-05`, ... and may not lie after today, and the same
claim may not appear twice in an inquiry. Adding a claim or choosing its protocol is a
direct, audited act of a reviewer (`claims.reviewers.check_reviewer`); changing a claim's
text, date or status is a pending proposal, decided by `claims.review` like any other.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims import audit
from claims.creation import NewInquiry, create_claim, create_inquiry, next_key
from claims.dates import AsOf, future_reason, parse_as_of
from claims.document import content_hash, question_key, slugify
from claims.drafts import Draft
from claims.errors import BadInput, Conflict
from claims.models import CLAIM_STATUSES, Anchor, Claim, Inquiry
from claims.proposing import write_proposals
from claims.protocols import check_protocol, protocol_catalog, suggestions
from claims.queries import get_claim
from claims.review import approve as approve_proposal
from claims.reviewers import check_reviewer
from claims.textgate import MAX_TEXT, gate

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,199}")
_ARXIV_ID = re.compile(r"(?P<new>(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5})(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?", re.I)


def check_text(text: str | None, what: str = "the claim's text", single_line: bool = True, limit: int = MAX_TEXT,
               required: bool = True) -> str:
    """Cleaned text, or BadInput naming the field and why (the one text gate, `claims.textgate`)."""
    return gate(text, what, single_line=single_line, limit=limit, required=required)


def check_as_of(raw: str, today: dt.date | None = None, what: str = "as-of date") -> AsOf:
    """The parsed date, not after today; BadInput saying what was expected."""
    try:
        as_of = parse_as_of(check_text(raw, what))
    except ValueError as exc:
        raise BadInput(f"{what}: {exc}") from exc
    why = future_reason(as_of, today or dt.date.today(), what)
    if why:
        raise BadInput(f"{why}; date a claim when it was found")
    return as_of


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key or ""):
        raise BadInput(f"a claim key is a letter then up to 39 letters, digits, '-' or '_' (like C7), got {key!r}")
    return key


def same_text(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def check_new_text(session: Session, inquiry_id: int | None, text: str, but: int | None = None) -> None:
    """BadInput if the inquiry already holds a claim with this text (case and spacing aside)."""
    if inquiry_id is None:
        return
    for c in session.scalars(select(Claim).where(Claim.inquiry_id == inquiry_id)):
        if c.id != but and same_text(c.text, text):
            raise BadInput(f"the same claim is already {c.key}: {c.text[:80]!r}; edit it instead (`claims edit {c.key}`)")


def parse_anchor(value: str) -> tuple[str, str, str]:
    """`ID [label]` -> (arxiv id, label, cited date from a new-style id's YYMM, else '')."""
    head, _, label = check_text(value, "anchor").partition(" ")
    head = head.removeprefix("arXiv:").removeprefix("arxiv:")
    m = _ARXIV_ID.fullmatch(head)
    if not m:
        raise BadInput(f"anchor: expected an arXiv id such as 2504.07912 (optionally followed by a label), got {head!r}")
    cited = f"20{m['yy']}-{m['mm']}" if m["new"] else ""
    return re.sub(r"v\d+$", "", head), label.strip(), cited


@dataclass(frozen=True)
class NewClaim:
    """What `claims add` asks for."""

    text: str
    as_of: str
    inquiry: str  # an inquiry's slug
    question: str | None = None  # to create the inquiry
    key: str | None = None
    protocol: str | None = None
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddedClaim:
    key: str
    inquiry: str
    inquiry_created: bool
    as_of: str
    protocol: str | None
    anchors: list[str] = field(default_factory=list)


def _inquiry(session: Session, slug: str, question: str | None, actor: str) -> tuple[Inquiry, bool]:
    found = session.scalar(select(Inquiry).where(Inquiry.slug == slug))
    if found is not None:
        if question and question_key(check_text(question, "question")) != found.question_key:
            raise BadInput(f"inquiry {slug!r} exists with another question ({found.question[:80]!r}); drop --question")
        return found, False
    if not question:
        known = ", ".join(session.scalars(select(Inquiry.slug).order_by(Inquiry.id))) or "none yet"
        raise BadInput(f"no inquiry {slug!r} (known: {known}); give --question to create it")
    if not _SLUG.fullmatch(slug):
        raise BadInput(f"an inquiry slug is lowercase letters, digits and '-' (like {slugify(question)!r}), got {slug!r}")
    question = check_text(question, "question")
    other = session.scalar(select(Inquiry).where(Inquiry.question_key == question_key(question)))
    if other is not None:
        raise BadInput(f"that question is already inquiry {other.slug!r}; use --inquiry {other.slug}")
    inquiry = create_inquiry(session, NewInquiry(slug=slug, question_key=question_key(question), question=question,
                                                 content_hash=content_hash(question)))
    audit.record(session, actor, "create", "inquiry", inquiry.id, slug=slug, question=question)
    return inquiry, True


def add_claim(session: Session, new: NewClaim, actor: str, allowed_reviewers: Sequence[str] | None = None,
              token: str | None = None, today: dt.date | None = None) -> AddedClaim:
    """Create a claim with an audited first revision by `actor` (a reviewer); checks everything before writing."""
    text = check_text(new.text)
    as_of = check_as_of(new.as_of, today)
    key = check_key(new.key) if new.key else None
    protocol = check_protocol(new.protocol) if new.protocol else None
    anchors = [parse_anchor(a) for a in new.anchors]
    actor = check_reviewer(session, actor, allowed_reviewers, token)
    if key and session.scalar(select(Claim.id).where(Claim.key == key)) is not None:
        raise BadInput(f"claim key {key!r} is taken; leave out --key for the next free one")
    inquiry, created = _inquiry(session, new.inquiry, new.question, actor)
    check_new_text(session, inquiry.id, text)
    key = key or next_key(session)
    position = len(session.scalars(select(Claim.id).where(Claim.inquiry_id == inquiry.id)).all())
    claim = create_claim(session, inquiry.id, key, position, text, as_of, approved_by=actor, note=f"added by {actor}",
                         protocol=protocol)
    known = {a.arxiv_id for a in inquiry.anchors}
    added = []
    for arxiv_id, label, cited in anchors:
        if arxiv_id in known:
            continue
        session.add(Anchor(inquiry_id=inquiry.id, claim_id=claim.id, arxiv_id=arxiv_id, cited_label=label,
                           cited_date=cited, position=len(known)))
        known.add(arxiv_id)
        added.append(arxiv_id)
    audit.record(session, actor, "add", "claim", key, text=text, as_of=as_of.raw, inquiry=inquiry.slug,
                 protocol=protocol, anchors=added)
    return AddedClaim(key, inquiry.slug, created, as_of.raw, protocol, added)


@dataclass(frozen=True)
class EditResult:
    key: str
    proposal_id: int
    approved: bool
    revision: int


def propose_edit(session: Session, key: str, actor: str, text: str | None = None, as_of: str | None = None,
                 status: str | None = None, comment: str = "", approve: bool = False,
                 allowed_reviewers: Sequence[str] | None = None, token: str | None = None,
                 today: dt.date | None = None) -> EditResult:
    """Write a pending proposal changing the claim; with `approve`, decide it at once through `claims.review.approve`."""
    claim = get_claim(session, key)
    name = check_text(actor, "--as")
    new_text = check_text(text) if text is not None else None
    new_as_of = check_as_of(as_of, today).raw if as_of is not None else None
    if status is not None and status not in CLAIM_STATUSES:
        raise BadInput(f"unknown status {status!r}; expected one of {', '.join(CLAIM_STATUSES)}")
    new_text = None if new_text == claim.text else new_text
    new_as_of = None if new_as_of == claim.as_of else new_as_of
    status = None if status == claim.status else status
    if new_text is None and new_as_of is None and status is None:
        raise BadInput(f"nothing to change: {key} already reads so (give --text, --as-of or --status)")
    if new_text is not None:
        check_new_text(session, claim.inquiry_id, new_text, but=claim.id)
    kind = "status" if new_text is None and new_as_of is None else "text"
    payload = {"as_of": new_as_of} if new_as_of else {}
    rationale = f"Edited by {name}" + (f": {check_text(comment, '--comment')}" if comment.strip() else "")
    written, skipped = write_proposals(session, [Draft(kind=kind, claim_key=key, proposed_status=status, rationale=rationale,
                                                       payload=payload, proposed_text=new_text,
                                                       inquiry_id=claim.inquiry_id)], actor=name)
    if not written:
        raise Conflict(f"not proposed again: {skipped[0] if skipped else 'the same edit was proposed before'}")
    if approve:
        approve_proposal(session, written[0], name, comment or "edited and approved at once", allowed_reviewers=allowed_reviewers,
                         token=token)
        audit.record(session, name, "edit_approved_at_once", "claim", key, proposal=written[0])
        session.flush()
    return EditResult(key, written[0], approve, claim.revision)


@dataclass(frozen=True)
class ProtocolChange:
    key: str
    before: str | None
    after: str | None
    suggested: list[str]


def set_protocol(session: Session, key: str, protocol: str | None, actor: str,
                 allowed_reviewers: Sequence[str] | None = None, token: str | None = None) -> ProtocolChange:
    """Attach (a name) or detach (None) the claim's retest protocol; audited."""
    catalog = protocol_catalog()
    protocol = check_protocol(protocol, catalog) if protocol is not None else None
    name = check_reviewer(session, actor, allowed_reviewers, token)
    claim = get_claim(session, key)
    before = claim.protocol
    if before != protocol:
        claim.protocol = protocol
        audit.record(session, name, "attach_protocol" if protocol else "detach_protocol", "claim", key,
                     before=before, after=protocol)
    return ProtocolChange(key, before, protocol, suggestions(key, catalog))
