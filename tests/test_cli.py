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


def test_flask_drill_json_is_scored_like_flask_score(runner, app, tmp_path):
    import json
    from pathlib import Path

    script = Path(__file__).parent / "data" / "agent_scripts" / "billing_complaint.good.txt"
    result = runner.invoke(args=["drill", "billing_complaint", "--seed", "7", "--agent-lines", str(script), "--json"])
    assert result.exit_code == 0, result.output
    drill = json.loads(result.output)
    assert set(drill) >= {"scenario", "persona", "customer", "seed", "outcome", "turns", "score"}
    assert drill["outcome"] == "resolved" and drill["seed"] == 7
    assert drill["turns"][0]["speaker"] == "customer"  # the customer states the problem first
    # The export, scored by `flask score`, gets the same score.
    export = tmp_path / "t.json"
    export.write_text(json.dumps({"format": "transcript/1", "scenario": "billing_complaint", "language": "zh-CN",
                                  "persona": drill["persona"], "turns": drill["turns"]}, ensure_ascii=False),
                      encoding="utf-8")
    scored = runner.invoke(args=["score", str(export), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["total"] == drill["score"]["total"]


def test_flask_drill_unknown_scenario(runner, app):
    result = runner.invoke(args=["drill", "no_such_case", "--json"])
    assert result.exit_code == 2 and "no_such_case" in result.output


def test_flask_score_bad_file_names_the_json_path(runner, app, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "transcript/1", "scenario": "billing_complaint", '
                   '"turns": [{"speaker": "robot", "text": "hi"}]}', encoding="utf-8")
    result = runner.invoke(args=["score", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: turns[0].speaker" in result.output
