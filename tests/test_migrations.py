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
    "audit_events", "login_attempts",
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
