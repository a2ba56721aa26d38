"""Notifications: the list (newest first), opening one (marks it read and goes where it
points), marking all read, and the person's e-mail address for copies. Every role; a
notice of someone else is answered like a missing one (404)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import Notification, Role
from app.notices.forms import EmailForm
from app.services import notifications

bp = blueprint_roles(Blueprint("notices", __name__), *Role)


@bp.app_context_processor
def _unread():
    """`notice_count` for the nav's bell: one COUNT per page for a logged-in person."""
    if not getattr(current_user, "is_authenticated", False):
        return {"notice_count": 0}
    try:
        return {"notice_count": notifications.unread_count(current_user)}
    except SQLAlchemyError:  # an error page about a failed transaction must still render
        return {"notice_count": 0}


@bp.route("/notifications")
def index():
    notifications.due_soon(current_user)  # no scheduler: due dates are noticed when looked at
    form = EmailForm(email=current_user.email or "")
    return render_template("notices/index.html", items=notifications.for_user(current_user), form=form,
                           text=notifications.text, smtp=bool(current_app.config.get("SMTP_HOST")))


@bp.route("/notifications/open", methods=["POST"])
def open_one():
    """Form field `id`: 400 without a number, 404 for a notice that is not the person's."""
    notification_id = request.form.get("id", type=int)
    if notification_id is None:
        abort(400)
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != current_user.id:
        abort(404)
    notifications.mark_read(current_user, n.id)
    return redirect(notifications.target_url(n), 303)


@bp.route("/notifications/read", methods=["POST"])
def read_all():
    notifications.mark_read(current_user)
    return redirect(url_for(".index"), 303)


@bp.route("/notifications/email", methods=["POST"])
def email():
    form = EmailForm()
    if not form.validate_on_submit():
        return render_template("notices/index.html", items=notifications.for_user(current_user), form=form,
                               text=notifications.text, smtp=bool(current_app.config.get("SMTP_HOST"))), 400
    current_user.email = (form.email.data or "").strip() or None
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".index"), 303)
