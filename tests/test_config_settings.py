"""Numeric settings are checked when the app is created (issue 16): a bad LOGIN_*,
IMPORT_MAX_*, PDF_MAX_* or rate-limit value fails the start with an error naming the
setting and the reason, instead of a lockout that never ends, an unbounded upload or a
500 on the first login."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from config import NUMERIC_SETTINGS, ConfigError, TestingConfig, check_settings
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[1]


def _settings(**over) -> dict:
    values = {name: getattr(TestingConfig, name) for name, *_ in NUMERIC_SETTINGS}
    return {**values, **over}


def test_the_shipped_defaults_pass():
    check_settings(_settings())


@pytest.mark.parametrize("name, value, reason", [
    ("LOGIN_MAX_FAILURES", 0, "below 1: an account's first failed login must be allowed"),
    ("LOGIN_ADDRESS_FREE", -3, "below 1"),
    ("LOGIN_BACKOFF_BASE", 0.0, "below 0.001"),
    ("LOGIN_BACKOFF_BASE", float("nan"), "not a finite number"),
    ("LOGIN_ACCOUNT_MAX_WAIT", float("inf"), "not a finite number"),
    ("LOGIN_WINDOW_SECONDS", 0, "below 1"),
    ("LOGIN_WINDOW_SECONDS", 1.5, "not a whole number"),
    ("LOGIN_MAX_FAILURES", "5", "not a whole number"),
    ("LOGIN_MAX_FAILURES", True, "not a whole number"),
    ("IMPORT_MAX_BYTES", 0, "0 would accept any size"),
    ("IMPORT_MAX_TURNS", -1, "below 1"),
    ("IMPORT_MAX_TURN_CHARS", 0, "below 1"),
    ("PDF_MAX_TURN_CHARS", 0, "below 1"),
    ("RATE_WINDOW_SECONDS", 0, "a rate needs a window"),
    ("DRILL_STARTS_PER_WINDOW", -1, "below 0"),
    ("TURNS_PER_WINDOW", None, "not a whole number"),
    ("TRUSTED_PROXIES", -1, "below 0"),
    ("HINT_PENALTY", -2.0, "a penalty cannot be negative"),
])
def test_a_bad_number_is_refused_naming_the_setting_and_why(name, value, reason):
    with pytest.raises(ConfigError) as caught:
        check_settings(_settings(**{name: value}))
    assert f"{name}={value!r}" in str(caught.value) and reason in str(caught.value)


def test_zero_turns_a_rate_limit_off_and_is_allowed():
    check_settings(_settings(DRILL_STARTS_PER_WINDOW=0, TURNS_PER_WINDOW=0, TURN_RESEND_SECONDS=0, TRUSTED_PROXIES=0))


def test_the_longest_wait_cannot_be_shorter_than_the_first():
    with pytest.raises(ConfigError, match="LOGIN_ACCOUNT_MAX_WAIT=10.0 is below LOGIN_BACKOFF_BASE=15.0"):
        check_settings(_settings(LOGIN_ACCOUNT_MAX_WAIT=10.0, LOGIN_BACKOFF_BASE=15.0))


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        check_settings(_settings(LOGIN_MAX_FAILURES=0, IMPORT_MAX_TURNS=0))
    assert "LOGIN_MAX_FAILURES=0" in str(caught.value) and "IMPORT_MAX_TURNS=0" in str(caught.value)


def test_the_app_is_not_created_with_a_bad_setting():
    with pytest.raises(ConfigError, match="LOGIN_MAX_FAILURES=0"):
        create_app(make_config("sqlite://", LOGIN_MAX_FAILURES=0))


def test_an_unreadable_environment_value_fails_the_start_naming_it():
    """The environment is read when config.py is imported: a value that is not a number
    stops the process with the variable's name, not a bare int() traceback."""
    env = {**os.environ, "LOGIN_MAX_FAILURES": "five", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import config"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ConfigError: LOGIN_MAX_FAILURES='five' is not a whole number" in done.stderr
    env = {**os.environ, "IMPORT_MAX_BYTES": "-5", "PYTHONPATH": str(ROOT), "APP_ENV": "testing"}
    done = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "IMPORT_MAX_BYTES=-5 is below 1: an imported file must be bounded" in done.stderr


def test_passwords_are_hashed_cheaply_only_in_testing():
    """The testing config lowers scrypt's cost (hundreds of logins per run); any other
    config with a weaker method than werkzeug's defaults does not start."""
    from config import Config, ProductionConfig, strong_password_hash

    assert strong_password_hash(Config.PASSWORD_HASH_METHOD) and strong_password_hash(ProductionConfig.PASSWORD_HASH_METHOD)
    assert not strong_password_hash(TestingConfig.PASSWORD_HASH_METHOD)
    check_settings({"ENV_NAME": "testing", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    for weak in ("scrypt:1024:8:1", "pbkdf2:sha256:1000", "plain", "scrypt:x:8:1"):
        with pytest.raises(ConfigError, match="PASSWORD_HASH_METHOD=.* is weaker than werkzeug's scrypt defaults"):
            check_settings({"ENV_NAME": "production", "PASSWORD_HASH_METHOD": weak})
    check_settings({"PASSWORD_HASH_METHOD": "scrypt:65536:8:2"})
