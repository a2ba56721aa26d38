"""Background jobs: a drill's end score, batch imports of transcripts, re-scores under the
current rubric version. Each starts as a `Job` row (with `JobItem` rows for its files or
drills) committed before its tasks are queued, so the page of the person who started it
can show progress and failures whatever the worker does.

Every task here is idempotent: an item leaves `pending` once, by a conditional UPDATE in
the same transaction that stores its drill and score, and a drill's end score is unique
(migration 0007). A task run twice (a worker killed after its commit, before its
acknowledgement) finds its work done and stores nothing more.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import defer
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from app.celery_app import enqueue, is_eager
from app.core.datafiles import DataFileError, Fault
from app.extensions import db
from app.models import Drill, Job, JobItem, Score, User
from app.models.base import utcnow
from app.services import audit, scoring

log = logging.getLogger(__name__)

SCORE_DRILL, IMPORT_BATCH, RESCORE = "score_drill", "import_batch", "rescore"
# Failures worth another try later: the database was locked, restarting or unreachable.
# An IntegrityError too: two workers storing the first row of a scenario or rubric version
# at once (measured: 4 of 60 files refused by two workers on PostgreSQL); the retry finds it.
TRANSIENT = (OperationalError, InterfaceError, IntegrityError)
ERROR_MAX = 500


# --- a drill's end score ------------------------------------------------------------------

def start_drill_scoring(drill: Drill) -> Job:
    """Queue the end score of an ended drill (commits a `score_drill` job first).

    Eager (no broker): scored before this returns, as when scoring ran in the request.
    With a broker the request returns at once; the report page shows "scoring" until the
    score is stored. A broker that cannot be reached is logged and the drill scored here.
    """
    job = Job(kind=SCORE_DRILL, target=f"drill:{drill.id}", total=1, params={"drill_id": drill.id})
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    try:
        enqueue(SCORE_DRILL, job_id)
    except Exception:  # kombu raises its own OperationalError and socket errors
        if is_eager():
            raise
        log.exception("could not queue scoring job %s; scoring drill %s in the request", job_id, drill.id)
        run_score_drill(job_id)
    return db.session.get(Job, job_id)


def run_score_drill(job_id: int) -> None:
    """The `score_drill` task's work: store the drill's end score unless it has one, then
    mark the job done. A fault of the drill marks the job failed (no retry: it would fail
    again); TRANSIENT errors propagate for the task to retry."""
    job = db.session.get(Job, job_id)
    if job is None or job.status == "done":
        return
    drill = db.session.get(Drill, job.params["drill_id"])
    if drill is None:
        _finish_job(job_id, "failed", "the drill no longer exists")
        return
    try:
        scoring.score_on_end(drill)
    except TRANSIENT + (scoring.ScoringPending,):
        # ScoringPending: another request holds the drill's scoring lock and stores the
        # score when it finishes; a worker retries (and finds it), eager mode lets it be.
        db.session.rollback()
        raise
    except Exception as exc:
        db.session.rollback()
        log.exception("scoring drill %s failed; the drill stays ended and unscored", drill.id)
        _finish_job(job_id, "failed", _error_text(exc))
        return
    _finish_job(job_id, "done")


def scoring_job(drill: Drill) -> Job | None:
    """The drill's latest `score_drill` job, or None."""
    return db.session.scalar(select(Job).where(Job.kind == SCORE_DRILL, Job.target == f"drill:{drill.id}")
                             .order_by(Job.id.desc()).limit(1))


def scoring_state(drill: Drill) -> str | None:
    """What the report page says of an ended drill without a score: "scoring" while its
    job is queued or running, "failed" when the last one failed; None otherwise."""
    if drill.status != "ended" or scoring.latest_score(drill) is not None:
        return None
    job = scoring_job(drill)
    if job is not None and job.status == "failed":
        return "failed"
    return "scoring"


def ensure_scoring(drill: Drill) -> None:
    """Queue the end score of an ended drill that has none and no live job: a crash
    between the end's commit and its job, or a job lost before it reached the broker
    (queued longer than SCORING_REQUEUE_SECONDS). Eager, it scores now (as before jobs).
    A failed job is left for the person to retry (`retry_drill_scoring`)."""
    if drill.status != "ended" or scoring.latest_score(drill) is not None:
        return
    job = scoring_job(drill)
    if job is not None and not is_eager():
        if job.status == "failed":
            return
        wait = timedelta(seconds=int(current_app.config.get("SCORING_REQUEUE_SECONDS", 60)))
        if job.status != "done" and job.created_at > utcnow() - wait:
            return
    log.warning("drill %s ended without a score (a crash after its end?); scoring it now", drill.id)
    start_drill_scoring(drill)


