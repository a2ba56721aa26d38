"""A real Redis and real Celery workers for the job tests.

`redis_url` starts a private redis-server on 127.0.0.1 (a free port, no persistence); it
skips, saying why, when redis-server is not installed, except under CI (`CI` set), where
that fails: `.ci/run` installs it. `start_worker` runs `celery -A make_celery worker` in
its own process group against a given database, so a test can kill it with SIGKILL.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_missing_or_fail() -> str:
    """The redis-server path; skips without one, except under CI, where that fails."""
    server = shutil.which("redis-server")
    if server is None:
        if _ci():
            pytest.fail("CI is set but redis-server is missing: under CI the Celery worker tests must run")
        pytest.skip("Celery worker tests skipped: redis-server is not installed (`.ci/run` installs it)")
    return server


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """A private redis-server on 127.0.0.1 (free port, no persistence): (process, URL)."""
    server = redis_missing_or_fail()
    port = _free_port()
    proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)


@pytest.fixture
def redis_url(tmp_path):
    proc, url = start_redis(tmp_path)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def spawn_worker(database_url: str, broker_url: str, folder: Path, cache_dir, concurrency: int = 1,
                 name: str = "w") -> subprocess.Popen:
    """`celery -A make_celery worker` in its own process group (so kill9 reaches its pool),
    logging to folder/worker-<name>.log."""
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url,
           "CELERY_BROKER_URL": broker_url, "SECRET_KEY": secrets.token_hex(16),
           "INSTANCE_PATH": str(folder / "instance"), "HOTLINE_CACHE_DIR": str(cache_dir),
           "DEMO_ACCOUNTS": "0", "LOAD_CONTENT_ON_START": "0",
           # A task a killed worker held comes back after 3 s, not an hour.
           "CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_RETRY_BACKOFF": "0.5"}
    log = open(folder / f"worker-{name}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "make_celery", "worker", "--loglevel=INFO",
                             f"--concurrency={concurrency}", "--pool=prefork", "-n", f"{name}@%h",
                             "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture
def start_worker(tmp_path, cache_dir):
    """start_worker(database_url, broker_url, concurrency=1) -> Popen of a Celery worker
    (its own process group); every worker still running is killed at the end."""
    procs: list[subprocess.Popen] = []

    def start(database_url: str, broker_url: str, concurrency: int = 1, name: str = "w") -> subprocess.Popen:
        proc = spawn_worker(database_url, broker_url, tmp_path, cache_dir, concurrency, f"{name}{len(procs)}")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            kill9(proc)


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes at once: nothing gets to acknowledge."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
