"""Fixtures for the reliability tests: a prepared database (SQLite file or PostgreSQL),
real gunicorn servers forked from a pre-warmed zygote, and the results writer."""
from __future__ import annotations

import json
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
    """`python -m tests.reliability.zygote`: imports and warms the app once per session;
    `server(url)` gives a Server that forks real gunicorn servers on that database."""

    def __init__(self, log: Path, cache_dir: Path):
        self.log = log
        env = {**os.environ, "SECRET_KEY": secrets.token_hex(16), "HOTLINE_CACHE_DIR": str(cache_dir),
               "INSTANCE_PATH": str(log.parent / "instance"), "ZYGOTE_SERVER_LOG": str(log),
               "PYTHONPATH": str(ROOT), "OPENAI_BASE_URL": ""}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.zygote"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise RuntimeError(f"the server zygote did not start (said {line!r}); see the output above")

    def fork(self, port: int, workers: int, worker_class: str, database_url: str, config: dict | None = None) -> int:
        overrides = json.dumps(config or {}, separators=(",", ":"))
        assert not any(c.isspace() for c in overrides), "config values go on one line without spaces"
        self.proc.stdin.write(f"start {port} {workers} {worker_class} {database_url} {overrides}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no server log)"

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


class Server:
    """A gunicorn server on one database and port; `start()` forks it from the zygote
    and waits until it serves the login page, `kill()` SIGKILLs its whole process group.
    `worker_class` "production" is gunicorn.conf.py's model (gthread workers and threads);
    "sync" the one-request-per-process model the README's command used before it."""

    def __init__(self, zygote: Zygote, database_url: str, workers: int = 2, config: dict | None = None,
                 worker_class: str = "production"):
        self.zygote, self.database_url, self.workers, self.config = zygote, database_url, workers, config
        self.worker_class = worker_class
        self.port = free_port()
        self.pid: int | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.pid = self.zygote.fork(self.port, self.workers, self.worker_class, self.database_url, self.config)
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

    def log_tail(self) -> str:
        return self.zygote.log_tail()

    def stop(self) -> None:
        if self.pid is not None:
            try:
                os.killpg(self.pid, 9)
            except ProcessLookupError:
                pass
            self.pid = None


@pytest.fixture(scope="session")
def zygote(tmp_path_factory, cache_dir):
    z = Zygote(tmp_path_factory.mktemp("zygote") / "server.log", cache_dir)
    yield z
    z.close()


@pytest.fixture
def server_factory(zygote):
    made: list[Server] = []

    def make(database_url: str, workers: int = 2, config: dict | None = None,
             worker_class: str = "production") -> Server:
        server = Server(zygote, database_url, workers, config, worker_class)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
