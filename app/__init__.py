"""Application factory: a table of contents, nothing else."""
from __future__ import annotations

from flask import Flask

from config import check_settings, config_from_env, engine_options, local_secret_key


def create_app(config_object: type | object | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    configure(app, config_object)
    register_proxy(app)
    register_extensions(app)
    register_jobs(app)
    register_content(app)
    register_url_converters(app)
    register_blueprints(app)
    register_bench_routes(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_input_guards(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, config_object) -> None:
    app.config.from_object(config_object or config_from_env())
    check_settings(app.config)  # a bad number fails the start, naming the setting
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {},
        app.config.get("DB_POOL_SIZE", 5), app.config.get("DB_MAX_OVERFLOW", 10))
    from app.json_body import JSONProvider

    app.json = JSONProvider(app)
    if not app.config.get("SECRET_KEY"):
        # Only the local default may invent a key; production must be given one.
        if app.config.get("ENV_NAME") == "production":
            raise RuntimeError("SECRET_KEY is not set")
        app.config["SECRET_KEY"] = local_secret_key()


def register_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from
    the X-Forwarded-For/-Proto headers they set; never otherwise (a client could forge them)."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def register_extensions(app: Flask) -> None:
    from app.extensions import babel, csrf, db, login_manager, migrate
    from app.i18n import select_locale

    db.init_app(app)
    register_sqlite_tuning(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", _migrations_dir())))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on the app context; a context that outlives one request
    # (tests, CLI) would keep the previous request's language.
    from flask_babel import refresh

    app.before_request(refresh)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    from app.auth.loader import load_user  # noqa: F401  (registers the user loader)


def register_jobs(app: Flask) -> None:
    """The Celery app for background jobs (app/celery_app.py): eager unless a broker is set."""
    from app.celery_app import celery_init_app

    celery_init_app(app)


def register_sqlite_tuning(app: Flask) -> None:
    """WAL and a busy timeout on the embedded SQLite file (app/sqlite.py); PostgreSQL as is."""
    from app.extensions import db
    from app.sqlite import tune_sqlite

    with app.app_context():
        for engine in db.engines.values():
            tune_sqlite(engine)


def register_content(app: Flask) -> None:
    """Validate scenario and rubric files; refuse to start on any fault (same messages as the CLI)."""
    from app.services.content import init_catalog

    init_catalog(app)


def register_url_converters(app: Flask) -> None:
    # Before the blueprints: a rule takes its converters from the map when it is added.
    from app.ids import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from app.admin.routes import bp as admin_bp
    from app.auth.routes import bp as auth_bp
    from app.editor.routes import bp as editor_bp
    from app.hr.routes import bp as hr_bp
    from app.notices.routes import bp as notices_bp
    from app.trainee.routes import bp as trainee_bp
    from app.trainer.routes import bp as trainer_bp
    from app.verify.routes import bp as verify_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(trainee_bp, url_prefix="/trainee")
    app.register_blueprint(trainer_bp, url_prefix="/trainer")
    app.register_blueprint(editor_bp, url_prefix="/editor")
    app.register_blueprint(hr_bp, url_prefix="/hr")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(notices_bp)  # every role
    app.register_blueprint(verify_bp)  # public: no login


def register_bench_routes(app: Flask) -> None:
    # The benchmark baseline route writes rows for anyone logged in as a trainee: only when
    # asked for (BENCH_ROUTES=1) and never in production, whatever the flag says.
    if app.config.get("BENCH_ROUTES") and app.config.get("ENV_NAME") != "production":
        from app.bench import bp as bench_bp

        app.register_blueprint(bench_bp, url_prefix="/bench")


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from app.security import add_security_headers

    app.after_request(add_security_headers)


def register_input_guards(app: Flask) -> None:
    from app.input_guard import refuse_nul_characters

    app.before_request(refuse_nul_characters)


def register_template_helpers(app: Flask) -> None:
    from app.core.dates import zone
    from app.i18n import local_time, template_globals

    zone(app.config.get("CENTRE_TIMEZONE") or "UTC")  # an unknown zone fails at start, naming the setting
    app.context_processor(template_globals)
    app.add_template_filter(local_time, "local")


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
