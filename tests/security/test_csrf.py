"""CSRF on every state-changing route, with the token check switched on as in production
(the testing config turns it off for the other suites).

Every POST/PUT/PATCH/DELETE rule of the URL map, sent by a logged-in user allowed to use
it but without a token (or with another session's token), must answer 400 with the
expired-form message and leave every table as it was. The JSON endpoints the drill and
upload pages call with fetch() take the token in the X-CSRFToken header.
"""
from __future__ import annotations

import io
import re

import pytest

from app.models import AuditEvent, LoginAttempt
from tests.security.access import COLUMNS, EXPECTED
from tests.security.support import PASSWORD, TRANSCRIPTS, db_fingerprint, expand, form_token, login, url_for_rule

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_MESSAGE = "表单已过期或并非从本站提交"  # the zh (default) text of the CSRF error page


@pytest.fixture
def app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def _bodies(rule):
    """A plausible body for the route, so the only thing missing is the token."""
    if rule.endpoint in {"trainer.upload", "trainer.upload_file"}:
        data = (TRANSCRIPTS / "billing_complaint.good.json").read_bytes()
        return [dict(data={"trainee_id": "0", "external_agent": "外部坐席",
                           "files": (io.BytesIO(data), "call.json")}, content_type="multipart/form-data")]
    if rule.endpoint == "auth.login":
        return [dict(data={"username": "trainee-a", "password": PASSWORD})]
    if rule.endpoint in {"trainee.post_turn", "trainee.end", "trainee.hint"}:
        return [dict(json={"text": "您好，我是客服小李，工号1234。"}), dict(data={"text": "您好"})]
    return [dict(data={"answer": "先核实身份。", "reason": "复核", "revision": "1", "score_id": "1",
                       "title": "t", "name": "n", "password": "new-password-1", "display_name": "d"})]


def _state_changing_rules(app):
    return [r for r in app.url_map.iter_rules() if r.methods & STATE_CHANGING]


def test_the_url_map_has_no_put_patch_or_delete(app):
    """Only POST changes state here; a PUT/DELETE route would need its own CSRF check below."""
    rules = _state_changing_rules(app)
    assert rules and all(r.methods & STATE_CHANGING == {"POST"} for r in rules)


@pytest.mark.parametrize("column", COLUMNS)
def test_state_changing_routes_refuse_requests_without_a_token(app, client, world, column):
    if column != "anonymous":
        login(client, world.user_id(column), csrf=True)
    values = world.values(column if column != "anonymous" else "trainee")
    checked, wrong = 0, []
    for rule in _state_changing_rules(app):
        if column != "anonymous" and EXPECTED[(rule.endpoint, "POST")][column] not in {"ok", "redirect", "login"}:
            continue  # refused before any token matters; the matrix covers it
        url = url_for_rule(app, rule, {**values, **expand(rule)[0]})
        for n in range(len(_bodies(rule))):
            for token in (None, "forged-token"):
                kwargs = _bodies(rule)[n]  # afresh: a posted file is closed afterwards
                before = db_fingerprint()
                headers = {"X-CSRFToken": token} if token else {}
                response = client.post(url, headers=headers, **kwargs)
                text = response.get_data(as_text=True)
                if response.status_code != 400 or CSRF_MESSAGE not in text:
                    wrong.append(f"POST {url} token={token}: {response.status_code}")
                if db_fingerprint() != before:
                    wrong.append(f"POST {url} token={token}: the database changed")
                checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= {"anonymous": 20, "trainee": 10, "trainer": 10, "hr": 4, "admin": 8}[column]


def test_login_form_needs_its_token(app, client, world):
    before_attempts = LoginAttempt.query.count()
    r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD})
    assert r.status_code == 400 and CSRF_MESSAGE in r.get_data(as_text=True)
    assert client.get("/trainee/").status_code == 302  # not logged in
    assert LoginAttempt.query.count() == before_attempts  # not even counted as a try
    token = form_token(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/trainee/")


def test_a_token_from_another_session_is_refused(app, world):
    thief, victim = app.test_client(), app.test_client()
    login(thief, world.a.peer, csrf=True)
    stolen = form_token(thief.get("/trainee/start/billing_complaint").get_data(as_text=True))
    login(victim, world.a.trainee, csrf=True)
    before = db_fingerprint()
    r = victim.post(f"/trainee/drills/{world.a.live_drill}/end", headers={"X-CSRFToken": stolen})
    assert r.status_code == 400 and db_fingerprint() == before


def test_fetch_endpoints_take_the_token_in_a_header(app, client, world):
    """The drill page's fetch() calls (turns, hint, end) send the page's meta token as
    X-CSRFToken; with it they work, without it they get a JSON 400."""
    login(client, world.a.trainee, csrf=True)
    drill_url = f"/trainee/drills/{world.a.live_drill}"
    page = client.get(drill_url).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    json_headers = {"Accept": "application/json"}
    for path, body in (("/turns", {"text": "您好，我是客服小李，工号1234。", "after": 0}), ("/hint", None), ("/end", None)):
        before = db_fingerprint()
        r = client.post(drill_url + path, json=body, headers=json_headers)
        assert r.status_code == 400 and r.get_json()["error"], path
        assert db_fingerprint() == before, path
        r = client.post(drill_url + path, json=body, headers={**json_headers, "X-CSRFToken": token})
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:200])
    assert AuditEvent.query.filter_by(action="hint").count() == 1


def test_upload_endpoint_takes_the_token_in_a_header(app, client, world):
    login(client, world.a.trainer, csrf=True)
    token = form_token(client.get("/trainer/upload").get_data(as_text=True))
    data = (TRANSCRIPTS / "billing_complaint.good.json").read_bytes()

    def post(headers):
        return client.post("/trainer/upload/file", headers={"Accept": "application/json", **headers},
                           data={"trainee_id": str(world.a.trainee), "files": (io.BytesIO(data), "call.json")},
                           content_type="multipart/form-data")

    before = db_fingerprint()
    r = post({})
    assert r.status_code == 400 and r.get_json()["error"] and db_fingerprint() == before
    r = post({"X-CSRFToken": token})
    assert r.status_code == 201 and r.get_json()["ok"]
