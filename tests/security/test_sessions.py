"""Sessions end on the server: a copy of a session cookie (taken by an attacker, or left
in another browser) stops working the moment its user logs out, has the password reset,
is deactivated or changes role. Each test copies the cookie into a second client, as an
attacker would, and checks that client gets the login page (or 401), not the content."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests.security.support import PASSWORD, login


def _copy(client, app):
    """A second client holding the same session cookie as `client`."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _refused(client, path: str) -> bool:
    r = client.get(path)
    return r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_copied_cookie_dies_with_logout(app, client, world):
    login(client, world.a.trainee)
    thief = _copy(client, app)
    assert thief.get("/trainee/").status_code == 200  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert _refused(thief, "/trainee/")


def test_logout_ends_the_users_other_sessions_too(app, client, world):
    login(client, world.a.trainer)
    other = app.test_client()
    login(other, world.a.trainer)  # the same user in a second browser
    client.post("/logout")
    assert _refused(other, "/trainer/")


def test_a_password_reset_ends_every_session_of_that_user(app, client, world):
    login(client, world.a.trainee)
    thief = _copy(client, app)
    admin = app.test_client()
    login(admin, world.admin)
    r = admin.post(f"/admin/users/{world.a.trainee}/password",
                   data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert r.status_code == 302
    assert _refused(thief, "/trainee/") and _refused(client, "/trainee/")
    assert admin.get("/admin/").status_code == 200  # the administrator's own session is untouched
    assert client.post("/login", data={"username": "trainee-a", "password": "brand-new-pass"}).status_code == 302


def _edit(admin, user_id: int, **changes):
    user = db.session.get(User, user_id)
    data = {"display_name": user.display_name, "role": user.role, "cohort_ids": [str(c.id) for c in user.cohorts], "active": "y"}
    data.update(changes)
    if data["active"] is None:
        del data["active"]
    r = admin.post(f"/admin/users/{user_id}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def test_deactivation_ends_every_session(app, client, world):
    login(client, world.a.trainer)
    thief = _copy(client, app)
    admin = app.test_client()
    login(admin, world.admin)
    _edit(admin, world.a.trainer, active=None)
    assert _refused(client, "/trainer/") and _refused(thief, "/trainer/")


def test_a_role_change_ends_every_session(app, client, world):
    login(client, world.hr)
    thief = _copy(client, app)
    admin = app.test_client()
    login(admin, world.admin)
    _edit(admin, world.hr, role="trainee")
    assert _refused(thief, "/trainee/") and _refused(client, "/hr/")


def test_an_edit_that_keeps_role_and_status_keeps_the_sessions(app, client, world):
    login(client, world.a.trainee)
    admin = app.test_client()
    login(admin, world.admin)
    _edit(admin, world.a.trainee, display_name="新名字")
    assert client.get("/trainee/").status_code == 200


def test_only_a_well_formed_session_id_names_a_user():
    """Cookies from before session versions (the user id alone) and forged ids load nobody."""
    from app.auth.loader import parse_session_id

    assert parse_session_id("7:3") == (7, 3)
    for forged in ("7", "7:", ":3", "7:-1", "x:0", "7:٠", "٧:0", "9" * 40 + ":0", "7:3:1", "", None):
        assert parse_session_id(forged) is None, forged


def test_an_ended_session_writes_nothing(app, client, world):
    from app.models import Turn

    login(client, world.a.trainee)
    thief = _copy(client, app)
    client.post("/logout")
    before = db.session.scalar(select(func.count()).select_from(Turn))
    r = thief.post(f"/trainee/drills/{world.a.live_drill}/turns", json={"text": "您好"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Turn)) == before
    assert db.session.scalar(select(User.session_version).where(User.id == world.a.trainee)) >= 1


def test_changing_ones_own_password_ends_the_other_sessions_and_keeps_this_one(app, client, world):
    login(client, world.a.trainer)
    thief = _copy(client, app)
    other = app.test_client()
    login(other, world.a.trainer)
    r = client.post("/account/password", data={"current": PASSWORD, "password": "my-new-password", "confirm": "my-new-password"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/trainer/")
    assert client.get("/trainer/").status_code == 200  # this browser goes on
    assert _refused(thief, "/trainer/") and _refused(other, "/trainer/")
    assert app.test_client().post("/login", data={"username": "trainer-a", "password": "my-new-password"}).status_code == 302


def test_a_wrong_current_password_changes_nothing_and_guessing_there_is_throttled(app, client, world):
    login(client, world.a.trainee)
    before = db.session.scalar(select(User.password_hash).where(User.id == world.a.trainee))
    codes = [client.post("/account/password", data={"current": f"guess-{n}", "password": "my-new-password",
                                                     "confirm": "my-new-password"}) for n in range(7)]
    assert "当前密码不正确" in codes[0].get_data(as_text=True)
    codes = [r.status_code for r in codes]
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert codes == [400] * limit + [429] * (7 - limit)
    db.session.rollback()
    assert db.session.scalar(select(User.password_hash).where(User.id == world.a.trainee)) == before
    assert client.get("/trainee/").status_code == 200  # a wrong guess does not log anyone out


def test_the_password_page_needs_a_login(app, client, world):
    r = client.get("/account/password")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
