"""Reviewer accounts with secret tokens: who may decide proposals, proven, not typed.

`claims reviewers add NAME` creates (or rotates) a reviewer's token and shows it once;
only its SHA-256 hash is stored. A token is 32 random bytes (`secrets.token_urlsafe`),
so a fast hash is enough: there is no password to guess. Once any active account
exists, the review service refuses a decision without the token of the named reviewer
(in the app, the CLI and any other caller), whatever name is typed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claims import audit
from claims.errors import BadInput, NotAllowed, NotFound
from claims.models import ReviewerAccount, utcnow


@dataclass(frozen=True)
class ReviewerInfo:
    """A reviewer account as listed (never the token)."""

    name: str
    created_at: dt.datetime
    active: bool


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def add_reviewer(session: Session, name: str, actor: str) -> str:
    """Create the account, or give it a new token; returns the token (shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 200 or any(not c.isprintable() for c in name):
        raise BadInput("a reviewer name must be 1-200 printable characters")
    token = secrets.token_urlsafe(32)
    account = session.scalar(select(ReviewerAccount).where(ReviewerAccount.name == name))
    if account is None:
        session.add(ReviewerAccount(name=name, token_hash=hash_token(token)))
        audit.record(session, actor, "add", "reviewer", name)
    else:
        account.token_hash, account.revoked_at = hash_token(token), None
        audit.record(session, actor, "rotate_token", "reviewer", name)
    return token


def revoke_reviewer(session: Session, name: str, actor: str) -> None:
    """Revoke a reviewer's token: they can no longer decide."""
    account = session.scalar(select(ReviewerAccount).where(ReviewerAccount.name == name))
    if account is None or account.revoked_at is not None:
        raise NotFound(f"no active reviewer {name!r}")
    account.revoked_at = utcnow()
    audit.record(session, actor, "revoke", "reviewer", name)


def list_reviewers(session: Session) -> list[ReviewerInfo]:
    rows = session.scalars(select(ReviewerAccount).order_by(ReviewerAccount.name))
    return [ReviewerInfo(r.name, r.created_at, r.revoked_at is None) for r in rows]


def tokens_required(session: Session) -> bool:
    """True once any active reviewer account exists."""
    count = session.scalar(select(func.count()).select_from(ReviewerAccount).where(ReviewerAccount.revoked_at.is_(None)))
    return bool(count)


def authenticate(session: Session, token: str | None) -> str | None:
    """The name of the active reviewer whose token this is, or None."""
    if not token:
        return None
    wanted = hash_token(token.strip())
    for account in session.scalars(select(ReviewerAccount).where(ReviewerAccount.revoked_at.is_(None))):
        if hmac.compare_digest(account.token_hash, wanted):
            return account.name
    return None


def check_reviewer(session: Session, reviewer: str, allowed: Sequence[str] | None = None,
                   token: str | None = None) -> str:
    """The reviewer's name, if they may decide: named, on the allow-list, and proven by token when required."""
    name = (reviewer or "").strip()
    if not name:
        raise NotAllowed("a decision needs a reviewer name (--as NAME)")
    if allowed and name not in allowed:
        raise NotAllowed(f"{name!r} may not decide proposals (allowed: {', '.join(allowed)})")
    if tokens_required(session) and authenticate(session, token) != name:
        raise NotAllowed(f"reviewer tokens are in use: a decision as {name!r} needs {name}'s token "
                         "(--token or CLAIMS_REVIEWER_TOKEN; `claims reviewers add NAME` issues one)")
    return name
