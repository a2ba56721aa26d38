"""What one drill turn costs in SQL, counted with an engine event listener, so a change
that adds queries to the hottest request fails here instead of silently in production.

A mid-call turn through the HTTP route is: the user (login), one SELECT of the drill
(ownership) with its last turn, the agent turn INSERTed and committed before the reply is
computed, the customer turn (with the simulator state) INSERTed and committed.
"""
from __future__ import annotations

import contextlib
import json
import re
import uuid

import pytest
from flask import g
from sqlalchemy import event

from app.extensions import db
from app.services import drill_turns, drills, engines

LINES = [
    "您好，这里是客服中心，工号1024，很高兴为您服务。非常理解您的心情，为了查询账单，麻烦您提供一下机主姓名和身份证后四位，核实一下身份。",
    "谢谢王女士，身份核实好了。我帮您查了，多出的50元是视频彩铃会员15元和超套流量费35元。",
]


@contextlib.contextmanager
def recorded_sql():
    """Yield a list that collects (verb, statement) of everything the app's engine runs,
    transaction control included."""
    seen: list[tuple[str, str]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split(None, 1)[0].upper(), statement))

    def on_commit(conn):
        seen.append(("COMMIT", ""))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def verbs(seen) -> list[str]:
    return [v for v, _ in seen]


def start_one():
    from app.services.accounts import create_user

    user = create_user("cost-trainee", "password-123", "trainee")
    db.session.commit()
    drill = drills.start_drill(user, "billing_complaint", "zh-CN", "calm", "scripted", seed=7)
    drill_turns.post_agent_turn(drill, LINES[0])  # engines, model and scenario cached as on a warm worker
    ids = user.id, drill.id
    db.session.remove()  # a request starts with an empty session
    return ids


@pytest.fixture
def started(any_app):
    return start_one()


@pytest.fixture
def started_sqlite(app):
    return start_one()


def test_a_mid_call_turn_is_two_short_guarded_transactions(started):
    user_id, drill_id = started
    drill = drills.drill_for_trainee(user_id, drill_id)  # what the view does before the service
    with recorded_sql() as seen:
        result = drill_turns.post_agent_turn(drill, LINES[1])
        body = [drills.turn_json(t) for t in result.turns], drills.drill_json(result.drill)
    # Each write is one short transaction guarded by a conditional UPDATE of the drill row
    # (a turn and "end call" cannot interleave, issue 16); a turn sent without `after` reads
    # the last exchange once to recognise a resend.
    assert verbs(seen) == ["SELECT", "SELECT", "UPDATE", "INSERT", "COMMIT", "UPDATE", "INSERT", "COMMIT"], seen
    # The agent turn is committed before the reply exists: the first commit holds only it.
    assert "drills" in seen[2][1] and "turns" in seen[3][1] and "drills" in seen[5][1] and "turns" in seen[6][1]
    assert [t["speaker"] for t in body[0]] == ["agent", "customer"] and body[1]["status"] == "active"
    assert [t["position"] for t in body[0]] == [3, 4]


def test_the_whole_request_adds_only_the_user_lookup(started, any_app):
    _, drill_id = started
    client = any_app.test_client()
    client.post("/login", data={"username": "cost-trainee", "password": "password-123"})
    db.session.remove()
    # The test's app context outlives requests; a real request starts without a cached user.
    g.pop("_login_user", None)
    with recorded_sql() as seen:
        r = client.post(f"/trainee/drills/{drill_id}/turns", json={"text": LINES[1]},
                        headers={"Accept": "application/json"})
    assert r.status_code == 200, r.get_json()
    assert verbs(seen) == ["SELECT", "SELECT", "SELECT", "UPDATE", "INSERT", "COMMIT", "UPDATE", "INSERT", "COMMIT"], seen
    # The user (login), then ownership with the scenario, then the last exchange.
    assert re.search(r"FROM users\b", seen[0][1])
    assert re.search(r"\bdrills\b", seen[1][1]) and "trainee_id" in seen[1][1]


