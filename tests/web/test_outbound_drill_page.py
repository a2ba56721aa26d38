"""The drill page of an outbound call (callback_followup): nobody has spoken when it
opens, the page invites the trainee to place the call, and the first turn sent from it
(`after: -1`: the page has seen no turn) is turn 0."""
from __future__ import annotations

import json
import re

import pytest

from app.models import Drill
from app.services import drills

JSON = {"Accept": "application/json"}
OPENING = "您好，我是客服中心回访专员，工号7021。您昨天反映的视频会员扣费问题，我来回访一下，请问现在方便吗？"
INVITE = "外呼：这通电话由您打给客户。"


@pytest.fixture
def drill_url(client, login_as):
    login_as("trainee")
    r = client.post("/trainee/start/callback_followup", data={"persona": "busy", "customer": "scripted", "seed": "7"})
    assert r.status_code == 302, r.data[:500]
    return r.headers["Location"]


def test_the_page_invites_the_agent_to_open_and_the_first_turn_is_turn_0(client, drill_url):
    page = client.get(drill_url).get_data(as_text=True)
    assert drills.turns_of(Drill.query.one()) == []
    assert re.findall(r'data-position="\d+"', page) == []
    assert INVITE in page and "说明来电目的" in page
    assert "输入您的开场白" in page and 'id="turn-form"' in page

    assert client.post(drill_url + "/turns", json={"text": OPENING, "after": -2}, headers=JSON).status_code == 400
    assert client.post(drill_url + "/turns", json={"text": OPENING, "after": 0}, headers=JSON).status_code == 409
    r = client.post(drill_url + "/turns", json={"text": OPENING, "after": -1, "stream": True}, headers=JSON)
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    events = [json.loads(line) for line in r.get_data(as_text=True).splitlines() if line.strip()]
    assert [e["type"] for e in events] == ["agent", "chunk", "customer"]
    assert (events[0]["turn"]["position"], events[2]["turn"]["position"]) == (0, 1)
    assert "回访" in events[2]["turn"]["text"] or "昨天" in events[2]["turn"]["text"]

    # After a reload the call is under way: the turns are shown, the invitation is gone.
    page = client.get(drill_url).get_data(as_text=True)
    assert len(re.findall(r'data-position="\d+"', page)) == 2 and OPENING in page
    assert INVITE not in page and "输入您的开场白" not in page


def test_an_inbound_drill_page_has_no_invitation(client, login_as):
    login_as("trainee")
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "7"})
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert INVITE not in page and len(re.findall(r'data-position="\d+"', page)) == 1


def test_a_hint_before_the_first_turn_gives_the_outbound_opening(client, drill_url):
    """The first hint of an outbound call is this call's opening (who, why, is now a good
    time), not the rubric's inbound one; with no turn yet to keep it on, it is counted."""
    r = client.post(drill_url + "/hint", headers=JSON, json={})
    assert r.status_code == 200, r.get_json()
    hint = r.get_json()["hint"]
    assert hint["step"] == "greeting" and "回访" in hint["model"] and "方便" in hint["model"]
    assert Drill.query.one().hints_used == 1


def test_hanging_up_before_a_word_sets_the_call_aside(client, drill_url):
    """Ending an outbound call before the agent said anything leaves nothing to score or
    download: the drill is discarded (audited), not ended unscored."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditEvent

    r = client.post(drill_url + "/end", headers=JSON, json={})
    assert r.status_code == 200
    assert r.get_json()["drill"]["status"] == "discarded" and r.get_json()["home"] == "/trainee/"
    drill = Drill.query.one()
    assert drill.status == "discarded" and drill.outcome is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "drill_discarded")).one()
    assert event.target == f"drill:{drill.id}"
    assert client.get(drill_url + "/transcript.json").status_code == 404


def test_ending_after_the_opening_scores_the_call(client, drill_url):
    from app.services import scoring

    client.post(drill_url + "/turns", json={"text": OPENING}, headers=JSON)
    r = client.post(drill_url + "/end", headers=JSON, json={})
    assert r.get_json()["drill"]["status"] == "ended"
    drill = Drill.query.one()
    assert drill.outcome == "unfinished" and scoring.latest_score(drill) is not None
    r = client.get(drill_url + "/transcript.json")
    assert r.status_code == 200 and r.get_json()["turns"][0]["speaker"] == "agent"


def test_the_start_page_says_the_call_is_outbound(client, login_as):
    login_as("trainee")
    assert INVITE in client.get("/trainee/start/callback_followup").get_data(as_text=True)
    assert INVITE not in client.get("/trainee/start/billing_complaint").get_data(as_text=True)