def retry_drill_scoring(drill: Drill) -> bool:
    """Queue the end score again after a failure; False when there is nothing to retry."""
    if drill.status != "ended" or scoring.latest_score(drill) is not None:
        return False
    job = scoring_job(drill)
    if job is not None and job.status in ("queued", "running"):
        return False
    start_drill_scoring(drill)
    return True


# --- batch import of uploaded transcripts -----------------------------------------------

def start_import_batch(files: list[tuple[str, bytes]], uploader: User, trainee: User | None = None,
                       external_agent: str | None = None) -> Job:
    """Store the uploaded files as the items of an `import_batch` job and queue one task
    per file; returns the job (committed). Each file is imported and scored on its own,
    all or nothing, like `scoring.import_transcript`."""
    if (trainee is None) == (not external_agent):
        raise ValueError("give either a trainee or an external agent name")
    job = Job(kind=IMPORT_BATCH, created_by_id=uploader.id, total=len(files), status="queued",
              params={"trainee_id": trainee.id if trainee else None, "external_agent": external_agent or None})
    job.items = [JobItem(position=i, name=name[:200], payload=raw) for i, (name, raw) in enumerate(files)]
    db.session.add(job)
    db.session.flush()
    audit.record("batch_started", uploader, f"job:{job.id}", files=len(files))
    db.session.commit()
    _enqueue_items(job, "import_item")
    return db.session.get(Job, job.id)


def run_import_item(item_id: int) -> None:
    """The `import_item` task's work: import and score one file and finish its item, in
    one transaction; nothing when the item is finished already (a re-run)."""
    item = db.session.get(JobItem, item_id)
    if item is None or item.status != "pending":
        return
    job = item.job
    uploader = db.session.get(User, job.created_by_id) if job.created_by_id else None
    trainee_id = job.params.get("trainee_id")
    trainee = db.session.get(User, trainee_id) if trainee_id else None
    name, raw, job_id = item.name, item.payload or b"", job.id
    try:
        drill, score = scoring.stage_import(raw, name, uploader, trainee, job.params.get("external_agent"))
        outcome = ("done", drill.id, score.id,
                   {"total": score.total, "max": score.max_total, "flags": [f["id"] for f in score.flags]})
    except TRANSIENT:
        db.session.rollback()
        raise
    except DataFileError as exc:
        db.session.rollback()
        outcome = ("failed", None, None, {"faults": [_fault_json(f) for f in exc.faults]})
    except Exception:  # one broken file must not stop the batch
        db.session.rollback()
        log.exception("importing %s (job %s) failed", name, job_id)
        outcome = ("failed", None, None,
                   {"faults": [_fault_json(Fault(name, "", "could not be imported (internal error)"))]})
    _finish_item(item_id, job_id, *outcome)


def item_faults(item: JobItem) -> list[Fault]:
    return [Fault(f["file"], f["field"], f["reason"]) for f in (item.result or {}).get("faults", [])]


# --- re-scoring under the current rubric version ----------------------------------------

def start_rescore(drills: list[Drill], actor: User, rubric_id: str = scoring.DEFAULT_RUBRIC) -> Job:
    """Queue a new score of each drill under the rubric's current version (a `rescore`
    job). Never overwrites: each drill gets a new Score row beside its others, marked with
    the job (`origin` job:N), so a re-run of an item cannot score a drill twice."""
    job = Job(kind=RESCORE, created_by_id=actor.id, total=len(drills), status="queued",
              params={"rubric": rubric_id})
    job.items = [JobItem(position=i, name=f"drill:{d.id}", drill_id=d.id) for i, d in enumerate(drills)]
    db.session.add(job)
    db.session.flush()
    audit.record("rescore_started", actor, f"job:{job.id}", drills=len(drills), rubric=rubric_id)
    db.session.commit()
    _enqueue_items(job, "rescore_item")
    return db.session.get(Job, job.id)


def run_rescore_item(item_id: int) -> None:
    item = db.session.get(JobItem, item_id)
    if item is None or item.status != "pending":
        return
    job = item.job
    job_id, drill_id = job.id, item.drill_id
    drill = db.session.get(Drill, drill_id) if drill_id else None
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        if drill is None:
            raise LookupError("the drill no longer exists")
        origin = f"job:{job_id}"
        # Stored by an earlier run of this item (the score is unique per drill and origin).
        score = db.session.scalar(select(Score).where(Score.drill_id == drill_id, Score.origin == origin))
        if score is None:
            score = scoring.stage_score(drill, job.params.get("rubric", scoring.DEFAULT_RUBRIC), actor,
                                        origin=origin)
        outcome = ("done", drill_id, score.id, {"total": score.total, "max": score.max_total,
                                                 "flags": [f["id"] for f in score.flags]})
    except TRANSIENT:
        db.session.rollback()
        raise
    except Exception as exc:
        db.session.rollback()
        log.exception("re-scoring drill %s (job %s) failed", drill_id, job_id)
        outcome = ("failed", drill_id, None, {"faults": [_fault_json(Fault(f"drill:{drill_id}", "",
                                                                             _error_text(exc)))]})
    _finish_item(item_id, job_id, *outcome)


