"""CLI commands of the core: init, import, list, show, info, review."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from claims.cli.context import (MAX_ID, REVIEWER_TOKEN, ClaimStatus, Format, ProposalState, cell, console, emit_json, load_settings,
                                open_db, safe_text)
from claims.errors import BadInput
from claims.redaction import redact_url

review_app = typer.Typer(help="Decide pending proposals (the only way a claim changes).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("import")(import_cmd)
    app.command("list")(list_cmd)
    app.command("show")(show)
    app.command("info")(info)
    app.add_typer(review_app, name="review")


def init() -> None:
    """Create the database or migrate it to the newest schema.

    Example: CLAIMS_HOME=~/claims-data claims init
    """
    settings = load_settings()
    store = open_db(settings, migrate=False)
    before = store.revision()
    after = store.init()
    print(f"database {store.where}: schema {before or 'empty'} -> {after}")


def import_cmd(
    path: Optional[Path] = typer.Argument(None, help="A document in the shape of the bundled one, or a .json file "
                                          "in the shape of `claims export --format json` (docs/import.md)."),
    bundled: bool = typer.Option(False, "--bundled", help="Import the bundled document (claims C1..C5)."),
) -> None:
    """Import an inquiring-line document or a JSON export; re-importing is a no-op, changes become proposals.

    Example: claims import --bundled   (or: claims import digest.json)
    """
    from claims.importer import import_bundled, import_path, read_path

    if bool(path) == bundled:
        raise BadInput("give either a PATH or --bundled")
    if path is not None and path.suffix.lower() == ".json":
        from claims.exchange import import_exchange_path, read_exchange

        data = read_exchange(path)  # validated whole before the database is even opened
        result = import_exchange_path(open_db(), path, data=data)
    else:
        doc = None if bundled else read_path(path)  # type: ignore[arg-type]  # validated before the database is opened
        store = open_db()
        result = import_bundled(store) if bundled else import_path(store, path, doc=doc)  # type: ignore[arg-type]
    print(safe_text(result.message(), multiline=True))
    for diff in result.differences:
        print(f"  - {safe_text(diff)}")


def list_cmd(
    status: Optional[ClaimStatus] = typer.Option(None, help="Only claims with this status."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json (stable: key, text, as_of, status, ...)."),
) -> None:
    """List the claims.

    Example: claims list --format json
    """
    from claims.queries import claim_summaries

    with open_db().read() as s:
        rows = claim_summaries(s, status.value if status else None)
    if fmt is Format.json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("key", "status", "as of", "last checked", "claim")
    for r in rows:
        checked = r["last_checked_at"].strftime("%Y-%m-%d") if r["last_checked_at"] else "never"
        table.add_row(cell(r["key"]), cell(r["status"]), cell(r["as_of"]), checked, cell(_short(r["text"], 90)))
    if rows:
        console().print(table)
    else:
        print(f"no {status.value} claims" if status else "no claims yet: try `claims import --bundled`")


def show(
    key: str = typer.Argument(..., metavar="KEY", help="Claim key, e.g. C2."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Show a claim: revisions, source notes, anchors, evidence, retest runs, pending proposals.

    Example: claims show C2 --format json
    """
    from claims.queries import claim_detail

    with open_db().read() as s:
        d = claim_detail(s, key)
    if fmt is Format.json:
        emit_json(d)
        return
    _print_detail(d)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _print_detail(d: dict) -> None:
    """The human view of `claim_detail`; every stored value goes through `safe_text`."""
    from rich.text import Text

    c = console()
    t = safe_text

    def head(title: str, rest: str = "") -> None:
        c.print(Text.assemble("\n", (title, "bold"), rest))

    c.print(Text.assemble((t(d["key"]), "bold"), f" [{t(d['status'])}] as of {t(d['as_of'])} "
                          f"(revision {d['revision']}, protocol {t(d['protocol'] or '-')})"))
    c.print(t(d["text"], multiline=True))
    head("Inquiry", f": {t(d['inquiry']['question'])}")
    head("Revisions")
    for r in d["revisions"]:
        c.print(f"  r{r['revision']} {r['changed_at']:%Y-%m-%d} {t(r['status'])} by {t(r['approved_by'])}"
                + (f" (proposal {r['proposal_id']})" if r["proposal_id"] else ""))
    head("Anchors")
    for a in d["inquiry"]["anchors"]:
        c.print(f"  arXiv:{t(a['id'])} ({t(a['cited_date'])}) {t(a['cited_label'])} -> {t(a['status'])}")
        for diff in a["differences"]:
            c.print(f"      ! {t(diff)}")
    head("Source notes", f": {len(d['inquiry']['source_notes'])}")
    for n in d["inquiry"]["source_notes"]:
        c.print(f"  - {t(n['question'])}")
    head("Evidence", " (by relevance)")
    for e in d["evidence"][:15]:
        conf = f" {e['confidence']:.2f}" if e["confidence"] is not None else ""
        who = f", reviewed by {t(e['stance_reviewed_by'])}" if e["stance_reviewed_by"] else (
            ", machine" if e["judged_by"] and e["stance"] not in ("unjudged", "flagged") else "")
        c.print(f"  #{e['evidence_id']} {e['relevance']:.3f} arXiv:{t(e['id'])} {t(_short(e['title'] or '', 70))} "
                f"[{t(e['stance'])}{conf}{who}]")
    if not d["evidence"]:
        c.print("  none yet (run `claims search` or `claims agent run`)")
    head("Retest runs")
    for r in d["retest_runs"]:
        effect = (f" effect {r['effect_size']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
                  if r["effect_size"] is not None and r["ci_low"] is not None else "")
        c.print(f"  #{r['id']} {t(r['protocol'])} ({t(r['preset'])}) {t(r['status'])} verdict={t(r['verdict'] or '-')}{effect}")
        if r["summary"]:
            c.print(f"      {t(r['summary'])}")
    if not d["retest_runs"]:
        c.print("  none")
    head("Pending proposals")
    for p in d["proposals"]:
        target = p["proposed_status"] or _short(p["proposed_text"] or _payload_text(p), 60)
        c.print(f"  #{p['id']} {t(p['kind'])} -> {t(target)}: {t(_short(p['rationale'], 100))}")
    if not d["proposals"]:
        c.print("  none")


