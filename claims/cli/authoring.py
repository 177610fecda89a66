"""CLI commands for your own claims: add, edit, and the retest protocol of a claim."""

from __future__ import annotations

from typing import Optional

import typer

from claims.cli.context import REVIEWER_TOKEN, ClaimStatus, Format, emit_json, load_settings, open_db, safe_text

protocol_app = typer.Typer(help="Which retest protocol a claim uses.", no_args_is_help=True)



def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("edit")(edit)
    app.add_typer(protocol_app, name="protocol")


def add(
    text: str = typer.Argument(..., metavar="TEXT", help="The claim, one sentence or a few."),
    as_of: str = typer.Option(..., "--as-of", help="When it was found: ~2025, ~2024-2025, 2025-05 or 2025-05-12 (not after today)."),
    inquiry: str = typer.Option(..., "--inquiry", help="The inquiry's slug (see `claims list --format json`); a new one needs --question."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the claim's first revision."),
    question: Optional[str] = typer.Option(None, "--question", help="Create the inquiry --inquiry with this question."),
    key: Optional[str] = typer.Option(None, "--key", help="The claim's key (default: the next free C<n>)."),
    protocol: Optional[str] = typer.Option(None, "--protocol", help="Its retest protocol (`claims protocol list`)."),
    anchor: list[str] = typer.Option([], "--anchor", help="An anchor paper: 'ARXIV_ID [label]'; repeat for more."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Add a claim of your own with an audited first revision.

    Example: claims add "RL sharpens the base model's prior" --as-of 2025-06 --inquiry my-digest --question "Does RL add new skills?" --as alice
    """
    from claims.authoring import NewClaim, add_claim

    settings = load_settings()
    new = NewClaim(text=text, as_of=as_of, inquiry=inquiry, question=question, key=key, protocol=protocol, anchors=tuple(anchor))
    with open_db(settings).write() as s:
        added = add_claim(s, new, reviewer, settings.reviewers, token)
    made = " (new inquiry)" if added.inquiry_created else ""
    print(f"added {safe_text(added.key)} to {safe_text(added.inquiry)}{made}, as of {safe_text(added.as_of)}, "
          f"protocol {safe_text(added.protocol or '-')}, by {safe_text(reviewer)}")


def edit(
    key: str = typer.Argument(..., metavar="KEY", help="Claim key, e.g. C2."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the proposal."),
    text: Optional[str] = typer.Option(None, "--text", help="The new wording."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The new as-of date."),
    status: Optional[ClaimStatus] = typer.Option(None, "--status", help="The new status."),
    comment: str = typer.Option("", "--comment", help="Why."),
    approve: bool = typer.Option(False, "--approve", help="Approve it at once (you must be a reviewer; audited as such)."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Propose a change to a claim (pending until a reviewer approves it).

    Example: claims edit C2 --status contested --as alice --comment "see arXiv:2506.01234"
    """
    from claims.authoring import propose_edit

    settings = load_settings()
    with open_db(settings).write() as s:
        r = propose_edit(s, key, reviewer, text=text, as_of=as_of, status=status.value if status else None, comment=comment,
                         approve=approve, allowed_reviewers=settings.reviewers, token=token)
    if r.approved:
        print(f"{safe_text(r.key)} is now revision {r.revision} (proposal {r.proposal_id} approved at once by {safe_text(reviewer)})")
    else:
        print(f"proposal {r.proposal_id} for {safe_text(r.key)} is pending review (`claims review approve {r.proposal_id} --as NAME`)")


@protocol_app.command("list")
def protocol_list(fmt: Format = typer.Option(Format.table, "--format", help="table or json.")) -> None:
    """List the installed retest protocols and the claim each was written for (a suggestion).

    Example: claims protocol list
    """
    from claims.protocols import protocol_catalog

    rows = [{"name": p.name, "claim_hint": p.claim_hint, "interval_days": p.interval_days, "description": p.description}
            for p in protocol_catalog().values()]
    if fmt is Format.json:
        emit_json(rows)
        return
    if not rows:
        print("no retest protocols installed (install the retest extra)")
    for r in rows:
        print(f"{r['name']:18} suggested for {r['claim_hint'] or '-':4} every {r['interval_days'] or '-'} d")


@protocol_app.command("attach")
def protocol_attach(
    key: str = typer.Argument(..., metavar="KEY", help="Claim key, e.g. C4."),
    protocol: str = typer.Argument(..., metavar="PROTOCOL", help="A protocol name (`claims protocol list`)."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded in the audit log."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Make the weekly job retest this claim with PROTOCOL.

    Example: claims protocol attach C4 update-sparsity --as alice
    """
    _set(key, protocol, reviewer, token)


@protocol_app.command("detach")
def protocol_detach(
    key: str = typer.Argument(..., metavar="KEY", help="Claim key, e.g. C4."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded in the audit log."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Stop retesting this claim (its literature checks go on).

    Example: claims protocol detach C4 --as alice
    """
    _set(key, None, reviewer, token)


def _set(key: str, protocol: str | None, reviewer: str, token: str | None) -> None:
    from claims.authoring import set_protocol

    settings = load_settings()
    with open_db(settings).write() as s:
        r = set_protocol(s, key, protocol, reviewer, settings.reviewers, token)
    if r.before == r.after:
        print(f"{safe_text(r.key)} already uses {safe_text(r.after or 'no protocol')}: nothing to do")
    else:
        print(f"{safe_text(r.key)}: protocol {safe_text(r.before or '-')} -> {safe_text(r.after or '-')}")
    if r.suggested and r.after not in r.suggested:
        print(f"  suggested for {safe_text(r.key)} by the protocols themselves: {', '.join(r.suggested)}")
