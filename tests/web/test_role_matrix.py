"""Every role (and anonymous) against every GET route of the app: allowed, 403 or login.

The expectations are written here by blueprint, not read from the code under test; a new
blueprint without an entry fails the test, so nobody adds pages without deciding who
may see them.
"""
import pytest

ROLES = ("trainee", "trainer", "hr", "admin")
EXPECTED = {
    "trainee": {"trainee"},
    "trainer": {"trainer"},
    "hr": {"hr"},
    "admin": {"admin"},
}
PUBLIC_ENDPOINTS = {"auth.login", "auth.index", "static"}
POST_ONLY_PUBLIC = {"auth.logout", "auth.set_language"}


def _routes(app, ids):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS | POST_ONLY_PUBLIC or "GET" not in rule.methods:
            continue
        values = {}
        for arg in rule.arguments:
            if arg not in ids:
                pytest.fail(f"route {rule.rule} has argument {arg!r}: add a value to the id table")
            values[arg] = ids[arg]
        out.append((rule.endpoint, rule.rule, values))
    return out


class _DrillOfNewestTrainee:
    """A drill id made when the URL is built, which is after the test has logged in: the
    drill belongs to the newest trainee, i.e. the logged-in one in the trainee run (so the
    owner gets 200, as the table expects); other roles are refused before ownership counts."""

    def __init__(self):
        self.id = None

    def __int__(self):
        if self.id is None:
            from sqlalchemy import select

            from app.extensions import db
            from app.models import User
            from app.services.drills import start_drill

            trainee = db.session.scalar(select(User).where(User.role == "trainee").order_by(User.id.desc()))
            self.id = start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=1).id
            # Trainer pages show drills of the trainer's cohorts only: the newest trainer
            # (the logged-in one in the trainer run) leads the drill owner's cohort.
            from app.models import Cohort

            trainer = db.session.scalar(select(User).where(User.role == "trainer").order_by(User.id.desc()))
            if trainer is not None:
                trainee.cohort = Cohort(name="matrix-cohort", trainer_id=trainer.id)
                db.session.commit()
        return self.id


@pytest.fixture
def ids(app, make_user):
    from app.extensions import db
    from app.models import CertificationAttempt, CertificationResult

    target = make_user("trainee", username="matrix-target")
    attempt = CertificationAttempt(user_id=target.id, track_id="core", status="marked", total=150.0, grade="good")
    result = CertificationResult(user_id=target.id, attempt=attempt, track_id="core", grade="good", total=150.0)
    db.session.add(result)
    db.session.commit()
    return {"user_id": target.id, "drill_id": _DrillOfNewestTrainee(), "scenario_id": "billing_complaint",
            "fmt": "json", "track_id": "core", "export_format": "csv", "result_id": result.id,
            "language": "zh-CN", "rubric_id": "standard-100"}


def _url(app, endpoint, values):
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, **values)


def test_every_blueprint_has_expectations(app):
    blueprints = {ep.split(".")[0] for ep in app.view_functions if "." in ep}
    assert blueprints - {"auth"} <= set(EXPECTED), blueprints - set(EXPECTED) - {"auth"}


@pytest.mark.parametrize("role", ROLES + ("anonymous",))
def test_role_matrix(app, client, make_user, auth, ids, role):
    if role != "anonymous":
        user = make_user(role, username=f"matrix-{role}")
        assert auth.login(user.username).status_code == 302
    checked = 0
    for endpoint, rule, values in _routes(app, ids):
        url = _url(app, endpoint, values)
        response = client.get(url)
        bp = endpoint.split(".")[0]
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], (role, url)
        elif role in EXPECTED[bp]:
            assert response.status_code == 200, (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
        checked += 1
    assert checked >= 8