def info(fmt: Format = typer.Option(Format.table, "--format", help="table or json.")) -> None:
    """Show where the data lives (database, home folder) and what it holds.

    Example: claims info
    """
    from sqlalchemy import func, select

    from claims import __version__
    from claims.models import Claim, Evidence, Inquiry, Paper, Proposal, RetestRun

    settings = load_settings()
    store = open_db(settings, migrate=False)
    data: dict = {"version": __version__, "home": str(settings.resolved_home),
                  "database_url": redact_url(settings.resolved_database_url), "schema": store.revision(),
                  "llm_base_url": redact_url(settings.llm_base_url) if settings.llm_base_url else None, "arxiv_url": settings.arxiv_url}
    if data["schema"]:
        with store.read() as s:
            for name, model in (("inquiries", Inquiry), ("claims", Claim), ("papers", Paper), ("evidence", Evidence),
                                ("retest_runs", RetestRun)):
                data[name] = s.scalar(select(func.count()).select_from(model))
            data["pending_proposals"] = s.scalar(select(func.count()).select_from(Proposal).where(Proposal.state == "pending"))
    if fmt is Format.json:
        emit_json(data)
        return
    for k, v in data.items():
        print(f"{k:18} {safe_text('-' if v is None else v)}")
    if not data["schema"]:
        print("the database is not initialised yet: run `claims init` or `claims import --bundled`")


