"""Configuration from the environment.

The local default needs nothing set: SQLite in the instance folder and a secret key
generated once and kept there. Production refuses to start without SECRET_KEY and
DATABASE_URL, so a forgotten variable never falls back to a guessable secret.
"""
from __future__ import annotations

import math
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


class ConfigError(RuntimeError):
    """A setting the app cannot run with; the message names the setting and why."""


def _env_int(name: str, default: int) -> int:
    """The environment's whole number `name`, else `default`; ConfigError naming it if unreadable."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def _env_float(name: str, default: float) -> float:
    """The environment's number `name`, else `default`; ConfigError naming it if unreadable."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return float(default)
    try:
        return float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


# The numeric settings checked when the app is created (`check_settings`): name, whole
# number or not, the smallest value that makes sense and why. A limit of 0 is allowed only
# where the setting's comment says 0 turns it off.
NUMERIC_SETTINGS: tuple[tuple[str, bool, float, str], ...] = (
    ("DB_POOL_SIZE", True, 1, "a process needs at least one database connection"),
    ("DB_MAX_OVERFLOW", True, 0, "extra connections cannot be negative"),
    ("OPENAI_TIMEOUT", False, 0.001, "a model call needs time to answer"),
    ("LLM_UNDERSTANDING_TIMEOUT", False, 0.001, "a model call needs time to answer"),
    ("LOGIN_MAX_FAILURES", True, 1, "an account's first failed login must be allowed"),
    ("LOGIN_ADDRESS_FREE", True, 1, "an address's first failed login must be allowed"),
    ("LOGIN_BACKOFF_BASE", False, 0.001, "the first wait after the free failures must be longer than nothing"),
    ("LOGIN_ACCOUNT_MAX_WAIT", False, 0.001, "the longest wait must be longer than nothing"),
    ("LOGIN_ADDRESS_MAX_WAIT", False, 0.001, "the longest wait must be longer than nothing"),
    ("LOGIN_WINDOW_SECONDS", True, 1, "failures must be remembered for some time"),
    ("TRUSTED_PROXIES", True, 0, "a count of proxies cannot be negative"),
    ("MAX_CONTENT_LENGTH", True, 1, "a request must be allowed a body"),
    ("IMPORT_MAX_BYTES", True, 1, "an imported file must be bounded (0 would accept any size)"),
    ("IMPORT_MAX_TURNS", True, 1, "an imported file must be bounded (0 would accept any number of turns)"),
    ("IMPORT_MAX_TURN_CHARS", True, 1, "an imported turn must be bounded (0 would accept any length)"),
    ("PDF_MAX_TURN_CHARS", True, 1, "a PDF must be bounded (0 would print any length)"),
    ("PDF_MAX_TRANSCRIPT_CHARS", True, 1, "a PDF must be bounded (0 would print any length)"),
    ("MAX_TURN_CHARS", True, 1, "a turn must be allowed some text"),
    ("RATE_WINDOW_SECONDS", True, 1, "a rate needs a window"),
    ("DRILL_STARTS_PER_WINDOW", True, 0, "a limit cannot be negative (0 turns it off)"),
    ("TURNS_PER_WINDOW", True, 0, "a limit cannot be negative (0 turns it off)"),
    ("TURN_RESEND_SECONDS", True, 0, "a time cannot be negative (0: no resend is recognised)"),
    ("HINT_PENALTY", False, 0, "a penalty cannot be negative"),
    ("EXPORT_STREAM_MAX_ROWS", True, 0, "a count of rows cannot be negative (0: every export is a job)"),
    ("EXPORT_KEEP_HOURS", True, 1, "a prepared export must be kept long enough to be downloaded"),
)


