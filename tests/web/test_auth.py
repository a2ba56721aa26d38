import re

import pytest

from app.models import AuditEvent, LoginAttempt


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


def test_login_is_throttled_after_repeated_failures(app, client, make_user, auth):
    user = make_user("trainee")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(user.username, "wrong-password").status_code == 401
    # even the right password is refused while the account is throttled
    r = auth.login(user.username)
    assert r.status_code == 429
    assert LoginAttempt.query.filter_by(username=user.username, success=False).count() == 5
    assert AuditEvent.query.filter_by(action="login_throttled").count() == 1


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


def test_password_is_stored_hashed_with_scrypt(make_user):
    user = make_user("trainee", password="a-secret-pass")
    assert "a-secret-pass" not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


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


def test_security_headers_and_cookie_flags(client, make_user, auth):
    user = make_user("trainee")
    r = auth.login(user.username)
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    r = client.get("/trainee/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, make_user, auth):
    # The CSP forbids inline code; a page that used it would break in the browser.
    user = make_user("admin")
    auth.login(user.username)
    for url in ("/login", "/admin/", "/admin/users/new", "/admin/cohorts", "/admin/audit"):
        html = client.get(url).data.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url


class TestCsrf:
    @pytest.fixture
    def app(self, app_factory):
        app = app_factory(WTF_CSRF_ENABLED=True)
        with app.app_context():
            yield app

    def test_login_without_token_is_rejected(self, client, make_user):
        user = make_user("trainee")
        r = client.post("/login", data={"username": user.username, "password": "password-123"})
        assert r.status_code == 400
        assert client.get("/trainee/").status_code == 302

    def test_login_with_token_works(self, client, make_user):
        user = make_user("trainee")
        page = client.get("/login").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post("/login", data={"username": user.username, "password": "password-123", "csrf_token": token})
        assert r.status_code == 302

    def test_admin_form_without_token_is_rejected(self, client, make_user):
        admin = make_user("admin")
        page = client.get("/login").data.decode()
        token = re.search(r'value="([^"]+)"', page.split('name="csrf_token"')[1]).group(1)
        client.post("/login", data={"username": admin.username, "password": "password-123", "csrf_token": token})
        r = client.post("/admin/users/new", data={"username": "x1", "display_name": "x", "role": "trainee",
                                                   "cohort_id": "0", "password": "password-123"})
        assert r.status_code == 400
        from app.models import User
        assert User.query.filter_by(username="x1").first() is None
