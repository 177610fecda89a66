"""CLI commands: `claims reviewers add|list|revoke|recover` (reviewer accounts with secret tokens and roles)."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from claims.cli.context import REVIEWER_TOKEN, Format, emit_json, open_db
from claims.reviewers import ROLES

Role = Enum("Role", {r: r for r in ROLES}, type=str)  # type: ignore[misc]

reviewers_app = typer.Typer(help="Reviewer accounts: a secret token per reviewer, so a typed name is not enough.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(reviewers_app, name="reviewers")


@reviewers_app.command("add")
def add(
    name: str = typer.Argument(..., help="The reviewer's name, as recorded with decisions."),
    role: Role = typer.Option(None, "--role", help="admin (may manage accounts) or reviewer; the first account is "
                              "always the admin; default for a new account: reviewer; re-keying keeps the role."),
    token: str = REVIEWER_TOKEN,
) -> None:
    """Create an account (or give it a new token) and print the token once.

    The first account needs no token and becomes the admin; after that an admin's token
    is needed (--token or CLAIMS_REVIEWER_TOKEN). From then on every decision needs the
    reviewer's own token. Example: claims reviewers add alice --role reviewer
    """
    from claims.reviewers import add_reviewer

    with open_db().write() as s:
        new_token = add_reviewer(s, name, token=token, role=role.value if role else None)
    print(new_token)
    print(f"token for {name} (shown once; only its hash is stored)", file=sys.stderr)


@reviewers_app.command("list")
def list_(fmt: Format = typer.Option(Format.table, "--format", help="table or json.")) -> None:
    """List reviewer accounts (never their tokens). Example: claims reviewers list"""
    from claims.reviewers import list_reviewers

    with open_db().read() as s:
        rows = list_reviewers(s)
    if fmt is Format.json:
        emit_json([{"name": r.name, "role": r.role, "created_at": r.created_at, "active": r.active} for r in rows])
        return
    if not rows:
        print("no reviewer accounts: decisions need only a name (see `claims reviewers add`)")
    for r in rows:
        print(f"{r.name!r:30} {r.role:8} {'active' if r.active else 'revoked':8} since {r.created_at:%Y-%m-%d}")


@reviewers_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The reviewer whose token stops working."),
    token: str = REVIEWER_TOKEN,
) -> None:
    """Revoke an account's token (an admin's token needed). Example: claims reviewers revoke alice"""
    from claims.reviewers import revoke_reviewer

    with open_db().write() as s:
        revoke_reviewer(s, name, token=token)
    print(f"revoked {name}")


@reviewers_app.command("recover")
def recover(
    name: str = typer.Argument(..., help="Who becomes the admin."),
) -> None:
    """The database owner's recovery when no active admin is left: NAME becomes an admin, its token printed once.

    Works only while no active admin exists (for example a database whose accounts were
    all revoked before roles existed); audited. Example: claims reviewers recover alice
    """
    import getpass

    from claims.reviewers import recover_admin

    with open_db().write() as s:
        new_token = recover_admin(s, name, actor=f"owner:{getpass.getuser()}")
    print(new_token)
    print(f"token for {name}, now an admin (shown once; only its hash is stored)", file=sys.stderr)
