"""Configuration from the environment.

The local default needs nothing set: SQLite in the instance folder and a secret key
generated once and kept there. Production refuses to start without SECRET_KEY and
DATABASE_URL, so a forgotten variable never falls back to a guessable secret.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def local_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """Return the secret key stored in the instance folder, creating it on first use."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(uri: str, options: dict, pool_size: int, max_overflow: int) -> dict:
    """SQLAlchemy engine options with the pool sized, except for an in-memory SQLite
    database (one shared connection, no pool to size)."""
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() == "sqlite" and (url.database in (None, "", ":memory:")
                                               or url.query.get("mode") == "memory"):
        return dict(options)
    return {"pool_size": pool_size, "max_overflow": max_overflow, **options}


class Config:
    ENV_NAME = "base"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'hotline.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Database connections each process may hold: one per thread that queries at once.
    # gunicorn.conf.py sets DB_POOL_SIZE to its threads per worker: a smaller pool makes a
    # request queue for a connection and fail after 30 s (SQLAlchemy's pool_timeout).
    DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "5"))
    DB_MAX_OVERFLOW = int(os.environ.get("DB_MAX_OVERFLOW", "10"))
    SECRET_KEY = os.environ.get("SECRET_KEY")

    SCENARIOS_DIR = os.environ.get("SCENARIOS_DIR", str(BASE_DIR / "scenarios"))
    RUBRICS_DIR = os.environ.get("RUBRICS_DIR", str(BASE_DIR / "rubrics"))
    # The centre's operator: operators/<OPERATOR>.yaml fills the scenarios' {operator.…}
    # placeholders (hotline, number prefixes, forwarding codes). China Mobile by default,
    # as most of the content's customers have China Mobile numbers.
    OPERATOR = os.environ.get("OPERATOR", "china_mobile")
    CACHE_DIR = os.environ.get("HOTLINE_CACHE_DIR", str(INSTANCE_DIR / "cache"))

    OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL")
    OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY")
    OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    OPENAI_TIMEOUT = float(os.environ.get("OPENAI_TIMEOUT", "20"))
    LLM_JUDGE_ENABLED = _env_bool("LLM_JUDGE_ENABLED", False)
    # A second opinion on each drill turn's speech acts from the model (README, "Optional
    # LLM understanding"): off by default, as it adds a model call to every turn.
    LLM_UNDERSTANDING = _env_bool("LLM_UNDERSTANDING", False)
    LLM_UNDERSTANDING_RULE = os.environ.get("LLM_UNDERSTANDING_RULE", "add")
    LLM_UNDERSTANDING_TIMEOUT = float(os.environ.get("LLM_UNDERSTANDING_TIMEOUT", "5"))
    # Acts the model may add under the rule "add" (comma-separated); unset: the ones chosen
    # for the llm tier's model in benchmarks/RESULTS.md. Rerun that benchmark for another model.
    LLM_UNDERSTANDING_ADDS = os.environ.get("LLM_UNDERSTANDING_ADDS")

    BABEL_DEFAULT_LOCALE = "zh"
    LANGUAGES = ("zh", "en")
    # The centre's time zone: every time a person reads is in it (stored times stay UTC).
    CENTRE_TIMEZONE = os.environ.get("CENTRE_TIMEZONE", "Asia/Shanghai")
    # The language of the centre's calls: a new drill's customer speaks it unless the
    # trainee or the assignment chooses another; never taken from the interface language.
    CENTRE_LANGUAGE = os.environ.get("CENTRE_LANGUAGE", "zh-CN")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = None  # a long drill must not lose its token mid-call

    # Login throttling (docs/security.md, "Login throttling"): backoff, never a lock.
    # An account's guesses wait after LOGIN_MAX_FAILURES failures, from addresses it has not
    # logged in from (LOGIN_BACKOFF_BASE seconds, doubling up to LOGIN_ACCOUNT_MAX_WAIT); a
    # client address waits after LOGIN_ADDRESS_FREE failures (up to LOGIN_ADDRESS_MAX_WAIT).
    # Failures are forgotten LOGIN_WINDOW_SECONDS after the last one.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_ADDRESS_FREE = int(os.environ.get("LOGIN_ADDRESS_FREE", "20"))
    LOGIN_BACKOFF_BASE = float(os.environ.get("LOGIN_BACKOFF_BASE", "15"))
    LOGIN_ACCOUNT_MAX_WAIT = float(os.environ.get("LOGIN_ACCOUNT_MAX_WAIT", "300"))
    LOGIN_ADDRESS_MAX_WAIT = float(os.environ.get("LOGIN_ADDRESS_MAX_WAIT", "900"))
    LOGIN_WINDOW_SECONDS = int(os.environ.get("LOGIN_WINDOW_SECONDS", "900"))

    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For gives the client
    # address that the audit log and login throttling record; 0 ignores the header.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # uploads of transcript batches
    # One imported transcript file: refused past these before it is parsed or scored (a
    # 3 MB file of 100,000 turns once held a worker past its timeout). The largest file
    # accepted is measured in benchmarks/RESULTS.md ("Bounded uploads and PDFs").
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(512 * 1024)))
    IMPORT_MAX_TURNS = int(os.environ.get("IMPORT_MAX_TURNS", "400"))
    IMPORT_MAX_TURN_CHARS = int(os.environ.get("IMPORT_MAX_TURN_CHARS", "5000"))
    # The PDF shows at most this many characters of one turn, and of the transcript in all
    # (the rest is cut with a note): a 1.5-million-character turn once took 1 GiB.
    PDF_MAX_TURN_CHARS = int(os.environ.get("PDF_MAX_TURN_CHARS", "5000"))
    PDF_MAX_TRANSCRIPT_CHARS = int(os.environ.get("PDF_MAX_TRANSCRIPT_CHARS", "200000"))
    MAX_TURN_CHARS = 2000
    # Per trainee, within RATE_WINDOW_SECONDS: new drills started, and turns sent in all
    # their drills; past either the request gets 429 (0 turns a limit off). A person types
    # far slower; a script in a loop does not.
    RATE_WINDOW_SECONDS = int(os.environ.get("RATE_WINDOW_SECONDS", "60"))
    DRILL_STARTS_PER_WINDOW = int(os.environ.get("DRILL_STARTS_PER_WINDOW", "10"))
    TURNS_PER_WINDOW = int(os.environ.get("TURNS_PER_WINDOW", "60"))
    # A turn sent without `after` repeating the previous answered agent turn within this
    # many seconds is taken as a resend of it, not stored again.
    TURN_RESEND_SECONDS = int(os.environ.get("TURN_RESEND_SECONDS", "120"))
    # Points off a practice drill's total per hint, unless an assignment sets its own.
    HINT_PENALTY = float(os.environ.get("HINT_PENALTY", "2"))
    XAPI_BASE_IRI = os.environ.get("XAPI_BASE_IRI", "https://hotline-coach.example/xapi/")
    # What a certificate states about its issuer: the organisation, the person who signs
    # (name and title, printed under the signature line) and the text round the seal
    # (default: the organisation). Anyone can check a certificate at /verify/<code>.
    CERT_ORGANISATION = os.environ.get("CERT_ORGANISATION", "坐席陪练培训中心 Hotline Coach Training Centre")
    CERT_SIGNATORY = os.environ.get("CERT_SIGNATORY", "")
    CERT_SIGNATORY_TITLE = os.environ.get("CERT_SIGNATORY_TITLE", "培训负责人 Head of Training")
    CERT_SEAL_TEXT = os.environ.get("CERT_SEAL_TEXT", "")

    # Background jobs (Celery, README "Background jobs"). Without a broker every job runs
    # at once inside the request that starts it (task_always_eager), so `make run` needs
    # nothing more; production sets CELERY_BROKER_URL (Redis) and runs `celery worker`.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL")
    # Jobs keep their state in the database (the jobs table), not in a result backend.
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND")
    CELERY_ALWAYS_EAGER = _env_bool("CELERY_ALWAYS_EAGER", not CELERY_BROKER_URL)
    # A task a worker took but never acknowledged (the worker was killed) goes back on the
    # queue after this many seconds; it must exceed the longest task (one drill's score).
    CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    # Tries of a task that fails on something passing (database locked, server gone), with
    # backoff doubling from CELERY_RETRY_BACKOFF seconds; a fault of the input never retries.
    CELERY_MAX_RETRIES = int(os.environ.get("CELERY_MAX_RETRIES", "5"))
    CELERY_RETRY_BACKOFF = float(os.environ.get("CELERY_RETRY_BACKOFF", "2"))
    # With a worker: a drill still unscored this many seconds after its end (its task was
    # lost before it reached the broker) is queued again when its report is opened.
    SCORING_REQUEUE_SECONDS = int(os.environ.get("SCORING_REQUEUE_SECONDS", "60"))

    DEMO_ACCOUNTS = _env_bool("DEMO_ACCOUNTS", True)
    LOAD_CONTENT_ON_START = _env_bool("LOAD_CONTENT_ON_START", True)
    # benchmarks/turn_bench.py's baseline route (app/bench.py); ignored in production.
    BENCH_ROUTES = _env_bool("BENCH_ROUTES", False)


