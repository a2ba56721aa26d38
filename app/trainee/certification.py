"""Trainee pages: certification attempts (registered on the trainee blueprint).

The open attempt is found by track, so every URL names a track, never an attempt id
another trainee could guess. Bad input answers 4xx with the service's message.
"""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import certification_policy as policy
from app.i18n import centre_language, content_language
from app.models.base import utcnow
from app.services import certification as cert
from app.trainee.routes import bp


def _track(track_id: str):
    try:
        return cert.get_track(track_id)
    except cert.CertificationError:
        abort(404)


def _open(track_id: str):
    return cert.open_attempt(current_user, track_id) or abort(409, description="no open attempt on this track")


def message(exc: cert.CertificationError) -> str:
    """The refusal in the interface language (by its stable code); the service's own words otherwise."""
    until = exc.params.get("until")
    when = f"{until:%Y-%m-%d %H:%M} UTC" if until else ""
    texts = {
        "attempt_open": lambda: _("You already have an open attempt on this track."),
        "passed": lambda: (_("You already hold a valid certificate of this track; you may retake it once it "
                             "expires on %(when)s.", when=when) if until
                           else _("You already hold this certificate; this track allows no retake after a pass.")),
        "max_attempts": lambda: _("All %(n)s attempts this track allows are used.", n=exc.params.get("limit")),
        "wait": lambda: _("This track asks for a wait between attempts: the next attempt may start at %(when)s.",
                          when=when),
        "time_up": lambda: _("The time is up: the exam was submitted with the answers saved."),
        "exam_submitted": lambda: _("The exam of this attempt is already submitted."),
        "attempt_closed": lambda: _("This attempt is already marked."),
    }
    text = texts.get(exc.code)
    return text() if text else exc.message


def _fail(exc: cert.CertificationError, track_id: str):
    flash(message(exc), "error")
    return redirect(url_for(".cert_track", track_id=track_id), 303)


@bp.route("/certification/")
def cert_home():
    return render_template("trainee/cert_home.html", tracks=cert.tracks(), attempts=cert.attempts_of(current_user.id))


def _refusal_text(track) -> str | None:
    r = cert.retake_refusal(current_user, track)
    return None if r is None else message(cert.CertificationError(r.code, r.message, until=r.until, limit=r.limit))


@bp.route("/certification/<track_id>")
def cert_track(track_id: str):
    track = _track(track_id)
    attempt = cert.open_attempt(current_user, track.id)
    if attempt is not None:
        cert.settle_exam(attempt)  # a timed exam left open past its time is submitted with its saved answers
    return render_template("trainee/cert_track.html", track=track, attempt=attempt,
                           refusal=_refusal_text(track) if attempt is None else None,
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


def _page_answers(attempt) -> dict[str, list[str]]:
    """The answers a page's form sends: every question it showed (`shown`), [] for those
    left blank, so clearing a choice is saved too. Questions answered without being
    listed count as well (a one-page form); a request naming nothing changes nothing."""
    drawn = attempt.details["questions"]
    shown = set(request.form.getlist("shown")) | set(request.form)
    return {qid: request.form.getlist(qid) for qid in drawn if qid in shown}


@bp.route("/certification/<track_id>/exam", methods=["GET", "POST"])
def cert_exam(track_id: str):
    """The exam, one page of questions at a time. POST saves the page's answers and goes
    to page `go`, or submits the exam when `go` is "submit" (or absent)."""
    track = _track(track_id)
    attempt = cert.open_attempt(current_user, track.id)
    if request.method == "POST":
        attempt = attempt or abort(409)
        go = request.form.get("go", "submit")
        try:
            if go == "submit":
                cert.submit_exam(attempt, _page_answers(attempt))
                return redirect(url_for(".cert_results", track_id=track_id))
            cert.save_answers(attempt, _page_answers(attempt))
        except cert.CertificationError as exc:
            if exc.code in ("time_up", "exam_submitted"):
                flash(message(exc), "error")
                return redirect(url_for(".cert_results", track_id=track_id), 303)
            abort(exc.status, description=message(exc))
        return redirect(url_for(".cert_exam", track_id=track_id, page=request.form.get("go", type=int) or 1))
    # A GET that writes: an exam whose time ran out is submitted with its saved answers
    # when next looked at (there is no background job); the outcome was fixed at the deadline.
    if attempt is not None and cert.settle_exam(attempt):
        flash(message(cert.CertificationError("time_up", "")), "error")
        return redirect(url_for(".cert_results", track_id=track_id), 303)
    if attempt is None or attempt.exam_score is not None or cert.exam_opened_at(attempt) is None:
        # No exam to take, or not begun: the rules and a button that starts the clock (a POST).
        return render_template("trainee/cert_exam.html", track=track, attempt=attempt, questions=[])
    questions = cert.exam_questions(attempt, track)
    pages = policy.page_count(len(questions), track.exam.page_size)
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    size = track.exam.page_size
    saved = cert.draft(attempt)
    return render_template("trainee/cert_exam.html", track=track, attempt=attempt,
                           questions=questions[(page - 1) * size: page * size], first=(page - 1) * size + 1,
                           page=page, pages=pages, saved=saved,
                           answered=sum(1 for v in saved.values() if v), total=len(questions),
                           seconds_left=policy.seconds_left(cert.exam_deadline(attempt, track), utcnow()))


@bp.route("/certification/<track_id>/exam/begin", methods=["POST"])
def cert_exam_begin(track_id: str):
    """Start the exam's clock (once: a second press changes nothing) and show page 1."""
    cert.open_exam(_open(_track(track_id).id))
    return redirect(url_for(".cert_exam", track_id=track_id))


@bp.route("/certification/<track_id>/exam/save", methods=["POST"])
def cert_exam_save(track_id: str):
    """Autosave (the exam page's script, every few seconds and on each change): JSON
    {saved, answered, seconds_left}; 409 with `results` once the exam is submitted."""
    track = _track(track_id)
    attempt = cert.open_attempt(current_user, track.id) or abort(409)
    try:
        saved = cert.save_answers(attempt, _page_answers(attempt))
    except cert.CertificationError as exc:
        body = {"error": message(exc), "code": exc.code}
        if exc.code in ("time_up", "exam_submitted"):
            body["results"] = url_for(".cert_results", track_id=track_id)
        return jsonify(body), exc.status
    return jsonify({"saved": True, "answered": sum(1 for v in saved.values() if v),
                    "seconds_left": policy.seconds_left(cert.exam_deadline(attempt, track), utcnow())})


@bp.route("/certification/<track_id>/exam/results")
def cert_results(track_id: str):
    """The marked exam: each question with the trainee's answer, the right answer and the
    explanation. `?attempt=<id>` picks one of the trainee's own attempts (another's is 404);
    by default the newest with a submitted exam (none yet: the page says so)."""
    track = _track(track_id)
    mine = [a for a in cert.attempts_of(current_user.id, track.id) if (a.details or {}).get("exam")]
    wanted = request.args.get("attempt", type=int)
    attempt = next((a for a in mine if wanted is None or a.id == wanted), None)
    if attempt is None and wanted is not None:
        abort(404)  # not one of the trainee's attempts with a marked exam: as if missing
    return render_template("trainee/cert_results.html", track=track, attempt=attempt,
                           review=cert.exam_review(attempt, track) if attempt else None,
                           exam=attempt.details["exam"] if attempt else None)


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
