"""Logging in safely: throttled guessing, session cookies, a production app that will not
start without its secret, and passwords stored only as modern (scrypt) hashes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
from sqlalchemy import func, select, update

from app import create_app
from app.extensions import db
from app.models import AuditEvent, LoginAttempt, LoginThrottle, User
from app.models.base import utcnow
from config import ProductionConfig
from tests.security.support import PASSWORD, form_token, login

ROOT = Path(__file__).resolve().parents[2]
THROTTLED_ZH = "登录失败次数过多，请 {seconds} 秒后再试。"


# --- throttling ------------------------------------------------------------------------------

def _fail(client, username: str, times: int, ip: str = "127.0.0.1") -> list[int]:
    return [client.post("/login", data={"username": username, "password": "wrong-password"},
                        environ_base={"REMOTE_ADDR": ip}).status_code for _ in range(times)]


def _login(client, username: str, ip: str = "127.0.0.1"):
    return client.post("/login", data={"username": username, "password": PASSWORD}, environ_base={"REMOTE_ADDR": ip})


def test_repeated_failures_make_a_new_address_wait_a_bounded_time(app, client, world):
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert _fail(client, "trainee-a", limit) == [401] * limit
    r = _login(client, "trainee-a")  # even the right one, from an address it never logged in from
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert 0 < wait <= app.config["LOGIN_ACCOUNT_MAX_WAIT"]
    assert THROTTLED_ZH.format(seconds=wait) in r.get_data(as_text=True)
    assert client.get("/trainee/").status_code == 302  # not logged in
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_throttled"))
    assert event.target == "trainee-a" and event.ip == "127.0.0.1" and event.actor_id is None
    assert utcnow() - event.at < timedelta(minutes=1)
    # the failures are one audit row for the address, counting them all
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert [(e.count, e.target, e.detail["usernames"]) for e in failed] == [(limit, "trainee-a", ["trainee-a"])]
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == limit  # each one is on record


def test_throttling_is_per_account_and_unknown_names_are_throttled_alike(app, client, world):
    limit = app.config["LOGIN_MAX_FAILURES"]
    _fail(client, "no-such-user", limit)
    r = client.post("/login", data={"username": "no-such-user", "password": "x" * 9})
    assert r.status_code == 429  # the same answer as a real account: nothing to enumerate
    assert "登录失败次数过多" in r.get_data(as_text=True)
    r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD})
    assert r.status_code == 302  # another account is not locked out by someone else's guessing


def test_guessing_from_elsewhere_never_locks_the_owner_out(app, client, world):
    """The finding: five failures every 15 minutes kept any account locked. Now the owner,
    logging in from an address the account has used before, is not slowed by failures
    from other addresses, however many."""
    assert _login(client, "admin-1", ip="10.0.0.5").status_code == 302  # the owner's usual desk
    client.post("/logout")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit + 3):  # a guesser on a fresh address each time (a botnet)
        _fail(client, "admin-1", 1, ip=f"198.51.100.{n + 1}")
    assert _fail(client, "admin-1", 1, ip="198.51.100.200") == [429]  # guessing is slowed...
    assert _login(client, "admin-1", ip="10.0.0.5").status_code == 302  # ...the owner is not


def test_one_address_guessing_many_names_waits(app, client, world):
    free = app.config["LOGIN_ADDRESS_FREE"]
    codes = [_fail(client, f"name-{n}", 1, ip="203.0.113.9")[0] for n in range(free + 1)]
    assert codes == [401] * free + [429]  # a spray over names is stopped by the address counter
    assert _login(client, "trainee-b", ip="203.0.113.10").status_code == 302  # other addresses are not


def test_the_wait_ends_and_refused_attempts_do_not_prolong_it(app, client, world):
    limit = app.config["LOGIN_MAX_FAILURES"]
    _fail(client, "trainee-a", limit)
    assert _fail(client, "trainee-a", 20) == [429] * 20  # hammering while blocked counts nothing
    row = db.session.get(LoginThrottle, "account:trainee-a")
    assert row.failures == limit
    db.session.execute(update(LoginThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert _login(client, "trainee-a").status_code == 302


def test_unknown_and_inactive_names_cost_one_scrypt_check_like_real_ones(app, client, world, monkeypatch):
    """Login time told whether a name exists (127-231 ms against 19-35 ms): unknown names
    skipped the password hash. Every attempt now checks one hash of the same cost."""
    from werkzeug import security

    from app.services import accounts

    checked = []
    real = security.check_password_hash

    def counting(stored, password):
        checked.append(stored.split("$")[0])
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    db.session.execute(update(User).where(User.username == "peer-b").values(active=False))
    db.session.commit()
    for name in ("trainee-a", "no-such-user", "peer-b"):
        assert client.post("/login", data={"username": name, "password": "wrong-password"}).status_code == 401
    assert client.post("/login", data={"username": "peer-b", "password": PASSWORD}).status_code == 401
    method = _hash("trainee-a").split("$")[0]
    assert checked == [method] * 4, checked  # the same scrypt parameters for all four


# --- the session cookie ----------------------------------------------------------------------

def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_session_cookie_is_httponly_and_samesite(app, client, world):
    r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD})
    cookie = _session_cookie(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert not any(c.startswith("remember_token=") for c in r.headers.getlist("Set-Cookie"))


def test_production_session_cookie_is_secure_too(world_template, tmp_path, cache_dir, monkeypatch):
    import shutil

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    path = tmp_path / "prod.db"
    shutil.copy(world_template[0], path)
    prod = type("Prod", (ProductionConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                                              "SECRET_KEY": "k" * 64, "CACHE_DIR": str(cache_dir),
                                              "LOAD_CONTENT_ON_START": False})
    app = create_app(prod)
    assert not app.testing and app.config["WTF_CSRF_ENABLED"] is not False
    with app.app_context():
        client = app.test_client()
        token = form_token(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302
        cookie = _session_cookie(r)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
        db.session.remove()
        db.engine.dispose()


def test_login_starts_a_new_session(app_factory, world):
    """No session fixation: what an attacker planted before the login (its CSRF token
    here) is gone after it."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        planted = form_token(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD, "csrf_token": planted})
        assert r.status_code == 302
        r = client.post(f"/trainee/drills/{world.a.live_drill}/end", headers={"X-CSRFToken": planted})
        assert r.status_code == 400


