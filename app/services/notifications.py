"""In-app notifications, with an e-mail copy when SMTP is configured.

Four events make one: an assignment given to a trainee, an assignment falling due within
`DUE_SOON` (noticed when the trainee's pages ask, or by `flask notifications due`, as
there is no scheduler), a held-back report released, a trainer's review done. Each is
stored once per person and key (`Notification.key`), so a double submit or two requests
noticing the same due date make one notice.

`notify` adds to the caller's transaction; the caller commits, then `deliver_email`
sends what is unsent. Sending never raises: a refused or unreachable server is logged
and the notice stays unsent for the next try.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Assignment, Drill, Notification, Score, User
from app.models.base import utcnow

log = logging.getLogger(__name__)

DUE_SOON = timedelta(hours=24)
LIST_LIMIT = 100
KINDS = ("assignment_given", "assignment_due", "report_released", "review_done")


def notify(user_id: int, kind: str, key: str, subject_id: int | None, **params) -> Notification | None:
    """Add a notice for `user_id` unless one with `key` exists; not committed. Returns
    the new row, or None when it already existed."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; known: {', '.join(KINDS)}")
    if db.session.scalar(select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)):
        return None
    row = Notification(user_id=user_id, kind=kind, key=key, subject_id=subject_id, params=params)
    try:
        with db.session.begin_nested():  # another request may have added it meanwhile
            db.session.add(row)
    except IntegrityError:
        return None
    return row


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


# --- the events -------------------------------------------------------------------------

def assignment_given(assignment: Assignment) -> int:
    """A notice to each trainee the assignment reaches; not committed. Returns how many."""
    from app.services.assignments import assigned_trainees

    made = [notify(u.id, "assignment_given", f"assignment_given:{assignment.id}", assignment.id,
                   title=assignment.title, due_at=_iso(assignment.due_at)) for u in assigned_trainees(assignment)]
    return sum(1 for m in made if m is not None)


def due_soon(user, now: datetime | None = None) -> int:
    """Notice each active assignment of the trainee due within DUE_SOON and not passed
    yet (once per assignment); commits when it made any. Returns how many."""
    from app.services.assignments import assignments_for_trainee

    if getattr(user, "role", None) != "trainee":
        return 0
    now = now or utcnow()
    made = 0
    for item in assignments_for_trainee(user):
        due = item["due_at"]
        if due is None or item["passed"] or not (now < due <= now + DUE_SOON):
            continue
        if notify(user.id, "assignment_due", f"assignment_due:{item['id']}", item["id"],
                  title=item["title"], due_at=_iso(due)) is not None:
            made += 1
    if made:
        db.session.commit()
        deliver_email()
    return made


def all_due_soon(now: datetime | None = None) -> int:
    """`due_soon` for every active trainee (the CLI, for a cron job)."""
    users = db.session.scalars(select(User).where(User.role == "trainee", User.active.is_(True))).all()
    return sum(due_soon(u, now) for u in users)


def report_released(drill: Drill) -> Notification | None:
    """The trainee may now read the report; not committed. Nothing for an imported call of
    an external agent or a play-test (its player is a trainer trying a draft)."""
    if drill.trainee_id is None or drill.mode == "playtest":
        return None
    return notify(drill.trainee_id, "report_released", f"report_released:{drill.id}", drill.id,
                  title=drill.scenario_version.title)


def review_done(score: Score, revision: int) -> Notification | None:
    """The trainer reviewed the drill's score (one notice per review `revision`); not
    committed. Nothing while the report is held back (its release says so then), nor for
    a play-test."""
    drill = db.session.get(Drill, score.drill_id)
    if drill is None or drill.trainee_id is None or not drill.report_released or drill.mode == "playtest":
        return None
    return notify(drill.trainee_id, "review_done", f"review_done:{score.id}:{revision}", drill.id,
                  title=drill.scenario_version.title)


# --- reading ---------------------------------------------------------------------------

def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def for_user(user, limit: int = LIST_LIMIT) -> list[Notification]:
    """The person's notices, newest first."""
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user, notification_id: int | None = None) -> int:
    """Mark one notice (or, with no id, all) of `user` read; commits. Another person's id
    marks nothing. Returns how many changed."""
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        q = q.where(Notification.id == notification_id)
    changed = db.session.execute(q.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed


def text(n: Notification) -> str:
    """The notice in the current interface language."""
    title = (n.params or {}).get("title") or ""
    if n.kind == "assignment_given":
        return _("New assignment: %(title)s", title=title)
    if n.kind == "assignment_due":
        from app.i18n import local_time

        due = (n.params or {}).get("due_at")
        when = local_time(datetime.fromisoformat(due)) if due else "—"
        return _("Assignment due soon (%(when)s): %(title)s", title=title, when=when)
    if n.kind == "report_released":
        return _("Your trainer released the report of “%(title)s”.", title=title)
    if n.kind == "review_done":
        return _("Your trainer reviewed your drill “%(title)s”.", title=title)
    return title


def target_url(n: Notification) -> str:
    """Where the notice leads: the trainee's home for an assignment, the report for a drill."""
    if n.kind in ("report_released", "review_done") and n.subject_id:
        return url_for("trainee.report", drill_id=n.subject_id)
    return url_for("trainee.home")


# --- e-mail ----------------------------------------------------------------------------

def _smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def deliver_email(limit: int = 50) -> int:
    """E-mail unsent notices of people with an address, in their language, when SMTP is
    configured; marks each sent one; commits. Returns how many were sent. A failure is
    logged and leaves the rest unsent for the next try."""
    if not _smtp_configured():
        return 0
    rows = db.session.execute(
        select(Notification, User).join(User, Notification.user_id == User.id)
        .where(Notification.emailed_at.is_(None), User.email.is_not(None), User.email != "")
        .order_by(Notification.id).limit(limit)).all()
    if not rows:
        return 0
    cfg = current_app.config
    sent = 0
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg.get("SMTP_PORT", 25), timeout=cfg.get("SMTP_TIMEOUT", 5)) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD", ""))
            for n, user in rows:
                with force_locale(user.locale if user.locale in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]):
                    msg = EmailMessage()
                    msg["Subject"] = _("Hotline Coach") + " · " + text(n)
                    msg["From"] = cfg.get("SMTP_FROM") or "hotline-coach@localhost"
                    msg["To"] = user.email
                    msg.set_content(text(n) + "\n\n" + _("Open Hotline Coach to see it."))
                smtp.send_message(msg)
                n.emailed_at = utcnow()
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notification e-mail not sent (%s sent before the failure): %s", sent, exc)
    db.session.commit()
    return sent
