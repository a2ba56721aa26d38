from app.extensions import db
from app.models import AuditEvent, Cohort, User


def test_admin_creates_a_user(client, login_as):
    login_as("admin")
    r = client.post("/admin/users/new", data={
        "username": "zhang.san", "display_name": "张三", "role": "trainee",
        "cohort_id": "0", "password": "longenough1"})
    assert r.status_code == 302
    user = User.query.filter_by(username="zhang.san").one()
    assert user.role == "trainee" and user.check_password("longenough1")
    assert AuditEvent.query.filter_by(action="user_created", target="zhang.san").count() == 1


def test_duplicate_username_is_a_form_error(client, login_as, make_user):
    make_user("trainee", username="dup")
    login_as("admin")
    r = client.post("/admin/users/new", data={
        "username": "dup", "display_name": "x", "role": "trainee", "cohort_id": "0", "password": "longenough1"})
    assert r.status_code == 400
    assert "dup" in r.data.decode()


def test_short_password_and_bad_role_rejected(client, login_as):
    login_as("admin")
    r = client.post("/admin/users/new", data={
        "username": "u1", "display_name": "x", "role": "overlord", "cohort_id": "0", "password": "short"})
    assert r.status_code == 400
    assert User.query.filter_by(username="u1").first() is None


def test_admin_assigns_role_and_cohort(client, login_as, make_user):
    login_as("admin")
    cohort = Cohort(name="二班")
    db.session.add(cohort)
    db.session.commit()
    user = make_user("trainee")
    r = client.post(f"/admin/users/{user.id}", data={
        "display_name": "李四", "role": "trainer", "cohort_ids": str(cohort.id), "active": "y"})
    assert r.status_code == 302
    db.session.refresh(user)
    assert (user.role, [c.id for c in user.cohorts], user.display_name) == ("trainer", [cohort.id], "李四")
    assert AuditEvent.query.filter_by(action="user_updated").count() == 1


def test_admin_cannot_demote_themselves(client, login_as):
    admin = login_as("admin")
    client.post(f"/admin/users/{admin.id}", data={"display_name": "a", "role": "trainee", "cohort_id": "0", "active": "y"})
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_admin_resets_a_password(client, login_as, make_user):
    login_as("admin")
    user = make_user("trainee")
    r = client.post(f"/admin/users/{user.id}/password", data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert r.status_code == 302
    db.session.refresh(user)
    assert user.check_password("brand-new-pass")
    assert AuditEvent.query.filter_by(action="password_reset").count() == 1


def test_password_reset_mismatch_changes_nothing(client, login_as, make_user):
    login_as("admin")
    user = make_user("trainee")
    client.post(f"/admin/users/{user.id}/password", data={"password": "brand-new-pass", "confirm": "other-pass-12"})
    db.session.refresh(user)
    assert user.check_password("password-123")


def test_admin_creates_cohort_with_trainer(client, login_as, make_user):
    login_as("admin")
    trainer = make_user("trainer")
    r = client.post("/admin/cohorts", data={"name": "2026秋季班", "trainer_id": str(trainer.id)})
    assert r.status_code == 302
    assert Cohort.query.filter_by(name="2026秋季班").one().trainer_id == trainer.id


def test_unknown_user_is_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/users/99999").status_code == 404


def test_audit_page_lists_events(client, login_as):
    login_as("admin")
    html = client.get("/admin/audit").data.decode()
    assert "login" in html
