"""Approve and reject from the UI: button callbacks over the claims core's review service.

The callbacks run before the page re-renders, so a click is never lost when the
proposal has meanwhile left the queue. Outcomes are queued as flash messages that
the next render shows once; every decision bumps the data version.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from claims import evidence as evidence_service
from claims import review
from claims.errors import AlreadyDecided, ClaimsError, NotAllowed
from ui import data
from ui.identity import TOKEN_KEY
from ui.plaintext import plain

FLASH_KEY = "flash"


def flash(kind: str, message: str) -> None:
    """Queue a message (kind: success | info | warning | error) for the next render."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flashes() -> None:
    """Show and clear the queued messages, as plain text (they quote names, texts and errors)."""
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(plain(message))


def edit_keys(proposal_id: int) -> dict[str, str]:
    """Session-state keys of one proposal's widgets."""
    return {k: f"p{proposal_id}_{k}" for k in ("comment", "text", "status")}


def collect_edits(proposal: dict[str, Any]) -> dict[str, str]:
    """The reviewer's edits that differ from what the proposal would apply."""
    keys = edit_keys(proposal["id"])
    claim = proposal.get("claim") or {}
    edits: dict[str, str] = {}
    new_text = st.session_state.get(keys["text"])
    if new_text is not None and new_text.strip() and new_text.strip() != (proposal.get("proposed_text") or claim.get("text") or "").strip():
        edits["text"] = new_text.strip()
    new_status = st.session_state.get(keys["status"])
    if new_status and new_status != (proposal.get("proposed_status") or claim.get("status")):
        edits["status"] = new_status
    return edits


def decide(url: str, proposal: dict[str, Any], reviewer: str, action: str) -> None:
    """Callback of the Approve / Approve with edits / Reject buttons."""
    pid = proposal["id"]
    comment = (st.session_state.get(edit_keys(pid)["comment"]) or "").strip()
    edits = collect_edits(proposal) if action == "edit" else None
    if action == "reject" and not comment:
        flash("error", f"Proposal #{pid}: say why in the comment before rejecting.")
        return
    if action == "edit" and not edits:
        flash("error", f"Proposal #{pid}: no edits made; change the text or the status, or use Approve.")
        return
    allowed = st.session_state.get("allow_list") or None
    token = st.session_state.get(TOKEN_KEY)
    try:
        with data.get_store(url).write() as s:
            if action == "reject":
                review.reject(s, pid, reviewer, comment, allowed_reviewers=allowed, token=token)
            else:
                review.approve(s, pid, reviewer, comment=comment, edits=edits, allowed_reviewers=allowed,
                               token=token)
    except AlreadyDecided as exc:
        data.bump_version()
        flash("warning", f"Proposal #{pid}: {exc}. Your decision was not applied; the queue shows the current state.")
        return
    except NotAllowed as exc:
        flash("error", f"Proposal #{pid}: not allowed: {exc}")
        return
    except ClaimsError as exc:
        flash("error", f"Proposal #{pid}: {exc}")
        return
    data.bump_version()
    key = (proposal.get("claim") or {}).get("key") or "the claim"
    if action == "reject":
        flash("success", f"Rejected proposal #{pid} for {key}; the claim is unchanged.")
    else:
        flash("success", f"Approved proposal #{pid}: {key} updated, revision recorded for {reviewer}.")


def decide_stance(url: str, evidence: dict[str, Any], reviewer: str, action: str, key: str) -> None:
    """Callback of the Confirm stance / Set stance buttons on an evidence card."""
    eid = evidence["id"]
    allowed = st.session_state.get("allow_list") or None
    token = st.session_state.get(TOKEN_KEY)
    try:
        with data.get_store(url).write() as s:
            if action == "confirm":
                row = evidence_service.confirm_stance(s, eid, reviewer, allowed, token)
            else:
                row = evidence_service.set_stance(s, eid, st.session_state.get(key) or "", reviewer, allowed, token)
            stance = row.stance
    except ClaimsError as exc:
        flash("error", f"Evidence #{eid}: {exc}")
        return
    data.bump_version()
    flash("success", f"Evidence #{eid}: stance {stance} {'confirmed' if action == 'confirm' else 'set'} by {reviewer}.")
