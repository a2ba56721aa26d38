"""Assignments: what a trainer asks a cohort or chosen trainees to practise, and how far each got.

An assignment names scenarios from the catalog, optionally a persona, the mode, a due
date, the minimum attempts and the pass mark, whether hints are allowed and what each
costs, and when the report is released. Drills done for it carry `Drill.assignment_id`
(set by the trainee's start page). Progress is computed from those drills on demand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Assignment, AssignmentTarget, Cohort, Drill, User, cohort_members
from app.models.base import utcnow
from app.services import audit, content, notifications
from app.services.review import N_, ShownError
from app.services.drill_score import current_score
from app.services.locks import lock_user
from app.services.scoring import cohort_trainees

MODES = ("practice", "test")
RELEASES = ("immediate", "trainer")
MAX_ATTEMPTS = 50


class AssignmentError(ShownError):
    """Bad assignment input."""


@dataclass
class AssignmentSpec:
    """What the trainer filled in. Exactly the fields of `Assignment` plus the targets."""

    title: str
    scenario_ids: list[str]
    language: str = "zh-CN"
    persona: str | None = None
    mode: str = "practice"
    due_at: datetime | None = None
    min_attempts: int = 1
    pass_mark: float = 80.0
    hints_allowed: bool = True
    hint_penalty: float = 2.0
    report_release: str = "immediate"
    cohort_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)


def scenario_choices(language: str) -> list:
    """Catalog scenarios of a language (models with id, title, personas), by title."""
    return sorted((e.model for e in content.catalog().of_kind("scenario") if e.model.language == language),
                  key=lambda s: s.title)


def persona_names(scenarios) -> dict[str, str]:
    """Each persona id of these scenarios with its display names from the scenario files,
    e.g. {"calm": "讲理型 / 理性型"}: one id is a different persona in each scenario."""
    names: dict[str, list[str]] = {}
    for s in scenarios:
        for p in s.personas:
            labels = names.setdefault(p.id, [])
            if p.label not in labels:
                labels.append(p.label)
    return {pid: " / ".join(labels) for pid, labels in names.items()}


def all_scenarios() -> list:
    """One catalog model per scenario id (the Chinese original when there is one), by title."""
    seen: dict = {}
    for e in content.catalog().of_kind("scenario"):
        if e.model.id not in seen or e.model.language == "zh-CN":
            seen[e.model.id] = e.model
    return sorted(seen.values(), key=lambda s: s.title)


def _check(trainer, spec: AssignmentSpec) -> None:
    title = (spec.title or "").strip()
    if not title or len(title) > 200:
        raise AssignmentError(N_("Give a title of at most 200 characters."))
    spec.title = title
    known = {s.id: s for s in scenario_choices(spec.language)}
    if not spec.scenario_ids:
        raise AssignmentError(N_("Choose at least one scenario."))
    missing = [s for s in spec.scenario_ids if s not in known]
    if missing:
        raise AssignmentError(N_("No scenario %(ids)s in %(language)s."),
                              ids=", ".join(missing), language=spec.language)
    if spec.persona and any(spec.persona not in {p.id for p in known[s].personas} for s in spec.scenario_ids):
        raise AssignmentError(N_("Not every chosen scenario has the persona %(persona)s."), persona=spec.persona)
    if spec.mode not in MODES:
        raise AssignmentError(N_("The mode is practice or test."))
    if spec.report_release not in RELEASES:
        raise AssignmentError(N_("The report is released immediately or by the trainer."))
    if spec.mode == "practice" and spec.report_release != "immediate":
        raise AssignmentError(N_("Practice reports are always shown at once; hold reports back in test mode only."))
    if spec.mode == "test":
        spec.hints_allowed = False  # test mode never offers hints
    if not 1 <= spec.min_attempts <= MAX_ATTEMPTS:
        raise AssignmentError(N_("Minimum attempts must be from 1 to %(n)d."), n=MAX_ATTEMPTS)
    if not 0 <= spec.pass_mark <= 100:
        raise AssignmentError(N_("The pass mark must be from 0 to 100."))
    if not 0 <= spec.hint_penalty <= 100:
        raise AssignmentError(N_("The hint penalty must be from 0 to 100 points."))
    if spec.due_at is not None and spec.due_at <= utcnow():
        raise AssignmentError(N_("The due date must be in the future."))
    cohorts = {c.id for c in db.session.scalars(select(Cohort).where(Cohort.trainer_id == trainer.id))}
    trainees = {u.id for u in cohort_trainees(trainer)}
    if not spec.cohort_ids and not spec.user_ids:
        raise AssignmentError(N_("Assign it to one of your cohorts or to chosen trainees."))
    if set(spec.cohort_ids) - cohorts:
        raise AssignmentError(N_("You can only assign to cohorts you lead."))
    if set(spec.user_ids) - trainees:
        raise AssignmentError(N_("You can only assign to trainees of your cohorts."))


def create_assignment(trainer, spec: AssignmentSpec) -> Assignment:
    """Validate, store and audit (`assignment_created`) an assignment; commits.
    Raises AssignmentError (nothing stored) on bad input or a target not the trainer's."""
    _check(trainer, spec)
    # The same form posted twice (a double click, a resend) makes one assignment: the
    # trainer's row lock makes the look-up and the insert one step on every worker.
    lock_user(trainer.id)
    same = _just_created(trainer, spec)
    if same is not None:
        db.session.rollback()
        return same
    a = Assignment(created_by_id=trainer.id, title=spec.title, scenario_ids=list(spec.scenario_ids),
                   language=spec.language, persona=spec.persona or None, mode=spec.mode, due_at=spec.due_at,
                   min_attempts=spec.min_attempts, pass_mark=spec.pass_mark, hints_allowed=spec.hints_allowed,
                   hint_penalty=spec.hint_penalty, report_release=spec.report_release, active=True)
    a.targets = ([AssignmentTarget(cohort_id=c) for c in sorted(set(spec.cohort_ids))]
                 + [AssignmentTarget(user_id=u) for u in sorted(set(spec.user_ids))])
    db.session.add(a)
    db.session.flush()
    audit.record("assignment_created", trainer, f"assignment:{a.id}", title=a.title, scenarios=a.scenario_ids,
                 mode=a.mode, cohorts=sorted(set(spec.cohort_ids)), users=sorted(set(spec.user_ids)))
    notifications.assignment_given(a)
    db.session.commit()
    notifications.deliver_email()
    return a