def check_settings(config) -> None:
    """Refuse settings the app cannot run with: ConfigError naming each bad setting, its
    value and why. Run when the app is created, so a typo in the environment fails the
    start, not a login or an upload hours later. Absent settings are not checked."""
    problems = []
    for name, whole, minimum, why in NUMERIC_SETTINGS:
        if name not in config:
            continue
        value = config[name]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (whole and not isinstance(value, int)):
            problems.append(f"{name}={value!r} is not a {'whole number' if whole else 'number'}")
        elif not math.isfinite(value):
            problems.append(f"{name}={value!r} is not a finite number")
        elif value < minimum:
            problems.append(f"{name}={value!r} is below {minimum:g}: {why}")
    if not problems:
        for longest, name in (("LOGIN_ACCOUNT_MAX_WAIT", "account"), ("LOGIN_ADDRESS_MAX_WAIT", "address")):
            if longest in config and "LOGIN_BACKOFF_BASE" in config \
                    and config[longest] < config["LOGIN_BACKOFF_BASE"]:
                problems.append(f"{longest}={config[longest]!r} is below LOGIN_BACKOFF_BASE="
                                f"{config['LOGIN_BACKOFF_BASE']!r}: an {name}'s longest wait cannot be "
                                f"shorter than its first")
    method = config.get("PASSWORD_HASH_METHOD")
    if method is not None and config.get("ENV_NAME") != "testing" and not strong_password_hash(method):
        problems.append(f"PASSWORD_HASH_METHOD={method!r} is weaker than werkzeug's scrypt defaults "
                        f"(scrypt:32768:8:1): only the testing config may lower it")
    if problems:
        raise ConfigError("invalid settings: " + "; ".join(problems))


