"""Writing the audit log. Callers commit; the entry goes out with the change it records."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import has_request_context, request
from sqlalchemy import func, or_, select, update

from app.core.dates import after_day, day_start
from app.extensions import db
from app.i18n import centre_zone
from app.models import AuditEvent, User
from app.models.base import utcnow

NAMES_KEPT = 20  # usernames listed on one aggregated row (the count has them all)


def _ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action: str, actor=None, target: str | None = None, **detail) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        target=target,
        detail=detail,
        ip=_ip(),
    )
    db.session.add(event)
    return event


def record_anonymous(action: str, username: str, window_seconds: float) -> AuditEvent:
    """Count an anonymous event (a failed or throttled login) on the row of its address
    opened within the last `window_seconds`, or open one: a flood from one address is a
    row per window with its count and the names tried, never thousands of rows.

    The count rises by one atomic UPDATE; two first failures at the same instant may open
    two rows, which only splits the count."""
    ip = _ip()
    since = utcnow() - timedelta(seconds=window_seconds)
    row = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.actor_id.is_(None),
        AuditEvent.ip.is_(None) if ip is None else AuditEvent.ip == ip,
        AuditEvent.at >= since).order_by(AuditEvent.id.desc()).limit(1))
    if row is None:
        return record(action, target=username, usernames=[username], last=utcnow().isoformat(timespec="seconds"))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(count=AuditEvent.count + 1))
    names = list((row.detail or {}).get("usernames", []))
    if username not in names and len(names) < NAMES_KEPT:
        names.append(username)
    row.detail = {**(row.detail or {}), "usernames": names, "last": utcnow().isoformat(timespec="seconds")}
    return row


# --- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    """What the administrator's audit page asks for; every field may be empty."""

    action: str | None = None
    user: str | None = None      # part of the actor's username or of the target
    date_from: date | None = None
    date_to: date | None = None  # inclusive


def events_page(f: AuditFilters, page: int, per_page: int) -> tuple[list[AuditEvent], int]:
    """One page of events, newest first, and how many match in all."""
    stmt = select(AuditEvent)
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.user:
        pattern = "%" + f.user.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        actor_ids = select(User.id).where(User.username.ilike(pattern, escape="\\"))
        stmt = stmt.where(or_(AuditEvent.actor_id.in_(actor_ids), AuditEvent.target.ilike(pattern, escape="\\")))
    if f.date_from:
        stmt = stmt.where(AuditEvent.at >= day_start(f.date_from, centre_zone()))
    if f.date_to and (end := after_day(f.date_to, centre_zone())) is not None:
        stmt = stmt.where(AuditEvent.at < end)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(AuditEvent.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total
