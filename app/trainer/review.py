"""Trainer pages: the review queue and the review page (adjust, overturn a false red-line
flag or undo that, mark reviewed, release).

Drills are reached through `scoring.drill_for_trainer`: a drill of another trainer's
cohort is answered like a missing one (404). A stale form (another trainer saved
first) gets 409 with the fresh values; bad input 400 with the reason.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.i18n import content_language
from app.services import flag_review, review, scoring
from app.services.assignments import all_scenarios
from app.services.drill_score import with_current
from app.services.score_report import build_report
from app.trainer.review_forms import AdjustForm, FlagForm, QueueFilterForm, RevisionForm
from app.trainer.routes import bp


@bp.route("/review")
def review_queue():
    form = QueueFilterForm.build(scoring.cohort_trainees(current_user),
                                 [(s.id, s.title) for s in all_scenarios()], request.args)
    if not form.validate():
        return render_template("trainer/review_queue.html", form=form, rows=[]), 400
    rows = with_current(review.review_queue(current_user, form.filters()))
    return render_template("trainer/review_queue.html", form=form, rows=rows)


def _drill(drill_id: int):
    return scoring.drill_for_trainer(current_user, drill_id) or abort(404)


def _page(drill, form: AdjustForm | None = None, status: int = 200, error: str | None = None):
    """The review page with the latest score's fresh values; `form` keeps a rejected
    reason, but the revision shown is always the current one."""
    score = scoring.latest_score(drill)
    view = review.adjusted_view(score) if score else None
    form = form or AdjustForm()
    if score is not None:
        form.score_id.data, form.revision.data = str(score.id), str(score.revision)
    report = build_report(drill, content_language(), released=True)
    return render_template("trainer/review_drill.html", report=report, view=report, score=score, adj=view,
                           form=form, error=error, reviewer=review.reviewer_name(score) if score else None,
                           plain=RevisionForm(), flag_form=FlagForm(),
                           flag_history=flag_review.history(score) if score else []), status


def _conflict_message(drill) -> str:
    """What the trainer whose save lost the race reads: that it lost, to whose save, when."""
    message = _("Another trainer saved a review of this score first. "
                "The values below are the current ones; check them and save again.")
    score = scoring.latest_score(drill)
    if score is not None and score.reviewed_at is not None:
        message += " " + _("Saved by %(name)s at %(time)s UTC (revision %(revision)s).",
                           name=review.reviewer_name(score) or "—",
                           time=score.reviewed_at.strftime("%Y-%m-%d %H:%M:%S"), revision=score.revision)
    return message


@bp.route("/review/<int:drill_id>")
def review_drill(drill_id: int):
    return _page(_drill(drill_id))


@bp.route("/review/<int:drill_id>", methods=["POST"])
def review_adjust(drill_id: int):
    drill, form = _drill(drill_id), AdjustForm()
    score = scoring.latest_score(drill)
    if not form.validate_on_submit() or score is None or form.int_field("revision") is None:
        return _page(drill, form, 400, _("The form was incomplete or expired; reload and try again."))
    if form.int_field("score_id") != score.id:  # re-scored since the page was loaded
        return _page(drill, form, 409, _("The drill was scored again since you loaded it: check the new values."))
    try:
        view = review.adjusted_view(score)
        review.adjust(score, current_user, form.changes(request.form, view), form.reason.data,
                      form.int_field("revision"), comments=form.comments(request.form, view))
    except review.ReviewConflict:
        return _page(drill, form, 409, _conflict_message(drill))
    except review.ReviewError as exc:
        return _page(drill, form, 400, exc.translated())
    flash(_("Adjustment saved."), "success")
    return redirect(url_for(".review_drill", drill_id=drill.id))


@bp.route("/review/<int:drill_id>/reviewed", methods=["POST"])
def review_mark(drill_id: int):
    drill, form = _drill(drill_id), RevisionForm()
    score = scoring.latest_score(drill)
    try:
        revision = int(form.revision.data)
    except (TypeError, ValueError):
        revision = None
    if not form.validate_on_submit() or score is None or revision is None:
        return _page(drill, None, 400, _("The form was incomplete or expired; reload and try again."))
    try:
        review.mark_reviewed(score, current_user, revision)
    except review.ReviewConflict:
        return _page(drill, None, 409, _conflict_message(drill))
    flash(_("Marked as reviewed."), "success")
    return redirect(url_for(".review_drill", drill_id=drill.id))


@bp.route("/review/<int:drill_id>/release", methods=["POST"])
def review_release(drill_id: int):
    drill = _drill(drill_id)
    if not RevisionForm().validate_on_submit():
        return _page(drill, None, 400, _("The form was incomplete or expired; reload and try again."))
    try:
        released = review.release_report(drill, current_user)
    except review.ReviewError as exc:
        return _page(drill, None, 400, exc.translated())
    flash(_("Report released to the trainee.") if released else _("The report was already released."), "success")
    return redirect(url_for(".review_drill", drill_id=drill.id))


def _flag_action(drill_id: int, act, done: str):
    """Overturn or restore a flag (`act` is `flag_review.overturn` or `.restore`): the
    same checks as an adjustment (stale form 409, bad input 400 with the reason)."""
    drill, form = _drill(drill_id), FlagForm()
    score = scoring.latest_score(drill)
    if not form.validate_on_submit() or score is None or form.int_field("revision") is None:
        return _page(drill, None, 400, _("The form was incomplete or expired; reload and try again."))
    if form.int_field("score_id") != score.id:
        return _page(drill, None, 409, _("The drill was scored again since you loaded it: check the new values."))
    try:
        act(score, current_user, form.flag.data, form.reason.data, form.int_field("revision"))
    except review.ReviewConflict:
        return _page(drill, None, 409, _conflict_message(drill))
    except review.ReviewError as exc:
        return _page(drill, None, 400, exc.translated())
    flash(done, "success")
    return redirect(url_for(".review_drill", drill_id=drill.id))


@bp.route("/review/<int:drill_id>/flags/overturn", methods=["POST"])
def review_overturn(drill_id: int):
    return _flag_action(drill_id, flag_review.overturn, _("Red-line flag overturned."))


@bp.route("/review/<int:drill_id>/flags/restore", methods=["POST"])
def review_restore(drill_id: int):
    return _flag_action(drill_id, flag_review.restore, _("The overturn was undone: the red-line flag stands again."))