RESUBMIT_WINDOW = timedelta(minutes=10)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _just_created(trainer, spec: AssignmentSpec) -> Assignment | None:
    """The trainer's active assignment identical to `spec` (fields and targets) made
    within RESUBMIT_WINDOW, or None: the same assignment set again later is a new one."""
    targets = ({("cohort", c) for c in spec.cohort_ids} | {("user", u) for u in spec.user_ids})
    recent = db.session.scalars(select(Assignment).where(
        Assignment.created_by_id == trainer.id, Assignment.active.is_(True), Assignment.title == spec.title,
        Assignment.created_at > utcnow() - RESUBMIT_WINDOW).order_by(Assignment.id.desc()))
    for a in recent:
        fields = (list(a.scenario_ids), a.language, a.persona or None, a.mode, a.min_attempts, a.pass_mark,
                  a.hints_allowed, a.hint_penalty, a.report_release)
        wanted = (list(spec.scenario_ids), spec.language, spec.persona or None, spec.mode, spec.min_attempts,
                  spec.pass_mark, spec.hints_allowed, spec.hint_penalty, spec.report_release)
        due, due_wanted = _utc(a.due_at), _utc(spec.due_at)
        has = {("cohort", t.cohort_id) if t.cohort_id else ("user", t.user_id) for t in a.targets}
        if fields == wanted and due == due_wanted and has == targets:
            return a
    return None


def assignments_of(trainer, include_inactive: bool = True) -> list[Assignment]:
    """The trainer's own assignments, newest first."""
    q = select(Assignment).where(Assignment.created_by_id == trainer.id)
    if not include_inactive:
        q = q.where(Assignment.active.is_(True))
    return list(db.session.scalars(q.order_by(Assignment.created_at.desc(), Assignment.id.desc())))


def assignment_for_trainer(trainer, assignment_id: int) -> Assignment | None:
    """The assignment if this trainer made it; None otherwise (views answer 404)."""
    return db.session.scalar(select(Assignment).where(Assignment.id == assignment_id,
                                                      Assignment.created_by_id == trainer.id))


def deactivate(assignment: Assignment, trainer) -> bool:
    """Withdraw an assignment (kept with its drills); commits. False if already inactive."""
    if not assignment.active:
        return False
    assignment.active = False
    audit.record("assignment_deactivated", trainer, f"assignment:{assignment.id}")
    db.session.commit()
    return True


