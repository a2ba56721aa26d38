"""The trainer's page per trainee: history, trend, weakest criteria, adjustments, assignments.

A trainee outside the trainer's cohorts is answered like a missing one (404).
"""
from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.i18n import content_language
from app.services import progress
from app.services.trainee_page import trainee_page, visible_trainee
from app.trainer.routes import bp


@bp.route("/trainees/<int:user_id>")
def trainee(user_id: int):
    view = trainee_page(visible_trainee(current_user, user_id) or abort(404), content_language())
    charts = progress.charts(view.progress, {"dimensions": _("Score per dimension over time (percent of maximum)"),
                                             "skills": _("Weakest criteria over the last drills (share of points)"),
                                             "empty": _("No scored drills yet"), "percent": "%"})
    return render_template("trainer/trainee.html", view=view, charts=charts)
