"""Races on a drill's start, turns and end, on SQLite (a file several connections share)
and PostgreSQL: each racer is a thread with its own app context, session and connection,
released together by a barrier, as requests on different workers are (issue 16, finding 4).

What must hold whatever the interleaving:
* a turn either lands before the end and is in the score, or is refused (409 `ended`)
  and not stored: the turns the end score read are exactly the turns stored;
* however many "end" requests (the button, the test-mode timer, a late turn) race,
  the drill gets one end score;
* parallel starts make one drill (certification slot, or the same practice start);
* a turn sent again without `after` after its exchange completed is not stored twice.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEvent, Drill, Score, Turn
from app.models.base import utcnow
from app.services import drill_turns, drills
from app.services.drills import DrillConflict, TooManyRequests
from tests.services.test_drills import GOOD_SCRIPT, start, trainee  # noqa: F401 - the fixture

ROUNDS = 8


def race(app, *calls, timeout: float = 60) -> list:
    """Run each call(drill_id-free) in its own thread and app context, released together;
    their results (or the exception each raised), in order."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i: int) -> None:
        with app.app_context():
            try:
                prepared = calls[i][0]()  # read the rows before the barrier, as a request does
                barrier.wait()
                out[i] = calls[i][1](prepared)
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                out[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racer did not finish"
    return out


def _version_stored() -> None:
    # The scenario's version row exists before the race, as `flask setup` leaves it (the
    # first use of a new version is not the race these tests are about).
    from app.services.content import rubric_version, scenario_version

    scenario_version("billing_complaint", "zh-CN")
    rubric_version("standard-100")
    db.session.commit()


def _drill(drill_id: int):
    return lambda: db.session.get(Drill, drill_id)


def _stored_turns(drill_id: int) -> list[tuple[int, str, str]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(
        select(Turn.position, Turn.speaker, Turn.text).where(Turn.drill_id == drill_id).order_by(Turn.position))]


def _end_scores(drill_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "drill_scored", AuditEvent.target == f"drill:{drill_id}")))


def _score_count(drill_id: int) -> int:
    return db.session.scalar(select(func.count(Score.id)).where(Score.drill_id == drill_id))


def test_end_racing_a_turn_scores_every_turn_it_acknowledged(any_app, trainee):
    _version_stored()
    landed = refused = 0
    for rnd in range(ROUNDS):
        drill = start(trainee, seed=100 + rnd)
        drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
        drill_id, line = drill.id, GOOD_SCRIPT[1]
        turn, ended = race(any_app,
                           (_drill(drill_id), lambda d: drill_turns.post_agent_turn(d, line, after=2)),
                           (_drill(drill_id), lambda d: drills.end_drill(d)))
        assert not isinstance(ended, Exception), ended
        stored = _stored_turns(drill_id)
        if isinstance(turn, DrillConflict):
            assert turn.code == "ended" and turn.status == 409
            assert all(text != line for _, _, text in stored)  # refused: not stored
            refused += 1
        else:
            assert not isinstance(turn, Exception), turn
            assert (3, "agent", line) in stored  # acknowledged: stored ...
            landed += 1
        events = _end_scores(drill_id)
        # ... and scored: the one end score read every stored turn.
        assert len(events) == 1 and _score_count(drill_id) == 1, [e.detail for e in events]
        assert events[0].detail["turns"] == len(stored), (rnd, events[0].detail, stored)
    assert landed + refused == ROUNDS


@pytest.fixture
def slow_judge(monkeypatch):
    """Scoring that takes a while, as it does with the LLM judge: the window in which the
    other "end" requests find the drill ended and not yet scored."""
    import time

    from app.services import scoring

    calls = []

    def judge(report, *args):
        calls.append(threading.get_ident())
        time.sleep(0.3)
        return report

    monkeypatch.setattr(scoring, "_judge", judge)
    return calls


def test_parallel_ends_store_one_score(any_app, trainee, slow_judge):
    _version_stored()
    drill = start(trainee)
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    drill_id = drill.id
    out = race(any_app, *[(_drill(drill_id), lambda d: drills.end_drill(d)) for _ in range(6)])
    assert all(isinstance(d, Drill) and d.status == "ended" for d in out), out
    assert _score_count(drill_id) == 1 and len(_end_scores(drill_id)) == 1