def assigned_trainees(assignment: Assignment) -> list[User]:
    """Trainees the assignment reaches now: members of its cohorts and the chosen trainees."""
    cohort_ids = [t.cohort_id for t in assignment.targets if t.cohort_id]
    user_ids = [t.user_id for t in assignment.targets if t.user_id]
    members = select(cohort_members.c.user_id).where(cohort_members.c.cohort_id.in_(cohort_ids))
    return list(db.session.scalars(select(User).where(
        User.role == "trainee", or_(User.id.in_(members), User.id.in_(user_ids))).order_by(User.username)))


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _progress(assignment: Assignment, user: User, now: datetime, released_only: bool) -> dict:
    """Attempts, best total, passed and overdue of one trainee on the assignment. With
    `released_only` (the trainee's own view) a report the trainer still holds back
    counts as an attempt but gives neither a best total nor a pass."""
    drills = db.session.scalars(select(Drill).where(
        Drill.assignment_id == assignment.id, Drill.trainee_id == user.id, Drill.status == "ended")
        .order_by(Drill.started_at)).all()
    best = best_clean = None
    for drill in drills:
        if released_only and not drill.report_released:
            continue
        current = current_score(drill)
        if current is None:
            continue
        total = current.total
        best = total if best is None else max(best, total)
        if not current.flagged:  # a red-line attempt never passes, whatever its points
            best_clean = total if best_clean is None else max(best_clean, total)
    done = len(drills)
    passed = done >= assignment.min_attempts and best_clean is not None and best_clean >= assignment.pass_mark
    due = _aware(assignment.due_at)
    return {"attempts": done, "best_total": best, "passed": passed,
            "overdue": bool(due and due < now and not passed)}


def assignments_for_trainee(user, include_inactive: bool = False, released_only: bool = True) -> list[dict]:
    """The trainee's assignments (via their cohort or chosen by name), soonest due first
    (no due date last). Each item is a plain dict:

        {"assignment": Assignment,       # the row: title, scenario_ids, language, persona,
                                         # mode, due_at, min_attempts, pass_mark,
                                         # hints_allowed, hint_penalty, report_release
         "id": int, "title": str, "scenario_ids": [str], "mode": "practice"|"test",
         "due_at": datetime|None (UTC-aware),
         "attempts": int,               # ended drills done for this assignment
         "min_attempts": int, "pass_mark": float,
         "best_total": float|None,      # best current score (`drill_score`) of those
                                        # drills whose report is released; None while
                                        # no such attempt is scored
         "passed": bool,                # attempts >= min_attempts and an attempt without
                                        # a red-line flag reached the pass mark
         "overdue": bool}               # due date passed and not passed

    Only active assignments unless `include_inactive`; attempts whose report is held
    back count only when `released_only` is false (the trainer's view). Reads only;
    commits nothing.
    """
    reach = [AssignmentTarget.user_id == user.id]
    if user.cohorts:
        reach.append(AssignmentTarget.cohort_id.in_([c.id for c in user.cohorts]))
    # IN (subquery), not JOIN + DISTINCT: PostgreSQL has no equality for the JSON column
    # scenario_ids, so SELECT DISTINCT over the assignment's columns fails there.
    q = select(Assignment).where(Assignment.id.in_(select(AssignmentTarget.assignment_id).where(or_(*reach))))
    if not include_inactive:
        q = q.where(Assignment.active.is_(True))
    now = utcnow()
    out = []
    for a in db.session.scalars(q):
        item = {"assignment": a, "id": a.id, "title": a.title, "scenario_ids": list(a.scenario_ids), "mode": a.mode,
                "due_at": _aware(a.due_at), "min_attempts": a.min_attempts, "pass_mark": a.pass_mark}
        item.update(_progress(a, user, now, released_only=released_only))
        item["active"] = a.active
        out.append(item)
    far = datetime.max.replace(tzinfo=timezone.utc)
    return sorted(out, key=lambda i: (i["due_at"] or far, i["id"]))


def assignment_progress(assignment: Assignment) -> list[dict]:
    """Per assigned trainee, by username: `{"user": User, "attempts", "best_total",
    "passed", "overdue"}` (as in `assignments_for_trainee`, but for the trainer: held-back
    reports count too)."""
    now = utcnow()
    return [{"user": u, **_progress(assignment, u, now, released_only=False)} for u in assigned_trainees(assignment)]
