"""CLI commands: `claims evidence confirm|set|mark` (a reviewer decides a paper's stance or relevance)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from claims.cli.context import REVIEWER_TOKEN, load_settings, open_db
from claims.models import REVIEWABLE_STANCES

evidence_app = typer.Typer(help="Confirm or correct the stance the LLM judge suggested for a paper; mark a "
                           "paper relevant or not.",
                           no_args_is_help=True)

Stance = Enum("Stance", {s: s for s in REVIEWABLE_STANCES}, type=str)  # type: ignore[misc]

EVIDENCE_ID = typer.Argument(..., min=1, max=2**62, help="Evidence id (`claims show KEY --format json` lists them).")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(evidence_app, name="evidence")


@evidence_app.command("confirm")
def confirm(
    evidence_id: int = EVIDENCE_ID,
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the decision."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Confirm the judge's stance: it becomes a reviewed stance (exported as such).

    Example: claims evidence confirm 12 --as alice
    """
    from claims.evidence import confirm_stance

    settings = load_settings()
    with open_db(settings).write() as s:
        e = confirm_stance(s, evidence_id, reviewer, settings.reviewers, token)
        stance = e.stance
    print(f"evidence {evidence_id}: stance {stance} confirmed by {reviewer}")


@evidence_app.command("set")
def set_(
    evidence_id: int = EVIDENCE_ID,
    stance: Stance = typer.Option(..., "--stance", help="supports, contradicts, refines or unrelated."),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the decision."),
    comment: str = typer.Option("", help="Why (kept as the stance's rationale)."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Set a paper's stance on a claim yourself (the judge's suggestion stays in the audit log).

    Example: claims evidence set 12 --stance refines --as alice --comment "only at 1B scale"
    """
    from claims.evidence import set_stance

    settings = load_settings()
    with open_db(settings).write() as s:
        set_stance(s, evidence_id, stance.value, reviewer, settings.reviewers, token, comment)
    print(f"evidence {evidence_id}: stance set to {stance.value} by {reviewer}")


@evidence_app.command("mark")
def mark(
    evidence_id: int = EVIDENCE_ID,
    relevant: Optional[bool] = typer.Option(None, "--relevant/--irrelevant",
                                            help="Is this paper relevant to its claim? (required)"),
    reviewer: str = typer.Option(..., "--as", help="Your name, recorded with the label."),
    token: Optional[str] = REVIEWER_TOKEN,
) -> None:
    """Mark a candidate relevant or not to its claim: the claim's re-ranker learns from it on the next search.

    Example: claims evidence mark 12 --irrelevant --as alice
    """
    from claims.errors import BadInput
    from claims.relevance import mark_relevance

    if relevant is None:
        raise BadInput("say --relevant or --irrelevant")
    settings = load_settings()
    label = "relevant" if relevant else "irrelevant"
    with open_db(settings).write() as s:
        marked = mark_relevance(s, evidence_id, label, reviewer, settings.reviewers, token)
    print(f"evidence {evidence_id} ({marked.claim_key}, arXiv:{marked.paper_id}): marked {label} by {reviewer}")
