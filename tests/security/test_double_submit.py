"""Double submits of the login and administration forms: each gives one result and a
clear answer, never a 500. A race is made deterministic by inserting the competing row
(as the other request would) between the form's duplicate check and its insert."""
from __future__ import annotations

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import AuditEvent, Cohort, User
from app.services import accounts
from tests.security.support import PASSWORD, login


def _count(model, **where) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.session.scalar(stmt)


def test_a_user_created_twice_at_once_is_one_user_and_a_409(app, client, world, monkeypatch):
    login(client, world.admin)
    real = accounts.create_user

    def racing(username, *args, **kwargs):
        user = real(username, *args, **kwargs)  # the duplicate check has passed...
        with db.engine.begin() as conn:         # ...and the other submit commits first
            conn.execute(insert(User.__table__).values(username=username.strip(), display_name="x", role="trainee",
                                                       password_hash="x", active=True, session_version=0,
                                                       created_at=db.func.now()))
        return user

    monkeypatch.setattr(accounts, "create_user", racing)
    r = client.post("/admin/users/new", data={"username": "twin", "display_name": "双击", "role": "trainee",
                                               "cohort_id": "0", "password": "first-password-1"})
    assert r.status_code == 409
    assert "刚刚被占用" in r.get_data(as_text=True)
    assert _count(User, username="twin") == 1
    assert _count(AuditEvent, action="user_created") == 0  # the winner's own request audits it


def test_a_user_created_twice_in_a_row_is_a_form_error(app, client, world):
    login(client, world.admin)
    data = {"username": "twin", "display_name": "双击", "role": "trainee", "cohort_id": "0", "password": "first-password-1"}
    assert client.post("/admin/users/new", data=data).status_code == 302
    assert client.post("/admin/users/new", data=data).status_code == 400
    assert _count(User, username="twin") == 1


def test_a_cohort_created_twice_at_once_is_one_cohort_and_a_409(app, client, world, monkeypatch):
    login(client, world.admin)
    from sqlalchemy.orm import Session

    real_flush = Session.flush
    raced = []

    def racing_flush(self, *args, **kwargs):
        pending = [o for o in self.new if isinstance(o, Cohort)]
        if pending and not raced:
            raced.append(True)
            with db.engine.begin() as conn:
                conn.execute(insert(Cohort.__table__).values(name=pending[0].name, created_at=db.func.now()))
        return real_flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", racing_flush)
    r = client.post("/admin/cohorts", data={"name": "双击班", "trainer_id": "0"})
    assert r.status_code == 409 and "刚刚创建" in r.get_data(as_text=True)
    assert _count(Cohort, name="双击班") == 1


def test_a_login_submitted_twice_logs_in_once_and_lands_home(app, client, world):
    data = {"username": "trainee-a", "password": PASSWORD}
    first, second = client.post("/login", data=data), client.post("/login", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == "/trainee/"
    assert _count(AuditEvent, action="login") == 1


def test_a_logout_submitted_twice_is_harmless(app, client, world):
    login(client, world.a.trainee)
    assert client.post("/logout").status_code == 302
    r = client.post("/logout")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert _count(AuditEvent, action="logout") == 1
