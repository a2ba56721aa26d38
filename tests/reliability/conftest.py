"""Fixtures for the reliability tests: a prepared database (SQLite file or PostgreSQL),
real gunicorn servers forked from a pre-warmed zygote, and the results writer."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flask_migrate import upgrade

from tests.conftest import ROOT, make_config

TRAINEE_PASSWORD = "password-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str, cache_dir: Path, trainees: list[str]) -> dict[str, list[str]]:
    """Migrate, load the scenarios and create the demo accounts plus `trainees`, as
    `make setup` does; return the Chinese scenarios' persona ids."""
    from app import create_app
    from app.extensions import db
    from app.services.accounts import create_user, ensure_demo_accounts
    from app.services.content import catalog, sync_versions

    app = create_app(make_config(url, CACHE_DIR=str(cache_dir)))
    with app.app_context():
        upgrade()
        sync_versions()
        ensure_demo_accounts()
        for name in trainees:
            create_user(name, TRAINEE_PASSWORD, "trainee", name, None)
        db.session.commit()
        personas = {e.model.id: [p.id for p in e.model.personas]
                    for e in catalog().of_kind("scenario") if e.model.language == "zh-CN"}
        db.session.remove()
        db.engine.dispose()
    return personas


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    """An empty migrated database on SQLite (a file several processes share) or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "crash.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_database")


class Zygote:
    """`python -m tests.reliability.zygote` under the server environment; `start()` forks
    a gunicorn server (own process group) and returns its pid; `kill()` SIGKILLs the group."""

    def __init__(self, database_url: str, tmp_path: Path, cache_dir: Path, workers: int = 2):
        self.port = free_port()
        self.workers = workers
        self.log = tmp_path / "server.log"
        env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": database_url,
               "SECRET_KEY": secrets.token_hex(16), "SESSION_COOKIE_SECURE": "0",
               "HOTLINE_CACHE_DIR": str(cache_dir), "INSTANCE_PATH": str(tmp_path / "instance"),
               "ZYGOTE_SERVER_LOG": str(self.log), "PYTHONPATH": str(ROOT), "OPENAI_BASE_URL": ""}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.zygote"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise RuntimeError(f"the server zygote did not start (said {line!r}); see the output above")
        self.pid: int | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Fork a server and wait until it answers the login page."""
        self.proc.stdin.write(f"start {self.port} {self.workers}\n")
        self.proc.stdin.flush()
        self.pid = int(self.proc.stdout.readline())
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + "/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (the whole process group)."""
        os.killpg(self.pid, 9)
        self.kills += 1
        self.pid = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no server log)"

    def close(self) -> None:
        if self.pid is not None:
            try:
                os.killpg(self.pid, 9)
            except ProcessLookupError:
                pass
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def zygote_factory(tmp_path, cache_dir):
    made: list[Zygote] = []

    def make(database_url: str, workers: int = 2) -> Zygote:
        z = Zygote(database_url, tmp_path, cache_dir, workers)
        made.append(z)
        return z

    yield make
    for z in made:
        z.close()
