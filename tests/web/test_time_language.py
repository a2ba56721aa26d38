"""Time and language (issue 15, item 7): times in the centre's zone, the login page's
language kept through login, a drill's language chosen with the scenario."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.core.dates import local
from app.extensions import db
from app.models import Drill, User
from app.services.drills import start_drill


def _drill_at(user, when: datetime) -> Drill:
    drill = start_drill(user, "billing_complaint", "zh-CN", "calm", "scripted", seed=1)
    drill.started_at = when
    db.session.commit()
    return drill


def test_times_are_shown_in_the_centre_time_zone(app, client, login_as):
    user = login_as("trainee")
    # 20:30 UTC on 1 May is 04:30 on 2 May in Shanghai (UTC+8, no daylight saving).
    _drill_at(user, datetime(2024, 5, 1, 20, 30, tzinfo=timezone.utc))
    page = client.get("/trainee/").get_data(as_text=True)
    assert "2024-05-02 04:30" in page and "2024-05-01 20:30" not in page
    # Stored times stay UTC.
    stored = db.session.scalar(select(Drill.started_at))
    assert stored.replace(tzinfo=timezone.utc) == datetime(2024, 5, 1, 20, 30, tzinfo=timezone.utc)


def test_another_centre_zone_is_a_setting(app_factory, make_user):
    app = app_factory(CENTRE_TIMEZONE="Europe/London")
    with app.app_context():
        from app.services.accounts import create_user

        user = create_user("london", "password-123", "trainee")
        db.session.commit()
        _drill_at(user, datetime(2024, 1, 15, 9, 5, tzinfo=timezone.utc))
        client = app.test_client()
        client.post("/login", data={"username": "london", "password": "password-123"})
        assert "2024-01-15 09:05" in client.get("/trainee/").get_data(as_text=True)


def test_an_unknown_zone_stops_the_start_naming_the_setting(app_factory):
    with pytest.raises(ValueError, match="CENTRE_TIMEZONE"):
        app_factory(CENTRE_TIMEZONE="Mars/Olympus")


def test_local_takes_naive_values_as_utc():
    assert local(datetime(2024, 5, 1, 20, 30), "Asia/Shanghai").strftime("%m-%d %H:%M") == "05-02 04:30"


def test_the_language_chosen_on_the_login_page_survives_login(app, client, make_user):
    user = make_user("trainee", username="wang")
    assert user.locale != "en"
    client.post("/language/en", data={"next": "/login"})
    r = client.post("/login", data={"username": "wang", "password": "password-123"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="en">' in page
    # And the account remembers it for the next login.
    assert db.session.get(User, user.id).locale == "en"


def test_a_drill_speaks_the_centres_language_whatever_the_interface(app, client, login_as):
    user = login_as("trainee")
    client.post("/language/en", data={"next": "/trainee/"})
    page = client.get("/trainee/start/billing_complaint").get_data(as_text=True)
    assert '<html lang="en">' in page and "账单异常投诉处理" in page  # the Chinese scenario, English pages
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted"})
    assert r.status_code == 302
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == user.id))
    assert drill.scenario_version.language == "zh-CN"


def test_the_drill_language_is_chosen_with_the_scenario(app, client, login_as):
    user = login_as("trainee")  # Chinese pages
    page = client.get("/trainee/start/billing_complaint").get_data(as_text=True)
    assert 'name="language"' in page and '<option selected value="zh-CN">' in page and 'value="en"' in page
    r = client.post("/trainee/start/billing_complaint",
                    data={"language": "en", "persona": "calm", "customer": "scripted"})
    assert r.status_code == 302
    drill = db.session.scalar(select(Drill).where(Drill.trainee_id == user.id))
    assert drill.scenario_version.language == "en"
    # A scenario with one language offers no choice and plays in it.
    page = client.get("/trainee/start/broadband_outage").get_data(as_text=True)
    assert 'type="hidden" name="language" value="zh-CN"' in page


def test_the_centre_language_is_a_setting(app_factory):
    app = app_factory(CENTRE_LANGUAGE="en")
    with app.app_context():
        from app.services.accounts import create_user

        create_user("li", "password-123", "trainee")
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"username": "li", "password": "password-123"})
        page = client.get("/trainee/start/billing_complaint").get_data(as_text=True)
        assert '<option selected value="en">' in page  # Chinese pages, an English-speaking centre
