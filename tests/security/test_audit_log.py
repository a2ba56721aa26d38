"""The audit log records who did what, when and from where, for logins (success and
failure), every change to a score, mark or report release, and every export format.
Each action here goes through HTTP as the user who would do it; the test then finds
exactly the new audit rows it expects."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, Drill
from app.models.base import utcnow
from app.services import certification, scoring
from tests.security.support import PASSWORD, TRANSCRIPTS, login


def new_events(since_id: int) -> list[AuditEvent]:
    db.session.rollback()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.id > since_id).order_by(AuditEvent.id)).all()


def last_id() -> int:
    db.session.rollback()
    return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def one(events, action: str) -> AuditEvent:
    matching = [e for e in events if e.action == action]
    assert len(matching) == 1, (action, [e.action for e in events])
    event = matching[0]
    assert utcnow() - event.at < timedelta(minutes=1)  # when
    assert event.ip == "127.0.0.1"                      # from where
    return event


def test_logins_succeeded_and_failed(app, client, world):
    start = last_id()
    assert client.post("/login", data={"username": "trainer-a", "password": "not-it"}).status_code == 401
    failed = one(new_events(start), "login_failed")
    assert failed.actor_id is None and failed.target == "trainer-a"
    start = last_id()
    assert client.post("/login", data={"username": "trainer-a", "password": PASSWORD}).status_code == 302
    ok = one(new_events(start), "login")
    assert ok.actor_id == world.a.trainer and ok.target == "trainer-a"
    start = last_id()
    client.post("/logout")
    assert one(new_events(start), "logout").actor_id == world.a.trainer


def _adjust_form(client, drill_id: int, score):
    page = client.get(f"/trainer/review/{drill_id}").get_data(as_text=True)
    assert f'value="{score.revision}"' in page
    lossy = next(c for c in score.report["criteria"] if c["score"] < c["max"])
    return lossy, {"score_id": str(score.id), "revision": str(score.revision), "reason": "录音显示已核实身份",
                   f"criterion-{lossy['id']}": str(lossy["max"])}


def test_score_changes_by_the_trainer(app, client, world):
    login(client, world.a.trainer)
    drill = db.session.get(Drill, world.a.scored_drill)
    score = scoring.latest_score(drill)

    start = last_id()
    lossy, data = _adjust_form(client, drill.id, score)
    assert client.post(f"/trainer/review/{drill.id}", data=data).status_code == 302
    event = one(new_events(start), "score_adjusted")
    assert event.actor_id == world.a.trainer and event.target == f"score:{score.id}"
    assert event.detail["target_id"] == lossy["id"] and event.detail["adjusted"] == lossy["max"]
    assert event.detail["machine"] == lossy["score"] and event.detail["reason"] == "录音显示已核实身份"

    start = last_id()
    db.session.refresh(score)
    revision = score.revision
    r = client.post(f"/trainer/review/{drill.id}/reviewed", data={"revision": str(revision)})
    assert r.status_code == 302
    event = one(new_events(start), "score_reviewed")
    assert event.actor_id == world.a.trainer and event.detail["revision"] == revision + 1

    db.session.execute(update(Drill).where(Drill.id == drill.id).values(report_released=False))
    db.session.commit()
    start = last_id()
    assert client.post(f"/trainer/review/{drill.id}/release").status_code == 302
    event = one(new_events(start), "report_released")
    assert event.actor_id == world.a.trainer and event.target == f"drill:{drill.id}"
    assert event.detail["trainee_id"] == world.a.trainee


def test_case_mark_by_the_trainer(app, client, world):
    login(client, world.a.trainer)
    answer = db.session.get(certification.CaseAnswer, world.a.answer)
    case = certification.get_track("core").case(answer.case_id)
    marks = {f"kp-{k.id}": str(k.points / 2) for k in case.key_points}
    start = last_id()
    assert client.post(f"/trainer/marking/{answer.id}", data={**marks, "feedback": "要点答对一半"}).status_code == 302
    event = one(new_events(start), "case_marked")
    assert event.actor_id == world.a.trainer and event.target == f"case_answer:{answer.id}"
    assert event.detail["mark"] == sum(k.points / 2 for k in case.key_points) and event.detail["previous"] is None


def test_machine_scores_name_the_drill_and_the_uploader(app, client, world):
    """A drill ending is scored by the machine (no person changes the score: no actor);
    a call uploaded by a trainer is scored with the trainer recorded as the uploader."""
    login(client, world.a.trainee)
    start = last_id()
    client.post(f"/trainee/drills/{world.a.live_drill}/turns", json={"text": "您好，我是客服小李，工号1234。"})
    assert client.post(f"/trainee/drills/{world.a.live_drill}/end").status_code == 302
    event = one(new_events(start), "drill_scored")
    assert event.target == f"drill:{world.a.live_drill}" and event.actor_id is None
    assert event.detail["total"] == scoring.latest_score(db.session.get(Drill, world.a.live_drill)).total
    client.post("/logout")

    login(client, world.a.trainer)
    data = (TRANSCRIPTS / "billing_complaint.good.json").read_bytes()
    start = last_id()
    r = client.post("/trainer/upload/file", data={"trainee_id": str(world.a.peer), "files": (io.BytesIO(data), "c.json")},
                    content_type="multipart/form-data")
    assert r.status_code == 201
    events = new_events(start)
    imported = one(events, scoring.IMPORT_ACTION)
    assert imported.actor_id == world.a.trainer and imported.target == f"drill:{r.get_json()['drill_id']}"
    assert imported.detail["file"] == "c.json"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xapi"])
def test_hr_exports_each_format(app, client, world, fmt):
    login(client, world.hr)
    start = last_id()
    r = client.get(f"/hr/export/{fmt}?grade=good")
    r.get_data()
    assert r.status_code == 200
    event = one(new_events(start), "export")
    assert event.actor_id == world.hr and event.target == "certifications"
    assert event.detail["format"] == fmt and event.detail["rows"] == int(r.headers["X-Row-Count"]) == 2
    assert event.detail["filter"] == {"grade": "good"}


def test_certificate_pdf(app, client, world):
    login(client, world.hr)
    start = last_id()
    assert client.get(f"/hr/results/{world.b.result}/certificate.pdf").status_code == 200
    event = one(new_events(start), "export")
    assert event.actor_id == world.hr and event.target == f"certification_result:{world.b.result}"
    assert event.detail["format"] == "pdf" and event.detail["number"]


@pytest.mark.parametrize("role, prefix", [("trainee", "/trainee/drills"), ("trainer", "/trainer/drills"),
                                          ("hr", "/hr/drills")])
def test_drill_downloads_each_format(app, client, world, role, prefix):
    login(client, world.user_id(role))
    for fmt in ("json", "txt", "pdf"):
        start = last_id()
        assert client.get(f"{prefix}/{world.a.scored_drill}/transcript.{fmt}").status_code == 200
        event = one(new_events(start), "export")
        assert event.actor_id == world.user_id(role) and event.target == f"drill:{world.a.scored_drill}"
        assert event.detail["format"] == fmt


def test_the_administrator_reads_who_did_what(app, client, world):
    login(client, world.hr)
    client.get("/hr/export/csv").get_data()
    client.post("/logout")
    login(client, world.admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    row = next(line for line in page.splitlines() if 'data-action="export"' in line)
    assert "<td>导出</td>" in row or "<td>Export</td>" in row
    assert "<td>hr-1</td>" in row and "certifications" in row and "格式: csv" in row and "127.0.0.1" in row


@pytest.mark.parametrize("hops, recorded", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_address_recorded_behind_a_reverse_proxy(app_factory, world, hops, recorded):
    """Behind nginx (TRUSTED_PROXIES=1) the audit log records the client's address from
    the header nginx appends, not nginx's own; an address a client put in front of it is
    ignored, and without a trusted proxy the header is not believed at all."""
    from app.models import LoginAttempt

    app = app_factory(TRUSTED_PROXIES=hops)
    with app.app_context():
        client = app.test_client()
        start = last_id()
        r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD},
                        headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.7"})
        assert r.status_code == 302
        event = [e for e in new_events(start) if e.action == "login"][0]
        assert event.ip == recorded
        assert db.session.scalar(select(LoginAttempt.ip).order_by(LoginAttempt.id.desc()).limit(1)) == recorded
