"""What a client sees when it sends a request again after the server died before answering
(the deterministic cases behind tests/reliability/test_crash.py).

* The turn whose reply ended the call, sent again: the stored exchange (200), plain or
  streamed, never "the call has ended" (409) nor a 500.
* A drill whose end was committed but not scored (the server died in between) is scored
  by the next request that touches it: the end sent again, the last turn sent again, or
  the report page the drill page links to.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.models import Drill, Score
from app.services import drills

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = [line.strip() for line in (ROOT / "tests/data/agent_scripts/billing_complaint.good.txt")
          .read_text(encoding="utf-8").splitlines() if line.strip()]
JSON = {"Accept": "application/json"}


@pytest.fixture
def trainee(login_as):
    return login_as("trainee")


def _play_to_the_customers_end(client, url) -> tuple[str, int, dict]:
    """Play the good script until the customer ends the call; (last text, its `after`, reply)."""
    after = 0
    for text in SCRIPT:
        r = client.post(url + "/turns", json={"text": text, "after": after}, headers=JSON)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        if body["drill"]["status"] == "ended":
            return text, after, body
        after = body["turns"][-1]["position"]
    raise AssertionError("the good script did not make the customer end the call")


@pytest.fixture
def ended_by_customer(client, trainee):
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "7"})
    url = r.headers["Location"]
    return (url, *_play_to_the_customers_end(client, url))


def test_resending_the_turn_that_ended_the_call_returns_the_stored_exchange(client, ended_by_customer):
    url, text, after, first = ended_by_customer
    assert first["drill"]["outcome"] != "unfinished"
    again = client.post(url + "/turns", json={"text": text, "after": after}, headers=JSON)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["turns"] == first["turns"] and again.get_json()["drill"]["status"] == "ended"

    streamed = client.post(url + "/turns", json={"text": text, "after": after, "stream": True}, headers=JSON)
    events = [json.loads(line) for line in streamed.get_data(as_text=True).splitlines() if line.strip()]
    assert streamed.status_code == 200 and events[-1]["type"] == "customer"
    assert events[-1]["turn"] == first["turns"][1] and events[-1]["drill"]["status"] == "ended"
    drill = Drill.query.one()
    assert len(drills.turns_of(drill)) == first["turns"][1]["position"] + 1  # nothing stored twice

    # A different text (not a resend) on an ended call is still a clear 409.
    other = client.post(url + "/turns", json={"text": "还有别的问题吗？", "after": after}, headers=JSON)
    assert other.status_code == 409 and other.get_json()["code"] == "ended"


def _unscore(drill: Drill) -> None:
    # What a SIGKILL between the end's commit and the score's commit leaves behind.
    Score.query.filter_by(drill_id=drill.id).delete()
    from app.extensions import db

    db.session.commit()


@pytest.mark.parametrize("how", ["resend", "end", "report"])
def test_an_ended_drill_left_unscored_by_a_crash_is_scored_by_the_next_request(client, ended_by_customer, how):
    url, text, after, _ = ended_by_customer
    drill = Drill.query.one()
    assert Score.query.filter_by(drill_id=drill.id).count() == 1
    _unscore(drill)
    if how == "resend":
        r = client.post(url + "/turns", json={"text": text, "after": after}, headers=JSON)
    elif how == "end":
        r = client.post(url + "/end", json={}, headers=JSON)
    else:
        r = client.get(url + "/report")
    assert r.status_code == 200
    assert Score.query.filter_by(drill_id=drill.id).count() == 1
    # ... and only once: a scored drill is not scored again by the next request.
    client.get(url + "/report")
    assert Score.query.filter_by(drill_id=drill.id).count() == 1
