"""Ending a call while a turn is in flight, over real HTTP against gunicorn (3 workers), on
a SQLite file and on PostgreSQL (issue 16, finding 4).

Each round a trainee starts a drill, says one line, then sends the next line and five
"end" requests at the same moment (a barrier releases them). Proved, round by round:
no 5xx; every "end" answers 200 with the drill ended; the turn is either answered 200
(and then stored) or refused 409 `ended` (and then not stored); the drill has exactly one
score, and that score read every stored turn (the `drill_scored` audit counts them).
"""
from __future__ import annotations

import json
import random
import threading
import time

import httpx
from sqlalchemy import create_engine, text

from tests.reliability.conftest import TRAINEE_PASSWORD, prepare_database
from tests.reliability.drill_client import Ledger, Trainee
from tests.services.test_drills import GOOD_SCRIPT

ROUNDS = 6
ENDS = 5


def _race(calls) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(isinstance(o, httpx.Response) for o in out), out
    return out


def test_end_racing_a_turn_over_http(database_url, server_factory, cache_dir):
    prepare_database(database_url, cache_dir, ["racer"])
    server = server_factory(database_url, workers=3)
    server.start()
    player = Trainee(server.base_url, "racer", TRAINEE_PASSWORD, Ledger(), random.Random(16),
                     time.monotonic() + 900, stream_share=0.0)
    player.login()
    headers = {"Accept": "application/json", "X-CSRFToken": player.csrf}
    # One client per racer (a connection each), all in the player's session.
    # (The same User-Agent: the session is bound to it.)
    clients = [httpx.Client(base_url=server.base_url, timeout=60, headers={"User-Agent": player.http.headers["User-Agent"]})
               for _ in range(ENDS + 1)]
    for c in clients:
        for cookie in player.http.cookies.jar:
            c.cookies.set(cookie.name, cookie.value)
    rounds = []
    try:
        for rnd in range(ROUNDS):
            drill_id = player.start("billing_complaint", "calm", seed=1000 + rnd)
            after, status = player.turn(drill_id, GOOD_SCRIPT[0], 0)
            assert status == "active"
            line = GOOD_SCRIPT[1]
            calls = [lambda: clients[0].post(f"/trainee/drills/{drill_id}/turns", headers=headers,
                                             json={"text": line, "after": after})]
            calls += [lambda i=i: clients[i].post(f"/trainee/drills/{drill_id}/end", headers=headers, json={})
                      for i in range(1, ENDS + 1)]
            answers = _race(calls)
            turn, ends = answers[0], answers[1:]
            assert all(e.status_code == 200 and e.json()["drill"]["status"] == "ended" for e in ends), \
                [(e.status_code, e.text[:200]) for e in ends]
            assert turn.status_code in (200, 409), (turn.status_code, turn.text[:300])
            if turn.status_code == 409:
                assert turn.json()["code"] == "ended"
            rounds.append((drill_id, line, turn.status_code))
    finally:
        for c in clients:
            c.close()
        player.close()

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            for drill_id, line, code in rounds:
                stored = conn.execute(text("select text from turns where drill_id = :d"), {"d": drill_id}).scalars().all()
                scores = conn.execute(text("select count(*) from scores where drill_id = :d"), {"d": drill_id}).scalar()
                audits = conn.execute(text("select detail from audit_events where action = 'drill_scored' "
                                           "and target = :t"), {"t": f"drill:{drill_id}"}).scalars().all()
                assert (line in stored) == (code == 200), (drill_id, code, stored)
                assert scores == 1 and len(audits) == 1, (drill_id, scores, audits)
                detail = audits[0] if isinstance(audits[0], dict) else json.loads(audits[0])
                assert detail["turns"] == len(stored), (drill_id, detail, len(stored))
    finally:
        engine.dispose()