def test_parallel_ends_run_the_scorer_once(any_app, trainee, slow_judge):
    """One request claims the scoring; the others wait for its score instead of each
    running the scorer (and all but one failing to store it)."""
    from app.services import scoring

    _version_stored()
    drill = start(trainee)
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    drill_id = drill.id

    def end(d):
        ended = drills.end_drill(d)
        return ended.status, scoring.latest_score(ended) is not None

    out = race(any_app, *[(_drill(drill_id), end) for _ in range(6)])
    assert out == [("ended", True)] * 6, out  # every "end" answers with the score stored
    assert len(slow_judge) == 1, f"the scorer ran {len(slow_judge)} times"
    assert _score_count(drill_id) == 1


def test_a_failed_scoring_leaves_the_next_request_free_to_score(trainee, monkeypatch):
    from app.services import scoring

    drill = start(trainee)
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)

    def broken(*args):
        raise RuntimeError("judge down")

    with monkeypatch.context() as patch:
        patch.setattr(scoring, "_judge", broken)
        drills.end_drill(drill)  # the end stands; the scoring failed
    assert drill.status == "ended" and _score_count(drill.id) == 0
    assert scoring.score_on_end(drill, wait=0).origin == scoring.END  # at once, no wait
    assert _score_count(drill.id) == 1


def test_a_request_that_finds_the_drill_being_scored_waits_and_does_not_score(any_app, trainee, slow_judge):
    from app.services import scoring
    from app.services.locks import scoring_lock

    drill = start(trainee)
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    drills.mark_ended(drill, "unfinished")
    db.session.commit()
    with scoring_lock(drill.id) as held:  # another request is scoring it
        assert held
        with pytest.raises(scoring.ScoringPending):
            scoring.score_on_end(drill, wait=0.2)
    assert slow_judge == [] and _score_count(drill.id) == 0
    assert scoring.score_on_end(drill, wait=0).origin == scoring.END  # the holder is gone: scored
    assert len(slow_judge) == 1 and _score_count(drill.id) == 1


