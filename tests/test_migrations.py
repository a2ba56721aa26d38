"""Migrations run up to head and back to base on an empty database, on both backends,
and the models match what the migrations build."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.conftest import make_config

EXPECTED_TABLES = {
    "users", "cohorts", "scenario_versions", "rubric_versions", "drills", "turns", "scores",
    "criterion_results", "score_adjustments", "certification_attempts", "certification_results",
    "assignments", "assignment_targets", "case_answers",
    "audit_events", "login_attempts", "login_throttles", "flag_overturns", "review_comments", "cohort_members",
    "jobs", "job_items", "notifications", "scenario_drafts",
}


def _roundtrip(app):
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert EXPECTED_TABLES <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()  # and up again: downgrade left nothing behind that blocks it
        db.engine.dispose()


def test_upgrade_downgrade_sqlite(tmp_path):
    _roundtrip(create_app(make_config(f"sqlite:///{tmp_path / 'm.db'}")))


@pytest.mark.postgres
def test_upgrade_downgrade_postgres(pg_database):
    _roundtrip(create_app(make_config(pg_database)))


def test_app_never_calls_create_all():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "app"
    hits = [str(p) for p in root.rglob("*.py") if "create_all(" in p.read_text(encoding="utf-8")]
    assert hits == []


def test_0002_upgrades_a_database_that_already_has_drills(tmp_path):
    """New non-null columns get server defaults, so existing rows survive the upgrade."""
    from sqlalchemy import text

    app = create_app(make_config(f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, role, active, created_at) "
                              "VALUES (1, 'u', 'u', 'x', 'trainee', 1, '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO scenario_versions (id, scenario_id, language, version, content_hash, title, "
                              "source_path, data, is_current, loaded_at) VALUES (1, 's', 'zh-CN', 1, 'h', 't', 'p', '{}', 1, "
                              "'2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO drills (id, trainee_id, scenario_version_id, customer_kind, seed, mode, status, "
                              "started_at) VALUES (1, 1, 1, 'scripted', 0, 'practice', 'active', '2026-01-01 00:00:00')"))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT hints_used, report_released FROM drills WHERE id = 1")).one()
        assert tuple(row) == (0, 1)
        db.engine.dispose()


def test_0006_gives_existing_certificates_a_code(tmp_path):
    """Certificates issued before 0006 get a distinct verification code and no expiry."""
    from sqlalchemy import text

    from app.core.certification_policy import normalise_code

    app = create_app(make_config(f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context():
        upgrade(revision="0003")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, role, active, created_at) "
                              "VALUES (1, 'u', 'u', 'x', 'trainee', 1, '2026-01-01 00:00:00')"))
            for i in (1, 2):
                conn.execute(text("INSERT INTO certification_attempts (id, user_id, track_id, status, details, "
                                  f"started_at) VALUES ({i}, 1, 'core', 'marked', '{{}}', '2026-01-01 00:00:00')"))
                conn.execute(text("INSERT INTO certification_results (id, user_id, attempt_id, track_id, grade, total, "
                                  f"awarded_at) VALUES ({i}, 1, {i}, 'core', 'good', 150, '2026-01-02 00:00:00')"))
        upgrade(revision="0006")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT verification_code, valid_until FROM certification_results")).all()
        codes = [r[0] for r in rows]
        assert len(set(codes)) == 2 and all(normalise_code(c) == c for c in codes)
        assert [r[1] for r in rows] == [None, None]
        db.engine.dispose()


def test_0010_keeps_each_person_in_their_cohort_and_back(tmp_path):
    """users.cohort_id becomes one membership row per person; downgrading gives each
    person one cohort again (the lowest id of theirs)."""
    from sqlalchemy import text

    app = create_app(make_config(f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO cohorts (id, name, created_at) VALUES (1, 'a', '2026-01-01 00:00:00'), "
                              "(2, 'b', '2026-01-01 00:00:00')"))
            for uid, cohort in ((1, "1"), (2, "2"), (3, "NULL")):
                conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, role, cohort_id, "
                                  f"active, created_at) VALUES ({uid}, 'u{uid}', 'u', 'x', 'trainee', {cohort}, 1, "
                                  "'2026-01-01 00:00:00')"))
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            rows = conn.execute(text("SELECT user_id, cohort_id FROM cohort_members ORDER BY user_id")).all()
            assert [tuple(r) for r in rows] == [(1, 1), (2, 2)]
            conn.execute(text("INSERT INTO cohort_members (cohort_id, user_id) VALUES (1, 2)"))  # u2 in both now
        downgrade(revision="0009")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, cohort_id FROM users ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 1), (2, 1), (3, None)]
        db.engine.dispose()
