"""Shared fixtures: app → client → runner, a fresh database per test, auth helpers.

SQLite databases are copies of one migrated template (fast); PostgreSQL tests use a
private database on the server named by TEST_DATABASE_URL and are skipped, saying so,
only when that variable is unset outside CI (under CI=1 they fail instead).
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import TestingConfig

ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()


# Prepared exports go to a folder of each test app's own, never the project's instance folder.
_EXPORTS = Path(tempfile.mkdtemp(prefix="hotline-test-exports-"))


def make_config(database_url: str, **overrides) -> type:
    n = next(_counter)
    attrs = {"SQLALCHEMY_DATABASE_URI": database_url, "EXPORT_DIR": str(_EXPORTS / str(n)), **overrides}
    return type(f"TestConfig{n}", (TestingConfig,), attrs)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    # One intent-model cache for the whole run: the model is fitted once per language.
    path = Path(os.environ.get("HOTLINE_TEST_CACHE_DIR", tmp_path_factory.mktemp("cache")))
    os.environ["HOTLINE_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, cache_dir) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(make_config(f"sqlite:///{path}", CACHE_DIR=str(cache_dir)))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def app_factory(sqlite_template, tmp_path, cache_dir):
    """Build apps on fresh copies of the migrated SQLite database, with config overrides."""
    made = []

    def factory(**overrides):
        db_path = tmp_path / f"test{len(made)}.db"
        shutil.copy(sqlite_template, db_path)
        app = create_app(make_config(f"sqlite:///{db_path}", CACHE_DIR=str(cache_dir), **overrides))
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- PostgreSQL -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("CI is set but TEST_DATABASE_URL is not: under CI the PostgreSQL tests must run")
        pytest.skip("PostgreSQL tests skipped: TEST_DATABASE_URL is not set (`.ci/run` sets it)")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # a configured server that does not answer is a failure, not a skip
        pytest.fail(f"TEST_DATABASE_URL is set but PostgreSQL does not answer: {exc}")
    return url


@pytest.fixture
def pg_database(pg_server_url):
    """A new empty PostgreSQL database for one test; dropped afterwards."""
    name = f"hc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_app(pg_database, cache_dir):
    app = create_app(make_config(pg_database, CACHE_DIR=str(cache_dir)))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_app(request):
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return request.getfixturevalue("pg_app")


# --- people ---------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    from app.services.accounts import create_user

    seq = itertools.count(1)

    def factory(role: str = "trainee", username: str | None = None, password: str = "password-123",
                cohort=None, display_name: str | None = None):
        user = create_user(username or f"{role}{next(seq)}", password, role, display_name, cohort)
        db.session.commit()
        return user

    return factory


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = "password-123", follow: bool = False):
        return self.client.post("/login", data={"username": username, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(client, make_user, auth):
    """Create a user of `role` and log the test client in as them."""

    def do(role: str, **kwargs):
        user = make_user(role, **kwargs)
        response = auth.login(user.username)
        assert response.status_code == 302, response.data[:500]
        return user

    return do
