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


@pytest.fixture
def ids(app, make_user):
    target = make_user("trainee", username="matrix-target")
    return {"user_id": target.id}


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
