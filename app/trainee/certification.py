"""Trainee pages: certification attempts (registered on the trainee blueprint).

The open attempt is found by track, so every URL names a track, never an attempt id
another trainee could guess. Bad input answers 4xx with the service's message.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.i18n import centre_language
from app.services import certification as cert
from app.trainee.routes import bp


def _track(track_id: str):
    try:
        return cert.get_track(track_id)
    except cert.CertificationError:
        abort(404)


def _open(track_id: str):
    return cert.open_attempt(current_user, track_id) or abort(409, description="no open attempt on this track")


def _fail(exc: cert.CertificationError, track_id: str):
    flash(exc.message, "error")
    return redirect(url_for(".cert_track", track_id=track_id), 303)


@bp.route("/certification/")
def cert_home():
    return render_template("trainee/cert_home.html", tracks=cert.tracks(), attempts=cert.attempts_of(current_user.id))


@bp.route("/certification/<track_id>")
def cert_track(track_id: str):
    track = _track(track_id)
    attempt = cert.open_attempt(current_user, track.id)
    return render_template("trainee/cert_track.html", track=track, attempt=attempt,
                           drills=cert.attempt_drills(attempt) if attempt else {},
                           answers=cert.case_answers(attempt) if attempt else {},
                           missing=cert.missing(attempt) if attempt else [],
                           past=[a for a in cert.attempts_of(current_user.id, track.id) if a.status != "open"])


@bp.route("/certification/<track_id>/start", methods=["POST"])
def cert_start(track_id: str):
    try:
        cert.start_attempt(current_user, _track(track_id).id)
    except cert.CertificationError as exc:
        return _fail(exc, track_id)
    return redirect(url_for(".cert_track", track_id=track_id))


@bp.route("/certification/<track_id>/exam", methods=["GET", "POST"])
def cert_exam(track_id: str):
    track = _track(track_id)
    attempt = cert.open_attempt(current_user, track.id)
    if request.method == "POST":
        attempt = attempt or abort(409)
        answers = {qid: request.form.getlist(qid) for qid in attempt.details["questions"]}
        try:
            cert.submit_exam(attempt, answers)
        except cert.CertificationError as exc:
            abort(exc.status, description=exc.message)
        return redirect(url_for(".cert_track", track_id=track_id))
    questions = cert.exam_questions(attempt, track) if attempt and attempt.exam_score is None else []
    return render_template("trainee/cert_exam.html", track=track, attempt=attempt, questions=questions)


@bp.route("/certification/<track_id>/drills/<scenario_id>", methods=["POST"])
def cert_drill(track_id: str, scenario_id: str):
    try:
        # The track's drills are played in the centre's language, not the interface's.
        drill = cert.start_cert_drill(_open(track_id), scenario_id, centre_language())
    except cert.CertificationError as exc:
        return _fail(exc, track_id)
    return redirect(url_for(".drill", drill_id=drill.id))


@bp.route("/certification/<track_id>/cases/<case_id>", methods=["POST"])
def cert_case(track_id: str, case_id: str):
    try:
        cert.submit_case(_open(track_id), case_id, request.form.get("answer", ""))
    except cert.CertificationError as exc:
        return _fail(exc, track_id)
    return redirect(url_for(".cert_track", track_id=track_id))


@bp.route("/certification/<track_id>/finish", methods=["POST"])
def cert_finish(track_id: str):
    try:
        cert.finalise_attempt(_open(track_id), actor=current_user)
    except cert.CertificationError as exc:
        return _fail(exc, track_id)
    return redirect(url_for(".cert_track", track_id=track_id))
