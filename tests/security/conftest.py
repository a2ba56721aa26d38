"""Every security test starts from a copy of one database holding the `world` of
`support.py`, built once per session (building it takes seconds; copying a file does not)."""
from __future__ import annotations

import shutil

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from tests.conftest import make_config
from tests.security.support import World, build_world


@pytest.fixture(scope="session")
def world_exports(tmp_path_factory) -> str:
    """The export folder of the world's apps: HR's prepared export is written once, when
    the world is built, and every copy of the database finds it there."""
    return str(tmp_path_factory.mktemp("security-exports"))


@pytest.fixture(scope="session")
def world_template(sqlite_template, tmp_path_factory, cache_dir, world_exports) -> tuple:
    path = tmp_path_factory.mktemp("security") / "world.db"
    shutil.copy(sqlite_template, path)
    app = create_app(make_config(f"sqlite:///{path}", CACHE_DIR=str(cache_dir), EXPORT_DIR=world_exports))
    with app.app_context():
        world = build_world()
        db.session.remove()
        db.engine.dispose()
    return path, world


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The `app` fixture keeps an app context open for the test, and a request would reuse
    it: `g` would then carry the logged-in user (Flask-Login) and the CSRF token from
    one request to the next, and one client's login would leak into another client."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app_factory(world_template, world_exports, tmp_path, cache_dir):
    """Apps (with config overrides) on fresh copies of the world's database."""
    made = []

    def factory(**overrides):
        db_path = tmp_path / f"world{len(made)}.db"
        shutil.copy(world_template[0], db_path)
        app = create_app(make_config(f"sqlite:///{db_path}", CACHE_DIR=str(cache_dir),
                                     **{"EXPORT_DIR": world_exports, **overrides}))
        app.test_client_class = IsolatedClient
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def world(app, world_template) -> World:
    return world_template[1]
