"""A small organisation for the security tests (built by the `world` fixture): two cohorts, each with its trainer and
trainees, their drills (live and scored), a certification attempt with a case answer,
an assignment per trainer, a certificate, HR and an administrator.

Every id a URL can take exists here twice: once for the cohort-A people (the "own"
values a logged-in user of each role is entitled to) and once for cohort B (the
"foreign" values a scoped user must not reach).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text

from app.extensions import db
from app.models import CertificationAttempt, CertificationResult, Cohort, User
from app.services import accounts, assignments, authoring, certification, drills, export_jobs, exports, jobs, scoring

TRANSCRIPTS = Path(__file__).resolve().parent.parent / "data" / "transcripts"
ROLES = ("trainee", "trainer", "hr", "admin")
PASSWORD = "password-123"


@dataclass(frozen=True)
class Side:
    """One cohort's people and the ids of what they own (plain values: the world is built
    once into a database file that every test copies, so no ORM object outlives it)."""

    name: str
    cohort: int
    trainer: int
    trainee: int
    peer: int                       # a second trainee of the same cohort
    live_drill: int                 # the trainee's drill in progress (scripted customer)
    scored_drill: int               # the trainee's scored drill (an imported transcript)
    peer_drill: int                 # the peer's scored drill
    attempt: int                    # the trainee's open certification attempt
    case_id: str                    # a drawn case the trainee has not answered yet
    answer: int                     # the trainee's submitted answer to another drawn case
    assignment: int                 # the trainer's assignment to the cohort
    result: int                     # a certificate held by the peer
    job: int                        # the trainer's batch job (one transcript, scored)
    draft: int                      # the trainer's draft of a new scenario
    playtest: int                   # the trainer's play-test of that draft


@dataclass(frozen=True)
class World:
    a: Side
    b: Side
    hr: int
    admin: int
    hr_export: int                  # HR's prepared export (a job, ready)

    def user_id(self, role: str) -> int:
        """The user logged in for each role: cohort A's trainee and trainer, HR, admin."""
        return {"trainee": self.a.trainee, "trainer": self.a.trainer, "hr": self.hr, "admin": self.admin}[role]

    def user(self, role: str) -> User:
        return db.session.get(User, self.user_id(role))

    def values(self, role: str, side: Side | None = None) -> dict:
        """URL values for `role`: the ids that role is entitled to (cohort A by default)."""
        s = side or self.a
        drill = s.live_drill if role == "trainee" else s.scored_drill
        return {"drill_id": drill, "answer_id": s.answer, "assignment_id": s.assignment, "user_id": s.trainee,
                "cohort_id": s.cohort,
                "result_id": s.result, "job_id": self.hr_export if role == "hr" and side is None else s.job, "track_id": "core", "case_id": s.case_id,
                "scenario_id": "billing_complaint", "language": "zh-CN", "rubric_id": "standard-100",
                "code": "en", "filename": "app.css", "draft_id": s.draft, "playtest_id": s.playtest}


def _user(username: str, role: str, cohort: Cohort | None = None) -> User:
    user = accounts.create_user(username, PASSWORD, role, cohort=cohort)
    db.session.commit()
    return user


def build_side(name: str, seed: int) -> Side:
    trainer = _user(f"trainer-{name}", "trainer")
    cohort = Cohort(name=f"cohort-{name}", trainer_id=trainer.id)
    db.session.add(cohort)
    db.session.commit()
    trainee = _user(f"trainee-{name}", "trainee", cohort)
    peer = _user(f"peer-{name}", "trainee", cohort)
    live = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=seed)
    good = TRANSCRIPTS / "billing_complaint.good.json"
    scored = scoring.import_transcript(good.read_bytes(), good.name, trainer, trainee=trainee)
    peer_drill = scoring.import_transcript(good.read_bytes(), good.name, trainer, trainee=peer)
    attempt = certification.start_attempt(trainee, "core", seed=seed)
    cases = attempt.details["cases"]
    answer = certification.submit_case(attempt, cases[-1], f"先核实机主身份，再解释费用构成（{name} 组的答卷）。")
    assignment = assignments.create_assignment(trainer, assignments.AssignmentSpec(
        title=f"assignment {name}", scenario_ids=["billing_complaint"], language="zh-CN", cohort_ids=[cohort.id]))
    held = CertificationAttempt(user_id=peer.id, track_id="core", status="marked", exam_score=85.0,
                                drill_score=40.0, case_score=25.0, total=150.0, grade="good", details={})
    result = CertificationResult(user_id=peer.id, attempt=held, track_id="core", grade="good", total=150.0)
    db.session.add(result)
    db.session.commit()
    job = jobs.start_import_batch([(good.name, good.read_bytes())], trainer, external_agent=f"outsourced-{name}")
    draft = authoring.new_draft(trainer, f"draft_{name}")
    playtest = authoring.start_playtest(draft, trainer)
    return Side(name=name, cohort=cohort.id, trainer=trainer.id, trainee=trainee.id, peer=peer.id,
                live_drill=live.id, scored_drill=scored.id, peer_drill=peer_drill.id, attempt=attempt.id,
                case_id=cases[0], answer=answer.id, assignment=assignment.id, result=result.id, job=job.id,
                draft=draft.id, playtest=playtest.id)


def build_world() -> World:
    """Create the organisation in the current app's database; commits."""
    a, b = build_side("a", seed=1), build_side("b", seed=2)
    hr = _user("hr-1", "hr")
    prepared = export_jobs.start_export("csv", exports.ResultFilter(), hr)
    return World(a=a, b=b, hr=hr.id, admin=_user("admin-1", "admin").id, hr_export=prepared.id)


def login(client, user: User | int, csrf: bool = False) -> None:
    """Log `client` in as `user` (with the login form's token when CSRF is on)."""
    if isinstance(user, int):
        user = db.session.get(User, user)
    data = {"username": user.username, "password": PASSWORD}
    if csrf:
        data["csrf_token"] = form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def url_for_rule(app, rule, values: dict, method: str = "GET") -> str:
    """The URL of `rule` with `values` (only the arguments it takes)."""
    from flask import url_for

    with app.test_request_context():
        return url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})


def expand(rule) -> list[dict]:
    """One value set per choice of each `any(...)` converter, so every export format is tried."""
    out = [{}]
    for arg, conv in rule._converters.items():
        choices = getattr(conv, "items", None)
        if choices:
            out = [{**o, arg: c} for o in out for c in sorted(choices)]
    return out


def db_fingerprint(skip: set[str] = frozenset()) -> str:
    """A digest of every row of every table but `skip`: equal digests mean nothing was written."""
    db.session.rollback()  # read what the requests committed, not this session's snapshot
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in skip:
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(table.name.encode())
        digest.update(json.dumps([list(r) for r in rows], default=str, ensure_ascii=False).encode())
    return digest.hexdigest()


def table_count(name: str) -> int:
    return db.session.execute(text(f"select count(*) from {name}")).scalar_one()
