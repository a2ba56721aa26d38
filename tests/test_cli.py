from app.models import AuditEvent, Cohort, User


def test_users_create(runner, app):
    result = runner.invoke(args=["users", "create", "wang", "--role", "trainer", "--password", "pass-word-1"])
    assert result.exit_code == 0, result.output
    user = User.query.filter_by(username="wang").one()
    assert user.role == "trainer" and user.check_password("pass-word-1")
    assert AuditEvent.query.filter_by(action="user_created", target="wang").count() == 1


def test_users_create_rejects_bad_role_and_duplicates(runner, app):
    result = runner.invoke(args=["users", "create", "x", "--role", "boss", "--password", "pass-word-1"])
    assert result.exit_code != 0 and "boss" in result.output
    runner.invoke(args=["users", "create", "li", "--role", "hr", "--password", "pass-word-1"])
    result = runner.invoke(args=["users", "create", "li", "--role", "hr", "--password", "pass-word-1"])
    assert result.exit_code == 1 and "taken" in result.output


def test_users_create_with_unknown_cohort(runner, app):
    result = runner.invoke(args=["users", "create", "zz", "--role", "trainee", "--cohort", "nope", "--password", "pass-word-1"])
    assert result.exit_code == 1 and "nope" in result.output


def test_seed_demo_is_idempotent(runner, app):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "trainee-demo" in first.output
    count = User.query.count()
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0 and "(existed)" in second.output
    assert User.query.count() == count == 5
    cohort = Cohort.query.one()
    assert cohort.trainer.username == "trainer"
    assert {u.username for u in cohort.members} == {"trainee", "trainee2"}


def test_seed_demo_refused_when_disabled(app_factory):
    app = app_factory(DEMO_ACCOUNTS=False)
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 1 and "disabled" in result.output
