"""The trainee's home (assignments, progress) and the drill page's hints, test mode and
report release."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, AssignmentTarget, AuditEvent, Cohort, Drill
from app.models.base import utcnow
from app.services import scoring
from app.services.drills import start_drill

JSON = {"Accept": "application/json"}
DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"


@pytest.fixture
def people(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    chosen = make_user("trainee", username="chosen", cohort=group)
    other = make_user("trainee", username="other", cohort=group)
    return trainer, chosen, other


def assign(trainer, user, **fields) -> Assignment:
    values = dict(title="计费投诉练习", scenario_ids=["billing_complaint"], language="zh-CN", persona="calm",
                  mode="practice", due_at=utcnow() + timedelta(days=3), min_attempts=2, pass_mark=80.0,
                  hints_allowed=True, hint_penalty=3.0, report_release="immediate", active=True)
    values.update(fields)
    a = Assignment(created_by_id=trainer.id, **values)
    a.targets = [AssignmentTarget(user_id=user.id)]
    db.session.add(a)
    db.session.commit()
    return a


def login(auth, user):
    assert auth.login(user.username).status_code == 302


def no_inline(html: str):
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_assigned_drills_with_due_dates_only_for_the_target(client, auth, people):
    trainer, chosen, other = people
    a = assign(trainer, chosen)
    late = assign(trainer, chosen, title="过期的作业", due_at=utcnow() - timedelta(days=1))
    login(auth, chosen)
    page = client.get("/trainee/").get_data(as_text=True)
    assert a.title in page and a.due_at.strftime("%Y-%m-%d") in page
    assert f"/trainee/assignments/{a.id}/start/billing_complaint" in page
    assert re.search(r'th-assignment th-overdue[^>]*>\s*<div class="th-assignment-head">\s*<strong>过期的作业', page)
    no_inline(page)
    client.post("/logout")
    login(auth, other)
    page = client.get("/trainee/").get_data(as_text=True)
    assert a.title not in page and late.title not in page
    # and another trainee cannot start it either
    assert client.post(f"/trainee/assignments/{a.id}/start/billing_complaint").status_code == 404


def test_home_without_history_and_with_progress(client, auth, people):
    _, chosen, _ = people
    login(auth, chosen)
    page = client.get("/trainee/").get_data(as_text=True)
    assert "th-progress" in page and "<svg" not in page and "th-weakest" not in page
    path = DATA / "signal_complaint.bad.json"
    scoring.import_transcript(path.read_bytes(), path.name, chosen, trainee=chosen)
    page = client.get("/trainee/").get_data(as_text=True)
    assert page.count("<svg") >= 2 and "th-weakest" in page
    assert re.search(r'class="btn" href="/trainee/start/[a-z_0-9]+"', page)
    no_inline(page)


def test_start_from_assignment_links_the_drill(client, auth, people):
    trainer, chosen, _ = people
    a = assign(trainer, chosen)
    login(auth, chosen)
    r = client.post(f"/trainee/assignments/{a.id}/start/billing_complaint")
    assert r.status_code == 303
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == chosen.id))
    assert r.headers["Location"].endswith(f"/trainee/drills/{drill.id}")
    assert drill.assignment_id == a.id and drill.persona == "calm" and drill.mode == "practice"
    assert drill.report_released
    assert client.post(f"/trainee/assignments/{a.id}/start/signal_complaint").status_code == 303
    assert db.session.query(Drill).count() == 1


def test_hint_in_practice_counts_records_and_costs_points(client, auth, people):
    trainer, chosen, _ = people
    a = assign(trainer, chosen)
    login(auth, chosen)
    client.post(f"/trainee/assignments/{a.id}/start/billing_complaint")
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == chosen.id))
    page = client.get(f"/trainee/drills/{drill.id}").get_data(as_text=True)
    assert 'id="hint-button"' in page
    no_inline(page)
    r = client.post(f"/trainee/drills/{drill.id}/hint", headers=JSON, json={})
    assert r.status_code == 200
    hint = r.get_json()["hint"]
    assert hint["step"] == "greeting" and hint["model"] and hint["hints_used"] == 1 and hint["penalty"] == 3.0
    r = client.post(f"/trainee/drills/{drill.id}/turns", headers=JSON, json={"text": "您好，工号1024，很高兴为您服务。"})
    assert r.status_code == 200
    second = client.post(f"/trainee/drills/{drill.id}/hint", headers=JSON, json={}).get_json()["hint"]
    assert second["step"] == "verify"
    # A reload shows the hint paid for, not an empty box.
    page = client.get(f"/trainee/drills/{drill.id}").get_data(as_text=True)
    shown = re.search(r'<div id="hint-text"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert second["text"] in shown and (second["model"] or "") in shown
    db.session.refresh(drill)
    assert drill.hints_used == 2
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hint")).all()
    assert len(events) == 2 and events[0].target == f"drill:{drill.id}"
    assert client.post(f"/trainee/drills/{drill.id}/end", headers=JSON, json={}).status_code == 200
    assert client.post(f"/trainee/drills/{drill.id}/hint", headers=JSON, json={}).status_code == 409
    score = scoring.latest_score(drill)
    machine_total = score.total
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert 'class="card hint-penalty"' in page and "−6" in page
    assert f"{max(0.0, round(machine_total - 6, 1)):g} / 100" in page
    db.session.refresh(score)
    assert score.total == machine_total  # the stored machine score is untouched


def test_the_same_hint_click_sent_again_is_not_charged_again(client, auth, people):
    trainer, chosen, _ = people
    a = assign(trainer, chosen)
    login(auth, chosen)
    client.post(f"/trainee/assignments/{a.id}/start/billing_complaint")
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == chosen.id))
    page = client.get(f"/trainee/drills/{drill.id}").get_data(as_text=True)
    assert 'data-hints-used="0"' in page  # the count the button sends back
    url = f"/trainee/drills/{drill.id}/hint"
    first = client.post(url, headers=JSON, json={"seen": 0}).get_json()["hint"]
    again = client.post(url, headers=JSON, json={"seen": 0}).get_json()["hint"]  # the answer was lost; resent
    db.session.refresh(drill)
    assert drill.hints_used == 1 and again["hints_used"] == 1
    assert first["charged"] and not again["charged"] and again["text"] == first["text"]
    assert client.post(url, headers=JSON, json={"seen": 1}).get_json()["hint"]["hints_used"] == 2  # a new click
    # A count the page cannot have shown, or not a count at all: refused, nothing charged.
    future = client.post(url, headers=JSON, json={"seen": 7})
    assert future.status_code == 409 and future.get_json()["code"] == "moved_on"
    for bad in ("1", -1, 1.5, True, 2**31):
        r = client.post(url, headers=JSON, json={"seen": bad})
        assert r.status_code == 400 and r.get_json()["error"], bad
    for raw in ("[]", "null", "{bad"):
        r = client.post(url, headers=JSON, data=raw, content_type="application/json")
        assert r.status_code == 400 and r.get_json()["code"] == "bad_request", raw
    db.session.refresh(drill)
    assert drill.hints_used == 2



def test_free_practice_hint_uses_the_default_penalty(client, auth, people, app):
    _, chosen, _ = people
    app.config["HINT_PENALTY"] = 1.5
    drill = start_drill(chosen, "billing_complaint", "zh-CN", "calm", "scripted", seed=3)
    login(auth, chosen)
    r = client.post(f"/trainee/drills/{drill.id}/hint", headers=JSON, json={})
    assert r.status_code == 200 and r.get_json()["hint"]["penalty"] == 1.5


def test_test_mode_has_no_hints_no_background_and_holds_the_report(client, auth, people):
    trainer, chosen, _ = people
    a = assign(trainer, chosen, mode="test", hints_allowed=False, report_release="trainer")
    login(auth, chosen)
    client.post(f"/trainee/assignments/{a.id}/start/billing_complaint")
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == chosen.id))
    assert drill.mode == "test" and not drill.report_released and drill.assignment_id == a.id
    page = client.get(f"/trainee/drills/{drill.id}").get_data(as_text=True)
    assert 'id="hint-button"' not in page and "后台可查" not in page and "任务说明" in page
    r = client.post(f"/trainee/drills/{drill.id}/hint", headers=JSON, json={})
    assert r.status_code == 403 and r.get_json()["error"]
    db.session.refresh(drill)
    assert drill.hints_used == 0
    client.post(f"/trainee/drills/{drill.id}/end", headers=JSON, json={})
    assert scoring.latest_score(drill) is not None
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert "rp-pending" in page and "rp-total" not in page
    assert "th-progress" in client.get("/trainee/").get_data(as_text=True)
    drill.report_released = True
    db.session.commit()
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert "rp-total" in page


def test_practice_assignment_without_hints_refuses_them(client, auth, people):
    trainer, chosen, _ = people
    a = assign(trainer, chosen, hints_allowed=False)
    login(auth, chosen)
    client.post(f"/trainee/assignments/{a.id}/start/billing_complaint")
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == chosen.id))
    assert 'id="hint-button"' not in client.get(f"/trainee/drills/{drill.id}").get_data(as_text=True)
    assert client.post(f"/trainee/drills/{drill.id}/hint", headers=JSON, json={}).status_code == 403
