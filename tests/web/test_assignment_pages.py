"""Assignment pages: create with validation, progress per trainee, withdraw; who may."""
from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, Cohort
from app.services import assignments as service


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    return trainer, trainee, group


def login(auth, user):
    """Log in and read the pages in English, so messages can be checked as written."""
    assert auth.login(user.username).status_code == 302
    auth.client.post("/language/en")


def form(group, **kw):
    data = {"title": "账单投诉", "language": "zh-CN", "scenario_ids": ["billing_complaint"], "persona": "",
            "mode": "practice", "due_date": "", "min_attempts": "2", "pass_mark": "75", "hints_allowed": "y",
            "hint_penalty": "3", "report_release": "immediate", "cohort_ids": [str(group.id)]}
    data.update(kw)
    return data


def test_create_and_list_with_progress(client, auth, cohort):
    trainer, trainee, group = cohort
    login(auth, trainer)
    assert client.get("/trainer/assignments/new").status_code == 200
    r = client.post("/trainer/assignments/new", data=form(group, due_date="2099-05-01"))
    assert r.status_code == 302
    created = db.session.scalar(select(Assignment))
    assert created.title == "账单投诉" and created.min_attempts == 2 and created.hint_penalty == 3
    # Due at the end of the 1st in the centre's zone (Asia/Shanghai, UTC+8), stored as UTC,
    # and shown as the centre's time.
    assert created.due_at.strftime("%Y-%m-%d %H:%M") == "2099-05-01 15:59"
    page = client.get("/trainer/assignments").get_data(as_text=True)
    assert "2099-05-01" in page
    assert "账单投诉" in page and "小王" in page and "0 / 2" in page
    assert [i["title"] for i in service.assignments_for_trainee(trainee)] == ["账单投诉"]
    # The trainer home links here and to the queue.
    home = client.get("/trainer/").get_data(as_text=True)
    assert "/trainer/assignments" in home and "/trainer/review" in home


@pytest.mark.parametrize("kw, message", [
    ({"scenario_ids": []}, "Choose at least one scenario."),
    ({"report_release": "trainer"}, "test mode only"),
    ({"min_attempts": "0"}, "Number must be between 1 and 50."),
    ({"pass_mark": "abc"}, "Not a valid float value."),
    ({"cohort_ids": []}, "Assign it to one of your cohorts or to chosen trainees."),
    ({"due_date": "2001-01-01"}, "The due date must be in the future."),
    ({"scenario_ids": ["nope"]}, "is not a valid choice"),
])
def test_bad_input_is_400_with_a_message(client, auth, cohort, kw, message):
    trainer, _, group = cohort
    login(auth, trainer)
    r = client.post("/trainer/assignments/new", data=form(group, **kw))
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert db.session.scalar(select(Assignment)) is None


def test_other_cohorts_cannot_be_targeted(client, auth, cohort, make_user):
    trainer, _, group = cohort
    other_group = Cohort(name="二班", trainer_id=make_user("trainer", username="coach2").id)
    db.session.add(other_group)
    db.session.commit()
    login(auth, trainer)
    r = client.post("/trainer/assignments/new", data=form(group, cohort_ids=[str(other_group.id)]))
    assert r.status_code == 400 and db.session.scalar(select(Assignment)) is None


def test_withdraw_and_404_for_another_trainer(client, auth, cohort, make_user):
    trainer, trainee, group = cohort
    assignment = service.create_assignment(trainer, service.AssignmentSpec(
        title="t", scenario_ids=["billing_complaint"], cohort_ids=[group.id]))
    other = make_user("trainer", username="coach2")
    login(auth, other)
    assert client.post(f"/trainer/assignments/{assignment.id}/deactivate").status_code == 404
    assert "/deactivate" not in client.get("/trainer/assignments").get_data(as_text=True)
    auth.logout()
    login(auth, trainer)
    assert client.post(f"/trainer/assignments/{assignment.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not assignment.active and service.assignments_for_trainee(trainee) == []


@pytest.mark.parametrize("role", ["trainee", "hr", "admin"])
def test_other_roles_are_refused(client, auth, cohort, make_user, role):
    trainer, trainee, group = cohort
    assignment = service.create_assignment(trainer, service.AssignmentSpec(
        title="t", scenario_ids=["billing_complaint"], cohort_ids=[group.id]))
    login(auth, trainee if role == "trainee" else make_user(role))
    assert client.get("/trainer/assignments").status_code == 403
    assert client.post("/trainer/assignments/new", data=form(group)).status_code == 403
    assert client.post(f"/trainer/assignments/{assignment.id}/deactivate").status_code == 403
    assert len(db.session.scalars(select(Assignment)).all()) == 1


class TestCsrf:
    @pytest.fixture
    def app(self, app_factory):
        app = app_factory(WTF_CSRF_ENABLED=True)
        with app.app_context():
            yield app

    def test_posts_need_the_token(self, client, cohort):
        trainer, _, group = cohort
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'value="([^"]+)"', page.split('name="csrf_token"')[1]).group(1)
        r = client.post("/login", data={"username": trainer.username, "password": "password-123", "csrf_token": token})
        assert r.status_code == 302
        # Flask-WTF caches the token on `g`, which outlives requests here; login resets it.
        g.pop("csrf_token", None)
        assert client.post("/trainer/assignments/new", data=form(group)).status_code == 400
        assignment = service.create_assignment(trainer, service.AssignmentSpec(
            title="t", scenario_ids=["billing_complaint"], cohort_ids=[group.id]))
        assert client.post(f"/trainer/assignments/{assignment.id}/deactivate").status_code == 400
        page = client.get("/trainer/assignments/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/trainer/assignments/new", data={**form(group), "csrf_token": token}).status_code == 302


def test_personas_and_scenarios_by_name_not_id(client, auth, cohort):
    trainer, _, group = cohort
    assert auth.login(trainer.username).status_code == 302  # Chinese pages
    page = client.get("/trainer/assignments/new").get_data(as_text=True)
    # Every persona id of the scenario files is offered by its display names, never as the id.
    options = dict(re.findall(r'<option value="([a-z_]+)">([^<]*)</option>', page))
    assert options["calm"] and "讲理型" in options["calm"] and "busy_sales" not in options.values()
    assert all(label != pid for pid, label in options.items())
    r = client.post("/trainer/assignments/new", data=form(group, persona="furious", mode="test",
                                                           scenario_ids=["billing_complaint", "signal_complaint"]))
    assert r.status_code == 302
    page = client.get("/trainer/assignments").get_data(as_text=True)
    listed = re.search(r'<p class="muted">(.*?)</p>', page, re.S).group(1)
    # The assignment's own scenarios name the persona; its mode is a word, its language a name.
    assert "账单异常投诉处理" in listed and "网络信号差的技术投诉处理" in listed and "中文" in listed
    assert "激动型" in listed and "考核" in listed
    assert not re.search(r"furious|billing_complaint|signal_complaint|zh-CN|\btest\b", listed), listed
