"""Trainer pages: assignments with each assigned trainee's progress, creating and withdrawing them.

A trainer sees and changes only the assignments they made; another trainer's is a 404.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Cohort
from app.services import assignments as service
from app.services.scoring import cohort_trainees
from app.trainer.review_forms import AssignmentForm, RevisionForm
from app.trainer.routes import bp


@bp.route("/assignments")
def assignments():
    rows = [(a, service.assignment_progress(a)) for a in service.assignments_of(current_user)]
    # A persona id names a different customer in each scenario: name it from the
    # assignment's own scenarios.
    scenarios = service.all_scenarios()
    names = {a.id: service.persona_names([s for s in scenarios if s.id in a.scenario_ids]) for a, _ in rows}
    return render_template("trainer/assignments.html", rows=rows, plain=RevisionForm(), persona_names=names)


def _form() -> AssignmentForm:
    cohorts = db.session.scalars(select(Cohort).where(Cohort.trainer_id == current_user.id).order_by(Cohort.name))
    return AssignmentForm.build(service.all_scenarios(), list(cohorts), cohort_trainees(current_user))


@bp.route("/assignments/new", methods=["GET", "POST"])
def assignment_new():
    form, error = _form(), None
    if form.validate_on_submit():
        spec = service.AssignmentSpec(
            title=form.title.data, scenario_ids=form.scenario_ids.data, language=form.language.data,
            persona=form.persona.data or None, mode=form.mode.data, due_at=form.due_at(),
            min_attempts=form.min_attempts.data, pass_mark=form.pass_mark.data,
            hints_allowed=form.hints_allowed.data, hint_penalty=form.hint_penalty.data,
            report_release=form.report_release.data, cohort_ids=form.cohort_ids.data, user_ids=form.user_ids.data)
        try:
            service.create_assignment(current_user, spec)
        except service.AssignmentError as exc:
            error = exc.translated()
        else:
            flash(_("Assignment created."), "success")
            return redirect(url_for(".assignments"))
    status = 400 if form.errors or error else 200
    return render_template("trainer/assignment_new.html", form=form, error=error), status


@bp.route("/assignments/<int:assignment_id>/deactivate", methods=["POST"])
def assignment_deactivate(assignment_id: int):
    assignment = service.assignment_for_trainer(current_user, assignment_id) or abort(404)
    if not RevisionForm().validate_on_submit():
        abort(400, _("The form was incomplete or expired; reload and try again."))
    if service.deactivate(assignment, current_user):
        flash(_("Assignment withdrawn."), "success")
    return redirect(url_for(".assignments"))