def test_logout_clears_the_session(app, client, world):
    login(client, world.a.trainee)
    r = client.post("/logout")
    assert r.status_code == 302
    cookie = _session_cookie(r)
    assert "Expires=Thu, 01 Jan 1970" in cookie or "Max-Age=0" in cookie
    assert client.get("/trainee/").status_code == 302


# --- redirects after login and language switch ----------------------------------------------

OFFSITE = ["https://evil.example/", "//evil.example/", "///evil.example/", "/\\evil.example/", "/\\/evil.example/",
           "\\\\evil.example/", "/\t/evil.example/", "/\n/evil.example/", "https:evil.example", "javascript:alert(1)",
           " //evil.example/", "/%2F%2Fevil.example/"]


def _browser_host(location: str) -> str:
    """The host a browser would go to: it drops tabs and newlines and, for http(s),
    reads a backslash as a slash (WHATWG URL parsing)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://localhost/trainee/", cleaned)).netloc


def test_redirect_targets_never_leave_the_site(app, client, world):
    for target in OFFSITE:
        r = client.post("/login?next=" + quote(target, safe=""), data={"username": "trainee-a", "password": PASSWORD})
        assert r.status_code == 302 and _browser_host(r.headers["Location"]) == "localhost", (target, r.headers["Location"])
        r = client.post("/language/en", data={"next": target})
        assert _browser_host(r.headers["Location"]) == "localhost", (target, r.headers["Location"])
        client.post("/logout")
    assert _browser_host("/\\evil.example/") == "evil.example"  # the helper sees what a browser sees


# --- the production secret -------------------------------------------------------------------

def test_production_app_refuses_to_build_without_a_secret_key(tmp_path):
    prod = type("Prod", (ProductionConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                                              "SECRET_KEY": None, "LOAD_CONTENT_ON_START": False})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(prod)


def test_production_server_refuses_to_start_without_a_secret_key(tmp_path):
    """The real entry point (`wsgi.py`, what gunicorn imports) with DATABASE_URL set and
    SECRET_KEY missing: it stops with a message naming the variable."""
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SESSION_COOKIE_SECURE"}}
    env.update(APP_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", PYTHONPATH=str(ROOT),
               INSTANCE_PATH=str(tmp_path / "instance"), LOAD_CONTENT_ON_START="0")
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "instance" / "secret_key").exists()  # no key invented for production


# --- passwords -------------------------------------------------------------------------------

def _hash(username: str) -> str:
    db.session.rollback()
    return db.session.scalar(select(User.password_hash).where(User.username == username))


def _assert_modern(stored: str, password: str) -> None:
    method, _, rest = stored.partition("$")
    name, *params = method.split(":")
    assert name == "scrypt", stored[:40]
    n, r, p = (int(x) for x in params)
    assert n >= 2 ** 15 and r >= 8 and p >= 1  # werkzeug's defaults; never weakened
    assert password not in stored
    salt = rest.split("$")[0]
    assert len(salt) >= 16


def test_every_way_of_setting_a_password_stores_a_scrypt_hash(app, client, runner, world):
    """With the production method (the testing config hashes more cheaply, for speed)."""
    from config import Config, ProductionConfig

    from app.services.accounts import DEMO_USERS, ensure_demo_accounts

    assert ProductionConfig.PASSWORD_HASH_METHOD == Config.PASSWORD_HASH_METHOD == "scrypt"
    assert _hash("trainee-a").startswith(app.config["PASSWORD_HASH_METHOD"] + "$")  # the config is what is used
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD
    own = app.test_client()  # the trainee's own form: a new password ("changed" to the same one)
    assert own.post("/login", data={"username": "trainee-a", "password": PASSWORD}).status_code == 302
    r = own.post("/account/password", data={"current": PASSWORD, "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    _assert_modern(_hash("trainee-a"), PASSWORD)
    # the administrator's forms: a new user and a password reset
    login(client, world.admin)
    r = client.post("/admin/users/new", data={"username": "new-hire", "display_name": "新员工", "role": "trainee",
                                               "cohort_id": "0", "password": "first-password-1"})
    assert r.status_code == 302
    _assert_modern(_hash("new-hire"), "first-password-1")
    before = _hash("trainee-b")
    r = client.post(f"/admin/users/{world.b.trainee}/password", data={"password": "reset-password-2", "confirm": "reset-password-2"})
    assert r.status_code == 302 and _hash("trainee-b") != before
    _assert_modern(_hash("trainee-b"), "reset-password-2")
    # the command line and the demo accounts
    result = runner.invoke(args=["users", "create", "cli-user", "--role", "hr", "--password", "cli-password-3"])
    assert result.exit_code == 0, result.output
    _assert_modern(_hash("cli-user"), "cli-password-3")
    ensure_demo_accounts()
    for username, password, *_ in DEMO_USERS:
        _assert_modern(_hash(username), password)
    # two users with one password get different hashes (salted)
    assert _hash("trainee-a") != _hash("trainer-a")


def test_throttling_counts_and_lifts_alike_on_both_databases(any_app):
    """The wait and its Retry-After come from timestamps the database stores: the same on
    SQLite and PostgreSQL (time zones included)."""
    from app.core.throttle import Backoff
    from app.services import accounts

    accounts.create_user("pg-user", PASSWORD, "trainee")
    db.session.commit()
    policy = accounts.LoginPolicy(address=Backoff(100, 60, 600, 900), account=Backoff(3, 60, 600, 900),
                                  audit_window=900)
    outcomes = [accounts.authenticate("pg-user", "wrong-password", "127.0.0.1", policy) for _ in range(3)]
    assert [o.user for o in outcomes] == [None] * 3 and not any(o.locked for o in outcomes)
    locked = accounts.authenticate("pg-user", PASSWORD, "127.0.0.1", policy)
    assert locked.locked and 50 < locked.retry_after <= 60
    db.session.execute(update(LoginThrottle).values(blocked_until=utcnow() + timedelta(seconds=20)))
    db.session.commit()
    assert 0 < accounts.authenticate("pg-user", PASSWORD, "127.0.0.1", policy).retry_after <= 20
    db.session.execute(update(LoginThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert accounts.authenticate("pg-user", PASSWORD, "127.0.0.1", policy).user is not None
    # failures are forgotten a window after the last one
    db.session.execute(update(LoginThrottle).values(updated_at=utcnow() - timedelta(seconds=901)))
    db.session.commit()
    assert accounts.authenticate("pg-user", "wrong-password", "127.0.0.2", policy).locked is False
    assert db.session.get(LoginThrottle, "account:pg-user").failures == 1


def test_lapsed_counters_are_deleted_so_a_flood_of_names_does_not_grow_the_table(app, client, world):
    window = app.config["LOGIN_WINDOW_SECONDS"]
    for n in range(6):
        _fail(client, f"sprayed-{n}", 1, ip=f"198.51.100.{n + 1}")
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 12  # 6 names, 6 addresses
    db.session.execute(update(LoginThrottle).values(updated_at=utcnow() - timedelta(seconds=window + 1)))
    db.session.execute(update(LoginThrottle).where(LoginThrottle.key == "account:sprayed-0")
                       .values(blocked_until=utcnow() + timedelta(seconds=60)))  # still blocking: kept
    db.session.commit()
    _fail(client, "sprayed-new", 1, ip="198.51.100.99")
    db.session.rollback()
    keys = set(db.session.scalars(select(LoginThrottle.key)))
    assert keys == {"account:sprayed-0", "account:sprayed-new", "address:198.51.100.99"}