def test_a_streamed_turn_costs_the_same(started, any_app):
    """The drill page streams its turns (NDJSON): same statements as a plain turn."""
    _, drill_id = started
    client = any_app.test_client()
    client.post("/login", data={"username": "cost-trainee", "password": "password-123"})
    db.session.remove()
    g.pop("_login_user", None)
    with recorded_sql() as seen:
        r = client.post(f"/trainee/drills/{drill_id}/turns", json={"text": LINES[1], "stream": True},
                        headers={"Accept": "application/json"})
        events = [json.loads(line) for line in r.get_data(as_text=True).splitlines() if line.strip()]
    assert r.status_code == 200 and [e["type"] for e in events] == ["agent", "chunk", "customer"], events
    assert events[0]["turn"]["position"] == 3 and events[-1]["turn"]["position"] == 4
    assert verbs(seen) == ["SELECT", "SELECT", "SELECT", "UPDATE", "INSERT", "COMMIT", "UPDATE", "INSERT", "COMMIT"], seen


def test_a_turn_analyses_the_agent_words_once(started_sqlite, monkeypatch):
    """The acts stored with the turn and the scripted customer share one understanding:
    the act model runs once, on the turn and its clauses in one batch."""
    from app.core.acts import IntentModel
    from app.core.understanding import understand

    user_id, drill_id = started_sqlite
    analysed, real = [], IntentModel.analyse_many

    def counting(self, texts):
        texts = list(texts)
        analysed.append(texts)
        return real(self, texts)

    # Words no earlier test sent: the memo is per process.
    words = f"{LINES[1]}工单号{uuid.uuid4().int % 10**8}。"
    monkeypatch.setattr(IntentModel, "analyse_many", counting)
    result = drill_turns.post_agent_turn(drills.drill_for_trainee(user_id, drill_id), words)
    assert len(analysed) == 1 and analysed[0][0] == words
    assert all(clause in words for clause in analysed[0][1:])
    expected = sorted(understand(words, engines.turn_analyser("zh-CN"), language="zh-CN").acts)
    assert expected and result.agent.meta["acts"] == expected


def test_the_turn_limit_costs_no_extra_statement(started, any_app):
    """Production keeps a per-trainee turn limit (tests turn it off): it is checked inside
    the turn's guarding UPDATE, so a turn from the drill page (which sends `after`) is
    still the user, the drill with its last turn, and two guarded transactions."""
    user_id, drill_id = started
    any_app.config.update(TURNS_PER_WINDOW=60, RATE_WINDOW_SECONDS=60)
    drill = drills.drill_for_trainee(user_id, drill_id)
    after = drills.last_turn(drill).position
    db.session.remove()
    drill = drills.drill_for_trainee(user_id, drill_id)
    with recorded_sql() as seen:
        result = drill_turns.post_agent_turn(drill, LINES[1], after=after)
    assert verbs(seen) == ["SELECT", "UPDATE", "INSERT", "COMMIT", "UPDATE", "INSERT", "COMMIT"], seen
    assert "count" in seen[1][1].lower() and "turns" in seen[1][1]
    assert [t.speaker for t in result.turns] == ["agent", "customer"]


def test_the_turn_limit_folded_into_the_update_still_refuses(started, any_app):
    from app.services.drills import TooManyRequests

    user_id, drill_id = started
    # The fixture's opening exchange holds one agent turn within the window: a limit of
    # one is reached, and the guarding UPDATE must neither pass the turn nor call it ended.
    any_app.config.update(TURNS_PER_WINDOW=1, RATE_WINDOW_SECONDS=60)
    drill = drills.drill_for_trainee(user_id, drill_id)
    with pytest.raises(TooManyRequests) as caught:
        drill_turns.post_agent_turn(drill, LINES[1])
    assert caught.value.code == "too_many_turns"
    db.session.remove()
    drill = drills.drill_for_trainee(user_id, drill_id)
    assert drill.status == "active" and drills.last_turn(drill).speaker == "customer"
    any_app.config.update(TURNS_PER_WINDOW=2)
    assert [t.speaker for t in drill_turns.post_agent_turn(drill, LINES[1]).turns] == ["agent", "customer"]
