"""The trainee's score report and transcript downloads, on the trainee blueprint.

Imported once from `app/trainee/__init__.py` so the routes register on `bp`. Another
trainee's drill is answered exactly like a missing one: 404, no hint it exists.
"""
from __future__ import annotations

from io import BytesIO

from flask import abort, redirect, render_template, send_file, url_for
from flask_login import current_user

from app.i18n import content_language
from app.services import drills, jobs, scoring
from app.services.score_report import build_report, export_drill
from app.trainee.routes import bp


def _own(drill_id: int):
    return scoring.drill_for_trainee(current_user, drill_id) or abort(404)


@bp.route("/drills/<int:drill_id>/report")
def report(drill_id: int):
    drill = _own(drill_id)
    drills.ensure_scored(drill)  # the page the call's end links to: repairs a crash before scoring
    view = build_report(drill, content_language(), released=drill.report_released)
    return render_template("trainee/report.html", view=view, scoring_state=jobs.scoring_state(drill))


@bp.route("/drills/<int:drill_id>/score", methods=["POST"])
def retry_scoring(drill_id: int):
    """The report's "retry" after a failed score: queue the end score again."""
    jobs.retry_drill_scoring(_own(drill_id))
    return redirect(url_for(".report", drill_id=drill_id))


@bp.route("/drills/<int:drill_id>/transcript.<any(json, txt, pdf):fmt>")
def download(drill_id: int, fmt: str):
    drill = _own(drill_id)
    if drills.turn_at(drill, 0) is None:  # an outbound call where nobody spoke: no transcript exists
        abort(404)
    # A report held back by the trainer stays held back in the PDF too.
    out = export_drill(drill, fmt, current_user, content_language(), with_score=drill.report_released)
    return send_file(BytesIO(out.data), mimetype=out.mimetype, as_attachment=True, download_name=out.filename)
