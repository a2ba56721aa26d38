"""An outbound drill (callback_followup, `direction: outbound`): the agent speaks first.

The drill starts with no turn at all; the agent's first line is turn 0 and is answered
from the opening state (made again from scenario version, persona and seed, since no
customer turn holds it); resends, a failed first reply and the transcript export behave
as in an inbound drill.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.transcript import read_transcript, transcript_to_dict, write_transcript
from app.extensions import db
from app.services import drill_turns, drills, engines
from app.services.drills import CustomerUnavailable, DrillConflict
from app.services.scoring import drill_transcript

SCENARIO = "callback_followup"
SCRIPT = [ln for ln in (Path(__file__).resolve().parents[1] / "data" / "agent_scripts" / f"{SCENARIO}.good.txt")
          .read_text(encoding="utf-8").splitlines() if ln.strip()]


@pytest.fixture
def trainee(any_app):
    from app.services.accounts import create_user

    user = create_user("outbound-trainee", "password-123", "trainee")
    db.session.commit()
    return user


def start(trainee, **kw):
    args = {"scenario_id": SCENARIO, "language": "zh-CN", "persona": "wary", "customer_kind": "scripted", "seed": 7}
    return drills.start_drill(trainee, **{**args, **kw})


def positions(drill):
    return [(t.position, t.speaker) for t in drills.turns_of(drill)]


def test_an_outbound_drill_starts_with_no_customer_line_and_resolves(trainee):
    drill = start(trainee)
    assert drills.turns_of(drill) == []
    assert drills.resume_state(drill)["state"] == "ringing"
    # Starting again before anything was said resumes the same drill (a double click).
    assert start(trainee).id == drill.id

    first = drill_turns.post_agent_turn(drill, SCRIPT[0])
    assert (first.agent.position, first.customer.position) == (0, 1)
    assert first.customer.state["state"] == "identifying"
    for line in SCRIPT[1:]:
        result = drill_turns.post_agent_turn(drill, line)
        if result.ended:
            break
    assert drill.status == "ended" and drill.outcome == "resolved"
    turns = drills.turns_of(drill)
    assert [t.speaker for t in turns] == ["agent", "customer"] * (len(turns) // 2)
    # Now that the agent has spoken, a new start is a new drill.
    assert start(trainee).id != drill.id


def test_the_exported_transcript_opens_with_the_agent_and_reads_back(trainee, tmp_path):
    drill = start(trainee)
    for line in SCRIPT[:3]:
        drill_turns.post_agent_turn(drill, line)
    transcript = drill_transcript(drill)
    assert transcript.turns[0].speaker == "agent" and transcript.turns[0].text == SCRIPT[0]
    path = tmp_path / "callback.json"
    write_transcript(transcript, path)
    again = read_transcript(path, known_scenarios={SCENARIO})
    assert transcript_to_dict(again)["turns"] == transcript_to_dict(transcript)["turns"]


def test_the_first_turn_resent_is_stored_once(trainee):
    drill = start(trainee)
    first = drill_turns.post_agent_turn(drill, SCRIPT[0], after=-1)
    again = drill_turns.post_agent_turn(drill, SCRIPT[0], after=-1)
    assert [t.id for t in again.turns] == [t.id for t in first.turns]
    again = drill_turns.post_agent_turn(drill, SCRIPT[0])  # a client that sends no `after`
    assert [t.id for t in again.turns] == [t.id for t in first.turns]
    with pytest.raises(DrillConflict) as exc:
        drill_turns.post_agent_turn(drill, "别的话", after=-1)
    assert exc.value.code == "moved_on"
    assert positions(drill) == [(0, "agent"), (1, "customer")]


def test_a_failed_first_reply_keeps_the_turn_and_is_answered_later(trainee, monkeypatch):
    real = engines.engine_for("scripted")

    class Down:
        def __getattr__(self, name):
            return getattr(real, name)

        def reply_stream(self, *args, **kwargs):
            raise TimeoutError("engine down")

    drill = start(trainee)
    monkeypatch.setattr(drill_turns, "engine_for", lambda kind: Down())
    with pytest.raises(CustomerUnavailable):
        drill_turns.post_agent_turn(drill, SCRIPT[0])
    assert positions(drill) == [(0, "agent")]
    monkeypatch.undo()
    result = drill_turns.answer_pending(drill)
    assert result.customer.position == 1 and result.customer.state["state"] == "identifying"


def test_an_inbound_drill_without_turns_still_refuses_a_turn(trainee):
    """Only an outbound call may start with the agent: an inbound drill whose opening is
    missing has nothing to answer."""
    drill = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", 7)
    for turn in drills.turns_of(drill):
        db.session.delete(turn)
    db.session.commit()
    with pytest.raises(DrillConflict) as exc:
        drill_turns.post_agent_turn(drill, "您好，客服中心，工号1024。")
    assert exc.value.code == "moved_on"


def test_ending_before_a_word_discards_and_after_one_scores(trainee):
    from app.services import scoring

    silent = start(trainee)
    assert drills.end_drill(silent).status == "discarded" and silent.outcome is None
    spoken = start(trainee)
    assert spoken.id != silent.id
    drill_turns.post_agent_turn(spoken, SCRIPT[0])
    ended = drills.end_drill(spoken)
    assert (ended.status, ended.outcome) == ("ended", "unfinished") and scoring.latest_score(ended) is not None
