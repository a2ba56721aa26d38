"""Logging in and out, landing pages, the language switch. Throttling, cookies, headers,
CSRF and password storage are in tests/security/."""
import pytest

from app.models import AuditEvent


def test_login_page_renders(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert b'name="username"' in r.data


@pytest.mark.parametrize("role, home", [
    ("trainee", "/trainee/"), ("trainer", "/trainer/"), ("hr", "/hr/"), ("admin", "/admin/"),
])
def test_each_role_lands_on_its_home(client, make_user, auth, role, home):
    user = make_user(role)
    r = auth.login(user.username)
    assert r.status_code == 302 and r.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200
    assert client.get("/").headers["Location"].endswith(home)


def test_wrong_password_is_refused_and_audited(app, client, make_user, auth):
    user = make_user("trainee")
    r = auth.login(user.username, "not-the-password")
    assert r.status_code == 401
    assert "用户名或密码错误".encode() in r.data or b"Wrong username or password" in r.data
    assert client.get("/trainee/").status_code == 302  # still anonymous
    actions = [e.action for e in AuditEvent.query.all()]
    assert "login_failed" in actions


def test_unknown_user_gets_the_same_message(client, auth):
    assert auth.login("nobody", "whatever-pass").status_code == 401


def test_logout_ends_the_session(client, make_user, auth):
    user = make_user("trainer")
    auth.login(user.username)
    assert client.get("/trainer/").status_code == 200
    assert auth.logout().status_code == 302
    r = client.get("/trainer/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_logout_by_get_is_not_possible(client, make_user, auth):
    user = make_user("trainer")
    auth.login(user.username)
    assert client.get("/logout").status_code == 405


def test_successful_login_is_audited(client, make_user, auth):
    user = make_user("hr")
    auth.login(user.username)
    event = AuditEvent.query.filter_by(action="login").one()
    assert event.actor_id == user.id


def test_next_parameter_cannot_leave_the_site(client, make_user):
    user = make_user("trainee")
    r = client.post("/login?next=https://evil.example/x", data={"username": user.username, "password": "password-123"})
    assert r.headers["Location"].endswith("/trainee/")
    client.post("/logout")
    r = client.post("/login?next=/trainee/", data={"username": user.username, "password": "password-123"})
    assert r.headers["Location"].endswith("/trainee/")


def test_inactive_user_cannot_log_in(app, make_user, auth):
    from app.extensions import db

    user = make_user("trainee")
    user.active = False
    db.session.commit()
    assert auth.login(user.username).status_code == 401


def test_language_switch(client, make_user, auth):
    user = make_user("trainee")
    auth.login(user.username)
    zh = client.get("/trainee/").data.decode()
    assert "我的训练" in zh
    client.post("/language/en", data={"next": "/trainee/"})
    en = client.get("/trainee/").data.decode()
    assert "My training" in en
    client.post("/language/zh")
    assert "我的训练" in client.get("/trainee/").data.decode()


def test_unknown_language_is_ignored(client):
    r = client.post("/language/xx")
    assert r.status_code == 302
