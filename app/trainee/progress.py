"""The trainee's home (assignments, progress, free practice), starting an assigned drill,
and the drill page's hint endpoint, on the trainee blueprint.

Imported once from `app/trainee/__init__.py` so the routes register on `bp`.
"""
from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.i18n import centre_language, content_language
from app.services import drills, hints, notifications, progress
from app.services.drills import DrillError
from app.trainee.messages import hint_text, message_for
from app.trainee.routes import bp


def _penalty() -> float:
    return float(current_app.config.get("HINT_PENALTY", 2.0))


@bp.route("/")
def home():
    language = content_language()
    notifications.due_soon(current_user)  # no scheduler: a due date is noticed when the trainee looks
    view = progress.trainee_progress(current_user, language)
    charts = progress.charts(view, {"dimensions": _("Score per dimension over time (percent of maximum)"),
                                    "skills": _("Weakest criteria over your last drills (share of points)"),
                                    "empty": _("No scored drills yet"), "percent": "%"})
    # The scenarios offered are the centre's (CENTRE_LANGUAGE), whatever language the pages are in.
    return render_template("trainee/home.html", drills=drills.recent_drills(current_user.id),
                           scenarios=drills.scenarios_in(centre_language()), progress=view, charts=charts)


@bp.route("/assignments/<int:assignment_id>/start/<scenario_id>", methods=["POST"])
def start_assigned(assignment_id: int, scenario_id: str):
    """Start the assignment's drill (its mode and persona) and open it; 404 when the
    assignment does not reach this trainee."""
    try:
        drill = progress.start_assigned_drill(current_user, assignment_id, scenario_id, request.form.get("persona"))
    except LookupError:
        abort(404)
    except DrillError as exc:
        if exc.status == 429:
            return render_template("errors/error.html", status=429, message=message_for(exc)), 429
        flash(message_for(exc), "error")
        return redirect(url_for(".home"), 303)
    return redirect(url_for(".drill", drill_id=drill.id), 303)


@bp.route("/drills/<int:drill_id>/hint", methods=["POST"])
def hint(drill_id: int):
    """JSON: the next step and its model phrasing; 403 when no hints are offered on this
    drill (test mode, or the assignment forbids them), 409 once the call has ended."""
    drill = drills.drill_for_trainee(current_user.id, drill_id) or abort(404)
    seen = _seen_hints()
    if seen is False:
        return jsonify(error=_("The request was not understood. Reload the page and try again."),
                       code="bad_request", status=400), 400
    try:
        given = hints.take_hint(drill, current_user, _penalty(), seen)
    except hints.HintRefused as exc:
        return jsonify(error=_("Hints are not available in this drill."), code=exc.code, status=exc.status), exc.status
    except DrillError as exc:
        return jsonify(error=message_for(exc), code=exc.code, status=exc.status), exc.status
    return jsonify(hint={**hints.hint_json(given), "text": hint_text(given)},
                   message=_("Hints used: %(n)d, each costs %(points)g points.", n=given.hints_used,
                             points=given.penalty))


def _seen_hints() -> int | None | bool:
    """The hint count the page showed when its button was clicked (`{"seen": n}`), which
    makes the click idempotent; None when there is no JSON body or it does not say
    (counted as now); False for JSON that is not an object or a `seen` that is not a count."""
    if not request.is_json or not request.get_data():
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return False
    seen = body.get("seen")
    if seen is None:
        return None
    if isinstance(seen, bool) or not isinstance(seen, int) or not 0 <= seen < 2**31:
        return False
    return seen
