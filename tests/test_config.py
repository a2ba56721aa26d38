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
