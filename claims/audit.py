"""The audit log: one row for every write a person or the agent makes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from claims.models import AuditEntry


def record(session: Session, actor: str, action: str, entity: str, entity_id: object, **details: Any) -> None:
    """Add an audit row to the current transaction."""
    session.add(AuditEntry(actor=actor, action=action, entity=entity, entity_id=str(entity_id), details=details))
