"""The notifications bell and list (issue 15 item 3): count in the nav, opening one marks
it read and leads to its page, another person's notice is a 404, the e-mail address."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Cohort
from app.models.base import utcnow
from app.services import assignments as assign
from app.services import notifications


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    return trainer, trainee


def test_bell_counts_unread_and_opening_marks_read(client, auth, cohort):
    trainer, trainee = cohort
    assign.create_assignment(trainer, assign.AssignmentSpec(
        title="账单投诉周练", scenario_ids=["billing_complaint"], cohort_ids=[c.id for c in trainee.cohorts],
        due_at=utcnow() + timedelta(hours=5)))
    assert auth.login(trainee.username).status_code == 302
    home = client.get("/trainee/").get_data(as_text=True)  # notices the due date too
    assert '<span class="nt-count">2</span>' in home and 'href="/notifications"' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert "新任务：账单投诉周练" in page and "任务即将截止" in page and page.count("nt-unread") == 2
    first = notifications.for_user(trainee)[0]
    r = client.post("/notifications/open", data={"id": first.id})
    assert r.status_code == 303 and r.headers["Location"].endswith("/trainee/")
    assert notifications.unread_count(trainee) == 1
    assert client.post("/notifications/read").status_code == 303
    assert notifications.unread_count(trainee) == 0
    assert 'class="nt-count"' not in client.get("/trainee/").get_data(as_text=True)


def test_anothers_notice_is_a_404_and_stays_unread(client, auth, cohort, make_user):
    trainer, trainee = cohort
    assign.create_assignment(trainer, assign.AssignmentSpec(
        title="周练", scenario_ids=["billing_complaint"], cohort_ids=[c.id for c in trainee.cohorts]))
    theirs = notifications.for_user(trainee)[0]
    nosy = make_user("trainee", username="nosy")
    assert auth.login(nosy.username).status_code == 302
    assert client.post("/notifications/open", data={"id": theirs.id}).status_code == 404
    assert client.post("/notifications/open", data={"id": 999_999}).status_code == 404
    assert client.post("/notifications/open", data={}).status_code == 400
    client.post("/notifications/read")
    assert notifications.unread_count(trainee) == 1


def test_email_address_is_checked_and_kept(client, auth, cohort):
    _, trainee = cohort
    assert auth.login(trainee.username).status_code == 302
    r = client.post("/notifications/email", data={"email": "not an address"})
    assert r.status_code == 400 and "name@example.com" in r.get_data(as_text=True)
    assert client.post("/notifications/email", data={"email": "xw@example.com"}).status_code == 303
    db.session.refresh(trainee)
    assert trainee.email == "xw@example.com"
