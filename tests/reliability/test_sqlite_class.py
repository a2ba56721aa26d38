"""A class on the embedded default: SQLite serves many trainees at once.

The production server (gunicorn with gunicorn.conf.py: gthread workers) on one SQLite
file takes a class logging in at the same moment and then drilling with the LLM
customer (a fake model on 127.0.0.1 answering after a delay): no request may fail,
in particular none with "database is locked". And a turn holds no write lock while it
waits for the model, so one slow provider cannot stall every other trainee's writes.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.fakes.openai_server import GOOD_REPLY, FakeOpenAI
from tests.reliability.conftest import TRAINEE_PASSWORD, free_port, prepare_database

CLASS_SIZE = 64
SCRIPT = (ROOT / "tests" / "data" / "agent_scripts" / "billing_complaint.good.txt").read_text(encoding="utf-8")
LINES = [line.strip() for line in SCRIPT.splitlines() if line.strip()][:3]
_CSRF_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def class_server(tmp_path, sqlite_template, cache_dir):
    """gunicorn -c gunicorn.conf.py (two workers) on a SQLite file with CLASS_SIZE
    trainees, the LLM customer answering after 0.5 s; yields (base URL, server log)."""
    path = tmp_path / "class.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    names = [f"learner{i:03d}" for i in range(CLASS_SIZE)]
    prepare_database(url, cache_dir, names)
    log = tmp_path / "gunicorn.log"
    port = free_port()
    with FakeOpenAI(default_text=GOOD_REPLY, default_delay=0.5) as fake, open(log, "ab") as out:
        env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
               "SESSION_COOKIE_SECURE": "0", "HOTLINE_CACHE_DIR": str(cache_dir),
               "INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT), "WEB_CONCURRENCY": "2",
               "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test", "OPENAI_MODEL": fake.model}
        env.pop("TEST_DATABASE_URL", None)
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                 "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}"
                try:
                    if httpx.get(base + "/login", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text(errors='replace')[-3000:]}"
                time.sleep(0.2)
            yield base, names, log
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_a_class_logs_in_and_drills_at_once_on_sqlite(class_server):
    base, names, log = class_server
    barrier = threading.Barrier(len(names))
    statuses: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def note(what: str, response: httpx.Response, expected: int) -> bool:
        with lock:
            statuses[(what, response.status_code)] += 1
            if response.status_code != expected:
                failures.append(f"{what}: {response.status_code} {response.text[:200]}")
                return False
        return True

    def trainee(name: str) -> None:
        with httpx.Client(base_url=base, timeout=90) as http:
            token = _CSRF_FORM.search(http.get("/login").text).group(1)
            barrier.wait(timeout=60)  # everyone presses "log in" at once
            r = http.post("/login", data={"username": name, "password": TRAINEE_PASSWORD, "csrf_token": token})
            if not note("login", r, 302):
                return
            token = _CSRF_FORM.search(http.get("/trainee/start/billing_complaint").text).group(1)
            r = http.post("/trainee/start/billing_complaint",
                          data={"persona": "calm", "customer": "llm", "seed": "3", "csrf_token": token})
            if not note("start", r, 302):
                return
            drill = r.headers["Location"]
            headers = {"X-CSRFToken": _CSRF_META.search(http.get(drill).text).group(1)}
            for line in LINES:
                r = http.post(drill + "/turns", json={"text": line, "stream": True}, headers=headers)
                if not note("turn", r, 200):
                    return
                last = json.loads(r.text.strip().splitlines()[-1])
                if last["type"] != "customer":
                    with lock:
                        failures.append(f"turn stream ended with {last}")
                    return

    threads = [threading.Thread(target=trainee, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    server_log = log.read_text(errors="replace")
    assert not failures, f"{len(failures)} failed requests, e.g. {failures[:3]}; {dict(statuses)}\n{server_log[-3000:]}"
    assert statuses[("login", 302)] == statuses[("start", 302)] == len(names)
    assert statuses[("turn", 200)] == len(names) * len(LINES)
    assert "database is locked" not in server_log and "Traceback" not in server_log


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_turn_holds_no_write_lock_while_the_model_answers(app_factory, stream):
    """While the LLM customer is being waited for, another connection can take SQLite's
    write lock at once (timeout 0): the agent turn was committed before the call, and
    the reply is stored after it, each in a short transaction of its own."""
    from app.extensions import db
    from app.services.accounts import create_user

    with FakeOpenAI(default_text=GOOD_REPLY) as fake:
        app = app_factory(OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="k", OPENAI_MODEL="fake-model",
                          OPENAI_TIMEOUT=10.0)
        path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        with app.app_context():
            create_user("waiter", "password-123", "trainee", None, None)
            db.session.commit()
        client = app.test_client()
        assert client.post("/login", data={"username": "waiter", "password": "password-123"}).status_code == 302
        r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "llm", "seed": "1"})
        assert r.status_code == 302, r.data[:300]
        fake.reset().queue("slow", text=GOOD_REPLY, delay=2.0)
        answered: dict = {}

        def send() -> None:
            response = client.post(r.headers["Location"] + "/turns", json={"text": LINES[0], "stream": stream})
            # A streamed body is generated as it is read: read it here, in the request's thread.
            answered["response"], answered["body"] = response, response.get_data(as_text=True)

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 10
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.requests, "the turn never called the model"
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the turn holds the lock
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert sender.is_alive(), "the model answered before the lock was checked: the check proved nothing"
        sender.join(timeout=20)
        response = answered["response"]
        assert response.status_code == 200, response.data[:300]
        body = answered["body"]
        turn = json.loads(body.strip().splitlines()[-1])["turn"] if stream else json.loads(body)["turns"][1]
        assert turn["speaker"] == "customer" and turn["text"] == GOOD_REPLY  # the model's reply, stored
