"""A burst of parallel wrong passwords for one account gets exactly the guesses the
policy allows (the finding: 31 parallel requests got 7 guesses instead of 5). The app
runs in a real threaded HTTP server; the requests are released together by a barrier.
On SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import LoginAttempt
from app.services import accounts

BURST = 31


def _post(url: str, data: dict) -> int:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_parallel_burst_gets_no_more_guesses_than_the_limit(any_app):
    app = any_app
    # The production hash cost (the testing config's is cheaper): each guess spends as long
    # in its password check as in production, the window a non-atomic limit leaks through.
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    accounts.create_user("burst-target", "right-password-1", "trainee")
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/login"
    barrier = threading.Barrier(BURST)
    codes: list[int] = []

    def guess(n: int) -> None:
        barrier.wait()
        codes.append(_post(url, {"username": "burst-target", "password": f"wrong-{n:02d}"}))

    workers = [threading.Thread(target=guess, args=(n,)) for n in range(BURST)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=300)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert Counter(codes) == Counter({401: limit, 429: BURST - limit}), Counter(codes)
    db.session.rollback()
    # the guesses the database saw: a password was checked for exactly `limit` of them
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == limit