def stale_drills(drills: list[Drill], rubric_id: str = scoring.DEFAULT_RUBRIC) -> list[Drill]:
    """The drills whose latest score is not under the rubric's current version."""
    current = scoring.current_rubric_version_id(rubric_id)
    out = []
    for d in drills:
        score = scoring.latest_score(d)
        if score is not None and score.rubric_version_id != current:
            out.append(d)
    return out


# --- jobs a person sees -----------------------------------------------------------------

def job_for(user: User, job_id: int) -> Job | None:
    """The job if this user started it; None otherwise (views answer 404)."""
    return db.session.scalar(select(Job).where(Job.id == job_id, Job.created_by_id == user.id))


ITEMS_PER_PAGE = 200


def item_page(job: Job, page: int = 1, per_page: int | None = None) -> tuple[list[JobItem], int]:
    """One page of a job's items in file order, and the number of pages: a batch of
    10,000 files is not one page, and a page never loads the stored files."""
    per_page = per_page or ITEMS_PER_PAGE
    pages = max(1, -(-(job.total or 0) // per_page))
    page = min(max(1, page), pages)
    items = db.session.scalars(select(JobItem).options(defer(JobItem.payload))
                               .where(JobItem.job_id == job.id).order_by(JobItem.position)
                               .offset((page - 1) * per_page).limit(per_page))
    return list(items), pages


def current_scores(items: list[JobItem]) -> dict[int, "CurrentScore"]:
    """drill id -> the drill's current score, for the scored items: what the drill counts as
    now (a trainer's adjustment, an overturned red line, a later re-score), not the figure
    the job stored when it scored the file."""
    from app.services.drill_score import current_score

    ids = [i.drill_id for i in items if i.status == "done" and i.drill_id is not None]
    if not ids:
        return {}
    drills = db.session.scalars(select(Drill).where(Drill.id.in_(ids)))
    return {d.id: s for d in drills if (s := current_score(d)) is not None}


def recent_jobs(user: User, limit: int = 10) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.created_by_id == user.id, Job.kind != SCORE_DRILL)
                                   .order_by(Job.id.desc()).limit(limit)))


def fail_job(job_id: int, exc: BaseException) -> None:
    """Mark a job failed after its task ran out of retries (a whole job: a drill's score)."""
    db.session.rollback()
    _finish_job(job_id, "failed", _error_text(exc))


def fail_item(item_id: int, exc: BaseException) -> None:
    """Finish an item as failed after its task ran out of retries."""
    db.session.rollback()
    item = db.session.get(JobItem, item_id)
    if item is not None:
        _finish_item(item_id, item.job_id, "failed", item.drill_id, None,
                     {"faults": [_fault_json(Fault(item.name, "", _error_text(exc)))]})


# --- helpers ---------------------------------------------------------------------------

def _enqueue_items(job: Job, task: str) -> None:
    for item_id in db.session.scalars(select(JobItem.id).where(JobItem.job_id == job.id).order_by(JobItem.position)):
        enqueue(task, item_id)


def _finish_item(item_id: int, job_id: int, status: str, drill_id, score_id, result: dict) -> bool:
    """Finish a pending item and count it on its job, with whatever the caller added
    (its drill and score), in one commit. False, and rolled back, when another run of
    the task finished the item first."""
    claimed = db.session.execute(
        update(JobItem).where(JobItem.id == item_id, JobItem.status == "pending")
        .values(status=status, drill_id=drill_id, score_id=score_id, result=result, payload=None,
                finished_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        log.info("job item %s was finished by another run; its result is not stored twice", item_id)
        return False
    counter = Job.done if status == "done" else Job.failed
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values({counter: counter + 1, Job.status: "running"})
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Job).where(Job.id == job_id, Job.done + Job.failed >= Job.total)
                       .values(status="done", finished_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return True


def _finish_job(job_id: int, status: str, error: str | None = None) -> None:
    values = {"status": status, "error": error, "finished_at": utcnow(), "attempts": Job.attempts + 1}
    if status == "done":
        values["done"] = 1
    else:
        values["failed"] = 1
    db.session.execute(update(Job).where(Job.id == job_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _fault_json(fault: Fault) -> dict:
    return {"file": fault.file, "field": fault.field, "reason": fault.reason}


def _error_text(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}")[:ERROR_MAX]
