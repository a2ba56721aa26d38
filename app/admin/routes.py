"""Administration: users, roles, cohorts, password resets, the audit log."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.admin import audit_view
from app.admin.forms import AuditFilterForm, CohortForm, PasswordResetForm, UserCreateForm, UserEditForm
from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import Cohort, Role, User
from app.services import accounts, audit

bp = blueprint_roles(Blueprint("admin", __name__), Role.ADMIN)


def _cohort_choices():
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.name)).all()
    return [(0, "—")] + [(c.id, c.name) for c in cohorts]


def _trainer_choices():
    trainers = db.session.scalars(select(User).where(User.role == Role.TRAINER.value).order_by(User.username)).all()
    return [(0, "—")] + [(t.id, f"{t.display_name} ({t.username})") for t in trainers]


@bp.route("/")
def home():
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.name)).all()
    return render_template("admin/home.html", users=users, cohorts=cohorts)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserCreateForm()
    form.cohort_id.choices = _cohort_choices()
    if form.validate_on_submit():
        cohort = db.session.get(Cohort, form.cohort_id.data) if form.cohort_id.data else None
        try:
            user = accounts.create_user(form.username.data, form.password.data, form.role.data,
                                        form.display_name.data, cohort)
            db.session.flush()
        except accounts.AccountError as exc:
            form.username.errors.append(str(exc))
        except IntegrityError:  # a second submit (or another admin) created the name meanwhile
            db.session.rollback()
            form.username.errors.append(_("This name was taken a moment ago, perhaps by a second click "
                                          "on this form. Check the user list."))
            return render_template("admin/user_form.html", form=form, title=_("New user")), 409
        else:
            audit.record("user_created", actor=current_user, target=user.username, role=user.role)
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.home"))
    return render_template("admin/user_form.html", form=form, title=_("New user")), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    form.cohort_id.choices = _cohort_choices()
    if not form.is_submitted():
        form.cohort_id.data = user.cohort_id or 0
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.ADMIN.value or not form.active.data):
            flash(_("You cannot remove your own administrator access."), "error")
            return redirect(url_for("admin.user_edit", user_id=user.id))
        before = {"role": user.role, "cohort_id": user.cohort_id, "active": user.active}
        user.display_name = form.display_name.data
        user.role = form.role.data
        user.cohort_id = form.cohort_id.data or None
        user.active = form.active.data
        if (user.role, user.active) != (before["role"], before["active"]):
            user.end_sessions()  # the old rights must not live on in an open session
        audit.record("user_updated", actor=current_user, target=user.username, before=before,
                     after={"role": user.role, "cohort_id": user.cohort_id, "active": user.active})
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("admin.home"))
    return render_template("admin/user_edit.html", form=form, user=user,
                           reset_form=PasswordResetForm()), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = PasswordResetForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        audit.record("password_reset", actor=current_user, target=user.username)
        db.session.commit()
        flash(_("Password of %(name)s reset.", name=user.username), "success")
        return redirect(url_for("admin.home"))
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/cohorts", methods=["GET", "POST"])
def cohorts():
    form = CohortForm()
    form.trainer_id.choices = _trainer_choices()
    if form.validate_on_submit():
        name = form.name.data.strip()
        if db.session.scalar(select(Cohort.id).where(Cohort.name == name)):
            form.name.errors.append(_("A cohort with this name exists."))
        else:
            try:
                db.session.add(Cohort(name=name, trainer_id=form.trainer_id.data or None))
                db.session.flush()
            except IntegrityError:  # a second submit created it meanwhile
                db.session.rollback()
                form.name.errors.append(_("This cohort was created a moment ago, perhaps by a second click "
                                          "on this form. Check the list above."))
                rows = db.session.scalars(select(Cohort).order_by(Cohort.name)).all()
                return render_template("admin/cohorts.html", form=form, cohorts=rows), 409
            audit.record("cohort_created", actor=current_user, target=name)
            db.session.commit()
            flash(_("Cohort created."), "success")
            return redirect(url_for("admin.cohorts"))
    rows = db.session.scalars(select(Cohort).order_by(Cohort.name)).all()
    return render_template("admin/cohorts.html", form=form, cohorts=rows), (400 if form.errors else 200)


AUDIT_PER_PAGE = 50


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("admin/audit.html", form=form, events=[], total=0, page=1, pages=1, args={},
                               window_minutes=_window_minutes(), **audit_view.helpers()), 400
    page = form.page.data or 1
    events, total = audit.events_page(form.filters(), page, AUDIT_PER_PAGE)
    return render_template("admin/audit.html", form=form, events=events, total=total, page=page,
                           pages=max(1, -(-total // AUDIT_PER_PAGE)), args=form.args(),
                           window_minutes=_window_minutes(), **audit_view.helpers())


def _window_minutes() -> int:
    return max(1, int(current_app.config["LOGIN_WINDOW_SECONDS"]) // 60)
