"""The trainer's pages: cohorts and recent drills, score reports, downloads, real-call uploads.

A trainer sees drills of trainees in the cohorts they lead and external calls they
uploaded; any other drill is answered like a missing one (404).
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.i18n import content_language, plain_fault
from app.models import Cohort, Role
from app.services import jobs, scoring
from app.services.drill_score import with_current
from app.services.score_report import build_report, export_drill
from app.trainer.forms import EXTERNAL, UploadForm

bp = blueprint_roles(Blueprint("trainer", __name__), Role.TRAINER)


@bp.route("/")
def home():
    cohorts = db.session.scalars(
        select(Cohort).where(Cohort.trainer_id == current_user.id).order_by(Cohort.name)
    ).all()
    return render_template("trainer/home.html", cohorts=cohorts,
                           drills=with_current(scoring.recent_drills_for_trainer(current_user)))


def _visible(drill_id: int):
    return scoring.drill_for_trainer(current_user, drill_id) or abort(404)


@bp.route("/drills/<int:drill_id>/report")
def drill_report(drill_id: int):
    # Trainers see the report even while it is held back from the trainee.
    drill = _visible(drill_id)
    view = build_report(drill, content_language(), released=True)
    return render_template("trainer/drill_report.html", view=view, scoring_state=jobs.scoring_state(drill))


@bp.route("/drills/<int:drill_id>/score", methods=["POST"])
def retry_scoring(drill_id: int):
    """The report's "retry" after a failed score: queue the end score again."""
    jobs.retry_drill_scoring(_visible(drill_id))
    return redirect(url_for(".drill_report", drill_id=drill_id))


@bp.route("/drills/<int:drill_id>/transcript.<any(json, txt, pdf):fmt>")
def download(drill_id: int, fmt: str):
    out = export_drill(_visible(drill_id), fmt, current_user, content_language())
    return send_file(BytesIO(out.data), mimetype=out.mimetype, as_attachment=True, download_name=out.filename)


def _upload_form() -> tuple[UploadForm, dict]:
    trainees = {u.id: u for u in scoring.cohort_trainees(current_user)}
    return UploadForm.for_trainees(trainees.values()), trainees


def _import(form: UploadForm, trainees: dict, files: list) -> list[scoring.ImportResult]:
    trainee = trainees.get(form.trainee_id.data) if form.trainee_id.data != EXTERNAL else None
    agent = form.external_agent.data if trainee is None else None
    return scoring.import_files(files, current_user, trainee, agent)


def _max_bytes() -> int:
    return scoring.upload_bounds().max_bytes


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    """No-JS path: every chosen file in one post; the page lists each file's result."""
    form, trainees = _upload_form()
    results = _import(form, trainees, form.uploads(_max_bytes())) if form.validate_on_submit() else []
    status = 400 if form.errors else 200
    return render_template("trainer/upload.html", form=form, results=results), status


@bp.route("/upload/file", methods=["POST"])
def upload_file():
    """One file per request for the progress display: JSON `{file, ok, total, max,
    flags, report_url}` (201) or `{file, ok: false, faults, explained}` (422: the faults
    exact, and in plain words of the interface's language); form errors 400."""
    form, trainees = _upload_form()
    files = form.uploads(_max_bytes()) if form.validate_on_submit() else []
    if len(files) != 1:
        return jsonify(ok=False, errors=form.errors or {"files": ["exactly one file per request"]}), 400
    result = _import(form, trainees, files)[0]
    if not result.ok:
        return jsonify(file=result.file, ok=False, faults=result.faults,
                       explained=[plain_fault(f) for f in result.fault_items]), 422
    score = result.score
    return jsonify(file=result.file, ok=True, drill_id=result.drill.id, total=score.total, max=score.max_total,
                   flags=[f["id"] for f in score.flags],
                   report_url=url_for(".drill_report", drill_id=result.drill.id)), 201


# --- background jobs: batch imports and re-scores (app/services/jobs.py) ---------------

@bp.route("/batches", methods=["GET", "POST"])
def batches():
    """A batch of transcripts scored in the background: the files are stored with the job
    and the trainer is sent to its progress page at once, whatever the number of files."""
    form, trainees = _upload_form()
    if form.validate_on_submit():
        trainee = trainees.get(form.trainee_id.data) if form.trainee_id.data != EXTERNAL else None
        agent = form.external_agent.data if trainee is None else None
        job = jobs.start_import_batch(form.uploads(_max_bytes()), current_user, trainee, agent)
        return redirect(url_for(".batch", job_id=job.id))
    status = 400 if form.errors else 200
    return render_template("trainer/batches.html", form=form, jobs=jobs.recent_jobs(current_user),
                           stale=len(_stale_drills())), status


@bp.route("/batches/<int:job_id>")
def batch(job_id: int):
    """A job's progress and each file's (or drill's) result; reloads itself until done."""
    job = jobs.job_for(current_user, job_id) or abort(404)
    items, pages = jobs.item_page(job, request.args.get("page", 1, type=int))
    return render_template("trainer/batch.html", job=job, items=items, pages=pages,
                           page=min(max(1, request.args.get("page", 1, type=int)), pages),
                           current=jobs.current_scores(items), faults=jobs.item_faults)


@bp.route("/batches/<int:job_id>.json")
def batch_json(job_id: int):
    job = jobs.job_for(current_user, job_id) or abort(404)
    return jsonify(id=job.id, kind=job.kind, status=job.status, total=job.total, done=job.done, failed=job.failed)


def _stale_drills():
    return jobs.stale_drills([d for d, _s in scoring.recent_drills_for_trainer(current_user, limit=1000)])


@bp.route("/rescore", methods=["POST"])
def rescore():
    """Score again, under the rubric's current version, this trainer's drills whose latest
    score is under an older one: new score rows beside the old, as a background job."""
    drills = _stale_drills()
    if not drills:
        return redirect(url_for(".batches"))
    job = jobs.start_rescore(drills, current_user)
    return redirect(url_for(".batch", job_id=job.id))
