"""Trainer pages: marking case analyses (registered on the trainer blueprint).

The queue holds case answers of the trainer's cohorts; `?answer=<id>` opens one with
the marking guide and any LLM suggestion (advisory). Marks are POSTed per key point.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import CaseAnswer
from app.services import certification as cert
from app.trainer.routes import bp


@bp.route("/marking/")
def marking():
    queue = cert.marking_queue(current_user)
    chosen = db.session.get(CaseAnswer, request.args.get("answer", 0, type=int) or 0)
    if chosen is not None and not cert.may_mark(current_user, chosen):
        chosen = None  # another cohort's answer is shown like a missing one
    case = cert.get_track(chosen.attempt.track_id).case(chosen.case_id) if chosen else None
    return render_template("trainer/marking.html", queue=queue, chosen=chosen, case=case)


@bp.route("/marking/<int:answer_id>", methods=["POST"])
def mark(answer_id: int):
    answer = db.session.get(CaseAnswer, answer_id) or abort(404)
    if not cert.may_mark(current_user, answer):
        abort(404)
    case = cert.get_track(answer.attempt.track_id).case(answer.case_id)
    try:
        marks = {k.id: float(request.form.get(f"kp-{k.id}") or 0) for k in case.key_points}
        cert.mark_case(answer, current_user, marks, request.form.get("feedback", ""))
    except ValueError:
        abort(400, description="marks must be numbers")
    except cert.CertificationError as exc:
        abort(exc.status, description=exc.message)
    flash(str(answer.mark), "success")
    return redirect(url_for(".marking"))
