"""Bad input that only a real server sees, on the production serving model (gunicorn with
gunicorn.conf.py's gthread workers, forked from tests/reliability/zygote.py): bodies cut
short or lied about, oversized, broken JSON, sent by many clients at once. The rest of this
folder goes through Flask's test client, which never parses HTTP.

The rule: a 4xx or a closed connection, never a 5xx; no worker thread stays stuck (the
server answers a good request afterwards), and no turn is stored from a broken body.
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import threading

import httpx
from sqlalchemy import create_engine, text

from tests.reliability.conftest import TRAINEE_PASSWORD, prepare_database, server_factory, zygote  # noqa: F401

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _raw(port: int, head: str, body: bytes, close_early: bool = False) -> bytes:
    """Send one request by hand; what the server answered (b"" if it only closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(head.encode() + b"\r\n\r\n" + body)
        if close_early:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return b"".join(chunks)


def _status(answer: bytes) -> int | None:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(m.group(1)) if m else None


def test_broken_bodies_against_the_gthread_server(tmp_path, sqlite_template, cache_dir, server_factory):
    path = tmp_path / "bad.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    persona = prepare_database(url, cache_dir, ["bad0"])["billing_complaint"][0]
    server = server_factory(url, workers=1, config={"MAX_CONTENT_LENGTH": 2**16})
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=20) as http:
        token = CSRF_FORM.search(http.get("/login").text).group(1)
        assert http.post("/login", data={"username": "bad0", "password": TRAINEE_PASSWORD,
                                         "csrf_token": token}).status_code == 302
        page = http.get("/trainee/start/billing_complaint")
        form = CSRF_FORM.search(page.text).group(1)
        r = http.post("/trainee/start/billing_complaint", data={"persona": persona, "customer": "scripted",
                                                                "seed": "1", "csrf_token": form})
        assert r.status_code == 302, r.text[:300]
        turns = r.headers["Location"] + "/turns"
        csrf = CSRF_META.search(http.get(r.headers["Location"]).text).group(1)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        # the same User-Agent: the session is bound to it (Flask-Login's strong protection)
        head = (f"POST {turns} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nX-CSRFToken: {csrf}\r\n"
                f"User-Agent: {http.headers['user-agent']}\r\n"
                "Accept: application/json\r\nContent-Type: application/json")
        good = json.dumps({"text": "您好，请问有什么可以帮您？", "after": 0}).encode()

        statuses = {}
        # half a body, shorter than its Content-Length, the client then closing its side (gunicorn
        # hands the app what came: a body cut after a whole JSON value would be taken as sent)
        statuses["short"] = _status(_raw(server.port, f"{head}\r\nContent-Length: {len(good)}",
                                         good[:len(good) // 2], close_early=True))
        # over MAX_CONTENT_LENGTH, announced
        big = b'{"text": "' + b"x" * 2**17 + b'", "after": 0}'
        statuses["over"] = _status(_raw(server.port, f"{head}\r\nContent-Length: {len(big)}", big))
        # broken JSON, JSON of the wrong shape, a body that is not UTF-8
        for name, body in (("broken", good[:-5]), ("shape", b"[1, 2]"), ("bytes", b"\xff\xfe{}")):
            statuses[name] = _status(_raw(server.port, f"{head}\r\nContent-Length: {len(body)}", body))
        # chunked with a bad chunk size
        statuses["chunked"] = _status(_raw(server.port, f"{head}\r\nTransfer-Encoding: chunked", b"zz\r\nabc\r\n0\r\n\r\n"))

        # many clients sending broken bodies at once: every worker thread meets one
        answers: list[int | None] = []

        def hammer() -> None:
            answers.append(_status(_raw(server.port, f"{head}\r\nContent-Length: 7", b"{nope}}")))

        crowd = [threading.Thread(target=hammer) for _ in range(48)]
        for t in crowd:
            t.start()
        for t in crowd:
            t.join(30)

        assert all(s is None or 400 <= s < 500 for s in statuses.values()), repr(statuses)
        assert statuses["over"] == 413 and statuses["broken"] == 400, statuses
        assert len(answers) == 48 and all(s is not None and 400 <= s < 500 for s in answers), answers
        # the server still serves, and nothing of the broken bodies was stored as a turn
        r = http.post(turns, json={"text": "您好，请问有什么可以帮您？", "after": 0},
                      headers={"X-CSRFToken": csrf, "Accept": "application/json"})
        assert r.status_code == 200, r.text[:300]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            agent = conn.execute(text("select text from turns where speaker = 'agent'")).scalars().all()
    finally:
        engine.dispose()
    assert agent == ["您好，请问有什么可以帮您？"], agent
    assert "Traceback" not in server.log_tail(), server.log_tail()
