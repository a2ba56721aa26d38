"""Concurrent edits: two review sessions adjusting the same machine score at the same moment,
over real HTTP against gunicorn (2 workers), on a SQLite file and on PostgreSQL.

The app lets exactly one trainer see a trainee's score (the trainer of the trainee's
cohort), so the race is that trainer's two sessions (two browsers or devices): the
optimistic lock (`Score.revision`) does not care who the writer is. Each round both load
the review page (same revision), meet at a barrier and post a different value for the
same criterion. Proved, round by round:

* no 5xx; exactly one save wins (302), the other gets 409 and a page saying so in an
  alert, naming whose save won, showing the winner's value and the current revision (a
  lost update would show as two 302s); the same between a save and "mark reviewed";
* the loser, reloading and saving again, succeeds;
* in the database, every save that was answered 302 is a ScoreAdjustment and a
  `score_adjusted` audit entry, in order, and the final adjusted value is the last one.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from app.services.accounts import DEMO_USERS
from tests.conftest import make_config
from tests.reliability.conftest import prepare_database

TRAINER_PASSWORD = next(password for name, password, *_ in DEMO_USERS if name == "trainer")

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 5
CONFLICT_MESSAGE = "另一位培训师已先保存了对该评分的复核"  # zh is the default locale


def _scored_drill(database_url: str, cache_dir) -> int:
    """An ended, scored drill of the demo trainee (whose cohort the demo trainer leads)."""
    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.services import drill_turns, drills

    lines = [line.strip() for line in (ROOT / "tests/data/agent_scripts/billing_complaint.good.txt")
             .read_text(encoding="utf-8").splitlines() if line.strip()]
    app = create_app(make_config(database_url, CACHE_DIR=str(cache_dir)))
    with app.app_context():
        trainee = db.session.scalar(db.select(User).where(User.username == "trainee"))
        drill = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=3)
        for line in lines:
            if drill_turns.post_agent_turn(drill, line).ended:
                break
        drills.end_drill(drill)
        drill_id = drill.id
        db.session.remove()
        db.engine.dispose()
    return drill_id


class ReviewSession:
    def __init__(self, base_url: str, name: str):
        self.http = httpx.Client(base_url=base_url, timeout=30, headers={"User-Agent": f"review/{name}"})

    def login(self, username: str, password: str) -> None:
        page = self.http.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = self.http.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert r.status_code == 302, r.text[:300]

    def load(self, drill_id: int) -> dict:
        """The review form as the page fills it: hidden fields and the point inputs."""
        r = self.http.get(f"/trainer/review/{drill_id}")
        assert r.status_code == 200, r.text[:300]
        return _form(r.text)

    def save(self, drill_id: int, form: dict, criterion: str, value: float, reason: str) -> httpx.Response:
        data = {**form, f"criterion-{criterion}": f"{value:g}", "reason": reason}
        return self.http.post(f"/trainer/review/{drill_id}", data=data)


def _form(html: str) -> dict:
    adjust = html[html.index('action="/trainer/review/'):]
    adjust = adjust[:adjust.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="((?:csrf_token|score_id|revision))"[^>]*value="([^"]*)"', adjust))
    fields |= dict(re.findall(r'name="((?:criterion|dimension)-[^"]+)" value="([^"]*)"', adjust))
    return fields


def _max_points(criterion: str, html: str) -> float:
    return float(re.search(rf'name="criterion-{re.escape(criterion)}" value="[^"]*" min="0" max="([^"]+)"', html).group(1))


def test_two_sessions_adjusting_the_same_score_at_once(database_url, server_factory, cache_dir):
    prepare_database(database_url, cache_dir, [])
    drill_id = _scored_drill(database_url, cache_dir)
    server = server_factory(database_url)
    server.start()
    sessions = [ReviewSession(server.base_url, name) for name in ("a", "b")]
    for s in sessions:
        s.login("trainer", TRAINER_PASSWORD)
    page = sessions[0].http.get(f"/trainer/review/{drill_id}").text
    form = _form(page)
    # A criterion worth several points, so each round can set a value not set before.
    criterion = max((k.split("-", 1)[1] for k in form if k.startswith("criterion-")),
                    key=lambda c: _max_points(c, page))
    top = _max_points(criterion, page)
    assert top >= 2

    saved: list[tuple[float, str]] = []  # (value, reason) of every save answered 302, in order
    # Round zero: one session saves points while the other marks the score reviewed
    # without changes, from the same revision: two endpoints, one lock.
    forms = [s.load(drill_id) for s in sessions]
    value0, reason0 = round(top / 2, 2), "round zero"
    answers = _race(lambda: sessions[0].save(drill_id, forms[0], criterion, value0, reason0),
                    lambda: sessions[1].http.post(f"/trainer/review/{drill_id}/reviewed", data={
                        "csrf_token": forms[1]["csrf_token"], "revision": forms[1]["revision"]}))
    assert sorted(a.status_code for a in answers) == [302, 409], [a.status_code for a in answers]
    loser = answers[0] if answers[0].status_code == 409 else answers[1]
    assert 'role="alert"' in loser.text and CONFLICT_MESSAGE in loser.text
    marked = answers[1].status_code == 302
    if not marked:
        saved.append((value0, reason0))
    conflicts = 0
    for rnd in range(ROUNDS):
        forms = [s.load(drill_id) for s in sessions]
        assert forms[0]["revision"] == forms[1]["revision"]
        values = [round(top * (2 * rnd + i + 1) / (2 * ROUNDS + 1), 2) for i in range(2)]
        reasons = [f"round {rnd} session {'ab'[i]}" for i in range(2)]
        answers = _race(*[
            (lambda i=i: sessions[i].save(drill_id, forms[i], criterion, values[i], reasons[i])) for i in range(2)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [302, 409], f"round {rnd}: {codes} (two 302s would be a lost update)"
        winner = next(i for i in range(2) if answers[i].status_code == 302)
        loser = 1 - winner
        saved.append((values[winner], reasons[winner]))
        conflict_page = answers[loser].text
        assert 'role="alert"' in conflict_page and CONFLICT_MESSAGE in conflict_page
        # ... naming whose save won, and the revision the page now shows.
        assert "由 演示培训师 Demo trainer 于" in conflict_page and f"第 {int(forms[loser]['revision']) + 1} 版" in conflict_page
        shown = _form(conflict_page)
        assert float(shown[f"criterion-{criterion}"]) == values[winner]  # the winner's value, not lost
        assert int(shown["revision"]) == int(forms[loser]["revision"]) + 1
        conflicts += 1
        # The loser saves again from the page it was shown: it now applies, in order.
        again = sessions[loser].save(drill_id, shown, criterion, values[loser], reasons[loser])
        assert again.status_code == 302, again.text[:300]
        saved.append((values[loser], reasons[loser]))

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            adjustments = conn.execute(text(
                "select a.adjusted_points, a.reason from score_adjustments a join scores s on s.id = a.score_id "
                "where s.drill_id = :d and a.target_id = :c order by a.id"), {"d": drill_id, "c": criterion}).all()
            audited = conn.execute(text(
                "select count(*) from audit_events where action = 'score_adjusted'")).scalar()
            reviewed = conn.execute(text(
                "select count(*) from audit_events where action = 'score_reviewed'")).scalar()
            revision = conn.execute(text(
                "select revision from scores where drill_id = :d order by id desc limit 1"), {"d": drill_id}).scalar()
    finally:
        engine.dispose()
        for s in sessions:
            s.http.close()
    assert [(float(p), r) for p, r in adjustments] == saved  # every accepted save, in order
    assert audited == len(saved) == 2 * ROUNDS + (not marked)
    assert reviewed == int(marked)
    assert conflicts == ROUNDS
    final = _form(sessions_page(server.base_url, drill_id))
    assert float(final[f"criterion-{criterion}"]) == saved[-1][0]
    assert revision == int(final["revision"])


def _race(*calls) -> list[httpx.Response]:
    """Run the calls in threads released together by a barrier; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a is not None for a in answers), "a request did not come back"
    return answers


def sessions_page(base_url: str, drill_id: int) -> str:
    s = ReviewSession(base_url, "check")
    try:
        s.login("trainer", TRAINER_PASSWORD)
        return s.http.get(f"/trainer/review/{drill_id}").text
    finally:
        s.http.close()
