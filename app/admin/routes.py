"""Administration: users, roles, cohorts, password resets, the audit log."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.admin import audit_view
from app.admin.forms import (AuditFilterForm, CohortDeleteForm, CohortForm, CohortRenameForm, PasswordResetForm,
                             UserCreateForm, UserEditForm, UserImportForm)
from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import Cohort, Role, User
from app.services import accounts, audit, cohorts as cohort_service
from app.services.cohorts import CohortError, ImportFileError

bp = blueprint_roles(Blueprint("admin", __name__), Role.ADMIN)


def _cohort_choices():
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.name)).all()
    return [(c.id, c.name) for c in cohorts]


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
    form.cohort_ids.choices = _cohort_choices()
    if form.validate_on_submit():
        try:
            cohorts = cohort_service.cohorts_by_id(form.cohort_ids.data)
            user = accounts.create_user(form.username.data, form.password.data, form.role.data,
                                        form.display_name.data, cohorts)
            db.session.flush()
        except CohortError as exc:
            form.cohort_ids.errors.append(exc.translated())
        except accounts.AccountError as exc:
            form.username.errors.append(str(exc))
        except IntegrityError:  # a second submit (or another admin) created the name meanwhile
            db.session.rollback()
            form.username.errors.append(_("This name was taken a moment ago, perhaps by a second click "
                                          "on this form. Check the user list."))
            return render_template("admin/user_form.html", form=form, title=_("New user")), 409
        else:
            audit.record("user_created", actor=current_user, target=user.username, role=user.role,
                         cohorts=[c.name for c in user.cohorts])
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.home"))
    return render_template("admin/user_form.html", form=form, title=_("New user")), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    form.cohort_ids.choices = _cohort_choices()
    if not form.is_submitted():
        form.cohort_ids.data = [c.id for c in user.cohorts]
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.ADMIN.value or not form.active.data):
            flash(_("You cannot remove your own administrator access."), "error")
            return redirect(url_for("admin.user_edit", user_id=user.id))
        try:
            chosen = cohort_service.cohorts_by_id(form.cohort_ids.data)
        except CohortError as exc:
            form.cohort_ids.errors.append(exc.translated())
            return render_template("admin/user_edit.html", form=form, user=user, reset_form=PasswordResetForm()), 400
        before = {"role": user.role, "cohorts": [c.name for c in user.cohorts], "active": user.active}
        user.display_name = form.display_name.data
        user.role = form.role.data
        user.cohorts = chosen
        user.active = form.active.data
        if (user.role, user.active) != (before["role"], before["active"]):
            user.end_sessions()  # the old rights must not live on in an open session
        audit.record("user_updated", actor=current_user, target=user.username, before=before,
                     after={"role": user.role, "cohorts": [c.name for c in chosen], "active": user.active})
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


def _cohort_page(cohort: Cohort, rename_form=None, error: str | None = None, status: int = 200):
    members, targets = cohort_service.usage(cohort)
    return render_template("admin/cohort_edit.html", cohort=cohort, form=rename_form or CohortRenameForm(name=cohort.name),
                           delete_form=CohortDeleteForm(), error=error, n_members=members, n_assignments=targets), status


@bp.route("/cohorts/<int:cohort_id>", methods=["GET", "POST"])
def cohort_edit(cohort_id: int):
    cohort = db.session.get(Cohort, cohort_id) or abort(404)
    form = CohortRenameForm()
    if not form.is_submitted():
        return _cohort_page(cohort)
    if not form.validate_on_submit():
        return _cohort_page(cohort, form, status=400)
    try:
        renamed = cohort_service.rename(cohort, form.name.data, current_user)
    except CohortError as exc:
        db.session.rollback()
        form.name.errors.append(exc.translated())
        return _cohort_page(cohort, form, status=400)
    flash(_("Cohort renamed.") if renamed else _("The name is unchanged."), "success")
    return redirect(url_for("admin.cohorts"))


@bp.route("/cohorts/<int:cohort_id>/delete", methods=["POST"])
def cohort_delete(cohort_id: int):
    cohort = db.session.get(Cohort, cohort_id) or abort(404)
    if not CohortDeleteForm().validate_on_submit():
        return _cohort_page(cohort, error=_("The form was incomplete or expired; reload and try again."), status=400)
    name = cohort.name
    try:
        cohort_service.delete(cohort, current_user)
    except CohortError as exc:
        return _cohort_page(cohort, error=exc.translated(), status=400)
    flash(_("Cohort %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.cohorts"))


@bp.route("/users/import", methods=["GET", "POST"])
def users_import():
    """Create people from a CSV file, all or none; the page lists every bad row's faults."""
    form, report, error = UserImportForm(), None, None
    if form.validate_on_submit():
        try:
            report = cohort_service.import_users(form.file.data.read(cohort_service.MAX_IMPORT_BYTES + 1), current_user)
        except ImportFileError as exc:
            error = _(exc.msgid, **exc.params)
        except (accounts.AccountError, IntegrityError):  # a name was taken meanwhile: nothing was stored
            db.session.rollback()
            error = _("One of these usernames was created a moment ago; nothing was imported. Import the file again.")
        if report is not None and not report.faults:
            flash(_("%(n)d people created.", n=len(report.created)), "success")
            return redirect(url_for("admin.home"))
    status = 400 if form.errors or error or (report is not None and report.faults) else 200
    return render_template("admin/users_import.html", form=form, report=report, error=error), status


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