def strong_password_hash(method: str) -> bool:
    """Is `method` scrypt at werkzeug's default cost (N=2**15, r=8, p=1) or more?"""
    name, *params = str(method).split(":")
    if name != "scrypt" or len(params) not in (0, 3):
        return False
    try:
        n, r, p = (int(x) for x in params) if params else (2**15, 8, 1)
    except ValueError:
        return False
    return n >= 2**15 and r >= 8 and p >= 1


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
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 5)
    DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 10)
    SECRET_KEY = os.environ.get("SECRET_KEY")

    SCENARIOS_DIR = os.environ.get("SCENARIOS_DIR", str(BASE_DIR / "scenarios"))
    RUBRICS_DIR = os.environ.get("RUBRICS_DIR", str(BASE_DIR / "rubrics"))
    # Each scenario's excellent and poor agent scripts (app/core/agent_scripts.py): checked
    # by `flask scenarios validate`, written by `flask scenarios new`, played by the tests.
    AGENT_SCRIPTS_DIR = os.environ.get("AGENT_SCRIPTS_DIR", str(BASE_DIR / "tests" / "data" / "agent_scripts"))
    # The centre's operator: operators/<OPERATOR>.yaml fills the scenarios' {operator.…}
    # placeholders (hotline, number prefixes, forwarding codes). China Mobile by default,
    # as most of the content's customers have China Mobile numbers.
    OPERATOR = os.environ.get("OPERATOR", "china_mobile")
    CACHE_DIR = os.environ.get("HOTLINE_CACHE_DIR", str(INSTANCE_DIR / "cache"))

    OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL")
    OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY")
    OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    OPENAI_TIMEOUT = _env_float("OPENAI_TIMEOUT", 20)
    LLM_JUDGE_ENABLED = _env_bool("LLM_JUDGE_ENABLED", False)
    # A second opinion on each drill turn's speech acts from the model (README, "Optional
    # LLM understanding"): off by default, as it adds a model call to every turn.
    LLM_UNDERSTANDING = _env_bool("LLM_UNDERSTANDING", False)
    LLM_UNDERSTANDING_RULE = os.environ.get("LLM_UNDERSTANDING_RULE", "add")
    LLM_UNDERSTANDING_TIMEOUT = _env_float("LLM_UNDERSTANDING_TIMEOUT", 5)
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

    # E-mail copies of in-app notifications (app/services/notifications.py): off while
    # SMTP_HOST is unset. A failed send is logged and retried on the next notice, never an error page.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
    SMTP_FROM = os.environ.get("SMTP_FROM", "hotline-coach@localhost")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "5"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # How passwords are hashed: werkzeug's scrypt defaults (N=2**15, r=8, p=1; a few hundred
    # ms per check). Not read from the environment; only the testing config lowers it.
    PASSWORD_HASH_METHOD = "scrypt"
    WTF_CSRF_TIME_LIMIT = None  # a long drill must not lose its token mid-call

    # Login throttling (docs/security.md, "Login throttling"): backoff, never a lock.
    # An account's guesses wait after LOGIN_MAX_FAILURES failures, from addresses it has not
    # logged in from (LOGIN_BACKOFF_BASE seconds, doubling up to LOGIN_ACCOUNT_MAX_WAIT); a
    # client address waits after LOGIN_ADDRESS_FREE failures (up to LOGIN_ADDRESS_MAX_WAIT).
    # Failures are forgotten LOGIN_WINDOW_SECONDS after the last one.
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_ADDRESS_FREE = _env_int("LOGIN_ADDRESS_FREE", 20)
    LOGIN_BACKOFF_BASE = _env_float("LOGIN_BACKOFF_BASE", 15)
    LOGIN_ACCOUNT_MAX_WAIT = _env_float("LOGIN_ACCOUNT_MAX_WAIT", 300)
    LOGIN_ADDRESS_MAX_WAIT = _env_float("LOGIN_ADDRESS_MAX_WAIT", 900)
    LOGIN_WINDOW_SECONDS = _env_int("LOGIN_WINDOW_SECONDS", 900)

    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For gives the client
    # address that the audit log and login throttling record; 0 ignores the header.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # uploads of transcript batches
    # One imported transcript file: refused past these before it is parsed or scored (a
    # 3 MB file of 100,000 turns once held a worker past its timeout). The largest file
    # accepted is measured in benchmarks/RESULTS.md ("Bounded uploads and PDFs").
    IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 512 * 1024)
    IMPORT_MAX_TURNS = _env_int("IMPORT_MAX_TURNS", 400)
    IMPORT_MAX_TURN_CHARS = _env_int("IMPORT_MAX_TURN_CHARS", 5000)
    # The PDF shows at most this many characters of one turn, and of the transcript in all
    # (the rest is cut with a note): a 1.5-million-character turn once took 1 GiB.
    PDF_MAX_TURN_CHARS = _env_int("PDF_MAX_TURN_CHARS", 5000)
    PDF_MAX_TRANSCRIPT_CHARS = _env_int("PDF_MAX_TRANSCRIPT_CHARS", 200000)
    MAX_TURN_CHARS = 2000
    # Per trainee, within RATE_WINDOW_SECONDS: new drills started, and turns sent in all
    # their drills; past either the request gets 429 (0 turns a limit off). A person types
    # far slower; a script in a loop does not.
    RATE_WINDOW_SECONDS = _env_int("RATE_WINDOW_SECONDS", 60)
    DRILL_STARTS_PER_WINDOW = _env_int("DRILL_STARTS_PER_WINDOW", 10)
    TURNS_PER_WINDOW = _env_int("TURNS_PER_WINDOW", 60)
    # A turn sent without `after` repeating the previous answered agent turn within this
    # many seconds is taken as a resend of it, not stored again.
    TURN_RESEND_SECONDS = _env_int("TURN_RESEND_SECONDS", 120)
    # Points off a practice drill's total per hint, unless an assignment sets its own.
    HINT_PENALTY = _env_float("HINT_PENALTY", 2)
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
    # Certification exports of more rows than this are prepared as a job and downloaded
    # when ready; up to it they stream in the request. 2,000 rows: an XLSX export writes
    # its whole file before its first byte (about 0.4 ms a row, export_bench), so about a
    # second of waiting; a CSV of that size takes a tenth of that.
    EXPORT_STREAM_MAX_ROWS = _env_int("EXPORT_STREAM_MAX_ROWS", 2000)
    # Where prepared exports are written, and how long a file is kept after it is ready.
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE_DIR / "exports"))
    EXPORT_KEEP_HOURS = _env_int("EXPORT_KEEP_HOURS", 24)

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
    # Tests log in hundreds of times: N=2**10 costs about 2 ms a check against about 100-400
    # ms. The tests that prove the production hashes (tests/security/test_login_security.py)
    # set "scrypt" back; `check_settings` refuses anything weaker outside testing.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
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