@review_app.command("list")
def review_list(
    state: ProposalState = typer.Option("pending", help="pending, approved, rejected, stale (evidence changed) or all."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json (stable: id, claim, kind, state, ...)."),
) -> None:
    """List proposals, oldest first.

    Example: claims review list --format json
    """
    from claims.queries import proposal_summaries

    with open_db().read() as s:
        rows = proposal_summaries(s, None if state.value == "all" else state.value)
    if fmt is Format.json:
        emit_json(rows)
        return
    if not rows:
        print(f"no {'' if state.value == 'all' else state.value + ' '}proposals")
    for p in rows:
        target = safe_text(p["proposed_status"] or _short(p["proposed_text"] or _payload_text(p), 50))
        why = p["rationale"] if p["state"] != "stale" else "STALE: " + _stale_line(p["payload"] or {})
        print(f"#{p['id']:<5} {safe_text(p['claim'] or '-'):5} {safe_text(p['kind']):9} {safe_text(p['state']):9} "
              f"-> {target}  | {safe_text(_short(why, 80 if p['state'] != 'stale' else 200))}")
    if state.value == "pending":
        with open_db().read() as s:
            stale = proposal_summaries(s, "stale")
        if stale:
            print(f"{len(stale)} stale proposal(s) (their evidence changed; they cannot be approved): "
                  "claims review list --state stale")


def _stale_line(payload: dict) -> str:
    """Why a stale proposal is stale, and what replaced it."""
    stale = payload.get("stale") or {}
    fresh = stale.get("replaced_by") or []
    then = ("replaced by " + ", ".join(f"#{i}" for i in fresh)) if fresh else "nothing replaces it"
    return f"{stale.get('reason') or 'its evidence changed'} ({then})"


@review_app.command("show")
def review_show(
    proposal_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID, help="Proposal id (see `claims review list`)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Show one proposal: what it changes, why, the evidence behind it now, and whether it is stale.

    Example: claims review show 3
    """
    from claims.queries import proposal_detail

    with open_db().read() as s:
        p = proposal_detail(s, proposal_id)
    if fmt is Format.json:
        emit_json(p)
        return
    t = safe_text
    target = p["proposed_status"] or _short(p["proposed_text"] or _payload_text(p), 200)
    print(f"proposal #{p['id']}: {t(p['kind'])} {t(p['claim'] or '-')} -> {t(target)}")
    print(f"state: {t(p['state'].upper() if p['state'] == 'stale' else p['state'])}"
          + (f" ({t(p['reviewer'])})" if p["reviewer"] else ""))
    if p["state"] == "stale":
        print(f"stale: {t(_stale_line(p['payload'] or {}))}")
    if p["replaces"]:
        print(f"replaces stale proposal #{p['replaces']}")
    print(f"why: {t(p['rationale'])}")
    for e in p["evidence_detail"]:
        rested = (p["basis"] or {}).get(str(e["id"]))
        by = f", set by {t(e['stance_reviewed_by'])}" if e["stance_reviewed_by"] else ""
        was = f" (rested on {t(rested)})" if rested and rested != e["stance"] else ""
        print(f"  evidence {e['id']}: arXiv:{t(e['paper_id'])} {t(e['stance'])}{by}{was}")
    if p["retest_runs"]:
        print("  retest runs: " + ", ".join(str(r) for r in p["retest_runs"]))


@review_app.command("approve")
def review_approve(
    proposal_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID, help="Proposal id (see `claims review list`)."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the decision."),
    comment: str = typer.Option("", help="Why."),
    text: Optional[str] = typer.Option(None, help="Approve with this wording instead."),
    status: Optional[ClaimStatus] = typer.Option(None, help="Approve with this status instead."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Approve a proposal (optionally with edits); writes a new claim revision.

    Example: claims review approve 3 --as alice --comment "checked the paper"
    """
    from claims.review import approve

    settings = load_settings()
    with open_db(settings).write() as s:
        p = approve(s, proposal_id, reviewer, comment, edits={"text": text, "status": status.value if status else None},
                    allowed_reviewers=settings.reviewers, token=token)
        claim = p.claim.key if p.claim else "-"
    print(f"approved proposal {proposal_id} ({safe_text(claim)}) as {safe_text(reviewer)}")


@review_app.command("reject")
def review_reject(
    proposal_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID, help="Proposal id (see `claims review list`)."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the decision."),
    comment: str = typer.Option(..., help="Why it is rejected (required)."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Reject a proposal; the claim stays as it is.

    Example: claims review reject 4 --as alice --comment "the paper studies a different setting"
    """
    from claims.review import reject

    settings = load_settings()
    with open_db(settings).write() as s:
        reject(s, proposal_id, reviewer, comment, allowed_reviewers=settings.reviewers, token=token)
    print(f"rejected proposal {proposal_id} as {safe_text(reviewer)}")


def _payload_text(p: dict) -> str:
    """What a proposal without a status or text changes (anchor proposals in words)."""
    if p.get("kind") == "anchor":
        from claims.anchor_changes import AnchorChange

        return AnchorChange.from_payload(p.get("payload")).describe()
    return str(p.get("payload"))