def test_the_scoring_lock_dies_with_a_killed_holder(any_app, trainee, tmp_path):
    """A worker killed mid-score must not keep the drill from being scored: the lock is
    one the operating system (SQLite: flock) or the server (PostgreSQL: a session
    advisory lock) drops with its process."""
    import subprocess
    import sys
    import textwrap

    from app.services.locks import scoring_lock

    drill = start(trainee)
    url = db.engine.url.render_as_string(hide_password=False)
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from tests.conftest import make_config
        from app import create_app
        from app.services.locks import scoring_lock
        app = create_app(make_config({url!r}))
        with app.app_context(), scoring_lock({drill.id}) as held:
            assert held
            Path({str(ready)!r}).write_text("held")
            time.sleep(120)
        """)], cwd=Path(__file__).resolve().parents[2])
    try:
        for _ in range(600):
            if ready.exists() or holder.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), "the holder did not take the lock"
        with scoring_lock(drill.id) as mine:
            assert not mine  # held by the other process
        holder.kill()
        holder.wait(30)
        with scoring_lock(drill.id) as mine:
            assert mine  # dropped with it
    finally:
        if holder.poll() is None:
            holder.kill()


def test_a_hint_clicked_twice_at_once_is_charged_once(any_app, trainee):
    """Two hint requests from one click (a double click, a retry racing the first) carry
    the count the page showed; one conditional UPDATE charges, the other gets the same
    hint back uncharged."""
    from app.services import hints

    drill = start(trainee)
    drill_id = drill.id
    for rnd in range(4):
        seen = rnd
        out = race(any_app, *[(_drill(drill_id), lambda d: hints.take_hint(d, None, seen=seen)) for _ in range(2)])
        assert all(isinstance(h, hints.Hint) for h in out), out
        db.session.expire_all()
        assert db.session.get(Drill, drill_id).hints_used == rnd + 1, f"one click charged {out}"
        assert sorted(h.charged for h in out) == [False, True], out
        assert out[0].text == out[1].text and {h.hints_used for h in out} == {rnd + 1}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hint")).all()
    assert len(events) == 4


def test_test_mode_timer_end_racing_ends_and_turns_stores_one_score(any_app, trainee, slow_judge):
    """A test drill past its time: turns end it on the server (`time_up`), the page's
    timer posts "end"; all at once."""
    _version_stored()
    drill = start(trainee, mode="test")
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0], after=0)
    drill_id = drill.id
    db.session.execute(update(Drill).where(Drill.id == drill_id).values(started_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    calls = [(_drill(drill_id), lambda d: drills.end_drill(d, by="timer")) for _ in range(3)]
    calls += [(_drill(drill_id), lambda d: drill_turns.post_agent_turn(d, GOOD_SCRIPT[1], after=2))
              for _ in range(3)]
    out = race(any_app, *calls)
    assert all(isinstance(o, Drill) for o in out[:3]), out
    assert all(isinstance(o, DrillConflict) and o.code in ("time_up", "ended") for o in out[3:]), out
    assert _score_count(drill_id) == 1 and len(_end_scores(drill_id)) == 1
    assert len(_stored_turns(drill_id)) == 3


def test_parallel_practice_starts_make_one_drill(any_app, trainee):
    trainee_id = trainee.id
    from app.models import User

    _version_stored()
    out = race(any_app, *[(lambda: db.session.get(User, trainee_id), lambda u: start(u).id) for _ in range(6)])
    assert all(isinstance(o, int) for o in out), out
    assert len(set(out)) == 1
    assert db.session.scalar(select(func.count(Drill.id)).where(Drill.trainee_id == trainee_id)) == 1


def test_a_start_whose_answer_was_lost_is_resumed_not_orphaned(trainee):
    first = start(trainee)  # the redirect never reached the browser (a killed worker)
    again = start(trainee)
    assert again.id == first.id
    # Once something was said, or with another seed, a start is a new drill.
    drill_turns.post_agent_turn(first, GOOD_SCRIPT[0], after=0)
    assert start(trainee).id != first.id
    assert start(trainee, seed=8).id not in (first.id, again.id)


def test_parallel_certification_starts_make_one_drill(any_app, trainee):
    from app.models import CertificationAttempt, Drill as D
    from app.services import certification as cert

    attempt = cert.start_attempt(trainee, "core", seed=13)
    attempt_id, sid = attempt.id, attempt.details["drills"][0]
    out = race(any_app, *[(lambda: db.session.get(CertificationAttempt, attempt_id),
                           lambda a: cert.start_cert_drill(a, sid).id) for _ in range(6)])
    assert all(isinstance(o, int) for o in out) and len(set(out)) == 1, out
    assert db.session.scalars(select(D.id).where(D.trainee_id == trainee.id)).all() == [out[0]]


def test_resend_without_after_of_a_completed_exchange_is_not_stored_twice(trainee):
    drill = start(trainee)
    first = drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    again = drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])  # the answer was lost; sent again
    assert [t.id for t in again.turns] == [t.id for t in first.turns]
    assert len(_stored_turns(drill.id)) == 3


def test_same_words_again_later_without_after_are_a_new_turn(any_app, trainee):
    drill = start(trainee)
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    any_app.config["TURN_RESEND_SECONDS"] = 0
    db.session.execute(update(Turn).where(Turn.drill_id == drill.id)
                       .values(created_at=utcnow() - timedelta(seconds=5)))
    db.session.commit()
    drill_turns.post_agent_turn(drill, GOOD_SCRIPT[0])
    assert [p for p, _, _ in _stored_turns(drill.id)] == [0, 1, 2, 3, 4]


def test_drill_starts_are_limited_even_in_a_burst(any_app, trainee):
    any_app.config["DRILL_STARTS_PER_WINDOW"] = 3
    trainee_id = trainee.id
    from app.models import User

    _version_stored()
    out = race(any_app, *[(lambda: db.session.get(User, trainee_id), lambda u, s=s: start(u, seed=s).id)
                          for s in range(6)])
    made = [o for o in out if isinstance(o, int)]
    refused = [o for o in out if isinstance(o, TooManyRequests)]
    assert len(made) == 3 and len(refused) == 3, out
    assert refused[0].status == 429 and refused[0].params == {"limit": 3, "seconds": 60}
    assert db.session.scalar(select(func.count(Drill.id)).where(Drill.trainee_id == trainee_id)) == 3


def test_turns_are_limited_across_drills(any_app, trainee):
    any_app.config["TURNS_PER_WINDOW"] = 2
    a, b = start(trainee), start(trainee, seed=8)
    drill_turns.post_agent_turn(a, GOOD_SCRIPT[0], after=0)
    drill_turns.post_agent_turn(b, GOOD_SCRIPT[0], after=0)
    with pytest.raises(TooManyRequests) as caught:
        drill_turns.post_agent_turn(a, GOOD_SCRIPT[1], after=2)
    assert caught.value.code == "too_many_turns" and caught.value.status == 429
    assert len(_stored_turns(a.id)) == 3  # refused: nothing stored
