import pytest

import config
from app import create_app
from config import ProductionConfig, TestingConfig, config_from_env, local_secret_key, normalise_database_url


def test_testing_config_uses_memory_sqlite():
    assert TestingConfig.SQLALCHEMY_DATABASE_URI == "sqlite://"
    assert TestingConfig.TESTING


def test_factory_builds_app_with_given_config(app):
    assert app.testing
    assert app.config["SECRET_KEY"]
    assert {"auth", "trainee", "trainer", "hr", "admin"} <= set(app.blueprints)


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        config_from_env()


def test_production_with_secrets_has_secure_cookies(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert config_from_env() is ProductionConfig
    assert ProductionConfig.SESSION_COOKIE_SECURE
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY


def test_unknown_app_env_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(RuntimeError, match="staging"):
        config_from_env()


def test_local_secret_key_is_generated_once_and_private(tmp_path):
    first = local_secret_key(tmp_path)
    assert len(first) == 64
    assert local_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_app_gets_a_local_secret(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr("app.local_secret_key", lambda: local_secret_key(tmp_path))

    class Dev(config.DevelopmentConfig):
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        LOAD_CONTENT_ON_START = False

    app = create_app(Dev)
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text()


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u@h:5433/db", "postgresql+psycopg://u@h:5433/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_core_never_imports_flask():
    import ast
    from pathlib import Path

    core = Path(__file__).resolve().parent.parent / "app" / "core"
    offenders = []
    for path in core.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "flask" or n.startswith(("flask.", "flask_")) for n in names):
                offenders.append(str(path))
            if isinstance(node, ast.Name) and node.id == "current_app":
                offenders.append(str(path))
    assert not offenders, f"app/core must stay Flask-free: {sorted(set(offenders))}"


def test_every_ui_string_has_a_chinese_translation_and_the_catalog_is_compiled():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "scripts/i18n.py", "--check"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- serving: SQLite for a class, the pool, gunicorn.conf.py, the warm-up --------------------

def test_sqlite_file_is_tuned_for_many_writers(tmp_path):
    """WAL (readers never wait for the writer), a 30 s busy timeout instead of the
    driver's 5 s, synchronous=NORMAL: on every connection of a SQLite file."""
    from sqlalchemy import text

    from app.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(f"sqlite:///{tmp_path / 'class.db'}"))
    with app.app_context():
        for _ in range(2):  # a fresh pooled connection is tuned too, not only the first
            with db.engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
                assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            db.engine.dispose()


def test_database_pool_follows_the_threads_except_in_memory(tmp_path, monkeypatch):
    from app.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(f"sqlite:///{tmp_path / 'pool.db'}", DB_POOL_SIZE=32, DB_MAX_OVERFLOW=4))
    with app.app_context():
        assert db.engine.pool.size() == 32 and db.engine.pool._max_overflow == 4
    memory = create_app(TestingConfig)  # sqlite://: one shared connection, nothing to size
    with memory.app_context():
        assert type(db.engine.pool).__name__ == "StaticPool"


def _gunicorn_conf(monkeypatch, **env):
    import importlib.util

    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "OPENAI_TIMEOUT", "DB_POOL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", config.BASE_DIR / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_conf_threads_one_worker_per_core(monkeypatch):
    import os

    conf = _gunicorn_conf(monkeypatch)
    assert conf.worker_class == "gthread" and conf.threads >= 16
    assert conf.workers == len(os.sched_getaffinity(0))
    assert conf.preload_app and callable(conf.when_ready)
    # Every thread can hold a connection; a sync worker (if chosen) outlives a model call.
    assert os.environ["DB_POOL_SIZE"] == str(conf.threads)
    assert conf.timeout > 3 * 20 and conf.graceful_timeout > 20


def test_gunicorn_conf_is_overridden_from_the_environment(monkeypatch):
    import os

    conf = _gunicorn_conf(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="8", GUNICORN_BIND="0.0.0.0:9000",
                          OPENAI_TIMEOUT="60")
    assert (conf.workers, conf.threads, conf.bind) == (3, 8, "0.0.0.0:9000")
    assert os.environ["DB_POOL_SIZE"] == "8"
    assert conf.timeout >= 3 * 60 and conf.graceful_timeout >= 60


def test_warm_up_loads_models_and_dictionary_and_leaves_no_connection(app, monkeypatch):
    """What the first drill turn used to pay for (the act models, jieba's dictionary) is
    loaded, and no database connection is left open to cross gunicorn's fork."""
    from app.core import acts, clauses
    from app.extensions import db
    from app.services.warmup import warm_up

    monkeypatch.setattr(clauses, "_tokenizer", None)  # as in a fresh process
    monkeypatch.setattr(acts, "_MEMO", {})
    monkeypatch.setattr(acts, "_STAMPED", {})
    timings = warm_up(app)
    assert {"catalog", "engines", "turn zh-CN", "turn en"} <= set(timings)
    assert clauses._tokenizer is not None and clauses._tokenizer.initialized
    assert {key[0] for key in acts._MEMO} == {"zh-CN", "en"}
    assert db.engine.pool.checkedout() == 0
