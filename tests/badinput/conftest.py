"""Fixtures of the bad-input suites: the app on SQLite and on PostgreSQL (overflow and NUL
bugs differ between the two), one logged-in client per role, and a drill to aim at."""
from __future__ import annotations

import pytest
from flask import g
from hypothesis import HealthCheck, settings

from app.extensions import db

ROLES = ("trainee", "trainer", "hr", "admin")

# The hypothesis profile of this folder's property and schemathesis tests: the same
# examples on every run (derandomized, no example database) and no deadline (shared CI
# machines), so CI time is bounded by each test's max_examples.
settings.register_profile("badinput-ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          max_examples=50, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="session", autouse=True)
def record_bad_input_counts():
    """With HOTLINE_RECORD_RESULTS=1, the counts of this session's bad inputs go to
    benchmarks/RESULTS.md (section `badinput`) when the session ends."""
    yield
    import os

    from badinput_results import TALLY, write_section

    if os.environ.get("HOTLINE_RECORD_RESULTS") == "1" and TALLY:
        write_section()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web_app(request):
    """The app on a fresh database of each kind (inside its app context)."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


class RoleClient:
    """A test client logged in as one user.

    The tests keep one app context open across requests (as tests/conftest.py does), and
    Flask-Login caches the current user on it; forgetting that cache before each request
    lets clients of different users take turns. Each request starts from a clean session
    (a failed request must not poison the next one's transaction).
    """

    def __init__(self, app, user=None):
        self.user = user
        self.client = app.test_client()
        if user is not None:
            response = self.request("post", "/login", data={"username": user.username, "password": "password-123"})
            assert response.status_code == 302, response.data[:300]

    def request(self, method: str, url: str, **kwargs):
        g.pop("_login_user", None)
        db.session.rollback()
        try:
            return self.client.open(url, method=method.upper(), **kwargs)
        finally:
            g.pop("_login_user", None)

    def get(self, url, **kwargs):
        return self.request("get", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("post", url, **kwargs)


@pytest.fixture
def people(web_app):
    """One user per role; the trainee sits in the trainer's cohort and has an active drill."""
    from app.models import Cohort
    from app.services.accounts import create_user
    from app.services.drills import start_drill

    users = {role: create_user(f"bad-{role}", "password-123", role, None, None) for role in ROLES}
    cohort = Cohort(name="bad-cohort", trainer_id=None)
    db.session.add(cohort)
    db.session.flush()
    cohort.trainer_id = users["trainer"].id
    users["trainee"].cohorts = [cohort]
    db.session.commit()
    drill = start_drill(users["trainee"], "billing_complaint", "zh-CN", "calm", "scripted", seed=1)
    return {"users": users, "cohort": cohort, "drill_id": drill.id}


@pytest.fixture
def clients(web_app, people):
    """role (and "anonymous") -> RoleClient."""
    out = {role: RoleClient(web_app, user) for role, user in people["users"].items()}
    out["anonymous"] = RoleClient(web_app)
    return out


def pytest_collection_modifyitems(config, items):
    """The `slow` variants of this folder (every wrong value on every form field) run only
    when asked for: `-m slow` or HOTLINE_SLOW=1. CI runs the trimmed variants."""
    import os

    if os.environ.get("HOTLINE_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow variant: run with -m slow or HOTLINE_SLOW=1")
    here = os.path.dirname(__file__)
    for item in items:
        if item.get_closest_marker("slow") and str(item.fspath).startswith(here):
            item.add_marker(skip)