class DevelopmentConfig(Config):
    """The local default; create_app() fills SECRET_KEY from the instance folder if unset."""

    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    DEMO_ACCOUNTS = _env_bool("DEMO_ACCOUNTS", False)
    BENCH_ROUTES = False

    @classmethod
    def check(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "production configuration needs these environment variables: " + ", ".join(missing)
            )


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SECRET_KEY = "testing-only-secret"
    WTF_CSRF_ENABLED = False
    LOGIN_MAX_FAILURES = 5
    LOGIN_ADDRESS_FREE = 20
    LOGIN_BACKOFF_BASE = 15.0
    LOGIN_ACCOUNT_MAX_WAIT = 300.0
    LOGIN_ADDRESS_MAX_WAIT = 900.0
    LOGIN_WINDOW_SECONDS = 900
    LOAD_CONTENT_ON_START = False
    # Jobs run inside the request unless a test starts a worker (tests/jobs).
    CELERY_BROKER_URL = None
    CELERY_ALWAYS_EAGER = True
    # Off unless a test sets them: tests start drills and send turns faster than people.
    DRILL_STARTS_PER_WINDOW = 0
    TURNS_PER_WINDOW = 0


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("APP_ENV", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}") from None
    if cls is ProductionConfig:
        ProductionConfig.check()
    return cls
