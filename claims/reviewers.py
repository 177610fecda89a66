"""Reviewer accounts with secret tokens and roles: who may decide proposals, proven, not typed.

`claims reviewers add NAME` creates (or re-keys) an account and shows its token once;
only its SHA-256 hash is stored. A token is 32 random bytes (`secrets.token_urlsafe`),
so a fast hash is enough: there is no password to guess.

Rules (the CLI, the app and any other caller go through these functions):

- Roles: `admin` (may also add, re-key and revoke accounts) and `reviewer`.
- The first account is created without a token and is an admin. After that, adding,
  re-keying and revoking accounts need an admin's token; revoking (or demoting) the
  last active admin is refused.
- Once any account has existed, no decision is possible without a valid token of the
  named reviewer, whatever name is typed; revoking every account does not switch the
  check off. If no active admin is left (a database from before roles), the database
  owner recovers with `claims reviewers recover NAME` (`recover_admin`), which works
  only then, and is audited.
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

from claims import audit, textgate
from claims.errors import BadInput, NotAllowed, NotFound
from claims.models import ReviewerAccount, utcnow

ROLES = ("admin", "reviewer")
RECOVERY = ("the database owner can recover with `claims reviewers recover NAME` on the machine that holds "
            "the database (README: Reviewer accounts)")


@dataclass(frozen=True)
class ReviewerInfo:
    """A reviewer account as listed (never the token)."""

    name: str
    created_at: dt.datetime
    active: bool
    role: str = "reviewer"


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def _account(session: Session, name: str) -> ReviewerAccount | None:
    return session.scalar(select(ReviewerAccount).where(ReviewerAccount.name == name))


def _active_admins(session: Session) -> list[str]:
    return list(session.scalars(select(ReviewerAccount.name).where(
        ReviewerAccount.revoked_at.is_(None), ReviewerAccount.role == "admin")))


def _check_name(name: str) -> str:
    name = textgate.name(name)
    if any(not c.isprintable() for c in name):
        raise BadInput("a reviewer name must be 1-200 printable characters")
    return name


def _check_role(role: str | None) -> None:
    if role is not None and role not in ROLES:
        raise BadInput(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


def require_admin(session: Session, token: str | None) -> str:
    """The name of the active admin whose token this is; NotAllowed otherwise."""
    name = authenticate(session, token)
    account = _account(session, name) if name else None
    if account is None or account.role != "admin":
        hint = "" if _active_admins(session) else f"; no active admin is left: {RECOVERY}"
        raise NotAllowed("managing reviewer accounts needs an admin's token (--token or CLAIMS_REVIEWER_TOKEN)"
                         + hint)
    return account.name


def add_reviewer(session: Session, name: str, token: str | None = None, role: str | None = None) -> str:
    """Create the account, or give it a new token (and `role`, if given); returns the new token (shown once).

    The first account needs no token and is an admin; after that `token` must be an admin's.
    """
    name = _check_name(name)
    _check_role(role)
    first = not accounts_exist(session)
    if first:
        if role == "reviewer":
            raise BadInput("the first account is the admin: add it without --role reviewer")
        actor, role = name, "admin"
    else:
        actor = require_admin(session, token)
    new_token = secrets.token_urlsafe(32)
    account = _account(session, name)
    if account is None:
        session.add(ReviewerAccount(name=name, token_hash=hash_token(new_token), role=role or "reviewer"))
        audit.record(session, actor, "add", "reviewer", name, role=role or "reviewer", first=first)
        return new_token
    if role == "reviewer" and account.role == "admin" and _active_admins(session) == [name]:
        raise BadInput(f"{name} is the last active admin: make another admin first")
    account.token_hash, account.revoked_at = hash_token(new_token), None
    account.role = role or account.role
    audit.record(session, actor, "rotate_token", "reviewer", name, role=account.role)
    return new_token


def revoke_reviewer(session: Session, name: str, token: str | None = None) -> None:
    """Revoke an account's token (an admin's token needed): they can no longer decide."""
    actor = require_admin(session, token)
    account = _account(session, name)
    if account is None or account.revoked_at is not None:
        raise NotFound(f"no active reviewer {name!r}")
    if account.role == "admin" and _active_admins(session) == [name]:
        raise BadInput(f"{name} is the last active admin: revoking them would leave nobody to manage accounts "
                       "(make another admin first)")
    account.revoked_at = utcnow()
    audit.record(session, actor, "revoke", "reviewer", name)


def recover_admin(session: Session, name: str, actor: str) -> str:
    """The database owner's way back when no active admin is left: `name` becomes an admin; its new token."""
    name = _check_name(name)
    if _active_admins(session):
        raise NotAllowed("an active admin exists: ask them (recovery works only when no active admin is left)")
    new_token = secrets.token_urlsafe(32)
    account = _account(session, name)
    if account is None:
        session.add(ReviewerAccount(name=name, token_hash=hash_token(new_token), role="admin"))
    else:
        account.token_hash, account.revoked_at, account.role = hash_token(new_token), None, "admin"
    audit.record(session, actor, "recover_admin", "reviewer", name)
    return new_token


def list_reviewers(session: Session) -> list[ReviewerInfo]:
    rows = session.scalars(select(ReviewerAccount).order_by(ReviewerAccount.name))
    return [ReviewerInfo(r.name, r.created_at, r.revoked_at is None, r.role) for r in rows]


def accounts_exist(session: Session) -> bool:
    """True once any account has been created (revoked ones count)."""
    return bool(session.scalar(select(func.count()).select_from(ReviewerAccount)))


def tokens_required(session: Session) -> bool:
    """True once any account has existed: from then on a decision always needs a valid token."""
    return accounts_exist(session)


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
    if not (reviewer or "").strip():
        raise NotAllowed("a decision needs a reviewer name (--as NAME)")
    name = _check_name(reviewer)
    if allowed and name not in allowed:
        raise NotAllowed(f"{name!r} may not decide proposals (allowed: {', '.join(allowed)})")
    if tokens_required(session) and authenticate(session, token) != name:
        active = session.scalar(select(func.count()).select_from(ReviewerAccount)
                                .where(ReviewerAccount.revoked_at.is_(None)))
        if not active:
            raise NotAllowed(f"every reviewer account is revoked, so no decision is possible; {RECOVERY}")
        raise NotAllowed(f"reviewer tokens are in use: a decision as {name!r} needs {name}'s token "
                         "(--token or CLAIMS_REVIEWER_TOKEN; an admin issues one with `claims reviewers add NAME`)")
    return name
