"""Writing the audit log. Callers commit; the entry goes out with the change it records."""
from __future__ import annotations

from flask import has_request_context, request

from app.extensions import db
from app.models import AuditEvent


def record(action: str, actor=None, target: str | None = None, **detail) -> AuditEvent:
    ip = request.remote_addr if has_request_context() else None
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        target=target,
        detail=detail,
        ip=ip,
    )
    db.session.add(event)
    return event
