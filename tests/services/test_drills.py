"""The drill service on SQLite and PostgreSQL: turns are committed before replies,
failures leave a resumable drill, a restart continues from the stored state."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import Drill
from app.services import drill_turns, drills, engines
from app.services.drills import CustomerUnavailable, DrillConflict, DrillError
from config import TestingConfig

SCENARIO = "billing_complaint"
GOOD_SCRIPT = [
    "您好，这里是客服中心，工号1024，很高兴为您服务。非常理解您的心情，为了查询账单，麻烦您提供一下机主姓名和身份证后四位，核实一下身份。",
    "谢谢王女士，身份核实好了。我帮您查了，多出的50元是视频彩铃会员15元和超套流量费35元。",
    "彩铃是10月3日回复短信Y订购的，您不知情的话我马上帮您退订彩铃，15元给您退回，3个工作日内退回话费账户。",
    "流量是10月12日到15日出差期间用了13.5G，超出3.5G按每G10元计费。我再帮您开通80%和95%的用量提醒，还给您提交了工单，24小时内回访。",
    "已经为您退订彩铃并办理了退费，请问还有其他可以帮您的吗？感谢您的来电，祝您生活愉快。",
]


@pytest.fixture
def trainee(any_app):
    from app.services.accounts import create_user

    user = create_user("drill-trainee", "password-123", "trainee")
    db.session.commit()
    return user


@pytest.fixture
def ended_hook(monkeypatch):
    calls = []
    monkeypatch.setattr(drills, "on_drill_ended", lambda drill: calls.append((drill.id, drill.outcome)))
    return calls


def start(trainee, **kw):
    args = {"scenario_id": SCENARIO, "language": "zh-CN", "persona": "calm", "customer_kind": "scripted", "seed": 7}
    return drills.start_drill(trainee, **{**args, **kw})


def positions(drill):
    return [(t.position, t.speaker) for t in drills.turns_of(drill)]


def committed_turns(drill_id):
    """Turns as another connection sees them: only what is committed."""
    with db.engine.connect() as conn:
        return conn.execute(text("select position, speaker from turns where drill_id = :d order by position"),
                            {"d": drill_id}).all()


def play(drill, lines):
    for line in lines:
        result = drill_turns.post_agent_turn(drill, line)
        if result.ended:
            return result
    return result


def test_good_script_resolves_the_call(trainee, ended_hook):
    drill = start(trainee)
    opening = drills.turns_of(drill)
    assert [(t.position, t.speaker) for t in opening] == [(0, "customer")]
    assert opening[0].state["state"] == "opening" and opening[0].state["seed"] == 7
    assert drill.scenario_version.scenario_id == SCENARIO and drill.scenario_version.is_current

    result = play(drill, GOOD_SCRIPT)

    assert result.ended and drill.status == "ended" and drill.outcome == "resolved" and drill.ended_at
    turns = drills.turns_of(drill)
    assert [t.position for t in turns] == list(range(len(GOOD_SCRIPT) * 2 + 1))
    assert [t.speaker for t in turns] == ["customer", "agent"] * len(GOOD_SCRIPT) + ["customer"]
    assert all(t.state is None for t in turns if t.speaker == "agent")
    assert "greeting" in turns[1].meta["acts"]
    assert any(e["type"] == "ended" for e in turns[-1].meta["events"])
    assert ended_hook == [(drill.id, "resolved")]
    with pytest.raises(DrillConflict) as exc:
        drill_turns.post_agent_turn(drill, "还在吗？")
    assert exc.value.code == "ended" and exc.value.status == 409


def test_same_seed_same_transcript(trainee):
    a, b = start(trainee, seed=3), start(trainee, seed=3)
    play(a, GOOD_SCRIPT[:3])
    play(b, GOOD_SCRIPT[:3])
    assert [t.text for t in drills.turns_of(a)] == [t.text for t in drills.turns_of(b)]


class FlakyEngine:
    """Wraps the real engine; raises on the first `failures` replies, after checking that
    the agent turn was already committed when the reply was asked for."""

    def __init__(self, real, failures=1):
        self.real, self.failures, self.seen_committed = real, failures, []

    def start_turn(self, *args):
        return self.real.start_turn(*args)

    def understand(self, *args, **kwargs):
        return self.real.understand(*args, **kwargs)

    def reply_stream(self, agent_text, state, scenario=None, understanding=None):
        self.seen_committed.append(list(committed_turns(self.drill_id)))
        if self.failures:
            self.failures -= 1
            raise TimeoutError("engine down")
        return self.real.reply_stream(agent_text, state, scenario=scenario, understanding=understanding)


@pytest.fixture
def flaky(monkeypatch):
    real = engines.engine_for("scripted")
    engine = FlakyEngine(real)
    monkeypatch.setattr(drill_turns, "engine_for", lambda kind: engine)
    return engine


def test_agent_turn_is_committed_before_the_reply_and_survives_a_failure(trainee, flaky):
    drill = start(trainee)
    flaky.drill_id = drill.id
    with pytest.raises(CustomerUnavailable) as exc:
        drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    assert exc.value.status == 503
    assert flaky.seen_committed[0] == [(0, "customer"), (1, "agent")]
    assert committed_turns(drill.id) == [(0, "customer"), (1, "agent")]
    assert drill.status == "active" and drills.pending_agent_turn(drill).position == 1

    # Sending the same turn again retries the reply; it is not stored twice.
    result = drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    assert (result.agent.position, result.customer.position) == (1, 2)
    assert positions(drill) == [(0, "customer"), (1, "agent"), (2, "customer")]
    assert play(drill, GOOD_SCRIPT[1:]).drill.outcome == "resolved"


def test_pending_reply_is_answered_on_request_and_other_text_waits(trainee, flaky):
    drill = start(trainee)
    flaky.drill_id = drill.id
    with pytest.raises(CustomerUnavailable):
        drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    with pytest.raises(DrillConflict) as exc:
        drill_turns.post_agent_turn(drill, "另一句话")
    assert exc.value.code == "reply_pending"
    result = drill_turns.answer_pending(drill)
    assert result.customer.position == 2 and result.customer.state["verified"]
    assert drill_turns.answer_pending(drill).customer is None  # nothing pending any more
    assert positions(drill) == [(0, "customer"), (1, "agent"), (2, "customer")]


def test_streamed_turn_commits_first_and_reports_engine_failure(trainee, flaky):
    drill = start(trainee)
    flaky.drill_id = drill.id
    events = drill_turns.stream_agent_turn(drill, GOOD_SCRIPT[0])
    # The agent turn is committed before the first event is read.
    assert committed_turns(drill.id) == [(0, "customer"), (1, "agent")]
    events = list(events)
    assert [e["type"] for e in events] == ["agent", "error"]
    assert events[1]["code"] == "customer_unavailable"
    events = list(drill_turns.stream_pending(drill))
    assert [e["type"] for e in events] == ["agent", "chunk", "customer"]
    assert events[-1]["turn"]["position"] == 2 and events[1]["text"] == events[-1]["turn"]["text"]


def test_resume_after_restart_continues_from_stored_state(any_app, trainee, cache_dir):
    drill = start(trainee, seed=11)
    play(drill, GOOD_SCRIPT[:2])
    drill_id, before = drill.id, drills.resume_state(drill)
    assert before["state"] == "negotiating"

    # A new process: fresh app, no memoised engines or scenarios, same database.
    engines.forget_engines()
    engines._scenarios.clear()
    config = type("Restarted", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": any_app.config["SQLALCHEMY_DATABASE_URI"], "CACHE_DIR": str(cache_dir)})
    other = create_app(config)
    with other.app_context():
        again = db.session.get(Drill, drill_id)
        assert drills.resume_state(again) == before
        result = play(again, GOOD_SCRIPT[2:])
        assert result.drill.outcome == "resolved"
        restarted = [t.text for t in drills.turns_of(again)]
        db.session.remove()
        db.engine.dispose()

    # The same seed played without a restart gives the same call.
    straight = start(trainee, seed=11)
    play(straight, GOOD_SCRIPT)
    assert [t.text for t in drills.turns_of(straight)] == restarted


@pytest.mark.parametrize("raw, code", [
    ("", "empty"), ("   \n\t ", "empty"), ("\x00\x07", "empty"), (None, "not_text"), (42, "not_text"),
    ("好" * 2001, "too_long"),
])
def test_bad_turn_text_is_refused_and_nothing_stored(trainee, raw, code):
    drill = start(trainee)
    with pytest.raises(DrillError) as exc:
        drill_turns.post_agent_turn(drill, raw)
    assert exc.value.code == code and exc.value.status == 400
    assert positions(drill) == [(0, "customer")]


def test_control_characters_are_stripped(trainee):
    drill = start(trainee)
    result = drill_turns.post_agent_turn(drill, " 您好\x00，\x1b[31m工号\u00851024\r\n请讲 ")
    assert result.agent.text == "您好，[31m工号1024 请讲"
    assert drills.clean_turn_text("好" * 2000) == "好" * 2000


@pytest.mark.parametrize("kw, code", [
    ({"scenario_id": "no_such"}, "unknown_scenario"),
    ({"language": "fr"}, "unknown_scenario"),
    ({"persona": "nobody"}, "unknown_persona"),
    ({"customer_kind": "llm"}, "bad_kind"),
    ({"customer_kind": "robot"}, "bad_kind"),
    ({"seed": -1}, "bad_seed"),
    ({"mode": "exam"}, "bad_mode"),
])
def test_start_refuses_bad_choices(trainee, kw, code):
    with pytest.raises(DrillError) as exc:
        start(trainee, **kw)
    assert exc.value.code == code
    assert db.session.scalar(select(Drill.id)) is None


def test_start_without_seed_picks_one_and_test_mode_is_kept(trainee):
    drill = start(trainee, seed=None, mode="test")
    assert isinstance(drill.seed, int) and drill.mode == "test" and drill.llm_model is None


def test_end_drill_by_trainee(trainee, ended_hook):
    drill = start(trainee)
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    drills.end_drill(drill)
    assert (drill.status, drill.outcome) == ("ended", "unfinished") and drill.ended_at
    drills.end_drill(drill)  # ending twice changes nothing and does not re-run the hook
    assert ended_hook == [(drill.id, "unfinished")]
    with pytest.raises(DrillConflict):
        drill_turns.post_agent_turn(drill, GOOD_SCRIPT[1])
    assert len(drills.turns_of(drill)) == 3


def test_resend_with_after_returns_the_stored_exchange(trainee):
    drill = start(trainee)
    first = drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    again = drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    assert [t.id for t in again.turns] == [t.id for t in first.turns]
    with pytest.raises(DrillConflict) as exc:
        drill_turns.post_agent_turn(drill, "别的话", after=0)
    assert exc.value.code == "moved_on"
    assert len(drills.turns_of(drill)) == 3


def test_lost_position_race_is_resolved_without_duplicates(trainee, monkeypatch):
    """Another worker stores the same turn between our read and our insert."""
    drill = start(trainee)
    real_last_turn = drill_turns.last_turn

    def stale_read(d):
        last = real_last_turn(d)
        with db.engine.begin() as conn:  # the other worker, on its own connection
            conn.execute(text("insert into turns (drill_id, position, speaker, text, created_at) "
                              "values (:d, 1, 'agent', :t, CURRENT_TIMESTAMP)"), {"d": d.id, "t": GOOD_SCRIPT[0]})
        monkeypatch.setattr(drill_turns, "last_turn", real_last_turn)
        return last

    monkeypatch.setattr(drill_turns, "last_turn", stale_read)
    result = drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    assert (result.agent.position, result.customer.position) == (1, 2)
    assert positions(drill) == [(0, "customer"), (1, "agent"), (2, "customer")]


def test_concurrent_double_submit_stores_one_turn(any_app, trainee):
    drill = start(trainee)
    drill_id, barrier, outcomes = drill.id, threading.Barrier(2), []

    def submit():
        with any_app.app_context():
            own = db.session.get(Drill, drill_id)
            barrier.wait()
            try:
                outcomes.append(drill_turns.post_agent_turn(own, GOOD_SCRIPT[0], after=0).customer.position)
            except DrillConflict as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes and all(o in (2, "moved_on") for o in outcomes) and 2 in outcomes
    assert committed_turns(drill_id) == [(0, "customer"), (1, "agent"), (2, "customer")]
