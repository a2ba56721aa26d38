"""Trainer pages: marking case analyses (registered on the trainer blueprint).

The queue holds case answers of the trainer's cohorts; `?answer=<id>` opens one with
the marking guide and any LLM suggestion (advisory). Marks are POSTed per key point.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.ids import id_arg
from app.models import CaseAnswer
from app.services import certification as cert
from app.trainer.routes import bp


@bp.route("/marking/")
def marking():
    queue = cert.marking_queue(current_user)
    answer_id = id_arg(request.args, "answer")
    chosen = db.session.get(CaseAnswer, answer_id) if answer_id else None
    if chosen is not None and not cert.may_mark(current_user, chosen):
        chosen = None  # another cohort's answer is shown like a missing one
    case = cert.get_track(chosen.attempt.track_id).case(chosen.case_id) if chosen else None
    return render_template("trainer/marking.html", queue=queue, chosen=chosen, case=case,
                           llm_configured=bool(current_app.config.get("OPENAI_BASE_URL")))


def _markable(answer_id: int) -> CaseAnswer:
    answer = db.session.get(CaseAnswer, answer_id)
    if answer is None or not cert.may_mark(current_user, answer):
        abort(404)  # another cohort's answer is refused like a missing one
    return answer


@bp.route("/marking/<int:answer_id>/suggest", methods=["POST"])
def suggest(answer_id: int):
    """Ask the configured LLM for an advisory mark per key point; the trainer still marks."""
    answer = _markable(answer_id)
    if not current_app.config.get("OPENAI_BASE_URL"):
        flash(_("No language model is configured (OPENAI_BASE_URL)."), "error")
    elif cert.suggest_case_mark(answer) is None:
        flash(_("The language model gave no usable suggestion; mark the case yourself."), "error")
    else:
        flash(_("Suggestion received: %(total)s points (advisory).", total=f"{answer.suggestion['total']:g}"),
              "success")
    return redirect(url_for(".marking", answer=answer.id))


@bp.route("/marking/<int:answer_id>", methods=["POST"])
def mark(answer_id: int):
    answer = _markable(answer_id)
    case = cert.get_track(answer.attempt.track_id).case(answer.case_id)
    try:
        marks = {k.id: float(request.form.get(f"kp-{k.id}") or 0) for k in case.key_points}
        cert.mark_case(answer, current_user, marks, request.form.get("feedback", ""))
    except ValueError:
        abort(400, description="marks must be numbers")
    except cert.CertificationError as exc:
        abort(exc.status, description=exc.message)
    flash(_("Mark saved: %(mark)s points.", mark=f"{answer.mark:g}"), "success")
    return redirect(url_for(".marking"))
