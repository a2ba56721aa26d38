"""HR's pages: certification results, each person's evidence, exports (read-only).

HR reads results, attempts and drill reports; nothing here changes a score or a mark.
The only POSTs prepare a large export as a background job (app/services/export_jobs.py)
or retry one. Exports and certificates are audited by the services.
"""
from __future__ import annotations

from io import BytesIO

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request, send_file,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.i18n import content_language
from app.models import CertificationResult, Cohort, Drill, Role, User
from app.services import certification, export_jobs, exports
from app.services.drill_score import current_score
from app.services.score_report import build_report, export_drill

bp = blueprint_roles(Blueprint("hr", __name__), Role.HR)
PER_PAGE = 100


def _filter() -> exports.ResultFilter:
    try:
        return exports.ResultFilter.parse(request.args)
    except exports.FilterError as exc:
        abort(400, description=str(exc))


@bp.route("/")
def home():
    f = _filter()
    count = exports.count_results(f)
    # A page past the last shows the last: a huge ?page= would overflow the query's OFFSET.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), max(1, -(-count // PER_PAGE)))
    return render_template("hr/results.html", f=f, page=page, per_page=PER_PAGE,
                           rows=exports.results_page(f, page, PER_PAGE), count=count,
                           cohorts=db.session.scalars(select(Cohort.name).order_by(Cohort.name)).all(),
                           tracks=certification.tracks(), grades=exports.CERTIFIED, formats=exports.formats(),
                           streams=export_jobs.streams(count), recent=export_jobs.recent_exports(current_user))


@bp.route("/runs")
def runs():
    """Certification attempts in progress: who, which track, since when, what is left."""
    return render_template("hr/runs.html", rows=certification.attempts_in_progress())


@bp.route("/people/<int:user_id>")
def person(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    attempts = [(a, certification.attempt_drills(a), certification.case_answers(a))
                for a in certification.attempts_of(user.id)]
    results = db.session.scalars(select(CertificationResult).where(CertificationResult.user_id == user.id)
                                 .order_by(CertificationResult.awarded_at.desc())).all()
    return render_template("hr/person.html", person=user, attempts=attempts, results=results,
                           current_score=current_score)


@bp.route("/drills/<int:drill_id>/report")
def drill_report(drill_id: int):
    drill = db.session.get(Drill, drill_id) or abort(404)
    return render_template("hr/drill_report.html", view=build_report(drill, content_language(), released=True))


@bp.route("/drills/<int:drill_id>/transcript.<any(json, txt, pdf):fmt>")
def drill_download(drill_id: int, fmt: str):
    drill = db.session.get(Drill, drill_id) or abort(404)
    out = export_drill(drill, fmt, _actor(), content_language(), with_score=True)
    return send_file(BytesIO(out.data), mimetype=out.mimetype, as_attachment=True, download_name=out.filename)


@bp.route("/export/<any(csv, xlsx, xapi):export_format>")
def export(export_format: str):
    """Stream a small export in the request; a larger one (over EXPORT_STREAM_MAX_ROWS
    rows) sends HR back to the results, where it is prepared in the background."""
    f = _known(_filter())
    if not export_jobs.streams(exports.writer(export_format).count(f)):
        flash(_("This export is too large to download at once: prepare it in the background."), "error")
        return redirect(url_for(".home", **f.args()))
    out = exports.export(export_format, f, _actor(), content_language())
    return Response(stream_with_context(out.chunks), mimetype=out.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{out.filename}"', "X-Row-Count": str(out.rows),
        "Cache-Control": "no-store"})


# --- large exports as background jobs (app/services/export_jobs.py) ----------------------

@bp.route("/exports", methods=["POST"])
def prepare_export():
    """Queue an export of the filter in the form; the job's page follows its progress."""
    try:
        f = _known(exports.ResultFilter.parse(request.form))
    except exports.FilterError as exc:
        abort(400, description=str(exc))
    export_format = request.form.get("format", "")
    if export_format not in exports.formats():
        abort(400, description=_("Choose an export format."))
    job = export_jobs.start_export(export_format, f, _actor(), content_language())
    return redirect(url_for(".export_job", job_id=job.id))


@bp.route("/exports/<int:job_id>")
def export_job(job_id: int):
    """An export's progress, and its download when ready; reloads itself until finished."""
    job = export_jobs.export_job(_actor(), job_id) or abort(404)
    return render_template("hr/export_job.html", job=job, ready=export_jobs.ready_file(job) is not None)


@bp.route("/exports/<int:job_id>/download")
def export_download(job_id: int):
    job = export_jobs.export_job(_actor(), job_id) or abort(404)
    path = export_jobs.ready_file(job) or abort(404, description=_("This export is not ready, or no longer kept."))
    export_jobs.record_download(job, _actor())
    response = send_file(path, mimetype=export_jobs.mimetype(job), as_attachment=True,
                         download_name=job.params["download_name"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/exports/<int:job_id>/retry", methods=["POST"])
def export_retry(job_id: int):
    job = export_jobs.export_job(_actor(), job_id) or abort(404)
    export_jobs.retry_export(job)
    return redirect(url_for(".export_job", job_id=job.id))


@bp.route("/results/<int:result_id>/certificate.pdf")
def certificate(result_id: int):
    result = db.session.get(CertificationResult, result_id) or abort(404)
    data = exports.certificate_pdf(result, _actor())
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{exports.certificate_number(result)}.pdf")


def _known(f: exports.ResultFilter) -> exports.ResultFilter:
    try:
        return exports.check_known(f)
    except exports.FilterError as exc:
        abort(400, description=str(exc))


def _actor():
    return current_user
