"""CLI commands: `claims reviewers add|list|revoke` (reviewer accounts with secret tokens)."""

from __future__ import annotations

import sys

import typer

from claims.cli.context import Format, emit_json, open_db

reviewers_app = typer.Typer(help="Reviewer accounts: a secret token per reviewer, so a typed name is not enough.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(reviewers_app, name="reviewers")


@reviewers_app.command("add")
def add(
    name: str = typer.Argument(..., help="The reviewer's name, as recorded with decisions."),
    actor: str = typer.Option("admin", "--as", help="Who adds the reviewer (for the audit log)."),
) -> None:
    """Create a reviewer (or give them a new token) and print the token once.

    From then on every decision needs the token: the app asks for it, the CLI takes
    --token or CLAIMS_REVIEWER_TOKEN. Example: claims reviewers add alice
    """
    from claims.reviewers import add_reviewer

    with open_db().write() as s:
        token = add_reviewer(s, name, actor)
    print(token)
    print(f"token for {name} (shown once; only its hash is stored)", file=sys.stderr)


@reviewers_app.command("list")
def list_(fmt: Format = typer.Option(Format.table, "--format", help="table or json.")) -> None:
    """List reviewer accounts (never their tokens). Example: claims reviewers list"""
    from claims.reviewers import list_reviewers

    with open_db().read() as s:
        rows = list_reviewers(s)
    if fmt is Format.json:
        emit_json([{"name": r.name, "created_at": r.created_at, "active": r.active} for r in rows])
        return
    if not rows:
        print("no reviewer accounts: decisions need only a name (see `claims reviewers add`)")
    for r in rows:
        print(f"{r.name!r:30} {'active' if r.active else 'revoked':8} since {r.created_at:%Y-%m-%d}")


@reviewers_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The reviewer whose token stops working."),
    actor: str = typer.Option("admin", "--as", help="Who revokes (for the audit log)."),
) -> None:
    """Revoke a reviewer's token. Example: claims reviewers revoke alice"""
    from claims.reviewers import revoke_reviewer

    with open_db().write() as s:
        revoke_reviewer(s, name, actor)
    print(f"revoked {name}")
